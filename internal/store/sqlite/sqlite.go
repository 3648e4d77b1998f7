// Package sqlite is gatehouse's embedded default store: one SQLite file in a
// data directory, through the pure-Go modernc.org/sqlite driver, so a single
// binary runs without cgo or a database server. The SQL itself is shared
// with the other backends in sqlstore; this package holds what is SQLite's
// own: the connection settings, the dialect and the migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-authz/gatehouse/internal/store/sqlstore"
)

// DefaultDir is the data directory Open uses when given none.
const DefaultDir = "gatehouse-data"

// FileName is the database file inside the data directory.
const FileName = "gatehouse.db"

// readConns bounds the read pool: Views run in parallel with each other and,
// thanks to WAL, with the one writer.
const readConns = 8

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the SQLite backend. It implements store.Store.
type Store struct {
	*sqlstore.Store
}

// Open opens (creating it if needed) the database dir/gatehouse.db and
// applies any migrations it lacks.
//
// Writes go through a single connection, so concurrent Updates queue instead
// of failing with SQLITE_BUSY, and each begins IMMEDIATE so it holds the
// write lock from its first read. The journal is WAL with synchronous=FULL:
// a commit is on disk before Update returns and survives kill -9 or a power
// cut, while readers keep reading during a write.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		dir = DefaultDir
	}
	// The database holds token hashes and IAM credentials: owner only.
	// SQLite gives its -wal and -shm files the mode of the database file.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	d := sqlstore.Dialect{
		Name:              "sqlite",
		IsUniqueViolation: isUniqueViolation,
		Time:              sqlstore.TextTime,
		UTCDay:            func(col string) string { return "substr(" + col + ", 1, 10)" },
		Migrations:        migrations,
	}

	write, err := sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {"10000"},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	if err := sqlstore.Migrate(ctx, write, d); err != nil {
		return nil, errors.Join(err, write.Close())
	}

	// Readers open after the migrations, which put the file in WAL mode.
	read, err := sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {"10000"},
		"_query_only":   {"1"},
	}))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: %w", err), write.Close())
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	return &Store{sqlstore.New(d, write, read)}, nil
}

// dsn is a file: URI, so any path works, with the driver's connection
// settings, which it applies to every new connection.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

// isUniqueViolation recognises UNIQUE and PRIMARY KEY constraint failures
// (the driver reports extended result codes).
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
