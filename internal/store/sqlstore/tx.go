package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// querier is what reads and writes need of a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reader implements store.Reader inside a transaction.
type reader struct {
	q querier
	d *Dialect
}

var _ store.Reader = (*reader)(nil)

func (r *reader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.d.rebind(query), args...)
}

func (r *reader) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.d.rebind(query), args...)
}

// exists reports whether query, a SELECT of one row, finds anything.
func (r *reader) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := r.queryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Revision implements store.Reader.
func (r *reader) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := r.queryRow(ctx, "SELECT revision FROM meta WHERE id = 1").Scan(&rev); err != nil {
		return 0, r.fail("read revision", err)
	}
	return rev, nil
}

// fail wraps an unexpected database error with what was being done. Such
// errors are internal: they are logged, never shown to API callers.
func (r *reader) fail(what string, err error) error {
	return fmt.Errorf("%s: %s: %w", r.d.Name, what, err)
}

// tx implements store.Tx.
type tx struct {
	reader
	// wrote records that a directory write statement ran, so Update bumps
	// the revision. It is set even when the statement changed no row (a
	// repeated grant): an extra bump only costs a cache refresh, a missed one
	// would leave replicas deciding on stale data.
	wrote bool
}

var _ store.Tx = (*tx)(nil)

// exec runs a directory write statement.
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.wrote = true
	return t.q.ExecContext(ctx, t.d.rebind(query), args...)
}

// execCount runs a directory write statement and returns how many rows it
// affected; a unique violation becomes conflict().
func (t *tx) execCount(ctx context.Context, what string, conflict func() error, query string, args ...any) (int64, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		if conflict != nil && t.d.IsUniqueViolation(err) {
			return 0, conflict()
		}
		return 0, t.fail(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.fail(what, err)
	}
	return n, nil
}

// notFound is a directory.ErrNotFound with a message of our own.
func notFound(format string, args ...any) error {
	return &directory.Error{Kind: directory.ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

// conflict is a directory.ErrConflict with a message of our own.
func conflict(format string, args ...any) error {
	return &directory.Error{Kind: directory.ErrConflict, Msg: fmt.Sprintf(format, args...)}
}
