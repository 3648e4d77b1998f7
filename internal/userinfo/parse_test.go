package userinfo_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, body string
		want       string // the Info as JSON
	}{
		{"the documented example", `{"groups": [{"name": "Accountants"}, {"name": "Controllers"}],
			"authorizations": {"EMEA": ["Sales", "Expenses"], "APAC": ["Sales"]}}`,
			`{"groups":["Accountants","Controllers"],"authorizations":{"APAC":["Sales"],"EMEA":["Expenses","Sales"]}}`},
		{"groups only", `{"groups": [{"name": "b"}, {"name": "a"}, {"name": "b"}]}`, `{"groups":["a","b"],"authorizations":{}}`},
		{"authorizations only", `{"authorizations": {"x": ["2", "1", "2"]}}`, `{"groups":[],"authorizations":{"x":["1","2"]}}`},
		{"nulls are empty", `{"groups": null, "authorizations": {"x": null}}`, `{"groups":[],"authorizations":{}}`},
		{"empty", `{"groups": [], "authorizations": {}}`, `{"groups":[],"authorizations":{}}`},
		{"other keys ignored", `{"groups": [{"name": "a", "id": 7}], "user": {"x": 1}}`, `{"groups":["a"],"authorizations":{}}`},
		{"names are kept as sent", `{"groups": [{"name": "Data Analysts"}, {"name": ""}], "authorizations": {"a b": [""]}}`,
			`{"groups":["","Data Analysts"],"authorizations":{"a b":[""]}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := userinfo.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(info)
			if string(got) != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzParse: any body either parses into sorted, duplicate-free sets within
// the limits, or is a MalformedError; nothing panics.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"groups": [{"name": "a"}], "authorizations": {"x": ["1"]}}`,
		`{"groups": null}`, `{}`, `[]`, `null`, `{"groups": [1]}`, `{"authorizations": {"x": [{}]}}`,
		`{"groups": [{"name": "\u0000"}]}`, "\xff\xfe", `{"groups": [{"name": "a"}]} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := userinfo.Parse(body)
		if err != nil {
			var me *userinfo.MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a MalformedError", err)
			}
			return
		}
		if !slices.IsSorted(info.Groups) || len(slices.Compact(slices.Clone(info.Groups))) != len(info.Groups) || len(info.Groups) > userinfo.MaxItems {
			t.Fatalf("groups %q", info.Groups)
		}
		for k, vs := range info.Authorizations {
			if len(vs) == 0 || !slices.IsSorted(vs) || len(slices.Compact(slices.Clone(vs))) != len(vs) {
				t.Fatalf("authorization %q: %q", k, vs)
			}
		}
	})
}
