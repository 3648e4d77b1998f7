package gateway

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// The parts of Trino's client protocol the gateway writes itself: query
// results (QueryResults) for the statements it answers, in the shape
// trino-go-client, the JDBC driver and the CLI decode.

// Trino's client-protocol headers the gateway reads or writes, besides the
// session headers in internal/session.
const (
	headerUser         = "X-Trino-User"
	headerOriginalUser = "X-Trino-Original-User"
)

// Error codes, from Trino's StandardErrorCode, and their type.
type trinoError struct {
	Name string
	Code int
	Type string
}

var (
	errSyntax          = trinoError{"SYNTAX_ERROR", 1, "USER_ERROR"}
	errPermission      = trinoError{"PERMISSION_DENIED", 4, "USER_ERROR"}
	errSessionProperty = trinoError{"INVALID_SESSION_PROPERTY", 14, "USER_ERROR"}
	errNotSupported    = trinoError{"NOT_SUPPORTED", 13, "USER_ERROR"}
	errTextTooLarge    = trinoError{"QUERY_TEXT_TOO_LARGE", 35, "USER_ERROR"}
	// errUpstream is the gateway's own: Trino (or gatehouse, to resolve an
	// impersonation) could not be reached. Its code is in the range Trino
	// leaves to plugins, so it cannot clash with Trino's.
	errUpstream = trinoError{"GATEWAY_UPSTREAM_UNAVAILABLE", 0x0A00_0001, "EXTERNAL"}
)

// errorsByName lets a synthetic query's outcome name its error compactly.
var errorsByName = map[string]trinoError{}

func init() {
	for _, e := range []trinoError{errSyntax, errPermission, errSessionProperty, errNotSupported, errTextTooLarge, errUpstream} {
		errorsByName[e.Name] = e
	}
}

type column struct {
	Name          string        `json:"name"`
	Type          string        `json:"type"`
	TypeSignature typeSignature `json:"typeSignature"`
}

type typeSignature struct {
	RawType   string         `json:"rawType"`
	Arguments []typeArgument `json:"arguments"`
}

type typeArgument struct {
	Kind  string `json:"kind"`
	Value any    `json:"value"`
}

// varcharColumn is an unbounded varchar, as SHOW SESSION's columns are.
func varcharColumn(name string) column {
	return column{Name: name, Type: "varchar", TypeSignature: typeSignature{RawType: "varchar",
		Arguments: []typeArgument{{Kind: "LONG", Value: 2147483647}}}}
}

// queryError is QueryResults.error.
type queryError struct {
	Message     string      `json:"message"`
	ErrorCode   int         `json:"errorCode"`
	ErrorName   string      `json:"errorName"`
	ErrorType   string      `json:"errorType"`
	FailureInfo failureInfo `json:"failureInfo"`
}

type failureInfo struct {
	Type       string   `json:"type"`
	Message    string   `json:"message"`
	Suppressed []string `json:"suppressed"`
	Stack      []string `json:"stack"`
}

func newQueryError(e trinoError, msg string) *queryError {
	return &queryError{Message: msg, ErrorCode: e.Code, ErrorName: e.Name, ErrorType: e.Type,
		FailureInfo: failureInfo{Type: "io.trino.spi.TrinoException", Message: msg, Suppressed: []string{}, Stack: []string{}}}
}

// stats is QueryResults.stats with the counters a finished no-op query has.
type stats struct {
	State              string  `json:"state"`
	Queued             bool    `json:"queued"`
	Scheduled          bool    `json:"scheduled"`
	ProgressPercentage float64 `json:"progressPercentage"`
	RunningPercentage  float64 `json:"runningPercentage"`
	Nodes              int     `json:"nodes"`
	TotalSplits        int     `json:"totalSplits"`
	QueuedSplits       int     `json:"queuedSplits"`
	RunningSplits      int     `json:"runningSplits"`
	CompletedSplits    int     `json:"completedSplits"`
	CPUTimeMillis      int     `json:"cpuTimeMillis"`
	WallTimeMillis     int     `json:"wallTimeMillis"`
	QueuedTimeMillis   int     `json:"queuedTimeMillis"`
	ElapsedTimeMillis  int     `json:"elapsedTimeMillis"`
	ProcessedRows      int     `json:"processedRows"`
	ProcessedBytes     int     `json:"processedBytes"`
	PhysicalInputBytes int     `json:"physicalInputBytes"`
	PeakMemoryBytes    int     `json:"peakMemoryBytes"`
	SpilledBytes       int     `json:"spilledBytes"`
}

// queryResults is Trino's QueryResults, as far as the gateway writes it.
type queryResults struct {
	ID         string      `json:"id"`
	InfoURI    string      `json:"infoUri"`
	NextURI    string      `json:"nextUri,omitempty"`
	Columns    []column    `json:"columns,omitempty"`
	Data       [][]any     `json:"data,omitempty"`
	Stats      stats       `json:"stats"`
	Error      *queryError `json:"error,omitempty"`
	Warnings   []string    `json:"warnings"`
	UpdateType string      `json:"updateType,omitempty"`
}

func writeResults(w http.ResponseWriter, q *queryResults) {
	body, err := json.Marshal(q)
	if err != nil { // cannot happen: every field is plain data
		http.Error(w, "gateway: encoding a result: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// querySuffix ends the ids of the queries the gateway answers itself, so
// that a cancel of one (DELETE /v1/query/<id>) is recognised. Trino's ids end
// in a 5-character coordinator id; this one cannot be Trino's.
const querySuffix = "_gatehouse"

// newQueryID makes an id in Trino's format (YYYYMMDD_HHMMSS_NNNNN_suffix),
// which some clients show and parse.
func newQueryID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(100000))
	return fmt.Sprintf("%s_%05d%s", time.Now().UTC().Format("20060102_150405"), n.Int64(), querySuffix)
}

func isOurQueryID(id string) bool {
	return strings.HasSuffix(id, querySuffix) && !strings.ContainsAny(id, "/?#")
}
