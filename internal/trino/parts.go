package trino

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A large batch on the batch endpoint (FilterTables of a whole catalog,
// FilterSchemas, ...) is evaluated in parts, one per P, on as many
// goroutines: OPA's evaluator uses one core per query, and a 10,000-table
// SHOW TABLES would otherwise leave the others idle while Trino waits.
//
// This relies on the batch endpoint's contract, Trino's and the policies':
// the answer lists the items that pass, each item decided on its own (with
// the request's context), never on which other items the batch holds. The
// answer for the whole batch is then the parts' answers, each offset by where
// its part starts. Policies that break that contract must turn this off
// (batch-split-items 0). FilterColumns (one table, its columns as the items)
// and batchColumnMasks are never split.
//
// Each part is its own query, in its own read transaction: a directory write
// that commits while a batch is being evaluated may be seen by one part and
// not by another. Every item is still decided on a directory state that held
// during the request, as it would be were Trino to ask item by item; the
// decision cache is keyed by the generation read before the first part, so
// such an answer is not kept past the write.

// DefaultBatchSplitItems is the batch size from which the batch endpoint
// evaluates in parts: below it the goroutines cost more than they save.
const DefaultBatchSplitItems = 4096

// batchParts is how many parts a batch of n items on endpoint is evaluated in
// (1: in one go). Each part has at least half the threshold's items, and
// there are no more parts than cores (serve may run more Ps than cores).
func (h *Handler) batchParts(endpoint string, req *Request, n int) int {
	if endpoint != EndpointBatch || h.splitItems <= 0 || n < h.splitItems || req.Operation == "FilterColumns" || req.FilterResources == nil {
		return 1
	}
	return max(2, min(runtime.GOMAXPROCS(0), runtime.NumCPU(), 2*n/h.splitItems))
}

// evalBatchInParts evaluates the batch endpoint for req's n items in parts
// and returns the indices kept, ascending. Any part's error is the answer's:
// the decision fails closed.
func (h *Handler) evalBatchInParts(ctx context.Context, req *Request, n, parts int) ([]int, error) {
	input, ok := req.Input.(ast.Object)
	if !ok {
		return nil, bad("input must be an object")
	}
	action, ok := input.Get(keyTerm("action")).Value.(ast.Object)
	if !ok {
		return nil, bad("input.action must be an object")
	}
	// The first part to fail cancels the others: the answer is an error
	// whatever they find.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kept := make([][]int, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*n/parts, (k+1)*n/parts
		part := withAction(input, withItems(action, req.FilterResources, lo, hi))
		wg.Go(func() {
			v, defined, err := h.authz.EvalValue(ctx, EndpointBatch, part)
			if err != nil {
				errs[k] = err
				cancel()
				return
			}
			idx, err := batchAnswer(v, defined, hi-lo)
			if err != nil {
				errs[k] = &policyAnswerError{err}
				cancel()
				return
			}
			for i := range idx {
				idx[i] += lo
			}
			kept[k] = idx
		})
	}
	wg.Wait()
	// The error reported is the first one that is not a cancellation
	// caused by another part's failure.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	total := 0
	for k := range parts {
		total += len(kept[k])
	}
	out := make([]int, 0, total)
	for _, idx := range kept {
		out = append(out, idx...)
	}
	return out, nil
}

// withItems is action with filterResources items[lo:hi].
func withItems(action ast.Object, items *ast.Array, lo, hi int) ast.Object {
	elems := make([]*ast.Term, hi-lo)
	for i := range elems {
		elems[i] = items.Elem(lo + i)
	}
	return replaced(action, "filterResources", ast.NewTerm(ast.NewArray(elems...)))
}

// withAction is input with action replaced.
func withAction(input, action ast.Object) ast.Object {
	return replaced(input, "action", ast.NewTerm(action))
}

// replaced is a copy of o with key's value v (o itself is shared, read-only).
func replaced(o ast.Object, key string, v *ast.Term) ast.Object {
	k := keyTerm(key)
	pairs := make([][2]*ast.Term, 0, o.Len())
	o.Foreach(func(kt, vt *ast.Term) {
		if kt.Equal(k) {
			vt = v
		}
		pairs = append(pairs, [2]*ast.Term{kt, vt})
	})
	return ast.NewObject(pairs...)
}
