package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// appendAudit stores recs in one Update and returns their ids.
func appendAudit(t *testing.T, s store.Store, recs ...audit.Record) []int64 {
	t.Helper()
	ids := make([]int64, len(recs))
	update(t, s, func(tx store.Tx) error {
		for i, r := range recs {
			id, err := tx.AppendAudit(t.Context(), r)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		return nil
	})
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("AppendAudit ids %v do not increase", ids)
		}
	}
	return ids
}

func listAudit(t *testing.T, s store.Store, q audit.Query) []audit.Record {
	t.Helper()
	return read(t, s, func(r store.Reader) ([]audit.Record, error) { return r.ListAudit(t.Context(), q) })
}

func testAuditFilters(t *testing.T, s store.Store) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	recs := []audit.Record{
		{Time: at(0), Type: "user.create", Actor: "alice", Target: "user:x", Changes: json.RawMessage(`{"fullName":"X"}`), RequestID: "r1"},
		{Time: at(1), Type: "permission.grant", Actor: "bob", Target: "user:x"},
		{Time: at(2), Type: "user.delete", Actor: "alice", Target: "user:y"},
		{Time: at(3), Type: "user", Actor: "bob", Target: "user:y"},
		{Time: at(4), Type: "userx.create", Actor: "alice", Target: "user:z"},
		{Time: at(5), Type: "user.attribute.add", Actor: "carol", Target: "user:x"},
	}
	ids := appendAudit(t, s, recs...)

	// Records come back as stored: id assigned, time in UTC to the µs,
	// no changes when there were none.
	got := listAudit(t, s, audit.Query{Before: ids[2]})
	want := []audit.Record{recs[1], recs[0]}
	for i, j := range []int{1, 0} {
		want[i].ID, want[i].Time = ids[j], stored(recs[j].Time)
	}
	equalJSON(t, "records", got, want)
	if len(got) == 2 && got[0].Changes != nil {
		t.Errorf("record without changes came back with %q", got[0].Changes)
	}

	tests := []struct {
		name string
		q    audit.Query
		want []int // indexes into recs, newest first
	}{
		{"all", audit.Query{}, []int{5, 4, 3, 2, 1, 0}},
		{"actor", audit.Query{Actor: "alice"}, []int{4, 2, 0}},
		{"exact type", audit.Query{Type: "user.create"}, []int{0}},
		{"exact type without dot", audit.Query{Type: "user"}, []int{3}},
		{"type prefix", audit.Query{Type: "user."}, []int{5, 2, 0}},
		{"longer type prefix", audit.Query{Type: "user.attribute."}, []int{5}},
		{"type prefix is case-sensitive", audit.Query{Type: "USER."}, nil},
		{"type prefix has no wildcards", audit.Query{Type: "use_."}, nil},
		{"target", audit.Query{Target: "user:x"}, []int{5, 1, 0}},
		{"since is inclusive", audit.Query{Since: at(2)}, []int{5, 4, 3, 2}},
		{"until is exclusive", audit.Query{Until: at(2)}, []int{1, 0}},
		{"since and until", audit.Query{Since: at(1), Until: at(3)}, []int{2, 1}},
		{"before", audit.Query{Before: ids[3]}, []int{2, 1, 0}},
		{"limit", audit.Query{Limit: 2}, []int{5, 4}},
		{"before and limit", audit.Query{Before: ids[3], Limit: 1}, []int{2}},
		{"actor and type prefix", audit.Query{Actor: "alice", Type: "user."}, []int{2, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := []int64{}
			for _, r := range listAudit(t, s, tc.q) {
				got = append(got, r.ID)
			}
			want := []int64{}
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			equalJSON(t, "ids", got, want)
		})
	}
}

func testAuditPaging(t *testing.T, s store.Store) {
	const n = 1005
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = audit.Record{Time: t0.Add(time.Duration(i) * time.Second), Type: audit.UserCreate, Actor: "a", Target: "t"}
	}
	ids := appendAudit(t, s, recs...)

	for _, tc := range []struct {
		limit, want int
	}{{0, 100}, {-1, 100}, {1, 1}, {1000, 1000}, {5000, 1000}} {
		got := listAudit(t, s, audit.Query{Limit: tc.limit})
		if len(got) != tc.want || got[0].ID != ids[n-1] {
			t.Errorf("Limit %d: %d records from id %d, want %d from the newest, %d", tc.limit, len(got), got[0].ID, tc.want, ids[n-1])
		}
	}

	// Paging with the Before cursor visits every record once, newest first.
	var seen []int64
	for before := int64(0); len(seen) <= n; { // bounded, should the cursor not advance
		page := listAudit(t, s, audit.Query{Before: before, Limit: 300})
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			seen = append(seen, r.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(seen) != n {
		t.Fatalf("paging saw %d records, want %d", len(seen), n)
	}
	for i, id := range seen {
		if id != ids[n-1-i] {
			t.Fatalf("paging: record %d has id %d, want %d", i, id, ids[n-1-i])
		}
	}
}

func testCountAuditByDay(t *testing.T, s store.Store) {
	parse := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	var recs []audit.Record
	for _, r := range []struct{ at, typ string }{
		{"2025-02-28T23:59:59.999999Z", audit.UserCreate}, // before since
		{"2025-03-01T00:00:00Z", audit.UserCreate},
		{"2025-03-01T12:00:00Z", audit.PermissionGrant},
		{"2025-03-01T23:59:59.999999Z", audit.UserCreate},
		{"2025-03-02T00:00:00Z", audit.UserCreate},
		{"2025-03-03T00:30:00+02:00", audit.UserCreate}, // 2025-03-02 in UTC
		{"2025-03-04T00:00:00Z", audit.UserCreate},      // at until: left out
	} {
		recs = append(recs, audit.Record{Time: parse(r.at), Type: r.typ, Actor: "a", Target: "t"})
	}
	appendAudit(t, s, recs...)

	count := func(since, until string) []audit.DailyCount {
		return read(t, s, func(r store.Reader) ([]audit.DailyCount, error) {
			return r.CountAuditByDay(t.Context(), parse(since), parse(until))
		})
	}
	want := []audit.DailyCount{
		{Day: "2025-03-01", Type: audit.PermissionGrant, Count: 1},
		{Day: "2025-03-01", Type: audit.UserCreate, Count: 2},
		{Day: "2025-03-02", Type: audit.UserCreate, Count: 2},
	}
	equalJSON(t, "counts", count("2025-03-01T00:00:00Z", "2025-03-04T00:00:00Z"), want)
	equalJSON(t, "counts, bounds in another zone", count("2025-03-01T01:00:00+01:00", "2025-03-04T01:00:00+01:00"), want)
	equalJSON(t, "counts of an empty range", count("2025-03-02T00:00:00Z", "2025-03-02T00:00:00Z"), []audit.DailyCount{})
}
