// Package statement recognises the SQL statements the gatehouse gateway
// answers itself instead of Trino: SET SESSION and RESET SESSION of a
// gatehouse.* property, and SHOW SESSION (which the gateway forwards and then
// extends with gatehouse's rows). Everything else is Other and goes to Trino
// untouched, so the parser only has to be exact about these three forms:
// keywords in any case, whitespace and comments (-- and /* */) anywhere
// between tokens, identifiers bare or double-quoted, values as single-quoted
// literals in which a doubled quote stands for one, and an optional trailing
// semicolon.
package statement

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a statement is, as far as the gateway cares.
type Kind int

const (
	Other Kind = iota // anything Trino should run
	Set               // SET SESSION gatehouse.x = 'v'
	Reset             // RESET SESSION gatehouse.x
	Show              // SHOW SESSION [LIKE 'p' [ESCAPE 'c']]
)

// Statement is a recognised statement.
type Statement struct {
	Kind Kind
	// Name is the property of Set and Reset, its parts lower-cased and
	// joined with dots ("gatehouse.impersonate_user").
	Name string
	// Value is Set's value, unquoted.
	Value string
	// Like and Escape are Show's pattern and escape character; HasLike
	// tells an absent LIKE from an empty pattern.
	Like, Escape string
	HasLike      bool
}

// Namespace is the first part of the property names the gateway answers for.
const Namespace = "gatehouse"

// Error is a malformed gatehouse SET or RESET: the statement is certainly
// meant for gatehouse, so its mistake is reported rather than forwarded to
// Trino (which would answer with a confusing "catalog gatehouse not found").
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// ErrNeedMore means sql was only a prefix and ended before Parse could tell
// what the statement is (inside a long leading comment, say): the caller
// should read the whole statement and parse again.
var ErrNeedMore = errors.New("statement: need the whole statement to classify it")

// Parse classifies sql. complete is false when sql is only the beginning of
// a longer statement (the caller reads a bounded prefix, so that ordinary
// statements of any size stream to Trino): a prefix that ends before the
// statement is known to be Other, or that starts one of the gateway's own
// statements, is ErrNeedMore. Otherwise only a gatehouse SET or RESET can
// yield an error; a malformed SHOW SESSION is Other, for Trino to report in
// its own words.
func Parse(sql string, complete bool) (Statement, error) {
	lx := &lexer{src: sql}
	// cut reports that the lexer ran into the end of an incomplete prefix,
	// where the next token, or the rest of this one, may be.
	cut := func() bool { return !complete && lx.hitEnd }
	first := lx.next()
	if cut() {
		return Statement{}, ErrNeedMore
	}
	if first.kind != tokWord {
		return Statement{}, nil
	}
	verb := strings.ToUpper(first.text)
	if verb != "SET" && verb != "RESET" && verb != "SHOW" {
		return Statement{}, nil
	}
	second := lx.next()
	if cut() {
		return Statement{}, ErrNeedMore
	}
	if second.kind != tokWord || !strings.EqualFold(second.text, "SESSION") {
		return Statement{}, nil
	}
	if verb == "SHOW" {
		if !complete {
			return Statement{}, ErrNeedMore
		}
		return parseShow(lx), nil
	}

	// SET / RESET SESSION <name>: ours when the name is gatehouse.<something>.
	start := lx.pos
	parts, ok := lx.qualifiedName()
	if cut() {
		return Statement{}, ErrNeedMore
	}
	if !ok || len(parts) < 2 || parts[0] != Namespace {
		return Statement{}, nil
	}
	if !complete {
		return Statement{}, ErrNeedMore
	}
	name := strings.Join(parts, ".")
	shown := strings.TrimSpace(sql[start:lx.pos])
	st := Statement{Kind: Reset, Name: name}
	if verb == "SET" {
		st.Kind = Set
		if t := lx.next(); t.kind != tokSymbol || t.text != "=" {
			return Statement{}, errorf("SET SESSION %s: expected = and a quoted value, as in SET SESSION %s = 'value'%s", shown, name, found(t))
		}
		v := lx.next()
		switch v.kind {
		case tokString:
			st.Value = v.text
		case tokEOF:
			return Statement{}, errorf("SET SESSION %s: no value: write SET SESSION %s = 'value'", shown, name)
		case tokError:
			return Statement{}, errorf("SET SESSION %s: %s", shown, v.text)
		default:
			return Statement{}, errorf("SET SESSION %s: the value must be a quoted string literal, as in SET SESSION %s = 'value'%s", shown, name, found(v))
		}
	}
	if t := lx.next(); t.kind == tokSymbol && t.text == ";" {
		if t2 := lx.next(); t2.kind != tokEOF {
			return Statement{}, errorf("%s SESSION %s: unexpected text after the semicolon%s", verb, shown, found(t2))
		}
	} else if t.kind != tokEOF {
		what := "the property name"
		if verb == "SET" {
			what = "the value"
		}
		return Statement{}, errorf("%s SESSION %s: unexpected text after %s%s", verb, shown, what, found(t))
	}
	return st, nil
}

// parseShow reads the rest of SHOW SESSION; anything malformed is Other.
func parseShow(lx *lexer) Statement {
	st := Statement{Kind: Show}
	t := lx.next()
	if t.kind == tokWord && strings.EqualFold(t.text, "LIKE") {
		p := lx.next()
		if p.kind != tokString {
			return Statement{}
		}
		st.Like, st.HasLike = p.text, true
		t = lx.next()
		if t.kind == tokWord && strings.EqualFold(t.text, "ESCAPE") {
			e := lx.next()
			if e.kind != tokString {
				return Statement{}
			}
			st.Escape = e.text
			t = lx.next()
		}
	}
	if t.kind == tokSymbol && t.text == ";" {
		t = lx.next()
	}
	if t.kind != tokEOF {
		return Statement{}
	}
	return st
}

// found describes an unexpected token for an error message.
func found(t token) string {
	switch t.kind {
	case tokEOF:
		return " (found the end of the statement)"
	case tokError:
		return " (" + t.text + ")"
	}
	s := t.raw
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "..."
	}
	return fmt.Sprintf(" (found %s)", s)
}

type tokKind int

const (
	tokEOF    tokKind = iota
	tokWord           // a bare identifier or keyword
	tokQuoted         // a "double-quoted" identifier
	tokString         // a 'single-quoted' literal
	tokSymbol         // one punctuation character
	tokOther          // a number or anything else
	tokError          // an unterminated literal or comment; text says which
)

type token struct {
	kind tokKind
	text string // identifiers and literals decoded; symbols as written
	raw  string // as written
}

type lexer struct {
	src    string
	pos    int
	hitEnd bool // a token ran into the end of src, or none was left
}

// skip passes whitespace and comments. It reports an unterminated block
// comment as an error token.
func (l *lexer) skip() *token {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case unicode.IsSpace(r):
			l.pos += n
		case strings.HasPrefix(l.src[l.pos:], "--"):
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			i := strings.Index(l.src[l.pos+2:], "*/")
			if i < 0 {
				l.pos = len(l.src)
				return &token{kind: tokError, text: "a /* comment is not closed"}
			}
			l.pos += 2 + i + 2
		default:
			return nil
		}
	}
	return nil
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == ':'
}

func (l *lexer) next() token {
	t := l.lex()
	if t.kind == tokEOF || t.kind == tokError || l.pos >= len(l.src) {
		l.hitEnd = true
	}
	return t
}

func (l *lexer) lex() token {
	if e := l.skip(); e != nil {
		return *e
	}
	if l.pos >= len(l.src) {
		return token{kind: tokEOF}
	}
	start := l.pos
	r, n := utf8.DecodeRuneInString(l.src[l.pos:])
	switch {
	case r == '\'' || r == '"':
		text, ok := l.quoted(byte(r))
		kind := tokString
		if r == '"' {
			kind = tokQuoted
		}
		if !ok {
			what := "a quoted string is not closed"
			if r == '"' {
				what = "a quoted identifier is not closed"
			}
			return token{kind: tokError, text: what}
		}
		return token{kind: kind, text: text, raw: l.src[start:l.pos]}
	case isWordRune(r) && !unicode.IsDigit(r):
		for l.pos < len(l.src) {
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isWordRune(r) {
				break
			}
			l.pos += n
		}
		return token{kind: tokWord, text: l.src[start:l.pos], raw: l.src[start:l.pos]}
	case unicode.IsDigit(r):
		for l.pos < len(l.src) {
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isWordRune(r) && r != '.' {
				break
			}
			l.pos += n
		}
		return token{kind: tokOther, text: l.src[start:l.pos], raw: l.src[start:l.pos]}
	}
	l.pos += n
	return token{kind: tokSymbol, text: l.src[start:l.pos], raw: l.src[start:l.pos]}
}

// quoted reads a literal opened by q, in which qq stands for q.
func (l *lexer) quoted(q byte) (string, bool) {
	var b strings.Builder
	i := l.pos + 1
	for {
		j := strings.IndexByte(l.src[i:], q)
		if j < 0 {
			l.pos = len(l.src)
			return "", false
		}
		b.WriteString(l.src[i : i+j])
		i += j + 1
		if i < len(l.src) && l.src[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		l.pos = i
		return b.String(), true
	}
}

// qualifiedName reads ident(.ident)*, bare parts lower-cased as Trino does;
// quoted parts are lower-cased too, since catalog and property names are.
func (l *lexer) qualifiedName() ([]string, bool) {
	var parts []string
	for {
		t := l.next()
		if t.kind != tokWord && t.kind != tokQuoted {
			return nil, false
		}
		parts = append(parts, strings.ToLower(t.text))
		save := l.pos
		if d := l.next(); d.kind != tokSymbol || d.text != "." {
			l.pos = save
			return parts, true
		}
	}
}
