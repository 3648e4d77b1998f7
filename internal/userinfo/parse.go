// Package userinfo pulls users' groups and entitlements from their identity
// provider's external user-info endpoint into the directory (seed 003,
// "external user info endpoint"): `GET <uri>?userid=<id>` answers
// {"groups": [{"name": ...}], "authorizations": {"<name>": ["<value>"]}},
// which becomes memberships and attribute values owned by that IAM.
//
// The package has three parts. Client talks to endpoints (Basic auth, TLS
// with a CA file, client certificates, timeouts, retries with backoff) and
// checks that an endpoint is usable before an IAM is saved. Apply turns an
// answer into store writes inside the caller's transaction, adding and
// removing only IAM-owned memberships and values so that manual ones are
// never touched. Syncer decides when: periodically with jitter and bounded
// concurrency, and on a non-blocking trigger from the decision path. The
// audited write itself is admin.Service's, so a sync reaches policies by the
// same commit hook as any admin write.
package userinfo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Limits on an answer. A larger one is malformed and changes nothing: an
// endpoint gone wrong must not be able to flood the directory.
const (
	MaxBodyBytes = 1 << 20
	MaxItems     = 10_000 // groups, and attribute values, per answer
)

// Info is an endpoint's answer about one user, sorted and without
// duplicates: group names, and authorization name → values.
type Info struct {
	Groups         []string             `json:"groups"`
	Authorizations directory.Attributes `json:"authorizations"`
}

// MalformedError is an answer that is not the documented shape. Such an
// answer changes nothing: applying part of something we do not understand
// could remove memberships the user still has.
type MalformedError struct{ Msg string }

func (e *MalformedError) Error() string { return "malformed answer: " + e.Msg }

func malformed(format string, args ...any) error {
	return &MalformedError{Msg: fmt.Sprintf(format, args...)}
}

// Parse reads an answer body. It never panics, whatever the input: the
// body is decoded into generic JSON values (whose depth encoding/json
// bounds) and every value's type is checked before use.
//
// The shape is checked strictly — groups an array of objects with a string
// "name", authorizations an object of string arrays, at least one of the
// two present — because a lenient reading of an unexpected shape would read
// as "no groups" and remove every owned membership. Null stands for empty;
// other keys are ignored. Whether names and values are usable in the
// directory is not Parse's concern: Apply skips unusable ones.
func Parse(body []byte) (Info, error) {
	if len(body) > MaxBodyBytes {
		return Info{}, malformed("body is larger than %d bytes", MaxBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return Info{}, malformed("not JSON: %v", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Info{}, malformed("data after the JSON value")
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return Info{}, malformed("body is %s, not a JSON object", kind(top))
	}
	rawGroups, hasGroups := obj["groups"]
	rawAuth, hasAuth := obj["authorizations"]
	if !hasGroups && !hasAuth {
		return Info{}, malformed(`body has neither "groups" nor "authorizations"`)
	}
	info := Info{Groups: []string{}, Authorizations: directory.Attributes{}}
	if rawGroups != nil {
		arr, ok := rawGroups.([]any)
		if !ok {
			return Info{}, malformed(`"groups" is %s, not an array`, kind(rawGroups))
		}
		if len(arr) > MaxItems {
			return Info{}, malformed(`"groups" has %d entries, more than %d`, len(arr), MaxItems)
		}
		for i, g := range arr {
			o, ok := g.(map[string]any)
			if !ok {
				return Info{}, malformed(`"groups"[%d] is %s, not {"name": "..."}`, i, kind(g))
			}
			name, ok := o["name"].(string)
			if !ok {
				return Info{}, malformed(`"groups"[%d].name is %s, not a string`, i, kind(o["name"]))
			}
			info.Groups = append(info.Groups, name)
		}
		info.Groups = directory.SortStrings(info.Groups)
	}
	if rawAuth != nil {
		auth, ok := rawAuth.(map[string]any)
		if !ok {
			return Info{}, malformed(`"authorizations" is %s, not an object`, kind(rawAuth))
		}
		n := 0
		for _, name := range sortedKeys(auth) {
			if auth[name] == nil {
				continue
			}
			vals, ok := auth[name].([]any)
			if !ok {
				return Info{}, malformed(`"authorizations".%q is %s, not an array of strings`, name, kind(auth[name]))
			}
			if n += len(vals); n > MaxItems {
				return Info{}, malformed(`"authorizations" has more than %d values`, MaxItems)
			}
			for i, v := range vals {
				s, ok := v.(string)
				if !ok {
					return Info{}, malformed(`"authorizations".%q[%d] is %s, not a string`, name, i, kind(v))
				}
				info.Authorizations.Add(name, s)
			}
		}
	}
	return info, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// kind names a decoded JSON value's type for error messages.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErr shortens encoding/json's messages, which start with "json: " or
// "invalid character".
func jsonErr(err error) string {
	if err == io.EOF {
		return "empty body"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
