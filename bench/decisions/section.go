package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// The report lives in docs/performance.md between two markers, so that a
// run replaces its own section and nothing else of the hand-written file.
const (
	sectionStart = "<!-- bench:decisions:start -->"
	sectionEnd   = "<!-- bench:decisions:end -->"
)

// replaceSection returns doc with the text between the markers replaced by
// body (the markers kept), or, when doc has no markers yet, with the marked
// section appended after a blank line. Everything outside the markers is
// left byte for byte; applying the same body twice changes nothing more.
func replaceSection(doc, body string) (string, error) {
	block := sectionStart + "\n" + strings.TrimRight(body, "\n") + "\n" + sectionEnd
	starts, ends := strings.Count(doc, sectionStart), strings.Count(doc, sectionEnd)
	switch {
	case starts == 0 && ends == 0:
		switch {
		case doc == "":
			return block + "\n", nil
		case strings.HasSuffix(doc, "\n\n"):
			return doc + block + "\n", nil
		case strings.HasSuffix(doc, "\n"):
			return doc + "\n" + block + "\n", nil
		default:
			return doc + "\n\n" + block + "\n", nil
		}
	case starts != 1 || ends != 1:
		return "", errors.New("the bench:decisions markers must appear exactly once each")
	}
	i := strings.Index(doc, sectionStart)
	j := strings.Index(doc, sectionEnd)
	if j < i {
		return "", errors.New("the bench:decisions end marker comes before the start marker")
	}
	return doc[:i] + block + doc[j+len(sectionEnd):], nil
}

// writeSection puts body into file's marked section (creating the file if
// needed), replacing the file in one rename so a failed run never leaves
// it half written.
func writeSection(file, body string) error {
	doc, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	out, err := replaceSection(string(doc), body)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".bench-decisions-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
