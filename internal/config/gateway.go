package config

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/pflag"
)

// Gateway is what `gatehouse gateway` reads besides the shared options
// (log-format, log-level, impersonation-mode, shutdown-timeout). The options
// live in the same file, environment and flag namespace as `serve`'s, so one
// YAML file can configure both processes; `serve` ignores them.
type Gateway struct {
	Addr         string // gateway-addr: where clients connect
	TrinoURL     string // trino-url: the coordinator behind the gateway
	ExternalURL  string // gateway-external-url: the gateway as clients reach it; "" = from each request
	ResolverAddr string // gateway-resolver-addr: gatehouse's gRPC address (SessionService.Resolve)
	MaxBodyBytes int64  // gateway-max-body-bytes: largest statement accepted
}

// gatewayOptions are the options only `gatehouse gateway` reads.
var gatewayOptions = []option{
	{name: "gateway-addr", def: ":8090", help: "gateway: listen address for Trino clients (the Trino client protocol)",
		set: func(c *Config, v string) error { c.Gateway.Addr = v; return checkAddr(v) }},
	{name: "trino-url", def: "", help: "gateway: base URL of the Trino coordinator behind the gateway, e.g. http://trino:8080 (required)",
		set: func(c *Config, v string) error { c.Gateway.TrinoURL = v; return checkBaseURL(v) }},
	{name: "gateway-external-url", def: "", help: "gateway: its base URL as clients reach it, written into the URIs they follow (default: taken from each request's Host header)",
		set: func(c *Config, v string) error { c.Gateway.ExternalURL = v; return checkBaseURL(v) }},
	{name: "gateway-resolver-addr", def: "localhost:9191", help: "gateway: gRPC address of the gatehouse server that resolves impersonation targets (its grpc-addr)",
		set: func(c *Config, v string) error { c.Gateway.ResolverAddr = v; return checkAddr(v) }},
	{name: "gateway-max-body-bytes", def: "16777216", help: "gateway: largest statement (request body) accepted; larger ones fail with QUERY_TEXT_TOO_LARGE",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return fmt.Errorf("must be a whole number of bytes, at least 1024")
			}
			c.Gateway.MaxBodyBytes = n
			return nil
		}},
}

// gatewaySharedOptions are the `serve` options the gateway also reads.
var gatewaySharedOptions = []string{"log-format", "log-level", "impersonation-mode", "shutdown-timeout"}

// allOptions is every option of every command: what Load reads and a config
// file may set.
func allOptions() []option {
	return append(options[:len(options):len(options)], gatewayOptions...)
}

// RegisterGatewayFlags adds the options `gatehouse gateway` reads, and
// --config, to fs.
func RegisterGatewayFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "YAML config file (keys are the flag names); env GATEHOUSE_CONFIG")
	for _, o := range options {
		for _, name := range gatewaySharedOptions {
			if o.name == name {
				fs.String(o.name, o.def, fmt.Sprintf("%s (env %s)", o.help, EnvName(o.name)))
			}
		}
	}
	for _, o := range gatewayOptions {
		fs.String(o.name, o.def, fmt.Sprintf("%s (env %s)", o.help, EnvName(o.name)))
	}
}

// GatewayNames lists the options RegisterGatewayFlags adds.
func GatewayNames() []string {
	names := append([]string(nil), gatewaySharedOptions...)
	for _, o := range gatewayOptions {
		names = append(names, o.name)
	}
	return names
}

// checkBaseURL accepts "" or a bare http(s)://host[:port].
func checkBaseURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("must be a bare http(s)://host[:port] URL, without path, query or credentials")
	}
	return nil
}

func allNames() []string {
	all := allOptions()
	names := make([]string, len(all))
	for i, o := range all {
		names[i] = o.name
	}
	return names
}
