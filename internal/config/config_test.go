package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(file, []byte("http-addr: \":1000\"\ngrpc-addr: \":2000\"\nshutdown-timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--config", file, "--http-addr", ":3000"}, map[string]string{"GATEHOUSE_GRPC_ADDR": ":4000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":3000" || c.GRPCAddr != ":4000" || c.ShutdownTimeout != 3*time.Second || c.DataDir != "./gatehouse-data" {
		t.Fatalf("flag > env > file > default not honoured: %+v", c)
	}
}

func TestInvalidValuesNameTheKey(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("htp-addr: x\n"), 0o600)
	empty := filepath.Join(dir, "empty-token")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad addr flag", []string{"--http-addr", "nowhere"}, nil, "http-addr (from flag --http-addr)"},
		{"bad duration env", nil, map[string]string{"GATEHOUSE_SHUTDOWN_TIMEOUT": "soon"}, "shutdown-timeout (from env GATEHOUSE_SHUTDOWN_TIMEOUT)"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "log-level"},
		{"bad log format", []string{"--log-format", "xml"}, nil, "log-format"},
		{"unknown yaml key", []string{"--config", bad}, nil, `unknown key "htp-addr"`},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "no such file"},
		{"empty token file", []string{"--admin-token-file", empty}, nil, "admin-token-file"},
		{"short token", nil, map[string]string{"GATEHOUSE_ADMIN_TOKEN": "short"}, "admin-token"},
		{"bad sync interval", []string{"--userinfo-sync-interval", "-1s"}, nil, "userinfo-sync-interval"},
		{"bad sync jitter", nil, map[string]string{"GATEHOUSE_USERINFO_SYNC_JITTER": "lots"}, "userinfo-sync-jitter (from env"},
		{"bad sync concurrency", []string{"--userinfo-sync-concurrency", "0"}, nil, "userinfo-sync-concurrency"},
		{"bad userinfo timeout", []string{"--userinfo-timeout", "0s"}, nil, "userinfo-timeout"},
		{"bad userinfo retries", []string{"--userinfo-retries", "-1"}, nil, "userinfo-retries"},
		{"bad trino name matching", []string{"--trino-name-matching", "fuzzy"}, nil, "trino-name-matching"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "short\"") {
				t.Fatalf("secret echoed in %v", err)
			}
		})
	}
}

func TestAdminTokenFromFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "tok")
	_ = os.WriteFile(f, []byte("0123456789abcdef0123\n"), 0o600)
	c, err := load(t, []string{"--admin-token-file", f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminToken != "0123456789abcdef0123" {
		t.Fatalf("token %q", c.AdminToken)
	}
	if strings.Contains(c.String(), c.AdminToken) {
		t.Fatal("String() shows the token")
	}
}

func TestHelpListsEveryOptionWithEnv(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	usage := fs.FlagUsages()
	for _, n := range Names() {
		if !strings.Contains(usage, "--"+n) || !strings.Contains(usage, EnvName(n)) {
			t.Errorf("help does not list --%s with %s", n, EnvName(n))
		}
	}
}

func TestUserInfoOptions(t *testing.T) {
	c := Default()
	if c.UserInfoSyncInterval != time.Hour || c.UserInfoSyncJitter != 10*time.Minute || c.UserInfoSyncConcurrency != 4 ||
		c.UserInfoTimeout != 5*time.Second || c.UserInfoRetries != 2 || c.TrinoNamesCaseInsensitive {
		t.Fatalf("defaults: %+v", c)
	}
	c, err := load(t, []string{"--userinfo-sync-interval", "0", "--trino-name-matching", "case-insensitive"},
		map[string]string{"GATEHOUSE_USERINFO_TIMEOUT": "250ms", "GATEHOUSE_USERINFO_RETRIES": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.UserInfoSyncInterval != 0 || !c.TrinoNamesCaseInsensitive || c.UserInfoTimeout != 250*time.Millisecond || c.UserInfoRetries != 0 {
		t.Fatalf("parsed: %+v", c)
	}
}

func TestMemoryLimitSizes(t *testing.T) {
	for v, want := range map[string]int64{"0": 0, "768MiB": 768 << 20, "2GiB": 2 << 30, "1073741824": 1 << 30, "131072KiB": 128 << 20} {
		n, err := parseBytes(v)
		if err != nil || n != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", v, n, err, want)
		}
	}
	for _, v := range []string{"", "MiB", "-1MiB", "1.5GiB", "10GB", "lots"} {
		if _, err := parseBytes(v); err == nil {
			t.Errorf("parseBytes(%q) accepted", v)
		}
	}
}

func TestProcs(t *testing.T) {
	for v, want := range map[string]int{"auto": 0, "1": 1, "4": 4, "1024": 1024} {
		c, err := load(t, []string{"--procs", v}, nil)
		if err != nil || c.Procs != want {
			t.Errorf("--procs %s: %d, %v; want %d", v, c.Procs, err, want)
		}
	}
	c, err := load(t, nil, nil)
	if err != nil || c.Procs != 0 {
		t.Fatalf("default procs: %d, %v; want 0 (auto)", c.Procs, err)
	}
	for _, v := range []string{"0", "-2", "1025", "two"} {
		_, err := load(t, nil, map[string]string{"GATEHOUSE_PROCS": v})
		if err == nil || !strings.Contains(err.Error(), "procs (from env GATEHOUSE_PROCS)") {
			t.Errorf("GATEHOUSE_PROCS=%q: %v; want an error naming the option", v, err)
		}
	}
}
