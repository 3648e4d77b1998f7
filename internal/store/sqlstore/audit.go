package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
)

// Limits of audit.Query.Limit.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// ListAudit implements store.Reader: newest (highest id) first.
func (r *reader) ListAudit(ctx context.Context, q audit.Query) ([]audit.Record, error) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) {
		conds = append(conds, cond)
		args = append(args, vals...)
	}
	if !q.Since.IsZero() {
		add("time >= ?", r.d.time(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ?", r.d.time(q.Until))
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	switch {
	case strings.HasSuffix(q.Type, "."):
		// substr, not LIKE: LIKE is case-insensitive in SQLite and treats
		// "_" as a wildcard.
		add("substr(type, 1, ?) = ?", utf8.RuneCountInString(q.Type), q.Type)
	case q.Type != "":
		add("type = ?", q.Type)
	}
	if q.Target != "" {
		add("target = ?", q.Target)
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = defaultAuditLimit
	case limit > maxAuditLimit:
		limit = maxAuditLimit
	}
	query := "SELECT id, time, type, actor, target, changes, request_id FROM audit"
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)

	records := []audit.Record{}
	var rec audit.Record
	var changes []byte
	err := r.each(ctx, "list audit", query, args,
		[]any{&rec.ID, scanTime(&rec.Time), &rec.Type, &rec.Actor, &rec.Target, &changes, &rec.RequestID},
		func() error {
			rec.Changes = json.RawMessage(changes)
			records = append(records, rec)
			return nil
		})
	return records, err
}

// CountAuditByDay implements store.Reader, ordered by day then type. A zero
// since or until leaves that side unbounded.
func (r *reader) CountAuditByDay(ctx context.Context, since, until time.Time) ([]audit.DailyCount, error) {
	var conds []string
	var args []any
	if !since.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, r.d.time(since))
	}
	if !until.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, r.d.time(until))
	}
	query := "SELECT " + r.d.UTCDay("time") + ", type, COUNT(*) FROM audit"
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	query += " GROUP BY 1, 2 ORDER BY 1, 2"

	counts := []audit.DailyCount{}
	var c audit.DailyCount
	err := r.each(ctx, "count audit", query, args, []any{&c.Day, &c.Type, &c.Count}, func() error {
		counts = append(counts, c)
		return nil
	})
	return counts, err
}

// AppendAudit implements store.Tx. It does not count as a directory write:
// an Update that only appends audit records leaves the revision alone, so
// auditing never invalidates decision caches.
func (t *tx) AppendAudit(ctx context.Context, rec audit.Record) (int64, error) {
	var id int64
	err := t.queryRow(ctx,
		"INSERT INTO audit (time, type, actor, target, changes, request_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		t.d.time(rec.Time), rec.Type, rec.Actor, rec.Target, nullString(rec.Changes), rec.RequestID).Scan(&id)
	if err != nil {
		return 0, t.fail("append audit", err)
	}
	return id, nil
}
