// Package config is gatehouse's one configuration struct and how it is read:
// defaults, then a YAML file, then GATEHOUSE_* environment variables, then
// command-line flags. Every option has the same name in all three places:
// flag --http-addr, env GATEHOUSE_HTTP_ADDR, YAML key http-addr.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Config is everything `gatehouse serve` can be told.
type Config struct {
	HTTPAddr        string
	GRPCAddr        string
	DebugAddr       string // pprof listener; empty: none
	DataDir         string
	AdminTokenFile  string
	AdminToken      string // from the file or GATEHOUSE_ADMIN_TOKEN; never logged
	AuditSink       string
	LogFormat       string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	PoliciesDir         string
	PolicyWatch         bool
	MaxRequestBytes     int64
	BatchSplitItems     int // batch-endpoint requests with at least this many items are evaluated in parts; 0: never
	AllowedServiceUsers []string
	ImpersonationMode   string
	PolicyExemptUsers   []string
	DecisionAuditAllows string
	DecisionAuditSample float64
	AuditBuffer         int
	DecisionCacheSize   int
	MemoryLimit         int64 // soft limit for the Go heap, bytes; 0: none
	Procs               int   // Go Ps (GOMAXPROCS) for serve; 0: auto (see internal/cli/procs.go)

	// The user-info sync (internal/userinfo).
	UserInfoSyncInterval    time.Duration // 0: no periodic sync
	UserInfoSyncJitter      time.Duration
	UserInfoSyncConcurrency int
	UserInfoTimeout         time.Duration
	UserInfoRetries         int
	// TrinoNamesCaseInsensitive matches Trino user names to directory users
	// ignoring case (trino-name-matching: case-insensitive).
	TrinoNamesCaseInsensitive bool

	// Gateway is read by `gatehouse gateway` only (gateway.go).
	Gateway Gateway
}

// option is one setting: its name, default, help and how to apply a value.
type option struct {
	name, def, help string
	secret          bool // value is never echoed in errors
	boolean         bool
	set             func(c *Config, v string) error
}

var options = []option{
	{name: "http-addr", def: ":8181", help: "HTTP listen address: Trino decision endpoints, admin REST API, /health, /metrics",
		set: func(c *Config, v string) error { c.HTTPAddr = v; return checkAddr(v) }},
	{name: "grpc-addr", def: ":9191", help: "gRPC listen address (AdminService, health, reflection)",
		set: func(c *Config, v string) error { c.GRPCAddr = v; return checkAddr(v) }},
	{name: "debug-addr", def: "", help: "listen address of Go's pprof profiling endpoints (/debug/pprof/); empty: off. Keep it on loopback: profiles show request data",
		set: func(c *Config, v string) error {
			c.DebugAddr = v
			if v == "" {
				return nil
			}
			return checkAddr(v)
		}},
	{name: "data-dir", def: "./gatehouse-data", help: "directory of the embedded SQLite store",
		set: func(c *Config, v string) error {
			if v == "" {
				return fmt.Errorf("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
	{name: "admin-token-file", def: "", help: "file holding the bootstrap admin token (acts as a built-in admin); GATEHOUSE_ADMIN_TOKEN also works",
		set: func(c *Config, v string) error { c.AdminTokenFile = v; return nil }},
	{name: "admin-token", def: "", help: "the bootstrap admin token itself; prefer the file or the env var over the flag", secret: true,
		set: func(c *Config, v string) error { c.AdminToken = v; return nil }},
	{name: "audit-sink", def: "stdout", help: "where audit records are also written as JSON lines: stdout, none, or a file path",
		set: func(c *Config, v string) error { c.AuditSink = v; return nil }},
	{name: "log-format", def: "json", help: "log format: json or text",
		set: func(c *Config, v string) error {
			if v != "json" && v != "text" {
				return fmt.Errorf("must be json or text")
			}
			c.LogFormat = v
			return nil
		}},
	{name: "log-level", def: "info", help: "log level: debug, info, warn or error",
		set: func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
	{name: "policies-dir", def: "./policies", help: "directory of the Rego policy bundle and its rules.json",
		set: func(c *Config, v string) error {
			if v == "" {
				return fmt.Errorf("must not be empty")
			}
			c.PoliciesDir = v
			return nil
		}},
	{name: "policy-watch", def: "true", help: "reload the policies when a file under policies-dir changes (SIGHUP and POST /api/v1/policies:reload always work)",
		set: func(c *Config, v string) error { return parseBool(v, &c.PolicyWatch) }},
	{name: "memory-limit", def: "850MiB", help: "soft limit of the Go heap (bytes, or with KiB/MiB/GiB): the heap grows towards it (GOGC 1000 unless GOGC is set) and the garbage collector works harder near it. Raise it for directories much larger than 100,000 users; 0 turns it off; GOMEMLIMIT, when set, wins",
		set: func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err != nil || (n != 0 && n < 64<<20) {
				return fmt.Errorf("must be 0 or a size of at least 64MiB, e.g. 768MiB or 2GiB")
			}
			c.MemoryLimit = n
			return nil
		}},
	{name: "procs", def: "auto", help: "how many threads run Go code at once (Go's GOMAXPROCS; GOMAXPROCS, when set, wins). auto: the usable cores plus 2, so that a thread the kernel pauses for another process does not hold up the decisions queued behind it; under a CPU quota smaller than the cores, Go's own figure for the quota",
		set: func(c *Config, v string) error {
			if v == "auto" {
				c.Procs = 0
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1024 {
				return fmt.Errorf("must be auto or a whole number from 1 to 1024")
			}
			c.Procs = n
			return nil
		}},
	{name: "max-request-bytes", def: "16777216", help: "largest decision request body accepted; larger ones get 413",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("must be a whole number of bytes, at least 1024")
			}
			c.MaxRequestBytes = n
			return nil
		}},
	{name: "batch-split-items", def: "4096", help: "batch-endpoint requests with at least this many items are evaluated in parts on all cores (each item is decided on its own, as Trino's contract says); 0 turns it off for policies that look across items",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n == 1 {
				return fmt.Errorf("must be 0 (off) or a whole number of items, at least 2")
			}
			c.BatchSplitItems = n
			return nil
		}},
	{name: "impersonation-allowed-service-users", def: "", help: "comma-separated Trino users who may impersonate anyone active without IMPERSONATE_USER",
		set: func(c *Config, v string) error { c.AllowedServiceUsers = splitList(v); return nil }},
	{name: "impersonation-mode", def: "session", help: "session: RESET SESSION ends an impersonation; strict: one impersonation per connection",
		set: func(c *Config, v string) error {
			if v != "session" && v != "strict" {
				return fmt.Errorf("must be session or strict")
			}
			c.ImpersonationMode = v
			return nil
		}},
	{name: "policy-exempt-users", def: "", help: "comma-separated users who bypass data policies and can neither impersonate nor be impersonated",
		set: func(c *Config, v string) error { c.PolicyExemptUsers = splitList(v); return nil }},
	{name: "decision-audit-allows", def: "none", help: "which allowed decisions to audit: none, sampled or all (denials and impersonation are always audited)",
		set: func(c *Config, v string) error {
			if v != "none" && v != "sampled" && v != "all" {
				return fmt.Errorf("must be none, sampled or all")
			}
			c.DecisionAuditAllows = v
			return nil
		}},
	{name: "decision-audit-sample-rate", def: "0.01", help: "fraction of allowed decisions audited when decision-audit-allows=sampled",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return fmt.Errorf("must be a number from 0 to 1")
			}
			c.DecisionAuditSample = f
			return nil
		}},
	{name: "audit-buffer", def: "65536", help: "decision audit records buffered before new ones are dropped (and counted)",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("must be a positive whole number")
			}
			c.AuditBuffer = n
			return nil
		}},
	{name: "decision-cache-size", def: "50000", help: "decisions remembered by exact request until the directory or policies change; 0 disables",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("must be a whole number, 0 or more")
			}
			c.DecisionCacheSize = n
			return nil
		}},
	{name: "userinfo-sync-interval", def: "1h", help: "how often each user of an identity provider with a user-info endpoint is synced from it; 0 turns the periodic sync off",
		set: func(c *Config, v string) error {
			return duration(v, &c.UserInfoSyncInterval, 0, "must be a duration such as 1h, or 0 to turn it off")
		}},
	{name: "userinfo-sync-jitter", def: "10m", help: "each user's periodic sync is spread over up to this long after it is due, so syncs do not come in bursts",
		set: func(c *Config, v string) error {
			return duration(v, &c.UserInfoSyncJitter, 0, "must be a duration such as 10m, or 0")
		}},
	{name: "userinfo-sync-concurrency", def: "4", help: "user-info syncs running at once",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 256 {
				return fmt.Errorf("must be a whole number from 1 to 256")
			}
			c.UserInfoSyncConcurrency = n
			return nil
		}},
	{name: "userinfo-timeout", def: "5s", help: "how long one request to a user-info endpoint may take (connect, TLS, answer)",
		set: func(c *Config, v string) error {
			return duration(v, &c.UserInfoTimeout, time.Millisecond, "must be a positive duration such as 5s")
		}},
	{name: "userinfo-retries", def: "2", help: "retries of a user-info request that failed in a way that may pass (connection error, timeout, 408, 429, 5xx), with exponential backoff",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10 {
				return fmt.Errorf("must be a whole number from 0 to 10")
			}
			c.UserInfoRetries = n
			return nil
		}},
	{name: "trino-name-matching", def: "case-sensitive", help: "how Trino user names match directory users' trino external ids: case-sensitive or case-insensitive",
		set: func(c *Config, v string) error {
			if v != "case-sensitive" && v != "case-insensitive" {
				return fmt.Errorf("must be case-sensitive or case-insensitive")
			}
			c.TrinoNamesCaseInsensitive = v == "case-insensitive"
			return nil
		}},
	{name: "shutdown-timeout", def: "15s", help: "how long SIGTERM waits for in-flight requests",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("must be a positive duration such as 15s")
			}
			c.ShutdownTimeout = d
			return nil
		}},
}

// duration parses a duration of at least least.
func duration(v string, dst *time.Duration, least time.Duration, msg string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < least {
		return errors.New(msg)
	}
	*dst = d
	return nil
}

func parseBool(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("must be true or false")
	}
	*dst = b
	return nil
}

// splitList reads a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseBytes reads a size: a whole number of bytes, or one with a KiB, MiB
// or GiB suffix.
func parseBytes(v string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(v, suffix) {
			v, mult = strings.TrimSuffix(v, suffix), m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size")
	}
	return n * mult, nil
}

func checkAddr(v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("must be host:port or :port")
	}
	return nil
}

// EnvName is the environment variable of an option.
func EnvName(name string) string {
	return "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// RegisterFlags adds every option, and --config, to fs. The help text names
// the env var; the default is shown by pflag.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "YAML config file (keys are the flag names); env GATEHOUSE_CONFIG")
	for _, o := range options {
		fs.String(o.name, o.def, fmt.Sprintf("%s (env %s)", o.help, EnvName(o.name)))
	}
}

// Load builds the Config from defaults, the YAML file, the environment and
// the flags already parsed into fs, in that order of precedence (last wins).
// An invalid value is an error naming its key and where it came from.
func Load(fs *pflag.FlagSet, getenv func(string) string) (*Config, error) {
	values := map[string]string{}
	sources := map[string]string{}
	for _, o := range allOptions() {
		values[o.name], sources[o.name] = o.def, "default"
	}
	path, _ := fs.GetString("config")
	if path == "" {
		path = getenv("GATEHOUSE_CONFIG")
	}
	if path != "" {
		if err := readYAML(path, values, sources); err != nil {
			return nil, err
		}
	}
	for _, o := range allOptions() {
		if v, ok := lookupEnv(getenv, EnvName(o.name)); ok {
			values[o.name], sources[o.name] = v, "env "+EnvName(o.name)
		}
		if f := fs.Lookup(o.name); f != nil && f.Changed {
			values[o.name], sources[o.name] = f.Value.String(), "flag --"+o.name
		}
	}
	c := &Config{}
	for _, o := range allOptions() {
		if err := o.set(c, values[o.name]); err != nil {
			shown := fmt.Sprintf(" %q", values[o.name])
			if o.secret {
				shown = ""
			}
			return nil, fmt.Errorf("config: invalid value%s for %s (from %s): %v", shown, o.name, sources[o.name], err)
		}
	}
	if c.AdminToken == "" && c.AdminTokenFile != "" {
		b, err := os.ReadFile(c.AdminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("config: admin-token-file: %v", err)
		}
		c.AdminToken = strings.TrimSpace(string(b))
		if c.AdminToken == "" {
			return nil, fmt.Errorf("config: admin-token-file %s is empty", c.AdminTokenFile)
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return nil, fmt.Errorf("config: invalid value for admin-token: must be at least 16 characters")
	}
	return c, nil
}

func lookupEnv(getenv func(string) string, k string) (string, bool) {
	v := getenv(k)
	return v, v != ""
}

func readYAML(path string, values, sources map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config: %s is not valid YAML: %v", path, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := values[k]; !ok {
			return fmt.Errorf("config: unknown key %q in %s (valid keys: %s)", k, path, strings.Join(allNames(), ", "))
		}
		switch v := raw[k].(type) {
		case string:
			values[k] = v
		case []any: // lists may be written as YAML sequences
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprint(x)
			}
			values[k] = strings.Join(parts, ",")
		case int, float64, bool:
			values[k] = fmt.Sprint(v)
		case nil:
			values[k] = ""
		default:
			return fmt.Errorf("config: key %q in %s must be a scalar, not %T", k, path, v)
		}
		sources[k] = "file " + path
	}
	return nil
}

// Names lists every option's name.
func Names() []string {
	out := make([]string, len(options))
	for i, o := range options {
		out[i] = o.name
	}
	return out
}

// Defaults returns the default of each option, for docs and tests.
func Defaults() map[string]string {
	out := map[string]string{}
	for _, o := range options {
		out[o.name] = o.def
	}
	return out
}

// String shows a config without its secrets.
func (c *Config) String() string {
	tok := "unset"
	if c.AdminToken != "" {
		tok = "set"
	}
	return "http-addr=" + c.HTTPAddr + " grpc-addr=" + c.GRPCAddr + " data-dir=" + c.DataDir +
		" admin-token=" + tok + " audit-sink=" + c.AuditSink + " log-level=" + c.LogLevel.String() +
		" shutdown-timeout=" + strconv.Quote(c.ShutdownTimeout.String())
}

// Default returns the configuration with every option at its default.
func Default() *Config {
	c := &Config{}
	for _, o := range allOptions() {
		if err := o.set(c, o.def); err != nil {
			panic("config: default of " + o.name + " is invalid: " + err.Error())
		}
	}
	return c
}
