package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// Sink receives a copy of every committed audit record, for shipping to a
// log pipeline. Write must not block for long: callers hold no locks, but an
// admin request waits for it.
type Sink interface {
	Write(Record) error
	Close() error
}

// JSONLines writes one JSON object per line. Safe for concurrent use.
type JSONLines struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// NewJSONLines writes to w; Close leaves w open.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// OpenSink opens the sink named by a config value: "" or "none" for no sink,
// "stdout", or a file path (appended to, created 0600).
func OpenSink(target string) (Sink, error) {
	switch target {
	case "", "none":
		return Discard{}, nil
	case "stdout", "-":
		return NewJSONLines(os.Stdout), nil
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit sink: %w", err)
	}
	return &JSONLines{w: f, closer: f}, nil
}

func (s *JSONLines) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(b)
	return err
}

func (s *JSONLines) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// Discard drops every record.
type Discard struct{}

func (Discard) Write(Record) error { return nil }
func (Discard) Close() error       { return nil }
