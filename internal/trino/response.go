package trino

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Shape checks turn a policy's raw value into exactly what Trino decodes,
// or an error (the caller answers 500 and Trino fails the query). "Undefined"
// becomes each endpoint's safe "nothing": false, [], or no mask.

// allowResult: a boolean; undefined is false.
func allowResult(v any, defined bool) (bool, error) {
	if !defined {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("policy answered %s for allow, not a boolean", shown(v))
	}
	return b, nil
}

// batchResult: distinct in-range integer indices, ascending. n is the
// number of items the indices refer to.
func batchResult(v any, defined bool, n int) ([]int, error) {
	if !defined || v == nil {
		return []int{}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy answered %s for batch, not an array of indices", shown(v))
	}
	out := make([]int, 0, len(arr))
	seen := make(map[int]bool, len(arr))
	for _, x := range arr {
		i, ok := index(x)
		if !ok || i < 0 || i >= n {
			return nil, fmt.Errorf("policy answered index %s for batch of %d items", shown(x), n)
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out, nil
}

// ViewExpression is a row filter or column mask: SQL, optionally evaluated
// as another user.
type ViewExpression struct {
	Expression string `json:"expression"`
	Identity   string `json:"identity,omitempty"`
}

// ColumnMask is one element of a batchColumnMasks answer.
type ColumnMask struct {
	Index          int            `json:"index"`
	ViewExpression ViewExpression `json:"viewExpression"`
}

func viewExpression(v any, what string) (ViewExpression, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return ViewExpression{}, fmt.Errorf("policy answered %s for %s, not an object", shown(v), what)
	}
	var ve ViewExpression
	for k, x := range obj {
		s, isStr := x.(string)
		switch k {
		case "expression":
			if !isStr || s == "" {
				return ViewExpression{}, fmt.Errorf("%s has expression %s, not a non-empty string", what, shown(x))
			}
			ve.Expression = s
		case "identity":
			if x == nil {
				continue
			}
			if !isStr {
				return ViewExpression{}, fmt.Errorf("%s has identity %s, not a string", what, shown(x))
			}
			ve.Identity = s
		default:
			return ViewExpression{}, fmt.Errorf("%s has unknown key %q", what, k)
		}
	}
	if ve.Expression == "" {
		return ViewExpression{}, fmt.Errorf("%s has no expression", what)
	}
	return ve, nil
}

// rowFiltersResult: an array of view expressions; undefined is none.
func rowFiltersResult(v any, defined bool) ([]ViewExpression, error) {
	if !defined || v == nil {
		return []ViewExpression{}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy answered %s for rowFilters, not an array", shown(v))
	}
	out := make([]ViewExpression, 0, len(arr))
	for _, x := range arr {
		ve, err := viewExpression(x, "a row filter")
		if err != nil {
			return nil, err
		}
		out = append(out, ve)
	}
	return out, nil
}

// columnMaskResult: one view expression, or nil for no mask.
func columnMaskResult(v any, defined bool) (*ViewExpression, error) {
	if !defined || v == nil {
		return nil, nil
	}
	ve, err := viewExpression(v, "a column mask")
	if err != nil {
		return nil, err
	}
	return &ve, nil
}

// batchColumnMasksResult: masks for in-range, distinct column indices.
func batchColumnMasksResult(v any, defined bool, n int) ([]ColumnMask, error) {
	if !defined || v == nil {
		return []ColumnMask{}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy answered %s for batchColumnMasks, not an array", shown(v))
	}
	out := make([]ColumnMask, 0, len(arr))
	seen := map[int]bool{}
	for _, x := range arr {
		obj, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy answered %s in batchColumnMasks, not an object", shown(x))
		}
		i, ok := index(obj["index"])
		if !ok || i < 0 || i >= n {
			return nil, fmt.Errorf("policy answered mask index %s for %d columns", shown(obj["index"]), n)
		}
		if seen[i] {
			return nil, fmt.Errorf("policy answered two masks for column index %d", i)
		}
		seen[i] = true
		ve, err := viewExpression(obj["viewExpression"], "a column mask")
		if err != nil {
			return nil, err
		}
		out = append(out, ColumnMask{Index: i, ViewExpression: ve})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, nil
}

// index reads a JSON number that is a whole number.
func index(x any) (int, bool) {
	switch n := x.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || i > math.MaxInt32 {
			return 0, false
		}
		return int(i), true
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		if n != math.Trunc(n) || n > math.MaxInt32 {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 200 {
		return fmt.Sprintf("a %T", v)
	}
	return string(b)
}
