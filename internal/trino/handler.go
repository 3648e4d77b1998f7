package trino

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
)

// DefaultMaxBodyBytes bounds a decision request unless configured otherwise.
const DefaultMaxBodyBytes = 16 << 20

// Handler serves /v1/data/trino/{allow,batch,rowFilters,columnMask,batchColumnMasks}
// and the generic /v1/data/{path} of OPA's Data API.
type Handler struct {
	authz      *authz.Authorizer
	log        *slog.Logger
	maxBytes   int64
	splitItems int // batch size from which the batch endpoint evaluates in parts (parts.go); ≤ 0: never
}

// NewHandler returns the decision handler. maxBytes ≤ 0 means the default.
func NewHandler(a *authz.Authorizer, log *slog.Logger, maxBytes int64) *Handler {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	return &Handler{authz: a, log: log, maxBytes: maxBytes, splitItems: DefaultBatchSplitItems}
}

// SplitBatchesFrom sets the batch size from which the batch endpoint
// evaluates in parts (parts.go); 0 turns that off. It returns h.
func (h *Handler) SplitBatchesFrom(items int) *Handler {
	h.splitItems = items
	return h
}

// Register mounts the endpoints on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for path, ep := range EntryPaths() {
		mux.HandleFunc("POST "+path, h.failClosed(func(w http.ResponseWriter, r *http.Request) { h.serveEntry(w, r, ep) }))
	}
	mux.HandleFunc("POST /v1/data/{path...}", h.failClosed(h.serveData))
}

// failClosed turns a panic anywhere on the decision path into a 500, which
// Trino treats as a failed query: never an allow, never a dropped connection
// that a retry might paper over.
func (h *Handler) failClosed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("panic on the decision path; answering 500", "path", r.URL.Path, "panic", p)
				writeAnswer(w, http.StatusInternalServerError, panicAnswer)
			}
		}()
		next(w, r)
	}
}

var panicAnswer = errorJSON("internal_error", "gatehouse could not decide (internal error)")

// errorBody is OPA's error shape, which Trino logs when it fails a query.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorJSON is an errorBody encoded, with the newline json.Encoder ends it with.
func errorJSON(code, message string) []byte {
	b, err := json.Marshal(errorBody{code, message})
	if err != nil { // two strings always encode
		panic(err)
	}
	return append(b, '\n')
}

func writeJSON(w http.ResponseWriter, status int, v errorBody) {
	writeAnswer(w, status, errorJSON(v.Code, v.Message))
}

func writeResult(w http.ResponseWriter, b []byte) { writeAnswer(w, http.StatusOK, b) }

func writeAnswer(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readBody reads at most maxBytes; more is errTooLarge.
var errTooLarge = errors.New("request body too large")

func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= h.maxBytes {
		// Read into a buffer of the announced size rather than growing one:
		// batch bodies are hundreds of kilobytes.
		buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
		_, err = buf.ReadFrom(io.LimitReader(r.Body, h.maxBytes+1))
		b = buf.Bytes()
	} else {
		b, err = io.ReadAll(io.LimitReader(r.Body, h.maxBytes+1))
	}
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > h.maxBytes {
		return nil, errTooLarge
	}
	return b, nil
}

func (h *Handler) badInput(w http.ResponseWriter, err error) {
	status, out := h.badInputAnswer(err)
	writeAnswer(w, status, out)
}

// badInputAnswer is the 400 (or 413) for a body that cannot be decided on.
func (h *Handler) badInputAnswer(err error) (int, []byte) {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, h.TooLarge()
	default:
		var br *BadRequest
		if errors.As(err, &br) {
			return http.StatusBadRequest, errorJSON("invalid_parameter", br.Msg)
		}
		return http.StatusBadRequest, errorJSON("invalid_parameter", "could not read request body")
	}
}

// TooLarge is the 413 answer's body for a request over the size limit.
func (h *Handler) TooLarge() []byte {
	return errorJSON("request_too_large", fmt.Sprintf("request body is larger than %d bytes", h.maxBytes))
}

// MaxBodyBytes is the largest decision request body accepted.
func (h *Handler) MaxBodyBytes() int64 { return h.maxBytes }

// EntryPaths maps each Trino endpoint's path (POST /v1/data/trino/<ep>) to
// the endpoint name Serve takes.
func EntryPaths() map[string]string {
	m := make(map[string]string, len(policy.EntryPoints))
	for _, ep := range policy.EntryPoints {
		m["/v1/data/"+policy.Package+"/"+ep] = ep
	}
	return m
}

// serveEntry answers one Trino decision over net/http.
func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, endpoint string) {
	start := time.Now()
	body, err := h.readBody(r)
	if err != nil {
		h.badInput(w, err)
		return
	}
	status, out := h.answer(r.Context(), endpoint, body, start)
	writeAnswer(w, status, out)
}

// Serve answers one Trino decision whose body an HTTP front end has already
// read and will not reuse (body may be kept): the status and the JSON
// answer. A panic is a 500, as with failClosed.
func (h *Handler) Serve(ctx context.Context, endpoint string, body []byte) (status int, out []byte) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic on the decision path; answering 500", "endpoint", endpoint, "panic", p)
			status, out = http.StatusInternalServerError, panicAnswer
		}
	}()
	if int64(len(body)) > h.maxBytes {
		return h.badInputAnswer(errTooLarge)
	}
	return h.answer(ctx, endpoint, body, start)
}

// answer decides on body, timed from start.
func (h *Handler) answer(ctx context.Context, endpoint string, body []byte, start time.Time) (int, []byte) {
	if out, d, ok := h.authz.Cached(endpoint, body); ok {
		d.Duration = time.Since(start)
		h.authz.Record(d)
		return http.StatusOK, out
	}
	gen := h.authz.Generation() // before evaluating: see authz.DecisionCache
	req, err := Decode(body, endpoint)
	if err != nil {
		return h.badInputAnswer(err)
	}
	d := authz.Decision{Endpoint: endpoint, Operation: req.Operation, User: req.User, QueryID: req.QueryID,
		Resource: req.Describe(), Target: req.Target()}
	out, err := h.decide(ctx, endpoint, req, &d)
	d.Duration = time.Since(start)
	if err != nil {
		d.Result, d.Error = authz.ResultError, err.Error()
		h.authz.Record(d)
		h.log.Error("decision failed; answering 500 so Trino fails the query", "endpoint", endpoint,
			"operation", req.Operation, "user", req.User, "err", err)
		return http.StatusInternalServerError, errorJSON("internal_error", "gatehouse could not decide: "+publicMessage(err))
	}
	h.authz.Record(d)
	h.authz.Remember(gen, endpoint, body, out, d)
	return http.StatusOK, out
}

// publicMessage keeps internal detail out of answers while saying enough.
func publicMessage(err error) string {
	if errors.Is(err, authz.ErrNotReady) {
		return "directory snapshot is not current"
	}
	var pe *policyAnswerError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return "policy evaluation error (see gatehouse log)"
}

// policyAnswerError is a policy result of the wrong shape.
type policyAnswerError struct{ error }

// decide evaluates and shape-checks, filling d's outcome, and returns the
// encoded answer.
func (h *Handler) decide(ctx context.Context, endpoint string, req *Request, d *authz.Decision) ([]byte, error) {
	n := req.Items()
	if endpoint == EndpointBatch && req.Operation == "FilterColumns" && n == 1 {
		n = req.columns()
	}
	d.Items = n
	if !req.Known {
		// An operation we do not know is denied, not guessed at.
		d.Result, d.Rule = authz.ResultUnknown, "unknown operation: denied"
		return nothing(endpoint), nil
	}
	if parts := h.batchParts(endpoint, req, n); parts > 1 {
		idx, err := h.evalBatchInParts(ctx, req, n, parts)
		if err != nil {
			return nil, err
		}
		d.Kept = len(idx)
		d.Result = batchOutcome(len(idx), n)
		return encodeIndices(idx), nil
	}
	v, defined, err := h.authz.EvalValue(ctx, endpoint, req.Input)
	if err != nil {
		return nil, err
	}
	switch endpoint {
	case EndpointAllow:
		ok, err := allowAnswer(v, defined)
		if err != nil {
			return nil, &policyAnswerError{err}
		}
		d.Result = authz.ResultAllow
		if !ok {
			d.Result, d.Rule = authz.ResultDeny, h.authz.Reason(ctx, req.Input)
			return answerFalse, nil
		}
		return answerTrue, nil
	case EndpointBatch:
		idx, err := batchAnswer(v, defined, n)
		if err != nil {
			return nil, &policyAnswerError{err}
		}
		d.Kept = len(idx)
		d.Result = batchOutcome(len(idx), n)
		return encodeIndices(idx), nil
	case EndpointRowFilters:
		fs, err := rowFiltersAnswer(v, defined)
		if err != nil {
			return nil, &policyAnswerError{err}
		}
		d.Kept, d.Result = len(fs), authz.ResultAllow
		return encodeResult(fs)
	case EndpointColumnMask:
		m, err := columnMaskAnswer(v, defined)
		if err != nil {
			return nil, &policyAnswerError{err}
		}
		d.Result = authz.ResultAllow
		if m == nil {
			return []byte("{}\n"), nil
		}
		d.Kept = 1
		return encodeResult(m)
	case EndpointBatchColumnMasks:
		ms, err := batchColumnMasksAnswer(v, defined, n)
		if err != nil {
			return nil, &policyAnswerError{err}
		}
		d.Kept, d.Result = len(ms), authz.ResultAllow
		return encodeResult(ms)
	}
	return nil, fmt.Errorf("unknown endpoint %q", endpoint)
}

func batchOutcome(kept, n int) string {
	switch {
	case kept == n:
		return authz.ResultAllow
	case kept == 0:
		return authz.ResultDeny
	}
	return authz.ResultPartial
}

// nothing is each endpoint's "deny"/"none" answer in the form Trino accepts.
func nothing(endpoint string) []byte {
	switch endpoint {
	case EndpointAllow:
		return []byte(`{"result":false}` + "\n")
	case EndpointColumnMask:
		return []byte("{}\n")
	}
	return []byte(`{"result":[]}` + "\n")
}

var (
	answerTrue  = []byte(`{"result":true}` + "\n")
	answerFalse = []byte(`{"result":false}` + "\n")
)

// encodeIndices is {"result":[i, ...]} for batch indices.
func encodeIndices(idx []int) []byte {
	b := make([]byte, 0, len(`{"result":[]}`)+2+len(idx)*6)
	b = append(b, `{"result":[`...)
	for i, x := range idx {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, "]}\n"...)
}

func encodeResult(v any) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"result": v})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// serveData is OPA's Data API for any other rule of the loaded policies:
// {"input": ...} → {"result": value}, or {} when the rule is undefined.
func (h *Handler) serveData(w http.ResponseWriter, r *http.Request) {
	path := strings.Split(strings.Trim(r.PathValue("path"), "/"), "/")
	body, err := h.readBody(r)
	if err != nil {
		h.badInput(w, err)
		return
	}
	var input ast.Value
	if len(strings.TrimSpace(string(body))) > 0 {
		v, err := ast.ValueFromReader(strings.NewReader(string(body)))
		if err != nil {
			h.badInput(w, bad("request body is not valid JSON: %v", err))
			return
		}
		obj, ok := v.(ast.Object)
		if !ok {
			h.badInput(w, bad("request body must be a JSON object with an \"input\" field"))
			return
		}
		if t := obj.Get(ast.StringTerm("input")); t != nil {
			input = t.Value
		}
	}
	v, defined, err := h.authz.EvalPath(r.Context(), path, input)
	switch {
	case errors.Is(err, policy.ErrUndefinedPath):
		writeJSON(w, http.StatusNotFound, errorBody{"resource_not_found", err.Error()})
		return
	case err != nil:
		h.log.Error("data API evaluation failed", "path", path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{"internal_error", "gatehouse could not evaluate the rule: " + publicMessage(err)})
		return
	case !defined:
		writeResult(w, []byte("{}\n"))
		return
	}
	b, err := encodeResult(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{"internal_error", "result is not JSON-encodable"})
		return
	}
	writeResult(w, b)
}
