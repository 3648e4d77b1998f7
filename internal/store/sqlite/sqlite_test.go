package sqlite

import (
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		s, err := Open(t.Context(), dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestFile checks what the conformance suite cannot see: where the file is,
// who may read it, its journal mode, and that migrations are applied once.
func TestFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd dir?#%41", "data")
	for range 2 {
		s, err := Open(t.Context(), dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %v, want 0600", perm)
	}

	db, err := sql.Open("sqlite", dsn(path, url.Values{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var applied int
	if err := db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if files, _ := migrationFiles.ReadDir("migrations"); applied != len(files) {
		t.Errorf("%d migrations recorded after opening twice, want %d", applied, len(files))
	}
}

// TestUpgradeKeepsDetailsManual opens a database written by a gatehouse that
// knew only migration 0001: what it holds was set by hand, so after 0002 the
// user-info sync must own none of it.
func TestUpgradeKeepsDetailsManual(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_foreign_keys": {"1"}}))
	if err != nil {
		t.Fatal(err)
	}
	v1 := fstest.MapFS{}
	body, err := migrationFiles.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	v1["0001_init.sql"] = &fstest.MapFile{Data: body}
	if err := sqlstore.Migrate(t.Context(), db, sqlstore.Dialect{Name: "sqlite", Migrations: v1}); err != nil {
		t.Fatalf("migrate to 0001: %v", err)
	}
	for _, stmt := range []string{
		`INSERT INTO users VALUES ('a@x.io', 'A', 'corp', 'a', 0, '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')`,
		`INSERT INTO groups VALUES ('g', '', '', '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')`,
		`INSERT INTO group_members VALUES ('g', 'a@x.io')`,
		`INSERT INTO user_attributes VALUES ('a@x.io', 'region', 'EMEA')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open after 0001: %v", err)
	}
	defer s.Close()
	var u directory.User
	err = s.View(t.Context(), func(r store.Reader) error {
		u, err = r.GetUser(t.Context(), "a@x.io")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Groups) != 1 || len(u.Attributes["region"]) != 1 || u.Sync != nil {
		t.Errorf("upgraded user: groups %v, attributes %v, sync %+v; want g, region=EMEA, no sync state", u.Groups, u.Attributes, u.Sync)
	}
	// And the sync may now own details beside them.
	err = s.Update(t.Context(), func(tx store.Tx) error {
		_, err := tx.AddIAMUserAttribute(t.Context(), "a@x.io", "region", "APAC", "corp")
		return err
	})
	if err != nil {
		t.Fatalf("AddIAMUserAttribute after the upgrade: %v", err)
	}
}
