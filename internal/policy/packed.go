package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
)

// The directory's records are kept in the data store as their JSON text.
//
// Why: the garbage collector. data.gatehouse.users holds every user of the
// directory (100,000 in issue 7's harness). As Go maps and slices each user
// is some forty heap objects and pointers, about 190 MB for the whole
// directory, and every collection marked all of it: on 2 cores a cycle took
// 0.5–0.8 s of one core's time every 2–3 s under load, and while it ran the
// decisions queued (p99 at 5,000 req/s went from ~2 ms to 20–300 ms). As
// JSON text a user is one pointer-free string the collector does not scan.
//
// A record is turned back into AST when a query reads it: a user once per
// query at most (and the identity memo keeps what depends on it), a group
// when a policy asks for one. Reading a collection whole (data.gatehouse.users
// itself) works but converts every record, as a policy that iterates over all
// users would have to anyway.

// packedCollections are the collections under data.gatehouse whose records
// are packed: data.gatehouse.<collection>.<key>.
// trinoUsers' records are plain strings (a username), packed for the same
// reason: as Go strings in a map they were 100,000 more objects.
var packedCollections = map[string]bool{"users": true, "groups": true, "trinoUsers": true}

// packedDepth is the length of a record's path: gatehouse, collection, key.
const packedDepth = 3

// Packed is a directory record kept as its JSON text.
type Packed string

// Pack returns v's JSON text as a Packed record. Sets are written as arrays
// and non-string object keys as their Rego text, as in a JSON export.
func Pack(v ast.Value) Packed { return Packed(appendJSON(nil, v)) }

// isRecordPath says whether path names a record (or lies inside one).
func isRecordPath(path storage.Path) bool {
	return len(path) >= packedDepth && path[0] == DirectoryKey && packedCollections[path[1]]
}

// holdsRecords says whether the document at path may contain records.
func holdsRecords(path storage.Path) bool {
	switch len(path) {
	case 0:
		return true
	case 1:
		return path[0] == DirectoryKey
	case 2:
		return path[0] == DirectoryKey && packedCollections[path[1]]
	}
	return false
}

// dataStore is the engine's store: OPA's in-memory store holding Go values,
// with the directory's records packed (see above) and values written as AST
// converted to Go values.
//
// It keeps Go values, not OPA AST: OPA's AST object recomputes its hash over
// every element when one is replaced, so replacing one user of a 100,000-user
// data.gatehouse.users took ~35 ms, during which the commit holds every
// decision off. A collection is a Go map of records, or, as the directory
// snapshot builds it, a Collection (collection.go): one value whose records
// are read and written here, by key, through the store's transactions.
type dataStore struct{ storage.Store }

func (s dataStore) Read(ctx context.Context, txn storage.Transaction, path storage.Path) (any, error) {
	if isRecordPath(path) {
		if c, ok := s.collection(ctx, txn, path[:packedDepth-1]); ok {
			rec, found := c.Get(path[packedDepth-1])
			if !found {
				return nil, notFound(path)
			}
			x, err := rec.value()
			if err != nil || len(path) == packedDepth {
				return x, err
			}
			return descend(x, path[packedDepth:], notFound(path))
		}
	}
	v, err := s.Store.Read(ctx, txn, path)
	switch {
	case err == nil && len(path) == packedDepth && isRecordPath(path):
		if p, ok := v.(Packed); ok {
			return p.value()
		}
		return v, nil
	case err == nil && holdsRecords(path):
		return unpackAll(v)
	case err != nil && storage.IsNotFound(err) && len(path) > packedDepth && isRecordPath(path):
		// A path inside a record: the in-memory store stops at the record.
		rec, rerr := s.Store.Read(ctx, txn, path[:packedDepth])
		p, ok := rec.(Packed)
		if rerr != nil || !ok {
			return nil, err
		}
		x, perr := p.value()
		if perr != nil {
			return nil, perr
		}
		return descend(x, path[packedDepth:], err)
	}
	return v, err
}

// collection is the Collection stored at path, if one is.
func (s dataStore) collection(ctx context.Context, txn storage.Transaction, path storage.Path) (Collection, bool) {
	v, err := s.Store.Read(ctx, txn, path)
	c, ok := v.(Collection)
	return c, err == nil && ok
}

// notFound is the error the in-memory store gives for a missing document.
func notFound(path storage.Path) error {
	return &storage.Error{Code: storage.NotFoundErr, Message: path.String() + ": document does not exist"}
}

func (s dataStore) Write(ctx context.Context, txn storage.Transaction, op storage.PatchOp, path storage.Path, value any) error {
	switch {
	case len(path) > packedDepth && isRecordPath(path):
		return fmt.Errorf("write %v: a directory record is written whole (at %v)", path, path[:packedDepth])
	case len(path) == packedDepth && isRecordPath(path):
		// A record of a Collection: the collection is replaced by a new
		// one, which the transaction commits or drops like any value.
		c, ok := s.collection(ctx, txn, path[:packedDepth-1])
		if !ok {
			break
		}
		key := path[packedDepth-1]
		if op == storage.RemoveOp {
			next, had := c.Without(key)
			if !had {
				return notFound(path)
			}
			return s.Store.Write(ctx, txn, storage.AddOp, path[:packedDepth-1], next)
		}
		p, err := packValue(value)
		if err != nil {
			return fmt.Errorf("write %v: %w", path, err)
		}
		return s.Store.Write(ctx, txn, storage.AddOp, path[:packedDepth-1], c.With(key, p))
	}
	switch {
	case op == storage.RemoveOp:
	case len(path) == packedDepth && isRecordPath(path):
		p, err := packValue(value)
		if err != nil {
			return fmt.Errorf("write %v: %w", path, err)
		}
		value = p
	case holdsRecords(path):
		x, err := packBelow(value, len(path))
		if err != nil {
			return fmt.Errorf("write %v: %w", path, err)
		}
		value = x
	default:
		if v, ok := value.(ast.Value); ok {
			x, err := ast.JSON(v)
			if err != nil {
				return fmt.Errorf("write %v: %w", path, err)
			}
			value = x
		}
	}
	return s.Store.Write(ctx, txn, op, path, value)
}

// packValue packs one record given as a Packed, AST or Go value.
func packValue(v any) (Packed, error) {
	switch v := v.(type) {
	case Packed:
		return v, nil
	case ast.Value:
		return Pack(v), nil
	default:
		x, err := ast.InterfaceToValue(v)
		if err != nil {
			return "", err
		}
		return Pack(x), nil
	}
}

// packBelow converts v, the document at a path of length depth that holds
// records, to Go values with its records packed.
func packBelow(v any, depth int) (any, error) {
	if depth == packedDepth {
		return packValue(v)
	}
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		if packedAlready(x, depth) {
			return x, nil // as the snapshot is built: nothing to convert
		}
		m = make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
	case ast.Object:
		m = make(map[string]any, x.Len())
		err := x.Iter(func(k, e *ast.Term) error {
			key, ok := k.Value.(ast.String)
			if !ok {
				key = ast.String(k.String())
			}
			m[string(key)] = e.Value
			return nil
		})
		if err != nil {
			return nil, err
		}
	default: // not an object: no records inside
		if a, ok := v.(ast.Value); ok {
			return ast.JSON(a)
		}
		return v, nil
	}
	for k, e := range m {
		var err error
		if depth == 0 && k != DirectoryKey || depth == 1 && !packedCollections[k] {
			if a, ok := e.(ast.Value); ok {
				m[k], err = ast.JSON(a)
			}
		} else if _, done := e.(Packed); !done || depth+1 != packedDepth {
			m[k], err = packBelow(e, depth+1)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// packedAlready says whether m, at a path of length depth that holds
// records, is Go values throughout with its records packed.
func packedAlready(m map[string]any, depth int) bool {
	for k, e := range m {
		switch {
		case depth+1 == packedDepth:
			if _, ok := e.(Packed); !ok {
				return false
			}
		case depth == 0 && k != DirectoryKey || depth == 1 && !packedCollections[k]:
			if _, ok := e.(ast.Value); ok {
				return false
			}
		case depth == 1:
			if _, ok := e.(Collection); ok {
				continue
			}
			fallthrough
		default:
			sub, ok := e.(map[string]any)
			if !ok || !packedAlready(sub, depth+1) {
				return false
			}
		}
	}
	return true
}

// unpackAll returns v as AST when it holds packed records, else v.
func unpackAll(v any) (any, error) {
	if !containsPacked(v) {
		return v, nil
	}
	return toAST(v)
}

func containsPacked(v any) bool {
	switch x := v.(type) {
	case Packed, Collection:
		return true
	case map[string]any:
		for _, e := range x {
			if containsPacked(e) {
				return true
			}
		}
	}
	return false
}

func toAST(v any) (ast.Value, error) {
	switch x := v.(type) {
	case Packed:
		return x.value()
	case Collection:
		items := make([][2]*ast.Term, 0, x.Len())
		var err error
		x.Range(func(key string, rec Packed) bool {
			var e ast.Value
			if e, err = rec.value(); err != nil {
				return false
			}
			items = append(items, ast.Item(ast.StringTerm(key), ast.NewTerm(e)))
			return true
		})
		if err != nil {
			return nil, err
		}
		return ast.NewObject(items...), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		items := make([][2]*ast.Term, len(keys))
		for i, k := range keys {
			e, err := toAST(x[k])
			if err != nil {
				return nil, err
			}
			items[i] = ast.Item(ast.StringTerm(k), ast.NewTerm(e))
		}
		return ast.NewObject(items...), nil
	default:
		return ast.InterfaceToValue(v)
	}
}

// descend follows rest inside x; notFound when it leads nowhere.
func descend(x ast.Value, rest storage.Path, notFound error) (ast.Value, error) {
	for _, key := range rest {
		switch c := x.(type) {
		case ast.Object:
			t := c.Get(ast.StringTerm(key))
			if t == nil {
				return nil, notFound
			}
			x = t.Value
		case *ast.Array:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= c.Len() {
				return nil, notFound
			}
			x = c.Elem(i).Value
		default:
			return nil, notFound
		}
	}
	return x, nil
}

// value parses the record back into AST.
func (p Packed) value() (ast.Value, error) {
	r := recordParser{s: string(p)}
	t, err := r.term()
	if err == nil && r.i != len(r.s) {
		err = fmt.Errorf("trailing data at offset %d", r.i)
	}
	if err != nil {
		return nil, fmt.Errorf("directory record: %w", err)
	}
	return t.Value, nil
}

// recordParser reads the JSON that appendJSON writes (any JSON, in fact:
// insignificant space aside) straight into AST, without going through Go
// values: a user is read on every query for a user the memo has not seen.
type recordParser struct {
	s string
	i int
}

func (r *recordParser) term() (*ast.Term, error) {
	if r.i >= len(r.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := r.s[r.i]; {
	case c == '{':
		r.i++
		var items [][2]*ast.Term
		if r.i < len(r.s) && r.s[r.i] == '}' {
			r.i++
			return ast.ObjectTerm(), nil
		}
		for {
			if r.i >= len(r.s) || r.s[r.i] != '"' {
				return nil, fmt.Errorf("object key expected at offset %d", r.i)
			}
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			if r.i >= len(r.s) || r.s[r.i] != ':' {
				return nil, fmt.Errorf("':' expected at offset %d", r.i)
			}
			r.i++
			v, err := r.term()
			if err != nil {
				return nil, err
			}
			items = append(items, ast.Item(k, v))
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == '}' {
				r.i++
				return ast.ObjectTerm(items...), nil
			}
			return nil, fmt.Errorf("',' or '}' expected at offset %d", r.i)
		}
	case c == '[':
		r.i++
		var elems []*ast.Term
		if r.i < len(r.s) && r.s[r.i] == ']' {
			r.i++
			return ast.ArrayTerm(), nil
		}
		for {
			v, err := r.term()
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == ']' {
				r.i++
				return ast.ArrayTerm(elems...), nil
			}
			return nil, fmt.Errorf("',' or ']' expected at offset %d", r.i)
		}
	case c == '"':
		return r.str()
	case c == 't' && strings.HasPrefix(r.s[r.i:], "true"):
		r.i += 4
		return ast.InternedTerm(true), nil
	case c == 'f' && strings.HasPrefix(r.s[r.i:], "false"):
		r.i += 5
		return ast.InternedTerm(false), nil
	case c == 'n' && strings.HasPrefix(r.s[r.i:], "null"):
		r.i += 4
		return ast.NullTerm(), nil
	case c == '-' || c >= '0' && c <= '9':
		j := r.i + 1
		for j < len(r.s) && strings.IndexByte("0123456789.eE+-", r.s[j]) >= 0 {
			j++
		}
		n := json.Number(r.s[r.i:j])
		if _, err := n.Float64(); err != nil {
			return nil, fmt.Errorf("number at offset %d: %w", r.i, err)
		}
		r.i = j
		return ast.NumberTerm(n), nil
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", c, r.i)
	}
}

// str reads a string; one without escapes is a substring of the record.
func (r *recordParser) str() (*ast.Term, error) {
	start, escaped := r.i, false
	for j := r.i + 1; j < len(r.s); j++ {
		switch r.s[j] {
		case '\\':
			escaped = true
			j++ // the escaped character
		case '"':
			r.i = j + 1
			if !escaped {
				return ast.StringTerm(r.s[start+1 : j]), nil
			}
			var x string
			if err := json.Unmarshal([]byte(r.s[start:j+1]), &x); err != nil {
				return nil, fmt.Errorf("string at offset %d: %w", start, err)
			}
			return ast.StringTerm(x), nil
		}
	}
	return nil, fmt.Errorf("unterminated string at offset %d", start)
}

// appendJSON appends v's JSON text to b.
func appendJSON(b []byte, v ast.Value) []byte {
	switch x := v.(type) {
	case ast.Null:
		return append(b, "null"...)
	case ast.Boolean:
		return strconv.AppendBool(b, bool(x))
	case ast.Number:
		return append(b, x...)
	case ast.String:
		return appendJSONString(b, string(x))
	case *ast.Array:
		b = append(b, '[')
		for i := range x.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, x.Elem(i).Value)
		}
		return append(b, ']')
	case ast.Set:
		b = append(b, '[')
		for i, e := range x.Slice() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e.Value)
		}
		return append(b, ']')
	case ast.Object:
		b = append(b, '{')
		first := true
		x.Foreach(func(k, e *ast.Term) {
			if !first {
				b = append(b, ',')
			}
			first = false
			key, ok := k.Value.(ast.String)
			if !ok {
				key = ast.String(k.String())
			}
			b = appendJSONString(b, string(key))
			b = append(b, ':')
			b = appendJSON(b, e.Value)
		})
		return append(b, '}')
	default: // not a JSON value (a ref, a call): its Rego text, as a string
		return appendJSONString(b, v.String())
	}
}

// appendJSONString appends s as a JSON string: plain ASCII as is, anything
// else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
