package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// conn is one HTTP/1.1 keep-alive connection of the load generator. It
// writes the request line, headers and the pre-encoded body in one writev
// and parses the answer with net/http's reader: a fraction of the CPU of
// http.Client (no pool, no goroutine per connection, no body copies), which
// matters when the generator shares two cores with the server it measures.
type conn struct {
	addr    string // host:port
	timeout time.Duration
	c       net.Conn
	br      *bufio.Reader
	head    []byte
	resp    bytes.Buffer
}

func newConn(addr string, timeout time.Duration) *conn {
	return &conn{addr: addr, timeout: timeout, head: make([]byte, 0, 256)}
}

// dial opens the connection now, so that no connect lands in a measurement.
func (k *conn) dial() error {
	if k.c != nil {
		return nil
	}
	c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
	if err != nil {
		return err
	}
	k.c = c
	if k.br == nil {
		k.br = bufio.NewReaderSize(c, 64<<10)
	} else {
		k.br.Reset(c)
	}
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// post sends body to path and returns the status and the answer's body
// (valid until the next call). On any error the connection is dropped and
// the next call opens a new one.
func (k *conn) post(path string, body []byte) (int, []byte, error) {
	if err := k.dial(); err != nil {
		return 0, nil, err
	}
	_ = k.c.SetDeadline(time.Now().Add(k.timeout))
	h := append(k.head[:0], "POST "...)
	h = append(h, path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, k.addr...)
	h = append(h, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	h = append(h, "\r\n\r\n"...)
	k.head = h
	bufs := net.Buffers{h, body}
	if _, err := bufs.WriteTo(k.c); err != nil {
		k.close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.close()
		return 0, nil, err
	}
	k.resp.Reset()
	_, err = k.resp.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		k.close()
		return 0, nil, err
	}
	if resp.Close {
		k.close()
	}
	return resp.StatusCode, k.resp.Bytes(), nil
}

// get is a plain GET on the same connection (health probes, not measured).
func (k *conn) get(path string) (int, []byte, error) {
	if err := k.dial(); err != nil {
		return 0, nil, err
	}
	_ = k.c.SetDeadline(time.Now().Add(k.timeout))
	if _, err := fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, k.addr); err != nil {
		k.close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.close()
		return 0, nil, err
	}
	k.resp.Reset()
	_, err = io.Copy(&k.resp, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		k.close()
	}
	return resp.StatusCode, k.resp.Bytes(), err
}
