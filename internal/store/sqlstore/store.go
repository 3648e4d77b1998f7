// Package sqlstore implements store.Store on database/sql once for every SQL
// backend: a backend (sqlite, postgres) opens its database, supplies a
// Dialect with its migrations, and gets the whole contract, tested by
// storetest.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Store is a store.Store over one or two database handles.
type Store struct {
	d     *Dialect
	write *sql.DB
	read  *sql.DB
}

var _ store.Store = (*Store)(nil)

// New returns a Store that runs Updates on write and Views on read, which
// may be the same handle. SQLite passes a single-connection write handle so
// that writers queue in the pool instead of failing with SQLITE_BUSY, and a
// pool of read-only connections that WAL lets run beside the writer. The
// Store owns both handles: Close closes them. Call Migrate first.
func New(d Dialect, write, read *sql.DB) *Store {
	return &Store{d: &d, write: write, read: read}
}

// viewOptions asks for one snapshot across the several queries a read may
// run (PostgreSQL would otherwise take a new one per statement; SQLite
// always reads a snapshot inside a transaction).
var viewOptions = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

// View implements store.Store.
func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	tx, err := s.read.BeginTx(ctx, viewOptions)
	if err != nil {
		return fmt.Errorf("%s: begin read: %w", s.d.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // nothing to undo in a read
	return fn(&reader{q: tx, d: s.d})
}

// Update implements store.Store. The directory revision goes up by one, in
// the same transaction, when fn ran at least one directory write statement
// (see tx.exec) and returned nil. fn must not call the Store itself: on
// SQLite that would wait forever for the one write connection.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin write: %w", s.d.Name, err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // after Commit this is a no-op
	t := &tx{reader: reader{q: sqlTx, d: s.d}}
	if err := fn(t); err != nil {
		return err
	}
	if t.wrote {
		if _, err := sqlTx.ExecContext(ctx, "UPDATE meta SET revision = revision + 1 WHERE id = 1"); err != nil {
			return fmt.Errorf("%s: bump revision: %w", s.d.Name, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.d.Name, err)
	}
	return nil
}

// Ping implements store.Store. It asks the read side, which a long write
// does not hold up.
func (s *Store) Ping(ctx context.Context) error {
	return s.read.PingContext(ctx)
}

// Close closes the database handles.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}
