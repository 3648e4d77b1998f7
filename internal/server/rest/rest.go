// Package rest serves gatehouse's admin REST API (/api/v1) over the admin
// service. Handlers only decode, call and encode; domain errors become HTTP
// statuses in one place (writeError).
package rest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// MaxBodyBytes bounds admin request bodies; larger ones get a 413.
const MaxBodyBytes = 1 << 20

// API is the admin REST API.
type API struct {
	svc *admin.Service
	log *slog.Logger
	mux *http.ServeMux
}

// New builds the API. Mount Handler() at the server root: it only answers
// paths under /api/v1/.
func New(svc *admin.Service, log *slog.Logger) *API {
	a := &API{svc: svc, log: log, mux: http.NewServeMux()}
	a.routes()
	return a
}

// Handler returns the API's handler.
func (a *API) Handler() http.Handler { return a.mux }

// handlerFunc is an authenticated handler: it returns the value to encode (or
// nil for 204) and the status for success.
type handlerFunc func(r *http.Request, p admin.Principal) (any, int, error)

// handle registers pattern with authentication, request ids and error mapping.
func (a *API) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		reqID := r.Header.Get("X-Request-Id")
		if reqID == "" || len(reqID) > 128 {
			reqID = newRequestID()
		}
		w.Header().Set("X-Request-Id", reqID)
		ctx := admin.WithRequestID(r.Context(), reqID)
		r = r.WithContext(ctx)
		p, err := a.svc.Authenticate(ctx, bearer(r))
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		v, status, err := h(r, p)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		switch v := v.(type) {
		case nil:
			w.WriteHeader(status)
		case download:
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", v.name))
			writeJSON(w, status, v.v)
		default:
			writeJSON(w, status, v)
		}
	})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// download is an answer sent as a file to save rather than to show.
type download struct {
	name string
	v    any
}

// Error is the JSON body of every error answer.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// errBodyTooLarge marks a body over MaxBodyBytes.
var errBodyTooLarge = errors.New("request body too large")

// writeError is the one place domain errors become HTTP answers. Internal
// causes are logged, never sent.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	e := Error{Message: err.Error()}
	var de *directory.Error
	if errors.As(err, &de) {
		e.Field = de.Field
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		status, e.Code = http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, directory.ErrInvalid):
		status, e.Code = http.StatusBadRequest, "invalid_argument"
	case errors.Is(err, directory.ErrUnauthenticated):
		status, e.Code = http.StatusUnauthorized, "unauthenticated"
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	case errors.Is(err, directory.ErrPermissionDenied):
		status, e.Code = http.StatusForbidden, "permission_denied"
	case errors.Is(err, directory.ErrNotFound):
		status, e.Code = http.StatusNotFound, "not_found"
	case errors.Is(err, directory.ErrConflict):
		status, e.Code = http.StatusConflict, "conflict"
	case errors.Is(err, directory.ErrUnavailable):
		status, e.Code = http.StatusBadGateway, "unavailable"
	default:
		a.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path,
			"requestId", admin.RequestID(r.Context()), "err", err)
		status, e = http.StatusInternalServerError, Error{Code: "internal", Message: "internal error; see the server log for request " + admin.RequestID(r.Context())}
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads a JSON object into dst, rejecting unknown fields, wrong
// types, trailing data and oversized bodies with a message naming the problem.
func decode(r *http.Request, dst any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return directory.Invalid("body", "could not read request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return fmt.Errorf("%w: the limit is %d bytes", errBodyTooLarge, MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return directory.Invalid("body", "request body is empty: expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return directory.Invalid("body", "request body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return directory.Invalid("body", "malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return directory.Invalid("body", "request body must be a JSON object, not %s", typ.Value)
		}
		return directory.Invalid(field, "field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return directory.Invalid("body", "malformed JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return directory.Invalid(name, "unknown field %q", name)
	}
	return directory.Invalid("body", "malformed JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a number"
}
