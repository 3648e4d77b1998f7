package session

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The semantics are specified by the cases in testdata/: one statement (or
// header, or pattern) and what must come of it. Adding a case needs no code.

func load(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// wantError is an expected *Error: its code and fragments of its message.
type wantError struct {
	Code     string   `json:"code"`
	Contains []string `json:"contains"`
}

var codeNames = map[string]Code{"invalid": CodeInvalid, "refused": CodeRefused, "notFound": CodeNotFound}

func (w *wantError) check(t *testing.T, err error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *session.Error with code %s", err, err, w.Code)
	}
	if se.Code != codeNames[w.Code] {
		t.Errorf("code %d, want %s (%q)", se.Code, w.Code, se.Msg)
	}
	for _, f := range w.Contains {
		if !strings.Contains(se.Msg, f) {
			t.Errorf("message %q does not contain %q", se.Msg, f)
		}
	}
}

func TestSetReset(t *testing.T) {
	var cases []struct {
		Name     string `json:"name"`
		Mode     Mode   `json:"mode"`
		Op       string `json:"op"`
		Props    Props  `json:"props"`
		Property string `json:"property"`
		Value    string `json:"value"`
		Want     *struct {
			Set   map[string]string `json:"set"`
			Clear []string          `json:"clear"`
		} `json:"want"`
		Error *wantError `json:"error"`
	}
	load(t, "set_reset.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if (c.Want == nil) == (c.Error == nil) {
				t.Fatal("a case needs exactly one of want and error")
			}
			before := maps.Clone(c.Props)
			var ch Change
			var err error
			switch c.Op {
			case "set":
				ch, err = Set(c.Mode, c.Props, c.Property, c.Value)
			case "reset":
				ch, err = Reset(c.Mode, c.Props, c.Property)
			default:
				t.Fatalf("unknown op %q", c.Op)
			}
			if !maps.Equal(before, c.Props) {
				t.Error("the session's properties were modified: Set and Reset must only describe a change")
			}
			if c.Error != nil {
				c.Error.check(t, err)
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !maps.Equal(ch.Set, c.Want.Set) || !slices.Equal(ch.Clear, c.Want.Clear) {
				t.Errorf("change %+v, want set %v clear %v", ch, c.Want.Set, c.Want.Clear)
			}
		})
	}
}

func TestLike(t *testing.T) {
	var cases []struct {
		Pattern string   `json:"pattern"`
		Escape  string   `json:"escape"`
		Matches []string `json:"matches"`
		Rejects []string `json:"rejects"`
		Error   string   `json:"error"`
	}
	load(t, "like.json", &cases)
	for _, c := range cases {
		t.Run(c.Pattern, func(t *testing.T) {
			p, err := CompileLike(c.Pattern, c.Escape)
			if c.Error != "" {
				if err == nil || err.Error() != c.Error {
					t.Fatalf("error %v, want %q", err, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.Matches {
				if !p.Match(s) {
					t.Errorf("%q does not match %q", c.Pattern, s)
				}
			}
			for _, s := range c.Rejects {
				if p.Match(s) {
					t.Errorf("%q matches %q", c.Pattern, s)
				}
			}
		})
	}
}

func TestHeader(t *testing.T) {
	var cases []struct {
		Name     string   `json:"name"`
		Values   []string `json:"values"`
		Props    Props    `json:"props"`
		Stripped []string `json:"stripped"`
		Error    string   `json:"error"`
	}
	load(t, "header.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := FromHeader(c.Values)
			if c.Error != "" {
				if err == nil || !strings.Contains(err.Error(), c.Error) {
					t.Fatalf("error %v, want it to contain %q", err, c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.Props) {
				t.Errorf("props %v, want %v", got, c.Props)
			}
			if s := StripHeader(c.Values); !slices.Equal(s, c.Stripped) {
				t.Errorf("stripped %q, want %q", s, c.Stripped)
			}
			if HasOurs(c.Values) != (len(c.Props) > 0) {
				t.Errorf("HasOurs = %v", HasOurs(c.Values))
			}
		})
	}
}

// A SET's header value, read back the way a client sends it, is the value set.
func TestSetHeaderRoundTrip(t *testing.T) {
	for _, v := range []string{"alice", "Jane Doe", "{userid}@example.com", "a,b=c;d", "ünï+cødé%"} {
		got, err := FromHeader([]string{"x=1," + SetHeaderValue(ImpersonateUser, v)})
		if err != nil || got[ImpersonateUser] != v {
			t.Errorf("%q came back as %q, %v", v, got[ImpersonateUser], err)
		}
	}
}

func TestShow(t *testing.T) {
	var cases []struct {
		Name   string     `json:"name"`
		Props  Props      `json:"props"`
		Like   *string    `json:"like"`
		Escape string     `json:"escape"`
		Rows   [][]string `json:"rows"`
	}
	load(t, "show.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var p *Pattern
			if c.Like != nil {
				var err error
				if p, err = CompileLike(*c.Like, c.Escape); err != nil {
					t.Fatal(err)
				}
			}
			rows := Show(c.Props, p)
			got := make([][]string, len(rows))
			for i, r := range rows {
				got[i] = []string{r.Name, r.Value}
				if r.Type != "varchar" || r.Description == "" {
					t.Errorf("row %+v lacks its type or description", r)
				}
			}
			if !slices.EqualFunc(got, c.Rows, slices.Equal) {
				t.Errorf("rows %q, want %q", got, c.Rows)
			}
		})
	}
}

// fakeDirectory is a directory as the resolution cases describe it.
type fakeDirectory []struct {
	Username string `json:"username"`
	TrinoID  string `json:"trinoId"`
	IAM      string `json:"iam"`
	UserID   string `json:"userId"`
}

func (d fakeDirectory) find(match func(i int) bool) (User, bool, error) {
	for i, u := range d {
		if match(i) {
			name := u.TrinoID
			if name == "" {
				name = u.Username
			}
			return User{Username: u.Username, TrinoName: name}, true, nil
		}
	}
	return User{}, false, nil
}

func (d fakeDirectory) UserByTrinoName(_ context.Context, name string) (User, bool, error) {
	return d.find(func(i int) bool { return d[i].TrinoID != "" && d[i].TrinoID == name })
}

func (d fakeDirectory) UserByUsername(_ context.Context, username string) (User, bool, error) {
	return d.find(func(i int) bool { return d[i].Username == username })
}

func (d fakeDirectory) UserByIAMUserID(_ context.Context, iam, userID string) (User, bool, error) {
	return d.find(func(i int) bool { return d[i].IAM == iam && d[i].UserID == userID })
}

func TestResolve(t *testing.T) {
	var spec struct {
		Directory fakeDirectory `json:"directory"`
		Cases     []struct {
			Name  string `json:"name"`
			Props Props  `json:"props"`
			Want  *struct {
				Active    bool   `json:"active"`
				TrinoUser string `json:"trinoUser"`
				Username  string `json:"username"`
			} `json:"want"`
			Error *wantError `json:"error"`
		} `json:"cases"`
	}
	load(t, "resolve.json", &spec)
	for _, c := range spec.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := Resolve(context.Background(), spec.Directory, c.Props)
			if c.Error != nil {
				c.Error.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Active != c.Want.Active || r.TrinoUser != c.Want.TrinoUser || r.Username != c.Want.Username {
				t.Errorf("resolved %+v, want %+v", r, *c.Want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeSession, "session": ModeSession, "strict": ModeStrict} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("single"); err == nil {
		t.Error("ParseMode(single) succeeded")
	}
}
