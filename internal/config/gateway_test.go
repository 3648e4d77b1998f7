package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func loadGateway(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("gateway", pflag.ContinueOnError)
	RegisterGatewayFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestGatewayOptions(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	// One file for both processes: serve's keys are accepted and ignored.
	if err := os.WriteFile(file, []byte("data-dir: /var/lib/gatehouse\ngateway-addr: \":7000\"\ntrino-url: http://trino:8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadGateway(t, []string{"--config", file, "--gateway-external-url", "https://trino.example.com", "--impersonation-mode", "strict"},
		map[string]string{"GATEHOUSE_GATEWAY_RESOLVER_ADDR": "gatehouse:9191"})
	if err != nil {
		t.Fatal(err)
	}
	want := Gateway{Addr: ":7000", TrinoURL: "http://trino:8080", ExternalURL: "https://trino.example.com", ResolverAddr: "gatehouse:9191", MaxBodyBytes: 16 << 20}
	if c.Gateway != want || c.ImpersonationMode != "strict" {
		t.Fatalf("got %+v mode %s, want %+v", c.Gateway, c.ImpersonationMode, want)
	}
	if d := Default().Gateway; d.Addr != ":8090" || d.ResolverAddr != "localhost:9191" || d.TrinoURL != "" {
		t.Errorf("defaults %+v", d)
	}
}

func TestGatewayInvalidValuesNameTheKey(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trino-url", "trino:8080"}, "trino-url (from flag --trino-url)"},
		{[]string{"--trino-url", "http://trino:8080/v1"}, "without path"},
		{[]string{"--gateway-external-url", "ftp://x"}, "gateway-external-url"},
		{[]string{"--gateway-addr", "8090"}, "gateway-addr"},
		{[]string{"--gateway-max-body-bytes", "10"}, "gateway-max-body-bytes"},
	} {
		if _, err := loadGateway(t, c.args, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q", c.args, err, c.want)
		}
	}
}

func TestGatewayHelpListsItsOptionsOnly(t *testing.T) {
	fs := pflag.NewFlagSet("gateway", pflag.ContinueOnError)
	RegisterGatewayFlags(fs)
	usage := fs.FlagUsages()
	for _, n := range GatewayNames() {
		if !strings.Contains(usage, "--"+n) || !strings.Contains(usage, EnvName(n)) {
			t.Errorf("gateway help does not list --%s with %s", n, EnvName(n))
		}
	}
	if strings.Contains(usage, "--data-dir") {
		t.Error("gateway help lists serve's --data-dir")
	}
	serve := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(serve)
	if strings.Contains(serve.FlagUsages(), "--trino-url") {
		t.Error("serve help lists the gateway's --trino-url")
	}
}
