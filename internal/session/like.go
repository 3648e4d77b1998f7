package session

import (
	"unicode/utf8"
)

// Pattern is a compiled SQL LIKE pattern, as SHOW SESSION LIKE uses it on
// property names: % matches any run of characters, _ exactly one, and the
// optional escape character makes the next %, _ or escape literal. Matching
// is case-sensitive, as in Trino.
type Pattern struct {
	toks []likeTok
}

type likeKind uint8

const (
	likeLit likeKind = iota // one literal character
	likeOne                 // _
	likeAny                 // %
)

type likeTok struct {
	kind likeKind
	r    rune
}

// CompileLike compiles pattern. escape is "" for none, else exactly one
// character. The error messages are Trino's.
func CompileLike(pattern, escape string) (*Pattern, error) {
	var esc rune = -1
	if escape != "" {
		r, n := utf8.DecodeRuneInString(escape)
		if n != len(escape) {
			return nil, invalid("", "Escape string must be a single character")
		}
		esc = r
	}
	if !utf8.ValidString(pattern) {
		return nil, invalid("", "LIKE pattern is not valid UTF-8")
	}
	p := &Pattern{}
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			if r != '%' && r != '_' && r != esc {
				return nil, invalid("", "Escape character must be followed by '%%', '_' or the escape character")
			}
			p.toks = append(p.toks, likeTok{likeLit, r})
			escaped = false
		case r == esc:
			escaped = true
		case r == '%':
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != likeAny { // %% is %
				p.toks = append(p.toks, likeTok{kind: likeAny})
			}
		case r == '_':
			p.toks = append(p.toks, likeTok{kind: likeOne})
		default:
			p.toks = append(p.toks, likeTok{likeLit, r})
		}
	}
	if escaped {
		return nil, invalid("", "Escape character must be followed by '%%', '_' or the escape character")
	}
	return p, nil
}

// Match reports whether s matches the whole pattern. It backtracks only to
// the last %, so it runs in O(len(s) × len(pattern)) at worst.
func (p *Pattern) Match(s string) bool {
	rs := []rune(s)
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(rs) {
		if ti < len(p.toks) {
			switch t := p.toks[ti]; t.kind {
			case likeAny:
				starT, starS = ti, si
				ti++
				continue
			case likeOne:
				ti++
				si++
				continue
			case likeLit:
				if t.r == rs[si] {
					ti++
					si++
					continue
				}
			}
		}
		if starT < 0 {
			return false
		}
		// Let the last % swallow one more character and retry from there.
		starS++
		ti, si = starT+1, starS
	}
	for ti < len(p.toks) && p.toks[ti].kind == likeAny {
		ti++
	}
	return ti == len(p.toks)
}
