package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// The REST API is tested by data: testdata/*.json hold cases, each a list of
// steps run in order against a fresh server. A step sends one request as a
// principal and checks the status and a subset of the JSON answer.
type caseFile struct {
	Cases []testCase `json:"cases"`
}

type testCase struct {
	Name  string `json:"name"`
	Steps []step `json:"steps"`
}

type step struct {
	// As is who calls: "admin" (the bootstrap token), "none" (no header),
	// "bad" (an unknown token) or a name given to saveToken earlier.
	As      string          `json:"as"`
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Body    json.RawMessage `json:"body,omitempty"`
	RawBody *string         `json:"rawBody,omitempty"` // sent verbatim, for malformed input
	// RequestID is sent as X-Request-Id, to follow it into the audit log.
	RequestID string `json:"requestId,omitempty"`
	Status    int    `json:"status"`
	// Want is matched as a subset: objects need the listed keys (recursively),
	// arrays need the same length with each element matching.
	Want       json.RawMessage   `json:"want,omitempty"`
	WantHeader map[string]string `json:"wantHeader,omitempty"` // header value prefixes
	// WantAbsent lists strings that must not occur anywhere in the body.
	WantAbsent []string `json:"wantAbsent,omitempty"`
	SaveToken  string   `json:"saveToken,omitempty"` // keep the answer's "secret" under this name
	// Upstream sets what the case's loopback user-info endpoint answers; a
	// step with only Upstream sends nothing to gatehouse.
	Upstream *upstreamAnswer `json:"upstream,omitempty"`
}

// Every case gets a real user-info endpoint on loopback, whose URL its steps
// write as ${USERINFO_URL} (in paths, bodies and wants), and a loopback
// address nothing listens on as ${UNREACHABLE_URL}.
type upstreamAnswer struct {
	Path   string          `json:"path"` // "" is "/"
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	// BasicAuth, "user:password", is then required: anything else is a 401.
	BasicAuth string `json:"basicAuth,omitempty"`
	// UserID, when set, is the only ?userid= answered; others get a 404.
	UserID string `json:"userid,omitempty"`
}

type upstream struct {
	mu      sync.Mutex
	answers map[string]upstreamAnswer
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	a, ok := u.answers[r.URL.Path]
	u.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if a.BasicAuth != "" {
		user, pw, _ := r.BasicAuth()
		if user+":"+pw != a.BasicAuth {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if a.UserID != "" && r.URL.Query().Get("userid") != a.UserID {
		http.NotFound(w, r)
		return
	}
	if a.Status != 0 && a.Status != http.StatusOK {
		w.WriteHeader(a.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.Body)
}

func TestREST(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no REST cases found in testdata/: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf caseFile
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cf.Cases {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json")+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				runCase(t, c)
			})
		}
	}
}

func runCase(t *testing.T, c testCase) {
	// One retry: failing upstream steps stay quick, and retrying is covered.
	srv := servertest.Start(t, "", func(c *config.Config) { c.UserInfoRetries, c.UserInfoTimeout = 1, 2*time.Second })
	up := &upstream{answers: map[string]upstreamAnswer{}}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	vars := strings.NewReplacer("${USERINFO_URL}", upSrv.URL, "${UNREACHABLE_URL}", closed.URL)
	tokens := map[string]string{"admin": servertest.AdminToken, "bad": "not-a-real-token", "none": ""}
	for i, s := range c.Steps {
		if s.Upstream != nil {
			a := *s.Upstream
			if a.Path == "" {
				a.Path = "/"
			}
			a.Body = json.RawMessage(vars.Replace(string(a.Body)))
			up.mu.Lock()
			up.answers[a.Path] = a
			up.mu.Unlock()
			if s.Method == "" {
				continue
			}
		}
		s.Path = vars.Replace(s.Path)
		if s.Body != nil {
			s.Body = json.RawMessage(vars.Replace(string(s.Body)))
		}
		if s.RawBody != nil {
			raw := vars.Replace(*s.RawBody)
			s.RawBody = &raw
		}
		if s.Want != nil {
			s.Want = json.RawMessage(vars.Replace(string(s.Want)))
		}
		label := fmt.Sprintf("step %d: %s %s as %s", i+1, s.Method, s.Path, s.As)
		tok, ok := tokens[s.As]
		if !ok {
			t.Fatalf("%s: unknown principal %q", label, s.As)
		}
		var body io.Reader
		switch {
		case s.RawBody != nil:
			body = strings.NewReader(*s.RawBody)
		case s.Body != nil:
			body = bytes.NewReader(s.Body)
		}
		req, err := http.NewRequest(s.Method, srv.URL+s.Path, body)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		req.Header.Set("Content-Type", "application/json")
		if s.RequestID != "" {
			req.Header.Set("X-Request-Id", s.RequestID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.Status {
			t.Fatalf("%s: status %d, want %d; body %s", label, resp.StatusCode, s.Status, got)
		}
		if resp.StatusCode >= 400 {
			var e struct{ Code, Message string }
			if err := json.Unmarshal(got, &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("%s: error body is not {code, message}: %s", label, got)
			}
		}
		for k, v := range s.WantHeader {
			if h := resp.Header.Get(k); !strings.HasPrefix(h, v) {
				t.Errorf("%s: header %s = %q, want prefix %q", label, k, h, v)
			}
		}
		for _, a := range s.WantAbsent {
			if bytes.Contains(bytes.ToLower(got), bytes.ToLower([]byte(a))) {
				t.Errorf("%s: body contains %q: %s", label, a, got)
			}
		}
		if s.Want != nil {
			var want, have any
			if err := json.Unmarshal(s.Want, &want); err != nil {
				t.Fatalf("%s: bad want: %v", label, err)
			}
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatalf("%s: answer is not JSON: %s", label, got)
			}
			if path, ok := subset(want, have, "$"); !ok {
				t.Fatalf("%s: answer does not match at %s\nwant %s\ngot  %s", label, path, s.Want, got)
			}
		}
		if s.SaveToken != "" {
			var ct struct{ Secret string }
			if err := json.Unmarshal(got, &ct); err != nil || ct.Secret == "" {
				t.Fatalf("%s: no secret to save in %s", label, got)
			}
			tokens[s.SaveToken] = ct.Secret
		}
	}
}

// subset reports whether want is contained in have, and where it is not.
func subset(want, have any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return path, false
		}
		for k, wv := range w {
			hv, present := h[k]
			if !present {
				return path + "." + k + " (missing)", false
			}
			if p, ok := subset(wv, hv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return path + " (length)", false
		}
		for i := range w {
			if p, ok := subset(w[i], h[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	default:
		return path, reflect.DeepEqual(want, have)
	}
}
