package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

func upper(_, v string) string { return strings.ToUpper(v) }

func TestRewriteURIs(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		err            bool
	}{
		{"Trino's shape", `{"id":"q1","infoUri":"http://t/ui/q1","nextUri":"http://t/v1/statement/q1/1","columns":[{"name":"a"}],"data":[[1,"x"]],"stats":{"state":"RUNNING"}}`,
			`{"id":"q1","infoUri":"HTTP://T/UI/Q1","nextUri":"HTTP://T/V1/STATEMENT/Q1/1","columns":[{"name":"a"}],"data":[[1,"x"]],"stats":{"state":"RUNNING"}}`, false},
		{"whitespace kept", " {\n \"nextUri\" : \"a\" ,\t\"x\" : [ 1 , 2 ] }\n", " {\n \"nextUri\" : \"A\" ,\t\"x\" : [ 1 , 2 ] }\n", false},
		{"URIs after the data are found", `{"data":[["nextUri","]}{[\"\\"]],"partialCancelUri":"p"}`, `{"data":[["nextUri","]}{[\"\\"]],"partialCancelUri":"P"}`, false},
		{"nested fields of the same name are left alone", `{"stats":{"nextUri":"n"},"x":"infoUri","infoUri":"i"}`, `{"stats":{"nextUri":"n"},"x":"infoUri","infoUri":"I"}`, false},
		{"escapes in a URI are decoded and re-encoded", `{"nextUri":"a\/b\u0041"}`, `{"nextUri":"A/BA"}`, false},
		{"scalars of every kind", `{"a":1.5e3,"b":true,"c":null,"d":-0,"nextUri":"z"}`, `{"a":1.5e3,"b":true,"c":null,"d":-0,"nextUri":"Z"}`, false},
		{"a null URI is copied", `{"nextUri":null}`, `{"nextUri":null}`, false},
		{"empty object", `{}`, `{}`, false},
		{"not an object: copied", `<html>Bad Gateway</html>`, `<html>Bad Gateway</html>`, false},
		{"empty body", ``, ``, false},
		{"truncated", `{"nextUri":"a","data":[[1,2`, ``, true},
		{"truncated in a string", `{"nextUri":"a`, ``, true},
		{"missing colon", `{"nextUri" "a"}`, ``, true},
	} {
		for _, oneByte := range []bool{false, true} {
			t.Run(c.name, func(t *testing.T) {
				var src io.Reader = strings.NewReader(c.in)
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				var out bytes.Buffer
				err := rewriteURIs(&out, src, upper)
				if c.err {
					if err == nil {
						t.Fatalf("no error; output %q", out.String())
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if out.String() != c.want {
					t.Errorf("got  %s\nwant %s", out.String(), c.want)
				}
			})
		}
	}
}

// randomValue builds JSON-able values full of the characters that trip
// scanners: quotes, backslashes, brackets, braces, commas, unicode.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(7); {
	case depth > 3 || k == 0:
		const alphabet = `ab"\{}[],: é` + "\n\t\u2028"
		rs := []rune(alphabet)
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteRune(rs[r.IntN(len(rs))])
		}
		return b.String()
	case k == 1:
		return r.Float64() * 1e6
	case k == 2:
		return r.IntN(2) == 0
	case k == 3:
		return nil
	case k == 4:
		a := make([]any, r.IntN(5))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomValue(r, 4).(string)] = randomValue(r, depth+1)
		}
		return m
	}
}

// Differential: whatever the document, every member but the URIs comes out
// byte for byte, and the URIs come out rewritten, at any read granularity.
func TestRewriteURIsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		doc := map[string]any{}
		for range r.IntN(6) {
			doc[randomValue(r, 4).(string)] = randomValue(r, 0)
		}
		for f := range uriFields {
			if r.IntN(2) == 0 {
				doc[f] = randomValue(r, 4)
			}
		}
		in, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var src io.Reader = bytes.NewReader(in)
		switch i % 3 {
		case 1:
			src = iotest.OneByteReader(src)
		case 2:
			src = iotest.HalfReader(src)
		}
		var out bytes.Buffer
		if err := rewriteURIs(&out, src, upper); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var got, orig map[string]json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.Bytes())
		}
		_ = json.Unmarshal(in, &orig)
		want := maps.Clone(orig)
		for f := range uriFields {
			if s, ok := doc[f].(string); ok {
				want[f], _ = json.Marshal(strings.ToUpper(s))
			}
		}
		if !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Fatalf("in  %s\nout %s", in, out.Bytes())
		}
	}
}

// A large page streams: the rewriter never needs the whole of it.
func TestRewriteURIsStreams(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"nextUri":"n","data":[`))
		for i := range 200_000 {
			if i > 0 {
				pw.Write([]byte(","))
			}
			pw.Write([]byte(`[1,"row with \"quotes\" and ]brackets[",null]`))
		}
		pw.Write([]byte(`],"stats":{}}`))
		pw.Close()
	}()
	n := &countingWriter{}
	if err := rewriteURIs(n, pr, upper); err != nil {
		t.Fatal(err)
	}
	if n.n < 200_000*40 {
		t.Errorf("copied %d bytes", n.n)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

func BenchmarkRewriteURIs(b *testing.B) {
	var page bytes.Buffer
	page.WriteString(`{"id":"q","infoUri":"http://t/ui","nextUri":"http://t/v1/statement/executing/q/y/2","columns":[],"data":[`)
	for i := range 20_000 {
		if i > 0 {
			page.WriteByte(',')
		}
		page.WriteString(`[1,36901,"O","173665.47","1996-01-02","5-LOW","Clerk#000000951",0,"nstructions sleep furiously among "]`)
	}
	page.WriteString(`],"stats":{"state":"RUNNING"}}`)
	b.SetBytes(int64(page.Len()))
	for b.Loop() {
		if err := rewriteURIs(io.Discard, bytes.NewReader(page.Bytes()), upper); err != nil {
			b.Fatal(err)
		}
	}
}
