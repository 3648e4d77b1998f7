package trino

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// parseJSON reads one JSON document straight into an OPA AST value, so a
// decision request is parsed once, not decoded into Go maps and converted
// again.
//
// It is built for Trino's requests, whose batches carry thousands of small
// objects with the same keys and often the same values, and keeps the work per
// value small:
//   - the body is converted to a string once and strings without escapes are
//     slices of it (no copy each);
//   - the keys and values of Trino's protocol are terms shared by every request
//     (immutable, like OPA's own interned terms), and other short strings are
//     interned per request: one term for every occurrence;
//   - terms are allocated in blocks, and an object is built in one call from
//     its members (OPA's NewObject lays them out in one block) rather than
//     inserted member by member;
//   - one large array (a batch's filterResources) is read in two halves on two
//     goroutines, split at an element boundary found by a byte scan;
//   - the small objects that are the elements of arrays in large bodies (batch
//     items) are kept across requests by their bytes: Trino sends the same
//     tables again for every user, and they are then built once (itemCache);
//     so are whole large arrays (arrayCache), which a repeated batch then
//     costs one comparison of its bytes.
//
// It follows RFC 8259: one value, optional surrounding white space, no
// trailing data; invalid UTF-8 in strings becomes U+FFFD, as encoding/json
// does; of duplicate keys the last wins, as in encoding/json. Nesting deeper
// than maxDepth is refused rather than risking the stack.
// parseInput reads a request body, a JSON object, and returns the value of its
// "input" member (nil if it has none) without building the outer object. ok is
// false when the body is valid JSON but not an object.
func parseInput(data []byte) (input ast.Value, ok bool, err error) {
	p := jsonParser{data: data, src: string(data), splits: maxSplitTries, items: len(data) >= itemCacheMinBody}
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		// Not an object: parse it all the same, to tell bad JSON from a bad shape.
		if _, err := parseJSON(data); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, false, p.errorf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, false, err
			}
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, false, p.errorf("expected ':' after object key")
			}
			p.pos++
			p.skipSpace()
			v, err := p.value(1)
			if err != nil {
				return nil, false, err
			}
			if k == "input" {
				input = v.Value // later duplicates win
			}
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, false, p.errorf("unexpected end of input in an object")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				break
			}
			return nil, false, p.errorf("expected ',' or '}' in an object")
		}
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, false, p.errorf("data after the JSON object")
	}
	return input, true, nil
}

func parseJSON(data []byte) (ast.Value, error) {
	p := jsonParser{data: data, src: string(data), splits: maxSplitTries, items: len(data) >= itemCacheMinBody}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.errorf("data after the JSON object")
	}
	return v.Value, nil
}

const maxDepth = 64

// internMinBody is the body size from which values are interned per request;
// a single decision's values rarely repeat.
const internMinBody = 4 << 10

// maxInterned bounds the per-request intern table: the values worth sharing
// (catalog and schema names, types) come first; unique ones (table and column
// names) would only grow it.
const maxInterned = 512

type jsonParser struct {
	data     []byte
	src      string // data as a string, for substrings without copies
	pos      int
	recent   [64]*ast.Term // last terms seen, by a hash of their string: keys and repeated values hit here
	interned map[string]*ast.Term
	terms    []ast.Term     // block the next terms are taken from
	members  [][2]*ast.Term // stack of the members of the objects being read
	elems    []*ast.Term    // stack of the elements of the arrays being read
	splits   int            // arrays that may still be tried for a read in two halves
	items    bool           // array elements that are small objects go through itemCache
	item     *jsonParser    // reads the elements itemCache keeps, from copies of their bytes
}

// splitMinBytes is the size from which an array is read in two halves: the
// second on another goroutine, with its own parser. Below it, or with one
// CPU, the scan and the goroutine cost more than they save. (A variable for
// the tests.)
var splitMinBytes = 128 << 10

// maxSplitTries bounds the arrays of a body scanned for a split point (each
// scan may read to the array's end): the large array of a Trino request is
// among the first few, and nested arrays cannot make the scans quadratic.
const maxSplitTries = 8

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// term returns a new term holding v, from the current block.
func (p *jsonParser) term(v ast.Value) *ast.Term {
	if len(p.terms) == 0 {
		p.terms = make([]ast.Term, termBlock(len(p.data)))
	}
	t := &p.terms[0]
	p.terms = p.terms[1:]
	t.Value = v
	return t
}

// termBlock is how many terms a parser of an n-byte body allocates at a
// time: about one per 16 bytes for a small body (a single decision's ~400
// bytes take ~20 terms, its protocol words being shared), so that the block
// is mostly used, up to 64, and 1,024 for bodies over 64 KiB (batches).
func termBlock(n int) int {
	if n > 64<<10 {
		return 1024
	}
	return min(64, max(16, n/16))
}

func (p *jsonParser) value(depth int) (*ast.Term, error) {
	if depth > maxDepth {
		return nil, p.errorf("nesting deeper than %d levels", maxDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.intern(s), nil
	case c == 't':
		return p.literal("true", ast.InternedTerm(true))
	case c == 'f':
		return p.literal("false", ast.InternedTerm(false))
	case c == 'n':
		return p.literal("null", ast.InternedNullTerm)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

// intern returns the term for string s: a shared one for the protocol's
// words, else (in bodies large enough for values to repeat: batches) one per
// request for short strings, else a new one.
func (p *jsonParser) intern(s string) *ast.Term {
	// A batch repeats its keys and most values item after item: a small
	// direct-mapped cache of the last terms answers before any map lookup.
	slot := &p.recent[recentSlot(s)]
	if t := *slot; t != nil && string(t.Value.(ast.String)) == s {
		return t
	}
	t := p.internSlow(s)
	*slot = t
	return t
}

func recentSlot(s string) int {
	if len(s) == 0 {
		return 0
	}
	return int(uint(len(s))*31+uint(s[0])*7+uint(s[len(s)-1])) & 63
}

func (p *jsonParser) internSlow(s string) *ast.Term {
	if t, ok := sharedTerms[s]; ok {
		return t
	}
	if len(s) > 64 || len(p.data) < internMinBody {
		return p.term(ast.String(s))
	}
	if t, ok := p.interned[s]; ok {
		return t
	}
	t := p.term(ast.String(s))
	if p.interned == nil {
		p.interned = make(map[string]*ast.Term, 32)
	}
	if len(p.interned) < maxInterned {
		p.interned[s] = t
	}
	return t
}

func (p *jsonParser) literal(word string, t *ast.Term) (*ast.Term, error) {
	if len(p.data)-p.pos < len(word) || p.src[p.pos:p.pos+len(word)] != word {
		return nil, p.errorf("invalid literal")
	}
	p.pos += len(word)
	return t, nil
}

func (p *jsonParser) object(depth int) (*ast.Term, error) {
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.term(ast.NewObject()), nil
	}
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("expected a string key")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("expected ':' after object key")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.members = append(p.members, [2]*ast.Term{p.intern(k), v})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return p.term(newObject(p.members[base:])), nil
		default:
			return nil, p.errorf("expected ',' or '}' in an object")
		}
	}
}

// newObject builds an object of members; of duplicate keys the last wins.
func newObject(members [][2]*ast.Term) ast.Object {
	if hasDuplicateKeys(members) {
		obj := ast.NewObjectWithCapacity(len(members))
		for _, kv := range members {
			obj.Insert(kv[0], kv[1])
		}
		return obj
	}
	return ast.NewObject(members...)
}

func hasDuplicateKeys(members [][2]*ast.Term) bool {
	if len(members) > 16 {
		seen := make(map[ast.String]struct{}, len(members))
		for _, kv := range members {
			k := kv[0].Value.(ast.String)
			if _, dup := seen[k]; dup {
				return true
			}
			seen[k] = struct{}{}
		}
		return false
	}
	for i := 1; i < len(members); i++ {
		ki := members[i][0].Value.(ast.String)
		for j := range i {
			if members[j][0].Value.(ast.String) == ki {
				return true
			}
		}
	}
	return false
}

func (p *jsonParser) array(depth int) (*ast.Term, error) {
	if !p.items || len(p.data)-p.pos < arrayCacheMinBytes {
		return p.readArray(depth)
	}
	start := p.pos
	if k, ok := arrays.lookup(p.src[start:], depth); ok {
		p.pos += len(k.src)
		return k.term, nil
	}
	t, err := p.readArray(depth)
	if err == nil && p.pos-start >= arrayCacheMinBytes {
		arrays.keep(p.src[start:p.pos], depth, t)
	}
	return t, err
}

// readArray reads the array at p.pos.
func (p *jsonParser) readArray(depth int) (*ast.Term, error) {
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return p.term(ast.NewArray()), nil
	}
	if p.splits > 0 && len(p.data)-p.pos >= splitMinBytes && runtime.GOMAXPROCS(0) > 1 {
		p.splits--
		if t, ok := p.arrayInHalves(depth); ok {
			return t, nil
		}
	}
	base := len(p.elems)
	defer func() {
		clear(p.elems[base:])
		p.elems = p.elems[:base]
	}()
	if _, err := p.elements(depth); err != nil {
		return nil, err
	}
	elems := make([]*ast.Term, len(p.elems)-base)
	copy(elems, p.elems[base:])
	return p.term(ast.NewArray(elems...)), nil
}

// arrayInHalves reads the elements of the array p.pos is in (at its first
// element) in two halves, the second on another goroutine, when the array
// reaches past the middle of what is left of the body. ok is false, with
// p.pos unchanged, when it does not, or when either half fails: the caller
// then reads the array in one go, so the answer and any error are exactly
// those of a sequential read. (It is tried on the first arrays met, up to
// maxSplitTries, and never again once one has been split.)
func (p *jsonParser) arrayInHalves(depth int) (*ast.Term, bool) {
	start := p.pos
	comma := splitPoint(p.data, start, start+(len(p.data)-start)/2)
	if comma < 0 {
		return nil, false
	}
	p.splits = 0 // one split per body: nothing nested in it either
	q := &jsonParser{data: p.data, src: p.src, pos: comma + 1, items: p.items}
	type half struct {
		elems []*ast.Term
		err   error
	}
	done := make(chan half, 1)
	go func() {
		elems, err := q.elements(depth)
		done <- half{elems, err}
	}()
	base := len(p.elems)
	ok := true
	for ok {
		p.skipSpace()
		v, err := p.element(depth)
		if err != nil {
			ok = false
			break
		}
		p.elems = append(p.elems, v)
		p.skipSpace()
		switch {
		case p.pos == comma: // the first half is read
		case p.pos < comma && p.data[p.pos] == ',':
			p.pos++
			continue
		default:
			ok = false // not where the scan put the boundary: invalid JSON
		}
		break
	}
	second := <-done
	defer func() {
		clear(p.elems[base:])
		p.elems = p.elems[:base]
	}()
	if !ok || second.err != nil {
		p.pos = start
		return nil, false
	}
	p.pos = q.pos
	first := p.elems[base:]
	elems := make([]*ast.Term, len(first)+len(second.elems))
	copy(elems, first)
	copy(elems[len(first):], second.elems)
	return p.term(ast.NewArray(elems...)), true
}

// elements reads the rest of an array from an element to the closing bracket,
// onto p.elems.
func (p *jsonParser) elements(depth int) ([]*ast.Term, error) {
	for {
		p.skipSpace()
		v, err := p.element(depth)
		if err != nil {
			return nil, err
		}
		p.elems = append(p.elems, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.elems, nil
		default:
			return nil, p.errorf("expected ',' or ']' in an array")
		}
	}
}

// splitPoint scans the elements of an array from position from (inside it)
// for the first comma between two of its elements at or after position
// target, and returns its position; -1 when the array ends before (or the
// bytes are not JSON enough to tell). It only skips strings and counts
// brackets: the halves' parsers check the rest.
func splitPoint(data []byte, from, target int) int {
	depth := 0
	for i := from; i < len(data); i++ {
		switch data[i] {
		case '"':
			if i = closingQuote(data, i, len(data)); i < 0 {
				return -1
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return -1
			}
			depth--
		case ',':
			if depth == 0 && i >= target {
				return i
			}
		}
	}
	return -1
}

// itemCache keeps the elements of arrays in large bodies that are small
// objects (batch items: {"table": {...}}), by their bytes and depth, across
// requests: the same bytes at the same depth are the same value, so a later
// request that sends them takes the value built the first time. A kept value
// is read from a copy of its bytes (it holds on to no request body) and
// shared, read-only, by every request that sends it, as sharedTerms are. The
// cache is emptied when it fills up.
var itemCache atomic.Pointer[itemMap]

// itemCacheMinBody is the body size from which array elements are looked up.
// (A variable for the tests.)
var itemCacheMinBody = 64 << 10

const (
	itemCacheMaxBytes = 512     // larger elements are not kept
	itemCacheEntries  = 1 << 15 // about 1 kB each for Trino's table items
)

type itemMap struct {
	m sync.Map // itemKey → *ast.Term
	n atomic.Int64
}

type itemKey struct {
	depth int
	s     string
}

func init() { itemCache.Store(new(itemMap)) }

// element reads an array element: from itemCache when it is a small object
// the cache holds (or then keeps), else where it is.
func (p *jsonParser) element(depth int) (*ast.Term, error) {
	if !p.items || p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return p.value(depth + 1)
	}
	end := objectEnd(p.data, p.pos, itemCacheMaxBytes)
	if end < 0 {
		return p.value(depth + 1)
	}
	k := itemKey{depth, p.src[p.pos:end]}
	c := itemCache.Load()
	if t, ok := c.m.Load(k); ok {
		p.pos = end
		return t.(*ast.Term), nil
	}
	k.s = strings.Clone(k.s)
	q := p.item
	if q == nil {
		q = &jsonParser{}
		p.item = q
	}
	q.data, q.src, q.pos = []byte(k.s), k.s, 0
	t, err := q.value(depth + 1)
	if err != nil || q.pos != len(q.data) {
		return p.value(depth + 1) // read where it is, for the same error
	}
	if c.n.Add(1) > itemCacheEntries {
		c = new(itemMap)
		itemCache.Store(c)
	}
	c.m.Store(k, t)
	p.pos = end
	return t, nil
}

// objectEnd returns the position after the object that starts at from, found
// by skipping strings and counting brackets (what it holds is left to the
// parser); -1 if it is longer than max bytes.
func objectEnd(data []byte, from, max int) int {
	depth := 0
	limit := min(len(data), from+max)
	for i := from; i < limit; i++ {
		switch data[i] {
		case '"':
			if i = closingQuote(data, i, limit); i < 0 {
				return -1
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// closingQuote returns the position of the quote that closes the string
// opening at data[open], skipping escapes; -1 if there is none before limit.
func closingQuote(data []byte, open, limit int) int {
	for i := open + 1; i < limit; i++ {
		switch data[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return -1
}

func (p *jsonParser) number() (*ast.Term, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errorf("invalid number")
		}
	}
	return p.term(ast.Number(p.src[start:p.pos])), nil
}

// str reads a string token; p.pos is at its opening quote.
func (p *jsonParser) str() (string, error) {
	p.pos++
	start := p.pos
	// Fast path: no escapes, ASCII (or valid UTF-8): a substring of the body.
	ascii := true
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.src[start:p.pos]
			p.pos++
			if ascii || utf8.ValidString(s) {
				return s, nil
			}
			return string([]rune(s)), nil // invalid bytes → U+FFFD
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		p.pos++
	}
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if utf8.Valid(buf) {
				return string(buf), nil
			}
			return string([]rune(string(buf))), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c == '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return "", p.errorf("unexpected end of input in a string")
			}
			e := p.data[p.pos]
			p.pos++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					// A valid pair makes one rune; anything else is U+FFFD and
					// the following escape is read on its own, as encoding/json does.
					d := utf8.RuneError
					if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						save := p.pos
						p.pos += 2
						if r2, err := p.hex4(); err == nil {
							d = utf16.DecodeRune(r, r2)
						}
						if d == utf8.RuneError {
							p.pos = save
						}
					}
					r = d
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", p.errorf("invalid escape \\%c", e)
			}
		default:
			buf = append(buf, c)
			p.pos++
		}
	}
	return "", p.errorf("unexpected end of input in a string")
}

func (p *jsonParser) hex4() (rune, error) {
	if len(p.data)-p.pos < 4 {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.pos += 4
	return rune(n), nil
}

// sharedTerms are the words of Trino's OPA protocol (keys, operations, common
// values) as terms every request shares. Nothing modifies a term once built.
var sharedTerms = func() map[string]*ast.Term {
	words := []string{
		"input", "context", "identity", "user", "groups", "enabledRoles", "softwareStack", "trinoVersion", "queryId",
		"action", "operation", "resource", "filterResources", "targetResource", "grantee", "name", "type",
		"catalog", "schema", "table", "column", "function", "systemSessionProperty", "catalogSessionProperty",
		"catalogName", "schemaName", "tableName", "columnName", "columnType", "columns", "functionName", "functionKind",
		"propertyName", "properties", "USER", "ROLE", "information_schema", "varchar", "bigint", "integer", "double",
		"boolean", "date", "timestamp",
	}
	for op := range Operations {
		words = append(words, op)
	}
	m := make(map[string]*ast.Term, len(words))
	for _, w := range words {
		m[w] = ast.StringTerm(w)
	}
	return m
}()

// keyTerm is the term of a protocol key, for lookups.
func keyTerm(k string) *ast.Term {
	if t, ok := sharedTerms[k]; ok {
		return t
	}
	return ast.StringTerm(k)
}
