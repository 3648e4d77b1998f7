package gateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// A statement the gateway answers itself runs as a two-step query, as Trino's
// do: the POST answers QUEUED with a nextUri, and that URI answers the final
// result. The step matters: trino-go-client ignores the data and the error of
// the POST's own response, so an answer given there would be lost.
//
// The final result travels inside the nextUri (outcome, below) rather than in
// the gateway's memory, so the gateway keeps no state between requests and
// any replica behind a load balancer can serve the follow-up. A client that
// edits the URI can only change what it is told about its own session — the
// same it could do by editing its own X-Trino-Session header — and outcomes
// are validated as strictly as the statements that produce them.

// syntheticPath is where those nextUris point.
const syntheticPath = "/v1/gatehouse/statement/"

// outcome is how a statement the gateway answered ends.
type outcome struct {
	UpdateType string      `json:"u,omitempty"` // "SET SESSION" or "RESET SESSION"
	Set        [][2]string `json:"s,omitempty"` // properties to set
	Clear      []string    `json:"c,omitempty"` // properties to clear
	ErrName    string      `json:"e,omitempty"` // a trinoError name, when the statement failed
	ErrMsg     string      `json:"m,omitempty"`
}

// Bounds on outcomes: a message and an encoded outcome.
const (
	maxErrMsgLen  = 4 << 10
	maxOutcomeLen = 12 << 10
)

func failure(e trinoError, msg string) outcome {
	if len(msg) > maxErrMsgLen {
		msg = msg[:maxErrMsgLen]
	}
	msg = strings.ToValidUTF8(msg, "?")
	return outcome{ErrName: e.Name, ErrMsg: msg}
}

func (o outcome) encode() string {
	b, _ := json.Marshal(o)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadOutcome = errors.New("not a gateway query")

func decodeOutcome(s string) (outcome, error) {
	var o outcome
	if len(s) > maxOutcomeLen {
		return o, errBadOutcome
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return o, errBadOutcome
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, errBadOutcome
	}
	switch o.UpdateType {
	case "", "SET SESSION", "RESET SESSION":
	default:
		return o, errBadOutcome
	}
	for _, kv := range o.Set {
		if session.Validate(kv[0], kv[1]) != nil {
			return o, errBadOutcome
		}
	}
	for _, name := range o.Clear {
		if !session.Known(name) {
			return o, errBadOutcome
		}
	}
	if o.ErrName != "" {
		if _, ok := errorsByName[o.ErrName]; !ok || len(o.ErrMsg) > maxErrMsgLen || !utf8.ValidString(o.ErrMsg) {
			return o, errBadOutcome
		}
	}
	return o, nil
}

// answer replies to a POST /v1/statement with a query whose outcome is o.
func answer(w http.ResponseWriter, ext *url.URL, o outcome) {
	id := newQueryID()
	writeResults(w, &queryResults{
		ID:       id,
		InfoURI:  ext.JoinPath(syntheticPath, id).String(),
		NextURI:  ext.JoinPath(syntheticPath, id, o.encode()).String(),
		Stats:    stats{State: "QUEUED", Queued: true},
		Warnings: []string{},
	})
}

// serveSynthetic answers the follow-up of a query answered by answer:
// GET for the final result, DELETE (a cancel) with 204.
func serveSynthetic(w http.ResponseWriter, r *http.Request, ext *url.URL) {
	id, payload, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, syntheticPath), "/")
	if !isOurQueryID(id) {
		http.Error(w, "gateway: no such query", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, DELETE")
		http.Error(w, "gateway: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	o, err := decodeOutcome(payload)
	if err != nil {
		http.Error(w, "gateway: no such query", http.StatusNotFound)
		return
	}
	q := &queryResults{ID: id, InfoURI: ext.JoinPath(syntheticPath, id).String(), Warnings: []string{},
		Stats: stats{State: "FINISHED", Scheduled: true, ProgressPercentage: 100}}
	if o.ErrName != "" {
		q.Stats.State = "FAILED"
		q.Error = newQueryError(errorsByName[o.ErrName], o.ErrMsg)
		writeResults(w, q)
		return
	}
	for _, kv := range o.Set {
		w.Header().Add(session.HeaderSetSession, session.SetHeaderValue(kv[0], kv[1]))
	}
	for _, name := range o.Clear {
		w.Header().Add(session.HeaderClearSession, name)
	}
	// SET and RESET SESSION end as Trino's DDL-like statements do.
	q.UpdateType = o.UpdateType
	q.Columns = []column{{Name: "result", Type: "boolean", TypeSignature: typeSignature{RawType: "boolean", Arguments: []typeArgument{}}}}
	q.Data = [][]any{{true}}
	writeResults(w, q)
}
