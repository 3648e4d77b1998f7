package trino

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// parseBoth parses data as one goroutine does and as two do (every array
// large enough to split), and fails unless both give the same value or the
// same error.
func parseBoth(t *testing.T, data []byte) {
	t.Helper()
	old := splitMinBytes
	defer func() { splitMinBytes = old }()
	splitMinBytes = 1 << 62
	want, wantErr := parseJSON(data)
	wantIn, wantOK, wantInErr := parseInput(data)
	splitMinBytes = 0
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
