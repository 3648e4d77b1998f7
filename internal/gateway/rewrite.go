package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Trino's statement responses (QueryResults) carry the URIs a client follows
// next. They point at the coordinator; the gateway must stay in the path, so
// each is rewritten to the gateway's external URL.
var uriFields = map[string]bool{"nextUri": true, "partialCancelUri": true, "infoUri": true}

// Bounds on what the rewriter holds in memory at once: everything else
// streams through, however large the page.
const (
	maxKeyLen   = 256      // a member name of QueryResults
	maxURILen   = 64 << 10 // one of the URIs
	rewriteBuf  = 64 << 10 // the read buffer
	errTruncMsg = "response truncated"
)

var errMalformed = errors.New("gateway: malformed JSON from Trino")

// rewriteURIs copies one QueryResults JSON document from src to dst, replacing
// the string value of each top-level member named in uriFields with
// fn(name, value). Everything else — above all the data rows, which may be
// many megabytes — is copied byte for byte as it arrives, without being
// decoded or held whole. A body that is not a JSON object is copied unchanged.
func rewriteURIs(dst io.Writer, src io.Reader, fn func(name, value string) string) error {
	br := bufio.NewReaderSize(src, rewriteBuf)
	bw := bufio.NewWriterSize(dst, rewriteBuf)
	r := &jsonCopier{r: br, w: bw}
	err := r.document(fn)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

type jsonCopier struct {
	r *bufio.Reader
	w *bufio.Writer
}

// document handles the top-level object.
func (c *jsonCopier) document(fn func(name, value string) string) error {
	if err := c.space(); err != nil {
		return eofOK(err)
	}
	if b, _ := c.r.Peek(1); len(b) == 0 || b[0] != '{' {
		_, err := io.Copy(c.w, c.r) // not an object: not ours to edit
		return err
	}
	c.copyByte()
	first := true
	for {
		if err := c.space(); err != nil {
			return truncated(err)
		}
		b, err := c.r.Peek(1)
		if err != nil {
			return truncated(err)
		}
		if b[0] == '}' {
			c.copyByte()
			_, err := io.Copy(c.w, c.r) // trailing whitespace
			return err
		}
		if !first {
			if b[0] != ',' {
				return errMalformed
			}
			c.copyByte()
			if err := c.space(); err != nil {
				return truncated(err)
			}
		}
		first = false
		rawKey, err := c.readString(maxKeyLen)
		if err != nil {
			return err
		}
		c.w.Write(rawKey)
		if err := c.space(); err != nil {
			return truncated(err)
		}
		if b, err := c.r.Peek(1); err != nil || b[0] != ':' {
			return errMalformed
		}
		c.copyByte()
		if err := c.space(); err != nil {
			return truncated(err)
		}
		var key string
		_ = json.Unmarshal(rawKey, &key)
		if b, err := c.r.Peek(1); err == nil && b[0] == '"' && uriFields[key] {
			rawVal, err := c.readString(maxURILen)
			if err != nil {
				return err
			}
			var val string
			if err := json.Unmarshal(rawVal, &val); err != nil {
				return errMalformed
			}
			out, _ := json.Marshal(fn(key, val))
			c.w.Write(out)
			continue
		}
		if err := c.value(); err != nil {
			return err
		}
	}
}

func (c *jsonCopier) copyByte() {
	b, _ := c.r.ReadByte()
	c.w.WriteByte(b)
}

// space copies JSON whitespace.
func (c *jsonCopier) space() error {
	for {
		b, err := c.r.Peek(1)
		if err != nil {
			return err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			c.copyByte()
		default:
			return nil
		}
	}
}

// readString reads one JSON string, quotes included, of at most max bytes.
func (c *jsonCopier) readString(max int) ([]byte, error) {
	var out []byte
	b, err := c.r.ReadByte()
	if err != nil {
		return nil, truncated(err)
	}
	if b != '"' {
		return nil, errMalformed
	}
	out = append(out, b)
	esc := false
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return nil, truncated(err)
		}
		out = append(out, b)
		if len(out) > max {
			return nil, fmt.Errorf("gateway: a JSON string from Trino is longer than %d bytes", max)
		}
		switch {
		case esc:
			esc = false
		case b == '\\':
			esc = true
		case b == '"':
			return out, nil
		}
	}
}

// value copies one JSON value of any size as it streams in: a string, an
// object or array (tracked by depth, with the strings inside skipped exactly
// so that brackets within them do not count), or a number or literal.
func (c *jsonCopier) value() error {
	b, err := c.r.Peek(1)
	if err != nil {
		return truncated(err)
	}
	switch b[0] {
	case '"':
		c.copyByte()
		return c.composite(0, true)
	case '{', '[':
		return c.composite(0, false)
	}
	return c.scalar()
}

// peek returns whatever is buffered, reading more only when nothing is.
func (c *jsonCopier) peek() ([]byte, error) {
	if c.r.Buffered() == 0 {
		if _, err := c.r.Peek(1); err != nil {
			return nil, err
		}
	}
	return c.r.Peek(c.r.Buffered())
}

// emit copies the first n buffered bytes.
func (c *jsonCopier) emit(buf []byte, n int) {
	c.w.Write(buf[:n])
	c.r.Discard(n)
}

func (c *jsonCopier) scalar() error {
	for {
		buf, err := c.peek()
		if len(buf) == 0 {
			return truncated(err)
		}
		i := 0
		for i < len(buf) && !isDelim(buf[i]) {
			i++
		}
		c.emit(buf, i)
		if i < len(buf) {
			return nil
		}
	}
}

// composite copies until the value closes: depth counts open brackets;
// inString says the copy starts inside a string (whose opening quote was
// copied), which closes the value when depth is 0.
func (c *jsonCopier) composite(depth int, inString bool) error {
	esc := false
	for {
		buf, err := c.peek()
		if len(buf) == 0 {
			return truncated(err)
		}
		i := 0
		for i < len(buf) {
			if inString {
				n, done, e := scanString(buf[i:], esc)
				i, esc = i+n, e
				if !done {
					continue
				}
				inString = false
				if depth == 0 {
					c.emit(buf, i)
					return nil
				}
				continue
			}
			j := indexStructural(buf[i:])
			if j < 0 {
				i = len(buf)
				break
			}
			i += j
			switch buf[i] {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 && !inString {
				c.emit(buf, i)
				return nil
			}
		}
		c.emit(buf, i)
	}
}

// scanString scans buf from inside a JSON string. It returns how many bytes
// it consumed (through the closing quote, if found), whether the string
// closed, and whether buf ended in the middle of an escape. Quotes and
// backslashes are found with bytes.IndexByte, so long strings cost little.
func scanString(buf []byte, esc bool) (n int, done, escOut bool) {
	i := 0
	if esc {
		if len(buf) == 0 {
			return 0, false, true
		}
		i = 1
	}
	q := -1 // absolute index of the next quote at or after i, once known
	for i < len(buf) {
		if q < i {
			if k := bytes.IndexByte(buf[i:], '"'); k >= 0 {
				q = i + k
			} else {
				q = len(buf)
			}
		}
		k := bytes.IndexByte(buf[i:q], '\\')
		if k < 0 {
			if q == len(buf) {
				return len(buf), false, false
			}
			return q + 1, true, false
		}
		i += k + 2 // the backslash and the character it escapes
		if i > len(buf) {
			return len(buf), false, true
		}
	}
	return i, false, false
}

var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

func indexStructural(buf []byte) int {
	for i, b := range buf {
		if structural[b] {
			return i
		}
	}
	return -1
}

func isDelim(b byte) bool {
	switch b {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("gateway: %s: %w", errTruncMsg, io.ErrUnexpectedEOF)
	}
	return err
}

func eofOK(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
