package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
)

// Checking answers: a 200 whose body is not the shape the endpoint promises
// is an error, as Trino would fail the query on it. Each good answer is also
// reduced to a digest, so that the run can tell whether gatehouse and OPA
// decided the same for the same request (the differential tests prove the
// policies equal; this catches a harness or setup mistake, e.g. OPA serving
// without the directory).
//
// OPA answers the raw policy value: the batch indices and masks in the
// order its evaluation produced them. Gatehouse sorts them (response.go).
// Digests are taken over the sorted form.

// digest values of allow: 0 means no comparable answer.
const (
	digestFalse uint64 = 1
	digestTrue  uint64 = 2
)

var (
	allowTrue  = []byte(`{"result":true}`)
	allowFalse = []byte(`{"result":false}`)
)

// checkAnswer validates the answer of path and returns its digest and, for
// batches, how many items it kept.
func checkAnswer(path string, resp []byte) (digest uint64, kept int, err error) {
	resp = bytes.TrimSpace(resp)
	switch path {
	case pathAllow:
		switch {
		case bytes.Equal(resp, allowTrue):
			return digestTrue, 0, nil
		case bytes.Equal(resp, allowFalse):
			return digestFalse, 0, nil
		}
		var a struct {
			Result *bool `json:"result"`
		}
		if err := json.Unmarshal(resp, &a); err != nil || a.Result == nil {
			return 0, 0, fmt.Errorf("allow answered %.200s", resp)
		}
		if *a.Result {
			return digestTrue, 0, nil
		}
		return digestFalse, 0, nil
	case pathBatch:
		var a struct {
			Result []int64 `json:"result"`
		}
		if err := json.Unmarshal(resp, &a); err != nil || a.Result == nil {
			return 0, 0, fmt.Errorf("batch answered %.200s", resp)
		}
		slices.Sort(a.Result)
		a.Result = slices.Compact(a.Result)
		h := fnv.New64a()
		for _, i := range a.Result {
			fmt.Fprintf(h, "%d,", i)
		}
		return h.Sum64() | 1, len(a.Result), nil
	case pathBatchColumnMasks:
		var a struct {
			Result []struct {
				Index          *int64 `json:"index"`
				ViewExpression *struct {
					Expression *string `json:"expression"`
					Identity   *string `json:"identity"`
				} `json:"viewExpression"`
			} `json:"result"`
		}
		if err := json.Unmarshal(resp, &a); err != nil || a.Result == nil {
			return 0, 0, fmt.Errorf("batchColumnMasks answered %.200s", resp)
		}
		type mask struct {
			index    int64
			expr, id string
		}
		masks := make([]mask, 0, len(a.Result))
		for _, r := range a.Result {
			if r.Index == nil || r.ViewExpression == nil || r.ViewExpression.Expression == nil {
				return 0, 0, fmt.Errorf("batchColumnMasks item without index or expression: %.200s", resp)
			}
			m := mask{index: *r.Index, expr: *r.ViewExpression.Expression}
			if r.ViewExpression.Identity != nil {
				m.id = *r.ViewExpression.Identity
			}
			masks = append(masks, m)
		}
		sort.Slice(masks, func(i, j int) bool { return masks[i].index < masks[j].index })
		h := fnv.New64a()
		for _, m := range masks {
			fmt.Fprintf(h, "%d\x00%s\x00%s\x00", m.index, m.expr, m.id)
		}
		return h.Sum64() | 1, len(masks), nil
	}
	return 0, 0, fmt.Errorf("no check for %s", path)
}
