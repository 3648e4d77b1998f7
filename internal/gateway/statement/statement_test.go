package statement

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/statements.json holds one case per statement: what it is, or the
// error it earns.
func TestParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "statements.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		SQL      string `json:"sql"`
		Complete *bool  `json:"complete"`
		Kind     string `json:"kind"`
		Name     string `json:"name"`
		Value    string `json:"value"`
		Like     string `json:"like"`
		Escape   string `json:"escape"`
		HasLike  bool   `json:"hasLike"`
		Error    string `json:"error"`
		NeedMore bool   `json:"needMore"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]Kind{"other": Other, "set": Set, "reset": Reset, "show": Show}
	for _, c := range cases {
		t.Run(c.SQL, func(t *testing.T) {
			complete := c.Complete == nil || *c.Complete
			st, err := Parse(c.SQL, complete)
			if c.NeedMore {
				if !errors.Is(err, ErrNeedMore) {
					t.Fatalf("got %+v, %v; want ErrNeedMore", st, err)
				}
				return
			}
			if c.Error != "" {
				var se *Error
				if err == nil || !strings.Contains(err.Error(), c.Error) {
					t.Fatalf("error %v, want it to contain %q", err, c.Error)
				}
				if !errors.As(err, &se) {
					t.Fatalf("error %T, want *statement.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			want := Statement{Kind: kinds[c.Kind], Name: c.Name, Value: c.Value, Like: c.Like, Escape: c.Escape, HasLike: c.HasLike}
			if st != want {
				t.Errorf("got %+v, want %+v", st, want)
			}
		})
	}
}

// Parse must never panic, whatever it is given, and must classify every
// prefix of a statement without error unless it is a gatehouse SET/RESET.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"SET SESSION gatehouse.impersonate_user = 'a''b'", "SHOW SESSION LIKE 'x' ESCAPE '!'", "/* x */ RESET SESSION \"gatehouse\".y", "SELECT 1"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, sql string, complete bool) {
		st, err := Parse(sql, complete)
		if err != nil && st.Kind != Other {
			t.Fatalf("error with a statement: %+v, %v", st, err)
		}
		if (st.Kind == Set || st.Kind == Reset) && !strings.HasPrefix(st.Name, Namespace+".") {
			t.Fatalf("intercepted %q for %q", st.Name, sql)
		}
	})
}
