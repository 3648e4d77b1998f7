package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// Dialect is everything that differs between the SQL databases a backend can
// use. Queries in this package are written once, with "?" placeholders and
// the SQL that SQLite (3.35+) and PostgreSQL (9.5+) share: INSERT ... ON
// CONFLICT ... DO NOTHING / DO UPDATE SET col = excluded.col for upserts and
// INSERT ... RETURNING id for generated keys. What they do not share is here,
// and the rest (types of autoincrement, boolean and timestamp columns, foreign
// keys with ON DELETE CASCADE) is in the backend's migrations.
//
// Migrations must give text keys a bytewise ordering (PostgreSQL: COLLATE
// "C"), because paging by username compares in the database while sorting of
// details happens in Go.
type Dialect struct {
	// Name identifies the database in error messages ("sqlite", "postgres").
	Name string
	// Placeholder returns the n-th (from 1) bind parameter, e.g. "$1"; nil
	// means "?" is understood as is.
	Placeholder func(n int) string
	// IsUniqueViolation reports whether err is a unique or primary-key
	// constraint violation, which this package turns into ErrConflict.
	IsUniqueViolation func(err error) bool
	// Time converts a UTC time, already truncated to microseconds, into the
	// value bound to a timestamp column: a time.Time for databases with a
	// native type, TextTime for those that store text.
	Time func(t time.Time) any
	// UTCDay returns an SQL expression for the UTC day, as "YYYY-MM-DD", of
	// the timestamp column col.
	UTCDay func(col string) string
	// Migrations holds the schema as NNNN_description.sql files, applied in
	// order by Migrate.
	Migrations fs.FS
}

// Dollar numbers placeholders PostgreSQL-style: $1, $2, ...
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// timeLayout has a fixed width, so text timestamps sort chronologically.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// TextTime formats t for databases without a timestamp type: fixed-width
// RFC 3339 in UTC with microseconds, which sorts as it compares and whose
// first ten characters are the UTC day.
func TextTime(t time.Time) any { return t.UTC().Format(timeLayout) }

// rebind rewrites the "?" placeholders of query for the dialect. Queries in
// this package never contain a literal "?".
func (d *Dialect) rebind(query string) string {
	if d.Placeholder == nil {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString(d.Placeholder(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// time normalises t to what every backend can hold (UTC, microseconds) and
// converts it for binding.
func (d *Dialect) time(t time.Time) any {
	return d.Time(t.UTC().Truncate(time.Microsecond))
}

// optTime is time for a nullable column.
func (d *Dialect) optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.time(*t)
}

// timeCol scans a timestamp column stored either natively or as TextTime,
// always yielding UTC.
type timeCol struct {
	t     *time.Time
	valid bool
}

func (c *timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		c.valid = false
		return nil
	case time.Time:
		*c.t = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	c.valid = true
	return nil
}

func (c *timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: bad stored time %q: %w", s, err)
	}
	*c.t = t.UTC()
	c.valid = true
	return nil
}

// scanTime scans into *t.
func scanTime(t *time.Time) *timeCol { return &timeCol{t: t} }

// nullString binds "" as NULL, for optional text such as JSON documents.
type nullString string

func (s nullString) Value() (driver.Value, error) {
	if s == "" {
		return nil, nil
	}
	return string(s), nil
}
