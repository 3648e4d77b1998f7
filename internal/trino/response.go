package trino

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Shape checks turn a policy's raw value into exactly what Trino decodes,
// or an error (the caller answers 500 and Trino fails the query). "Undefined"
// becomes each endpoint's safe "nothing": false, [], or no mask. They read the
// answer as the policies produced it, an OPA AST value (no conversion to Go
// values first); a set is accepted wherever an array is, as OPA's JSON encoding
// of it would be, and null counts as undefined.

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

func isNullValue(v ast.Value) bool {
	_, ok := v.(ast.Null)
	return ok
}

// shownValue is a value for an error message, as JSON.
func shownValue(v ast.Value) string {
	x, err := ast.JSON(v)
	if err != nil {
		return fmt.Sprintf("a %T", v)
	}
	return shown(x)
}

// elements iterates an array's or a set's elements; false if v is neither.
func elements(v ast.Value, f func(*ast.Term) error) (bool, error) {
	switch c := v.(type) {
	case *ast.Array:
		for i := range c.Len() {
			if err := f(c.Elem(i)); err != nil {
				return true, err
			}
		}
		return true, nil
	case ast.Set:
		return true, c.Iter(f)
	}
	return false, nil
}

func allowAnswer(v ast.Value, defined bool) (bool, error) {
	if !defined {
		return false, nil
	}
	b, ok := v.(ast.Boolean)
	if !ok {
		return false, fmt.Errorf("policy answered %s for allow, not a boolean", shownValue(v))
	}
	return bool(b), nil
}

func batchAnswer(v ast.Value, defined bool, n int) ([]int, error) {
	if !defined || isNullValue(v) {
		return []int{}, nil
	}
	size := 0
	switch c := v.(type) {
	case *ast.Array:
		size = c.Len()
	case ast.Set:
		size = c.Len()
	}
	out := make([]int, 0, size)
	var seen []bool // by index; allocated only if an index repeats or is out of order
	sorted := true
	ok, err := elements(v, func(t *ast.Term) error {
		i, ok := indexValue(t.Value)
		if !ok || i < 0 || i >= n {
			return fmt.Errorf("policy answered index %s for batch of %d items", shownValue(t.Value), n)
		}
		if len(out) > 0 && i <= out[len(out)-1] {
			sorted = false
		}
		out = append(out, i)
		return nil
	})
	if !ok {
		return nil, fmt.Errorf("policy answered %s for batch, not an array of indices", shownValue(v))
	}
	if err != nil {
		return nil, err
	}
	if sorted {
		return out, nil // ascending without repeats
	}
	seen = make([]bool, n)
	kept := out[:0]
	for _, i := range out {
		if !seen[i] {
			seen[i] = true
			kept = append(kept, i)
		}
	}
	sort.Ints(kept)
	return kept, nil
}

// indexValue reads a number that is a whole number.
func indexValue(v ast.Value) (int, bool) {
	n, ok := v.(ast.Number)
	if !ok {
		return 0, false
	}
	return index(json.Number(n))
}

func viewExpressionValue(v ast.Value, what string) (ViewExpression, error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return ViewExpression{}, fmt.Errorf("policy answered %s for %s, not an object", shownValue(v), what)
	}
	var ve ViewExpression
	err := obj.Iter(func(kt, x *ast.Term) error {
		k, ok := kt.Value.(ast.String)
		if !ok {
			return fmt.Errorf("%s has a key %s that is not a string", what, shownValue(kt.Value))
		}
		s, isStr := x.Value.(ast.String)
		switch k {
		case "expression":
			if !isStr || s == "" {
				return fmt.Errorf("%s has expression %s, not a non-empty string", what, shownValue(x.Value))
			}
			ve.Expression = string(s)
		case "identity":
			if isNullValue(x.Value) {
				return nil
			}
			if !isStr {
				return fmt.Errorf("%s has identity %s, not a string", what, shownValue(x.Value))
			}
			ve.Identity = string(s)
		default:
			return fmt.Errorf("%s has unknown key %q", what, string(k))
		}
		return nil
	})
	if err != nil {
		return ViewExpression{}, err
	}
	if ve.Expression == "" {
		return ViewExpression{}, fmt.Errorf("%s has no expression", what)
	}
	return ve, nil
}

func rowFiltersAnswer(v ast.Value, defined bool) ([]ViewExpression, error) {
	if !defined || isNullValue(v) {
		return []ViewExpression{}, nil
	}
	var out []ViewExpression
	ok, err := elements(v, func(t *ast.Term) error {
		ve, err := viewExpressionValue(t.Value, "a row filter")
		if err != nil {
			return err
		}
		out = append(out, ve)
		return nil
	})
	if !ok {
		return nil, fmt.Errorf("policy answered %s for rowFilters, not an array", shownValue(v))
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []ViewExpression{}
	}
	return out, nil
}

func columnMaskAnswer(v ast.Value, defined bool) (*ViewExpression, error) {
	if !defined || isNullValue(v) {
		return nil, nil
	}
	ve, err := viewExpressionValue(v, "a column mask")
	if err != nil {
		return nil, err
	}
	return &ve, nil
}

func batchColumnMasksAnswer(v ast.Value, defined bool, n int) ([]ColumnMask, error) {
	if !defined || isNullValue(v) {
		return []ColumnMask{}, nil
	}
	out := []ColumnMask{}
	seen := map[int]bool{}
	ok, err := elements(v, func(t *ast.Term) error {
		obj, ok := t.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("policy answered %s in batchColumnMasks, not an object", shownValue(t.Value))
		}
		it := obj.Get(keyTerm("index"))
		i, ok := 0, false
		if it != nil {
			i, ok = indexValue(it.Value)
		}
		if !ok || i < 0 || i >= n {
			shownIndex := "null"
			if it != nil {
				shownIndex = shownValue(it.Value)
			}
			return fmt.Errorf("policy answered mask index %s for %d columns", shownIndex, n)
		}
		if seen[i] {
			return fmt.Errorf("policy answered two masks for column index %d", i)
		}
		seen[i] = true
		vt := obj.Get(keyTerm("viewExpression"))
		var vv ast.Value = ast.Null{}
		if vt != nil {
			vv = vt.Value
		}
		ve, err := viewExpressionValue(vv, "a column mask")
		if err != nil {
			return err
		}
		out = append(out, ColumnMask{Index: i, ViewExpression: ve})
		return nil
	})
	if !ok {
		return nil, fmt.Errorf("policy answered %s for batchColumnMasks, not an array", shownValue(v))
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, nil
}
