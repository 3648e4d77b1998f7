package trino_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// TestImpersonationFollowsAdminWritesImmediately is the product promise that
// IMPERSONATE_USER is checked when a query runs: Trino asks
// ImpersonateUser(svc → alice) for every query, so an administrator's grant,
// revoke or disable must decide the very next query — not one after a cache
// expires or a snapshot is rebuilt. There is deliberately no sleep or retry
// anywhere: each admin call returns only once decisions see it.
func TestImpersonationFollowsAdminWritesImmediately(t *testing.T) {
	srv := servertest.Start(t, "")
	admin := func(method, path string, body any, want int) {
		t.Helper()
		adminCall(t, srv.URL, method, path, body, want)
	}
	admin("POST", "/api/v1/users", map[string]string{"email": "svc@example.com", "fullName": "Dashboard service"}, http.StatusCreated)
	admin("PUT", "/api/v1/users/svc@example.com/external-ids/trino", map[string]string{"username": "svc"}, http.StatusOK)
	admin("POST", "/api/v1/users", map[string]string{"email": "alice@example.com", "fullName": "Alice Analyst"}, http.StatusCreated)
	admin("PUT", "/api/v1/users/alice@example.com/external-ids/trino", map[string]string{"username": "alice"}, http.StatusOK)

	// Exactly what Trino 476 sends for `trino --user svc --session-user alice`.
	impersonate := []byte(`{"input": {"context": {"identity": {"user": "svc", "groups": []}, "softwareStack": {"trinoVersion": "476"}},
		"action": {"operation": "ImpersonateUser", "resource": {"user": {"user": "alice"}}}}}`)
	check := func(step string, want bool) {
		t.Helper()
		status, body, _ := postDecision(t, srv.URL+"/v1/data/trino/allow", impersonate)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", step, status, body)
		}
		var got struct {
			Result *bool `json:"result"`
		}
		if err := json.Unmarshal(body, &got); err != nil || got.Result == nil {
			t.Fatalf("%s: answer %s is not {\"result\": bool}", step, body)
		}
		if *got.Result != want {
			t.Fatalf("%s: ImpersonateUser(svc → alice) = %v, want %v", step, *got.Result, want)
		}
	}

	check("before any grant", false)
	// Repeat the cycle: a snapshot that lags only sometimes must not pass by luck.
	for i := range 10 {
		step := func(s string) string { return fmt.Sprintf("round %d: %s", i, s) }
		admin("POST", "/api/v1/users/svc@example.com/permissions", map[string]string{"permission": "IMPERSONATE_USER"}, http.StatusOK)
		check(step("right after granting IMPERSONATE_USER"), true)
		admin("DELETE", "/api/v1/users/svc@example.com/permissions/IMPERSONATE_USER", nil, http.StatusOK)
		check(step("right after revoking IMPERSONATE_USER"), false)
		admin("POST", "/api/v1/users/svc@example.com/permissions", map[string]string{"permission": "IMPERSONATE_USER"}, http.StatusOK)
		check(step("right after granting it again"), true)
		admin("POST", "/api/v1/users/alice@example.com:disable", nil, http.StatusOK)
		check(step("right after disabling alice"), false)
		admin("POST", "/api/v1/users/alice@example.com:enable", nil, http.StatusOK)
		check(step("right after enabling alice"), true)
		admin("POST", "/api/v1/users/svc@example.com:disable", nil, http.StatusOK)
		check(step("right after disabling svc, who still holds the permission"), false)
		admin("POST", "/api/v1/users/svc@example.com:enable", nil, http.StatusOK)
		check(step("right after enabling svc"), true)
		admin("DELETE", "/api/v1/users/svc@example.com/permissions/IMPERSONATE_USER", nil, http.StatusOK)
		check(step("end of round: revoked"), false)
	}

	// Deleting the target is as immediate as disabling it.
	admin("POST", "/api/v1/users/svc@example.com/permissions", map[string]string{"permission": "IMPERSONATE_USER"}, http.StatusOK)
	check("granted before deleting alice", true)
	admin("DELETE", "/api/v1/users/alice@example.com?confirm=DELETE", nil, http.StatusNoContent)
	check("right after deleting alice", false)
}
