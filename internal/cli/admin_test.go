package cli

import (
	"bytes"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// gatehouseCLI runs the command tree in-process, the way Main does, with an
// environment of its own instead of the process's.
type gatehouseCLI struct {
	t   *testing.T
	env map[string]string
}

// newCLI starts a real gatehouse and returns a CLI pointed at it with the
// bootstrap admin token, both through the environment as an admin would.
func newCLI(t *testing.T) gatehouseCLI {
	t.Helper()
	srv := servertest.Start(t, "")
	return gatehouseCLI{t: t, env: map[string]string{"GATEHOUSE_SERVER": srv.URL, "GATEHOUSE_TOKEN": servertest.AdminToken}}
}

// offlineCLI points at a port nobody listens on, so a test that expects an
// error found before anything is sent fails loudly if something is sent.
func offlineCLI(t *testing.T) gatehouseCLI {
	return gatehouseCLI{t: t, env: map[string]string{"GATEHOUSE_SERVER": "http://" + closedAddr(t), "GATEHOUSE_TOKEN": "some-token-value"}}
}

// with returns a copy for the subtest t, with an environment of its own.
func (g gatehouseCLI) with(t *testing.T) gatehouseCLI {
	env := make(map[string]string, len(g.env))
	maps.Copy(env, g.env)
	return gatehouseCLI{t: t, env: env}
}

func (g gatehouseCLI) run(stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	root := NewRoot(strings.NewReader(stdin), &out, &errOut, func(k string) string { return g.env[k] })
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its standard output.
func (g gatehouseCLI) ok(args ...string) string {
	g.t.Helper()
	out, errOut, err := g.run("", args...)
	if err != nil {
		g.t.Fatalf("gatehouse %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// fail runs a command that must fail and returns its error message.
func (g gatehouseCLI) fail(args ...string) string {
	g.t.Helper()
	out, _, err := g.run("", args...)
	if err == nil {
		g.t.Fatalf("gatehouse %s succeeded, want an error; output:\n%s", strings.Join(args, " "), out)
	}
	return err.Error()
}

func jsonOf[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, s)
	}
	return v
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// closedAddr is a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestAdminWalkthrough(t *testing.T) {
	g := newCLI(t)
	const alice = "alice@example.com"

	out := g.ok("users", "create", "--email", "Alice@Example.com", "--name", "Alice Analyst")
	contains(t, "users create", out, "Email:", alice, "Alice Analyst", "IAM:", "bim")
	g.ok("users", "grant", alice, "impersonate_user") // case-insensitive on the CLI side
	g.ok("users", "set-attr", alice, "region", "EMEA")
	g.ok("users", "set-attr", alice, "region", "AP/AC") // a "/" must not change the route
	g.ok("users", "set-external-id", alice, "trino", "alice")

	out = g.ok("users", "list")
	contains(t, "users list", out, "EMAIL", "NAME", "IAM", "DISABLED", "PERMISSIONS", "GROUPS", alice, "IMPERSONATE_USER")

	g.ok("groups", "create", "analysts", "--description", "Analysts", "--email", "analysts@example.com")
	out = g.ok("groups", "add-member", "analysts", alice)
	contains(t, "groups add-member", out, "Members:", alice)

	u := jsonOf[directory.User](t, g.ok("users", "get", alice, "-o", "json"))
	if u.Email != alice || !u.HasPermission(directory.PermImpersonateUser) ||
		strings.Join(u.Attributes["region"], ",") != "AP/AC,EMEA" || u.ExternalIDs["trino"] != "alice" ||
		strings.Join(u.Groups, ",") != "analysts" {
		t.Errorf("users get -o json = %+v", u)
	}
	g.ok("users", "unset-attr", alice, "region", "AP/AC")
	out = g.ok("users", "get", alice)
	contains(t, "users get", out, "region=EMEA", "trino=alice", "analysts", "IMPERSONATE_USER")
	if strings.Contains(out, "AP/AC") {
		t.Errorf("unset-attr left the value:\n%s", out)
	}

	// Saving an IAM checks that its user-info endpoint answers: a real one on loopback.
	sso := httptest.NewServer(http.NotFoundHandler())
	defer sso.Close()
	out = g.ok("iams", "create", "corp", "--name", "Corporate SSO", "--userinfo-uri", sso.URL+"/userinfo",
		"--profile-mapping", "trino=preferred_username")
	contains(t, "iams create", out, "corp", "Corporate SSO", "trino=preferred_username")
	out = g.ok("iams", "list")
	contains(t, "iams list", out, "ID", "bim", "corp", sso.URL+"/userinfo")
	contains(t, "iams create twice", g.fail("iams", "create", "corp", "--name", "Again"), "already exists", "iams update corp")

	// A token minted for alice acts as alice: she may read herself, and
	// the --token flag wins over GATEHOUSE_TOKEN.
	out = g.ok("tokens", "create", "--user", alice, "--description", "laptop", "--ttl", "720h")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "ghs_") || strings.Contains(secret, " ") {
		t.Fatalf("the last line of tokens create is not the bare secret:\n%s", out)
	}
	contains(t, "tokens create", out, "shown only this once")
	out = g.ok("--token", secret, "users", "get", alice)
	contains(t, "users get as alice", out, alice, "Alice Analyst")
	created := jsonOf[rest.CreatedToken](t, g.ok("tokens", "create", "--user", alice, "-o", "json"))
	if created.Secret == "" || created.ID == "" || created.Username != alice {
		t.Errorf("tokens create -o json = %+v", created)
	}
	out = g.ok("tokens", "list", "--user", alice)
	contains(t, "tokens list", out, "laptop", created.ID)
	if strings.Contains(out, secret) {
		t.Errorf("tokens list shows a secret:\n%s", out)
	}
	contains(t, "tokens delete", g.ok("tokens", "delete", "--user", alice, created.ID), "deleted token "+created.ID)

	out = g.ok("audit", "list")
	contains(t, "audit list", out, "ACTOR", admin.BootstrapActor, "user.create", "permission.grant", "user.attribute.add",
		"user.externalid.set", "group.create", "group.member.add", "iam.put", "token.create", "token.delete", "user:"+alice)
	page := jsonOf[rest.AuditPage](t, g.ok("audit", "list", "--type", "user.", "--since", "1h", "-o", "json"))
	for _, r := range page.Records {
		if !strings.HasPrefix(r.Type, "user.") {
			t.Errorf("audit list --type user. returned %s", r.Type)
		}
	}
	if len(page.Records) == 0 {
		t.Error("audit list --type user. --since 1h returned nothing")
	}
	_, stderr, err := g.run("", "audit", "list", "--limit", "2")
	if err != nil || !strings.Contains(stderr, "--before") {
		t.Errorf("audit list --limit 2: err %v, no next-page hint on stderr: %q", err, stderr)
	}

	file := filepath.Join(t.TempDir(), "usage.json")
	g.ok("metrics", "download", "--days", "7", "-f", file)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rep := jsonOf[admin.UsageReport](t, string(raw))
	var usersCreated int64 // summed over the days, in case the test runs across midnight UTC
	for _, d := range rep.Daily {
		usersCreated += d.Counts["users_created"]
	}
	if rep.Days != 7 || len(rep.Daily) != 7 || usersCreated != 1 {
		t.Errorf("usage report = %s", raw)
	}
	for _, secretish := range []string{"@", "alice", "analysts", "corp"} {
		if strings.Contains(string(raw), secretish) {
			t.Errorf("usage report contains %q:\n%s", secretish, raw)
		}
	}
	stdout := g.ok("metrics", "download", "--days", "1", "-f", "-")
	if jsonOf[admin.UsageReport](t, stdout).Days != 1 {
		t.Errorf("metrics download -f - = %s", stdout)
	}
	noFile := filepath.Join(t.TempDir(), "never.json")
	contains(t, "metrics download --days 400", g.fail("metrics", "download", "--days", "400", "-f", noFile),
		"days must be between 1 and 365", "HTTP 400 invalid_argument")
	if _, err := os.Stat(noFile); !os.IsNotExist(err) {
		t.Errorf("a failed download wrote %s", noFile)
	}
}

// TestUserLifecycle covers the user commands the walk-through does not.
func TestUserLifecycle(t *testing.T) {
	g := newCLI(t)
	const bob = "bob@example.com"
	g.ok("users", "create", "--email", bob, "--name", "Bob")
	g.ok("iams", "create", "corp", "--name", "Corp")

	contains(t, "update", g.ok("users", "update", bob, "--name", "Robert"), "Robert")
	contains(t, "disable", g.ok("users", "disable", bob), "Disabled:", "true")
	if out := g.ok("users", "list"); strings.Contains(out, bob) {
		t.Errorf("users list shows a disabled user:\n%s", out)
	}
	contains(t, "list --include-disabled", g.ok("users", "list", "--include-disabled"), bob, "true")
	g.ok("users", "enable", bob)
	out := g.ok("users", "migrate", bob, "--iam", "corp", "--user-id", "b-123")
	contains(t, "migrate", out, "corp", "b-123")
	contains(t, "list --iam", g.ok("users", "list", "--iam", "corp"), bob)
	if out := g.ok("users", "list", "--iam", "bim"); strings.Contains(out, bob) {
		t.Errorf("users list --iam bim shows a corp user:\n%s", out)
	}
	g.ok("users", "grant", bob, "AUDIT")
	if out := g.ok("users", "revoke", bob, "AUDIT"); strings.Contains(out, "AUDIT") {
		t.Errorf("revoke left the permission:\n%s", out)
	}
	g.ok("users", "set-external-id", bob, "trino", "bob")
	if out := g.ok("users", "unset-external-id", bob, "trino"); strings.Contains(out, "trino=") {
		t.Errorf("unset-external-id left the id:\n%s", out)
	}
	g.ok("users", "set-attr", bob, "team", "a")
	g.ok("users", "set-attr", bob, "team", "b")
	if out := g.ok("users", "unset-attr", bob, "team"); strings.Contains(out, "team=") {
		t.Errorf("unset-attr without a value left the attribute:\n%s", out)
	}
}

// TestGroupsAndIAMsUpdate checks that updates change only what was given,
// although the server replaces the whole object.
func TestGroupsAndIAMsUpdate(t *testing.T) {
	g := newCLI(t)
	g.ok("users", "create", "--email", "carol@example.com", "--name", "Carol")
	g.ok("groups", "create", "eng", "--description", "Engineers", "--email", "eng@example.com")
	out := g.ok("groups", "update", "eng", "--description", "Engineering")
	contains(t, "groups update", out, "Engineering", "eng@example.com")
	contains(t, "groups update without flags", g.fail("groups", "update", "eng"), "nothing to update")
	g.ok("groups", "set-attr", "eng", "cost-center", "42")
	g.ok("groups", "add-member", "eng", "carol@example.com")
	contains(t, "groups list", g.ok("groups", "list"), "NAME", "eng", "Engineering", "cost-center=42")
	contains(t, "groups get", g.ok("groups", "get", "eng"), "carol@example.com", "cost-center=42")
	if out := g.ok("groups", "unset-attr", "eng", "cost-center", "42"); strings.Contains(out, "cost-center") {
		t.Errorf("groups unset-attr left the attribute:\n%s", out)
	}
	if out := g.ok("groups", "remove-member", "eng", "carol@example.com"); strings.Contains(out, "carol") {
		t.Errorf("remove-member left the member:\n%s", out)
	}
	contains(t, "groups delete", g.ok("groups", "delete", "eng"), "deleted group eng")
	contains(t, "groups get after delete", g.fail("groups", "get", "eng"), "not found", "HTTP 404 not_found")

	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A real endpoint on loopback: saving an IAM checks that it answers.
	sso := httptest.NewServer(http.NotFoundHandler())
	defer sso.Close()
	ssoURI := sso.URL + "/u"
	g.ok("iams", "create", "sso", "--name", "SSO", "--userinfo-uri", ssoURI, "--userinfo-username", "gh",
		"--userinfo-password-file", pw, "--profile-mapping", "trino=login", "--profile-mapping", "mail=email")
	contains(t, "iams update without the password", g.fail("iams", "update", "sso", "--name", "SSO 2"),
		"password cannot be read back")
	out = g.ok("iams", "update", "sso", "--name", "SSO 2", "--userinfo-password-file", pw, "--profile-mapping", "mail=")
	contains(t, "iams update", out, "SSO 2", ssoURI, "gh", "trino=login")
	if strings.Contains(out, "mail=") || strings.Contains(out, "s3cret") {
		t.Errorf("iams update output:\n%s", out)
	}
	out = g.ok("iams", "update", "sso", "--userinfo-uri", "")
	if strings.Contains(out, ssoURI) {
		t.Errorf("--userinfo-uri \"\" kept the endpoint:\n%s", out)
	}
	if raw := g.ok("iams", "get", "sso", "-o", "json"); strings.Contains(raw, "s3cret") {
		t.Errorf("iams get shows the password:\n%s", raw)
	}
	contains(t, "iams delete", g.ok("iams", "delete", "sso"), "deleted identity provider sso")
	contains(t, "iams delete bim", g.fail("iams", "delete", "bim"), "cannot be deleted", "HTTP 400")
}

func TestUsersDeleteConfirmation(t *testing.T) {
	g := newCLI(t)
	const dave = "dave@example.com"
	g.ok("users", "create", "--email", dave, "--name", "Dave")

	aborted := []struct {
		name, stdin string
		flags       []string
	}{
		{"no answer", "", nil},
		{"wrong word", "yes\n", nil},
		{"lower case", "delete\n", nil},
		{"trailing space", "DELETE \n", nil},
		{"wrong --confirm", "", []string{"--confirm", "yes"}},
		{"empty --confirm", "DELETE\n", []string{"--confirm", ""}},
	}
	for _, tc := range aborted {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := g.run(tc.stdin, append([]string{"users", "delete", dave}, tc.flags...)...)
			if err == nil || !strings.Contains(err.Error(), dave+" was not deleted") {
				t.Errorf("err = %v, want an abort; stdout %q", err, out)
			}
			if tc.flags == nil && !strings.Contains(stderr, "Type DELETE to permanently delete "+dave+" and every trace of them: ") {
				t.Errorf("no prompt on stderr: %q", stderr)
			}
			g.with(t).ok("users", "get", dave)
		})
	}
	if out := g.ok("audit", "list", "--type", "user.delete"); strings.Contains(out, dave) {
		t.Fatalf("an aborted delete reached the server:\n%s", out)
	}

	out, _, err := g.run("DELETE\n", "users", "delete", dave)
	if err != nil {
		t.Fatalf("confirmed delete: %v", err)
	}
	contains(t, "users delete", out, "deleted user "+dave+" permanently")
	contains(t, "users get after delete", g.fail("users", "get", dave), `user "`+dave+`" not found (HTTP 404 not_found)`)

	g.ok("users", "create", "--email", dave, "--name", "Dave")
	g.ok("users", "delete", dave, "--confirm", "DELETE")
	g.fail("users", "get", dave)
	contains(t, "audit of deletes", g.ok("audit", "list", "--type", "user.delete", "--target", "user:"+dave), "user.delete")
}

func TestServerErrorsAreClear(t *testing.T) {
	g := newCLI(t)
	const erin = "erin@example.com"
	g.ok("users", "create", "--email", erin, "--name", "Erin")
	out := g.ok("tokens", "create", "--user", erin)
	secret := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
	secret = strings.TrimSpace(secret)

	tests := []struct {
		name  string
		token string // "" leaves GATEHOUSE_TOKEN as it is
		args  []string
		want  []string
	}{
		{"403 without USER_ADMIN", secret, []string{"users", "list"},
			[]string{"this call requires the USER_ADMIN permission (HTTP 403 permission_denied)"}},
		{"401 unknown token", "not-a-real-token-at-all", []string{"users", "list"},
			[]string{"invalid or expired token (HTTP 401 unauthenticated)", "check the token"}},
		{"401 no token", "-", []string{"users", "list"},
			[]string{"HTTP 401 unauthenticated", "set GATEHOUSE_TOKEN or pass --token"}},
		{"404", "", []string{"users", "get", "nobody@example.com"},
			[]string{`user "nobody@example.com" not found (HTTP 404 not_found)`}},
		{"400 names the valid permissions", "", []string{"users", "grant", erin, "SUPERUSER"},
			[]string{`unknown permission "SUPERUSER"`, "USER_ADMIN", "(HTTP 400 invalid_argument)"}},
		{"409", "", []string{"users", "create", "--email", "ERIN@example.com", "--name", "Erin"},
			[]string{"already exists", "(HTTP 409 conflict)"}},
		{"400 bad ttl", "", []string{"tokens", "create", "--user", erin, "--ttl", "a month"},
			[]string{"720h", "HTTP 400"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := g.with(t)
			switch tc.token {
			case "":
			case "-":
				delete(c.env, "GATEHOUSE_TOKEN")
			default:
				c.env["GATEHOUSE_TOKEN"] = tc.token
			}
			msg := c.fail(tc.args...)
			contains(t, "error", msg, tc.want...)
			for _, tok := range []string{secret, servertest.AdminToken, "not-a-real-token-at-all"} {
				if strings.Contains(msg, tok) {
					t.Errorf("the error shows a token: %s", msg)
				}
			}
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	addr := closedAddr(t)
	g := gatehouseCLI{t: t, env: map[string]string{"GATEHOUSE_TOKEN": "x"}}
	msg := g.fail("--server", "http://"+addr, "users", "list")
	want := "cannot reach gatehouse at http://" + addr + ": is `gatehouse serve` running?"
	if msg != want {
		t.Errorf("error = %q, want %q", msg, want)
	}

	// Main prints it with the error: prefix and exits non-zero.
	var stdout, stderr bytes.Buffer
	code := Main([]string{"--server", "http://" + addr + "/", "groups", "list"}, strings.NewReader(""), &stdout, &stderr)
	if code == 0 || stderr.String() != "error: "+want+"\n" {
		t.Errorf("Main = %d, stderr %q", code, stderr.String())
	}

	// A server that accepts but never answers runs into --timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msg = g.fail("--server", "http://"+ln.Addr().String(), "--timeout", "200ms", "users", "list")
	contains(t, "timeout error", msg, "did not answer within 200ms")
}

// TestNotGatehouse checks answers that are not the admin API's: a redirect
// is not followed (it could turn a write into a GET elsewhere) and a foreign
// error page still gives a readable error.
func TestNotGatehouse(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://gatehouse.example.com/api/v1/users", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/api/v1/groups", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	g := gatehouseCLI{t: t, env: map[string]string{"GATEHOUSE_SERVER": srv.URL, "GATEHOUSE_TOKEN": "x"}}
	contains(t, "redirect", g.fail("users", "list"), "redirect to \"https://gatehouse.example.com/api/v1/users\" (HTTP 301)")
	contains(t, "foreign error", g.fail("groups", "list"), "<html>bad gateway</html> (HTTP 502)", "is --server right")
}

// TestLocalValidation covers mistakes refused before anything is sent.
func TestLocalValidation(t *testing.T) {
	g := offlineCLI(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"users", "get"}, "takes 1 argument(s) (USER), got 0\nusage: gatehouse users get USER"},
		{[]string{"users", "unset-attr", "a@b.c", "n", "v", "extra"}, "takes 2 to 3 argument(s)"},
		{[]string{"users", "create", "--email", "a@b.c"}, `required flag(s) "name" not set`},
		{[]string{"users", "frobnicate"}, `unknown command "frobnicate" for "gatehouse users"`},
		{[]string{"-o", "yaml", "users", "list"}, `--output "yaml" is not supported`},
		{[]string{"--server", "localhost:8181", "users", "list"}, "is not a URL such as http://localhost:8181"},
		{[]string{"--timeout", "0s", "users", "list"}, "--timeout must be positive"},
		{[]string{"iams", "create", "x", "--name", "X", "--ca-file", "ca.pem"}, "need --userinfo-uri"},
		{[]string{"iams", "create", "x", "--name", "X", "--profile-mapping", "trino"}, "is not platform=attribute"},
		{[]string{"iams", "create", "x", "--name", "X", "--userinfo-uri", "https://u", "--userinfo-password-file", "/nonexistent/pw"}, "--userinfo-password-file"},
		{[]string{"tokens", "list"}, `required flag(s) "user" not set`},
		{[]string{"iams", "update", "x"}, "nothing to update"},
	}
	for _, tc := range tests {
		msg := g.fail(tc.args...)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("gatehouse %s: error %q, want %q", strings.Join(tc.args, " "), msg, tc.want)
		}
		if strings.Contains(msg, "cannot reach") {
			t.Errorf("gatehouse %s tried the server before refusing", strings.Join(tc.args, " "))
		}
	}
}

func TestHelp(t *testing.T) {
	g := offlineCLI(t)
	out := g.ok("--help")
	contains(t, "gatehouse --help", out, "users", "groups", "iams", "audit", "tokens", "metrics", "serve",
		"--server", "--token", "--output", "--timeout", "GATEHOUSE_SERVER", "GATEHOUSE_TOKEN")
	out = g.ok("users", "--help")
	contains(t, "gatehouse users --help", out, "USER_ADMIN", "create", "list", "get", "update", "disable", "enable",
		"delete", "migrate", "grant", "revoke", "set-attr", "unset-attr", "set-external-id", "unset-external-id")
	if strings.Contains(out, "some-token-value") {
		t.Error("help shows the token from the environment")
	}
	contains(t, "gatehouse users", g.ok("users"), "Available Commands")
}

func TestUsersSync(t *testing.T) {
	g := newCLI(t)
	var answer atomic.Value
	answer.Store(`{"groups": [{"name": "Accountants"}], "authorizations": {"region": ["EMEA"], "login": ["erin"]}}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("userid") != "erin@example.com" {
			http.NotFound(w, r)
			return
		}
		body := answer.Load().(string)
		if body == "" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer up.Close()

	contains(t, "iams create with an unreachable endpoint",
		g.fail("iams", "create", "dead", "--name", "Dead", "--userinfo-uri", "http://"+closedAddr(t)+"/u"),
		"HTTP 400", "userInfo.uri", "is unreachable")
	g.ok("iams", "create", "corp", "--name", "Corp", "--userinfo-uri", up.URL+"/userinfo", "--profile-mapping", "trino=login")
	g.ok("users", "create", "--email", "erin@example.com", "--name", "Erin", "--iam", "corp")
	g.ok("users", "set-attr", "erin@example.com", "region", "APAC")

	out := g.ok("users", "sync", "erin@example.com")
	contains(t, "users sync", out, "Accountants", "region=APAC,EMEA", "trino=erin", "Last sync:", "from corp",
		"Synced groups:", "Synced attributes:", "login=erin")
	u := jsonOf[directory.User](t, g.ok("users", "get", "erin@example.com", "-o", "json"))
	if u.Sync == nil || u.Sync.LastSuccessAt == nil || u.Sync.LastError != "" ||
		!slices.Equal(u.Sync.Groups, []string{"Accountants"}) || !slices.Equal(u.Sync.Attributes["region"], []string{"EMEA"}) {
		t.Errorf("sync state after a good sync: %+v", u.Sync)
	}

	answer.Store("")
	contains(t, "users sync with the endpoint failing", g.fail("users", "sync", "erin@example.com"),
		"HTTP 502", "HTTP 500 Internal Server Error")
	contains(t, "users get after a failed sync", g.ok("users", "get", "erin@example.com"),
		"Sync error:", "HTTP 500 Internal Server Error", "Accountants")
	contains(t, "users sync without an endpoint", g.fail("users", "sync", "nobody@example.com"), "HTTP 404")
	contains(t, "users --help", g.ok("users", "--help"), "sync")
}
