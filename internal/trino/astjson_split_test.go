package trino

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// parseBoth parses data as one goroutine does without itemCache and as two
// do with it (every array large enough to split, every body large enough for
// the cache, arrays of arrayHeadBytes kept whole; twice, the second time from
// the caches), and fails unless all give the same value or the same error.
func parseBoth(t *testing.T, data []byte) {
	t.Helper()
	oldSplit, oldItems, oldArrays := splitMinBytes, itemCacheMinBody, arrayCacheMinBytes
	defer func() { splitMinBytes, itemCacheMinBody, arrayCacheMinBytes = oldSplit, oldItems, oldArrays }()
	splitMinBytes, itemCacheMinBody = 1<<62, 1<<62
	want, wantErr := parseJSON(data)
	wantIn, wantOK, wantInErr := parseInput(data)
	splitMinBytes, itemCacheMinBody, arrayCacheMinBytes = 0, 0, arrayHeadBytes
	for range 2 {
		parseCompare(t, data, want, wantErr, wantIn, wantOK, wantInErr)
	}
}

func parseCompare(t *testing.T, data []byte, want ast.Value, wantErr error, wantIn ast.Value, wantOK bool, wantInErr error) {
	t.Helper()
	got, gotErr := parseJSON(data)
	gotIn, gotOK, gotInErr := parseInput(data)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || fmt.Sprint(gotInErr) != fmt.Sprint(wantInErr) || gotOK != wantOK {
		t.Fatalf("%.200q:\nsplit: %v / %v %v\none:   %v / %v %v", data, gotErr, gotInErr, gotOK, wantErr, wantInErr, wantOK)
	}
	if wantErr == nil && ast.Compare(got, want) != 0 {
		t.Fatalf("%.200q: split read\n  %.300v\nnot\n  %.300v", data, got, want)
	}
	if wantInErr == nil && (gotIn == nil) != (wantIn == nil) || gotIn != nil && ast.Compare(gotIn, wantIn) != 0 {
		t.Fatalf("%.200q: split read input\n  %.300v\nnot\n  %.300v", data, gotIn, wantIn)
	}
}

// splitBody is a batch whose names hold what the boundary scan must skip:
// commas, brackets and braces, quotes and backslashes, escapes.
func splitBody(n int) string {
	names := []string{`t`, `a,b`, `x]y`, `}{`, `q\"r`, `back\\`, `\\\"`, `\u005d\u002c`, "caf\u00e9", `[[`, ``}
	var b strings.Builder
	b.WriteString(`{"input":{"context":{"identity":{"user":"u1","groups":["g,1","g]2"]}},"action":{"operation":"FilterTables","filterResources":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"table":{"catalogName":"c","schemaName":"s%d","tableName":"%s%d","x":[1,{"y":[]}, "]"]}}`, i%7, names[i%len(names)], i)
	}
	b.WriteString("]\n}}}")
	return b.String()
}

func TestParseInHalvesSameAsOneGo(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	for _, s := range []string{
		splitBody(1), splitBody(2), splitBody(3), splitBody(50), splitBody(1000),
		`[1,2]`, `[1, 2 ,3]`, `[[1],[2],[3],[4]]`, `[1,2,]`, `[1,,2]`, `[1 2]`, `[1,2`, `[1,"2]`, `[1,"\"]",3,4]`,
		`[{"a":1},{"a":2},{"a":3},{"a":tru}]`, `[{"a":1},{"a":2},{"a":3},{"a":"` + "\x01" + `"}]`,
		`{"input":[1,2,3,4],"x":[5,6]}`, `[[1,2,3,4,5,6,7,8],9]`, `[1,2,3,4]]`, `[1,2,3,4] x`,
	} {
		parseBoth(t, []byte(s))
	}
	// A valid body with one byte changed, dropped or added, thousands of
	// times: every error, and where it is reported, must be the same.
	body := []byte(splitBody(40))
	r := rand.New(rand.NewPCG(1, 2))
	special := []byte(`"\,[]{}: 0a`)
	for range 3000 {
		b := append([]byte(nil), body...)
		i := r.IntN(len(b))
		switch r.IntN(3) {
		case 0:
			b[i] = special[r.IntN(len(special))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i], append([]byte{special[r.IntN(len(special))]}, b[i:]...)...)
		}
		parseBoth(t, b)
	}
}

func TestObjectEnd(t *testing.T) {
	s := `{"a":"}\"{","b":[{"c":{}}]} , {}`
	if got := objectEnd([]byte(s), 0, 512); got != strings.Index(s, " ,") {
		t.Errorf("objectEnd = %d, want %d", got, strings.Index(s, " ,"))
	}
	if got := objectEnd([]byte(s), 0, 10); got != -1 {
		t.Errorf("objectEnd past max = %d, want -1", got)
	}
	if got := objectEnd([]byte(`{"a":"}`), 0, 512); got != -1 {
		t.Errorf("objectEnd of a cut object = %d, want -1", got)
	}
}

func TestSplitPoint(t *testing.T) {
	s := `[ "a,b", {"c":[1,2]}, "x\"," , 3 ]`
	if got := splitPoint([]byte(s), 1, 1); got != strings.Index(s, `},`)+1 && got != strings.Index(s, `", {`)+1 {
		t.Errorf("splitPoint = %d", got)
	}
	if got := splitPoint([]byte(s), 1, len(s)-4); got != -1 {
		t.Errorf("splitPoint past the last comma = %d, want -1", got)
	}
	big := splitBody(1000)
	from := strings.Index(big, `"filterResources":[`) + len(`"filterResources":[`)
	got := splitPoint([]byte(big), from, from+(len(big)-from)/2)
	if got < 0 || big[got] != ',' || !strings.HasPrefix(big[got+1:], ` {"table"`) {
		t.Errorf("splitPoint in a batch = %d (%.20q)", got, big[max(got, 0):])
	}
}

// Requests read at the same time share the items kept in itemCache (run with
// -race): each gets the value a lone sequential read gives.
func TestItemCacheConcurrentReads(t *testing.T) {
	body := []byte(splitBody(3000))
	if len(body) < itemCacheMinBody || len(body) < splitMinBytes {
		t.Fatalf("body of %d bytes is too small to use the cache and the split", len(body))
	}
	old := itemCacheMinBody
	itemCacheMinBody = 1 << 62
	want, err := parseJSON(body)
	itemCacheMinBody = old
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				got, err := parseJSON(body)
				if err != nil || ast.Compare(got, want) != 0 || got.Hash() != want.Hash() {
					t.Errorf("concurrent read: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}
