package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceSectionAppends(t *testing.T) {
	for _, doc := range []string{"", "# Perf\n", "# Perf\n\n", "# Perf"} {
		got, err := replaceSection(doc, "body\n")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, doc) {
			t.Errorf("%q: the document was changed: %q", doc, got)
		}
		block := sectionStart + "\nbody\n" + sectionEnd + "\n"
		if !strings.HasSuffix(got, block) {
			t.Errorf("%q: no section at the end: %q", doc, got)
		}
		if doc != "" && !strings.Contains(got, "\n\n"+sectionStart) {
			t.Errorf("%q: no blank line before the section: %q", doc, got)
		}
		again, err := replaceSection(got, "body\n")
		if err != nil || again != got {
			t.Errorf("%q: not idempotent: %q", doc, again)
		}
	}
}

func TestReplaceSectionReplacesOnlyItsOwn(t *testing.T) {
	before := "# Performance\n\nHand-written.\n\n"
	after := "\n\n## Gateway\n\nMore hand-written text.\n"
	doc := before + sectionStart + "\nold results\nmore\n" + sectionEnd + after
	got, err := replaceSection(doc, "new results")
	if err != nil {
		t.Fatal(err)
	}
	want := before + sectionStart + "\nnew results\n" + sectionEnd + after
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	again, err := replaceSection(got, "new results")
	if err != nil || again != got {
		t.Errorf("not idempotent: %q", again)
	}
	for _, bad := range []string{
		sectionStart + "\nno end\n",
		sectionEnd + "\nx\n" + sectionStart + "\n",
		sectionStart + sectionEnd + sectionStart + sectionEnd,
	} {
		if _, err := replaceSection(bad, "x"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestWriteSection(t *testing.T) {
	f := filepath.Join(t.TempDir(), "perf.md")
	if err := writeSection(f, "first"); err != nil { // a new file
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("# Title\n\n"+sectionStart+"\nfirst\n"+sectionEnd+"\n\nTail.\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(f, "second"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f)
	if want := "# Title\n\n" + sectionStart + "\nsecond\n" + sectionEnd + "\n\nTail.\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(f), ".bench-decisions-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
