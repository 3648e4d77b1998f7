package arena

import (
	"strings"
	"testing"
	"unsafe"
)

func TestStringsAreEqualAndStable(t *testing.T) {
	var a Strings
	want := []string{}
	got := []string{}
	for i := 0; i < 50_000; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), i%97)
		want = append(want, s)
		if i%2 == 0 {
			got = append(got, a.String(s))
		} else {
			got = append(got, a.Bytes([]byte(s)))
		}
	}
	big := strings.Repeat("x", BlockSize/16+1)
	want, got = append(want, big), append(got, a.String(big))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestSmallStringsShareBlocks(t *testing.T) {
	var a Strings
	x, y := a.String("alice@example.com"), a.String("bob@example.com")
	px, py := uintptr(unsafe.Pointer(unsafe.StringData(x))), uintptr(unsafe.Pointer(unsafe.StringData(y)))
	if py != px+uintptr(len(x)) {
		t.Fatalf("second string at %#x, want right after the first (%#x + %d)", py, px, len(x))
	}
	if a.String("") != "" {
		t.Fatal("empty string")
	}
}

func TestBlockFullStartsANewOne(t *testing.T) {
	var a Strings
	s := strings.Repeat("y", BlockSize/16)
	first := a.String(s)
	for i := 0; i < 16; i++ {
		a.String(s)
	}
	// 17 strings of a sixteenth each need a second block; the first string is untouched.
	if first != s {
		t.Fatal("first string changed when a new block was started")
	}
	if cap(a.block) != BlockSize || len(a.block) != len(s) {
		t.Fatalf("current block len %d cap %d, want %d of %d", len(a.block), cap(a.block), len(s), BlockSize)
	}
}
