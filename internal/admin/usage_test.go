package admin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

// TestUsageMetricsCountsPerDay drives the service with a clock that moves
// across days, then checks the report's days, counts and anonymity.
func TestUsageMetricsCountsPerDay(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC)
	svc := admin.New(st, admin.WithBootstrapToken("bootstrap-token-0123456789"), admin.WithClock(func() time.Time { return now }))
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Authenticate(ctx, "bootstrap-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	mustUser := func(email string) {
		if _, err := svc.CreateUser(ctx, boot, admin.CreateUserRequest{Email: email, FullName: "Person " + email, UserID: "ID-" + email}); err != nil {
			t.Fatal(err)
		}
	}
	// Day 1 (2026-03-10): two users, one grant.
	mustUser("ann.private@corp.example")
	mustUser("ben.private@corp.example")
	if _, err := svc.GrantPermission(ctx, boot, "ann.private@corp.example", "AUDIT"); err != nil {
		t.Fatal(err)
	}
	// Day 2: a disable, a deletion, a second grant of the same permission (no-op, not counted).
	now = now.Add(time.Hour)
	if _, err := svc.SetDisabled(ctx, boot, "ben.private@corp.example", true); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteUser(ctx, boot, "ben.private@corp.example", "DELETE"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GrantPermission(ctx, boot, "ann.private@corp.example", "AUDIT"); err != nil {
		t.Fatal(err)
	}
	// Three days later.
	now = now.Add(72 * time.Hour)
	rep, err := svc.UsageMetrics(ctx, boot, 5)
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != "2026-03-10" || rep.To != "2026-03-14" || len(rep.Daily) != 5 {
		t.Fatalf("window %s..%s with %d days", rep.From, rep.To, len(rep.Daily))
	}
	want := map[string]map[string]int64{
		"2026-03-10": {"users_created": 2, "permissions_granted": 1},
		"2026-03-11": {"users_disabled": 1, "users_deleted": 1},
	}
	for _, d := range rep.Daily {
		w := want[d.Day]
		if len(d.Counts) != len(w) {
			t.Errorf("%s: counts %v, want %v", d.Day, d.Counts, w)
		}
		for k, v := range w {
			if d.Counts[k] != v {
				t.Errorf("%s: %s = %d, want %d", d.Day, k, d.Counts[k], v)
			}
		}
	}
	b, _ := json.Marshal(rep)
	for _, secret := range []string{"ann", "ben", "private", "corp", "ID-", "bootstrap"} {
		if strings.Contains(strings.ToLower(string(b)), strings.ToLower(secret)) {
			t.Errorf("usage report contains %q: %s", secret, b)
		}
	}
	// The window is bounded: a one-day report only sees today.
	one, err := svc.UsageMetrics(ctx, boot, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Daily) != 1 || len(one.Daily[0].Counts) != 0 {
		t.Errorf("one-day report: %+v", one.Daily)
	}
}
