package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Which allows are audited. Denials, errors, unknown operations and every
// ImpersonateUser decision are always audited.
const (
	AuditAllowsNone    = "none"
	AuditAllowsSampled = "sampled"
	AuditAllowsAll     = "all"
)

// DecisionType is the audit record type of decisions.
const DecisionType = "decision"

// DecisionDetails is what a decision's audit record carries in Changes.
type DecisionDetails struct {
	Endpoint          string `json:"endpoint"`
	Operation         string `json:"operation"`
	Result            string `json:"result"`
	QueryID           string `json:"queryId,omitempty"`
	Target            string `json:"target,omitempty"` // ImpersonateUser's target
	Items             int    `json:"items,omitempty"`
	Kept              int    `json:"kept,omitempty"`
	Rule              string `json:"rule,omitempty"`
	Error             string `json:"error,omitempty"`
	ImpersonationUser string `json:"impersonationUser,omitempty"`
	DurationMicros    int64  `json:"durationMicros"`
}

// Auditor ships decision records to the store and the sink from a bounded
// buffer, in batches, off the decision path: when the buffer is full records
// are dropped and counted, never waited for.
type Auditor struct {
	st     store.Store
	sink   audit.Sink
	log    *slog.Logger
	allows string
	rate   float64
	ch     chan audit.Record
	done   chan struct{}

	dropped  atomic.Int64
	onDrop   func()
	lastWarn atomic.Int64
}

// NewAuditor starts the shipping goroutine; Close stops it after a flush.
func NewAuditor(st store.Store, sink audit.Sink, log *slog.Logger, allows string, sampleRate float64, buffer int, onDrop func()) *Auditor {
	a := &Auditor{st: st, sink: sink, log: log, allows: allows, rate: sampleRate,
		ch: make(chan audit.Record, buffer), done: make(chan struct{}), onDrop: onDrop}
	go a.run()
	return a
}

func (a *Auditor) wanted(d Decision) bool {
	if d.Operation == "ImpersonateUser" || d.Result != ResultAllow && d.Result != ResultPartial {
		return true
	}
	switch a.allows {
	case AuditAllowsAll:
		return true
	case AuditAllowsSampled:
		return rand.Float64() < a.rate
	}
	return false
}

func (a *Auditor) record(d Decision, impersonator string) {
	if !a.wanted(d) {
		return
	}
	changes, _ := json.Marshal(DecisionDetails{
		Endpoint: d.Endpoint, Operation: d.Operation, Result: d.Result, QueryID: d.QueryID, Target: d.Target,
		Items: d.Items, Kept: d.Kept, Rule: d.Rule, Error: d.Error, ImpersonationUser: impersonator,
		DurationMicros: d.Duration.Microseconds(),
	})
	r := audit.Record{Time: time.Now().UTC(), Type: DecisionType, Actor: d.User, Target: d.Resource, Changes: changes}
	select {
	case a.ch <- r:
	default:
		a.dropped.Add(1)
		if a.onDrop != nil {
			a.onDrop()
		}
		// One warning a second at most: a flood of drops must not become a flood of logs.
		now := time.Now().Unix()
		if last := a.lastWarn.Load(); now > last && a.lastWarn.CompareAndSwap(last, now) {
			a.log.Warn("decision audit buffer full; records dropped", "droppedTotal", a.dropped.Load())
		}
	}
}

// Dropped counts records dropped so far.
func (a *Auditor) Dropped() int64 { return a.dropped.Load() }

func (a *Auditor) run() {
	defer close(a.done)
	batch := make([]audit.Record, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		err := a.st.Update(context.Background(), func(tx store.Tx) error {
			for i := range batch {
				id, err := tx.AppendAudit(context.Background(), batch[i])
				if err != nil {
					return err
				}
				batch[i].ID = id
			}
			return nil
		})
		if err != nil {
			a.log.Error("decision audit records not stored", "count", len(batch), "err", err)
		}
		for _, r := range batch {
			if err := a.sink.Write(r); err != nil {
				a.log.Warn("audit sink write failed", "err", err)
				break
			}
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r, ok := <-a.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// Close flushes what is buffered and stops. Call after decisions have stopped.
func (a *Auditor) Close() {
	close(a.ch)
	<-a.done
}

// Flush waits until everything recorded so far is stored (for tests and
// shutdown paths that must not lose records).
func (a *Auditor) Flush(ctx context.Context) error {
	for len(a.ch) > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("audit flush: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(150 * time.Millisecond): // one tick for the last batch
	}
	return nil
}
