package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// defaultServer is where `gatehouse serve` listens by default, so a local
// admin needs no flag at all.
const defaultServer = "http://localhost:8181"

// maxAnswerBytes bounds what the CLI reads from the server: large enough for
// any directory listing, small enough that a wrong --server cannot exhaust memory.
const maxAnswerBytes = 64 << 20

// clientOptions are the flags every admin subcommand shares. They are
// persistent flags of the root so that they can be written before or after
// the subcommand (`gatehouse -o json users list` and `gatehouse users list
// -o json` both work).
type clientOptions struct {
	getenv func(string) string

	server  string
	token   string
	output  string
	timeout time.Duration
}

// register adds the shared flags. The environment is read at run time, not
// here, so that --help never shows a token taken from the environment.
func (c *clientOptions) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&c.server, "server", defaultServer, "URL of the gatehouse server the admin commands talk to (env GATEHOUSE_SERVER)")
	f.StringVar(&c.token, "token", "", "bearer token for the admin API; prefer env GATEHOUSE_TOKEN, which keeps it out of the process list")
	f.StringVarP(&c.output, "output", "o", "table", "output format of admin commands: table or json (the server's JSON, indented)")
	f.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long an admin command waits for the server")
}

// adminCommands returns the admin client subcommands.
func adminCommands(c *clientOptions) []*cobra.Command {
	return []*cobra.Command{
		usersCommand(c), groupsCommand(c), iamsCommand(c),
		auditCommand(c), tokensCommand(c), metricsCommand(c),
	}
}

// client is the HTTP side of one command run, built from the shared flags.
type client struct {
	base  string // server URL without a trailing slash
	token string
	json  bool // -o json
	http  *http.Client
	ctx   context.Context
}

// client resolves the flags and the environment (flags win) into a client.
// Bad flag values are refused here, before anything is sent.
func (c *clientOptions) client(cmd *cobra.Command) (*client, error) {
	server := strings.TrimRight(strings.TrimSpace(c.flagOrEnv(cmd, "server", c.server)), "/")
	token := c.flagOrEnv(cmd, "token", c.token)
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q (--server or GATEHOUSE_SERVER) is not a URL such as %s", server, defaultServer)
	}
	if c.output != "table" && c.output != "json" {
		return nil, fmt.Errorf("--output %q is not supported: use table or json", c.output)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, such as 30s")
	}
	return &client{
		base:  server,
		token: strings.TrimSpace(token),
		json:  c.output == "json",
		http: &http.Client{
			Timeout: c.timeout,
			// The admin API never redirects: a redirect means --server points
			// somewhere else, and following it could replay a write as a GET.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx: cmd.Context(),
	}, nil
}

// flagOrEnv is the value of flag when it was given, else that of its
// GATEHOUSE_* variable when set, else the flag's default.
func (c *clientOptions) flagOrEnv(cmd *cobra.Command, flag, value string) string {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return value
	}
	if v := c.getenv("GATEHOUSE_" + strings.ToUpper(flag)); v != "" {
		return v
	}
	return value
}

// call is one REST request: a method, a path below /api/v1 built with
// apiPath, an optional query and an optional JSON body. done is what table
// output says when the server answers 204 No Content.
type call struct {
	method string
	path   string
	query  url.Values
	body   any
	done   string
}

// apiPath joins path segments, escaping each one, so that a username or an
// attribute value can never change which route is called.
func apiPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// answer is a successful response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// apiError is a non-2xx answer. Its message is the server's, which says what
// to fix; the status and code are appended for scripts and bug reports.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	hint    string
}

func (e *apiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	tag := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		tag += " " + e.Code
	}
	s := fmt.Sprintf("%s (%s)", msg, tag)
	if e.hint != "" {
		s += "; " + e.hint
	}
	return s
}

// send performs cl and returns the answer of a 2xx response; anything else
// is an *apiError, and transport failures say which server was unreachable.
func (c *client) send(cl call) (*answer, error) {
	target := c.base + "/api/v1" + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, cl.method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gatehouse-cli/"+Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of gatehouse at %s: %w", c.base, err)
	}
	if resp.StatusCode/100 == 3 {
		return nil, fmt.Errorf("gatehouse at %s answered with a redirect to %q (HTTP %d): set --server to the address it points to",
			c.base, resp.Header.Get("Location"), resp.StatusCode)
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.statusError(resp.StatusCode, data)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// statusError decodes the server's {"code","message","field"} body. Bodies
// that are not ours (a proxy's page, the mux's plain-text 404) still give a
// readable message.
func (c *client) statusError(status int, data []byte) error {
	e := &apiError{Status: status}
	if json.Unmarshal(data, e) != nil || e.Message == "" {
		e.Code, e.Message = "", strings.TrimSpace(string(data))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
		e.hint = "this is not an answer of the gatehouse admin API: is --server right, and is the server as new as this CLI?"
	}
	if status == http.StatusUnauthorized && e.Code != "" {
		if c.token == "" {
			e.hint = "set GATEHOUSE_TOKEN or pass --token"
		} else {
			e.hint = "check the token in --token or GATEHOUSE_TOKEN"
		}
	}
	return e
}

// transportError turns a failed round trip into what the admin can act on.
func (c *client) transportError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach gatehouse at %s: is `gatehouse serve` running?", c.base)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("gatehouse at %s did not answer within %s (raise --timeout?)", c.base, c.http.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in our message
	}
	return fmt.Errorf("cannot reach gatehouse at %s: %v", c.base, err)
}

// get decodes the answer of a GET into dst, for commands that read before
// they write.
func (c *client) get(path string, dst any) error {
	a, err := c.send(call{method: http.MethodGet, path: path})
	if err != nil {
		return err
	}
	return decodeAnswer(a.body, dst)
}

func decodeAnswer(data []byte, dst any) error {
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("the server's answer is not the JSON this CLI expects (is --server a gatehouse of the same version?): %w", err)
	}
	return nil
}

// builder turns a command's arguments and flags into its call. It gets the
// client for commands that must read before they write.
type builder func(cmd *cobra.Command, c *client, args []string) (call, error)

// fixed is the builder of the common command whose call depends only on its
// arguments and flags.
func fixed(f func(args []string) call) builder {
	return func(_ *cobra.Command, _ *client, args []string) (call, error) { return f(args), nil }
}

// apiCommand makes cmd a command whose whole job is one call: -o json prints
// the server's answer indented, table output decodes it into T and hands it to
// render. Every admin command goes through here, so output and errors behave
// the same everywhere.
func apiCommand[T any](opts *clientOptions, cmd *cobra.Command, build builder, render func(cmd *cobra.Command, v T) error) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := opts.client(cmd)
		if err != nil {
			return err
		}
		cl, err := build(cmd, c, args)
		if err != nil {
			return err
		}
		a, err := c.send(cl)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if len(bytes.TrimSpace(a.body)) == 0 {
			if !c.json && cl.done != "" {
				fmt.Fprintln(out, cl.done)
			}
			return nil
		}
		if c.json {
			return printJSON(out, a.body)
		}
		var v T
		if err := decodeAnswer(a.body, &v); err != nil {
			return err
		}
		return render(cmd, v)
	}
	return cmd
}

// printJSON prints the server's JSON as it is, indented for people.
func printJSON(w io.Writer, data []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(data), "", "  "); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}

// checkArgs checks the positional arguments against the names in cmd.Use
// (optional ones in [brackets]) and, when they are wrong, shows the usage
// line rather than cobra's bare "accepts 1 arg(s)".
func checkArgs(cmd *cobra.Command, positional []string) error {
	fields := strings.Fields(cmd.Use)[1:]
	var required, optional int
	for _, f := range fields {
		if strings.HasPrefix(f, "[") {
			optional++
		} else {
			required++
		}
	}
	if n := len(positional); n < required || n > required+optional {
		want := fmt.Sprint(required)
		if optional > 0 {
			want = fmt.Sprintf("%d to %d", required, required+optional)
		}
		return fmt.Errorf("%s takes %s argument(s) (%s), got %d\nusage: %s",
			cmd.CommandPath(), want, strings.Join(fields, " "), n, cmd.UseLine())
	}
	return nil
}

// changedAny reports whether any of the named flags was given, for updates
// that must change something.
func changedAny(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// group builds a parent command such as `users`, which only holds
// subcommands. Alone it shows its help; with an unknown subcommand it fails,
// where cobra would print the help and exit 0, hiding a typo from scripts.
func group(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("unknown command %q for %q; run '%s --help' for the list", args[0], cmd.CommandPath(), cmd.CommandPath())
		}}
	cmd.AddCommand(subs...)
	return cmd
}

// leaf builds a subcommand whose positional arguments are the words of use.
func leaf(use, short, long string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: checkArgs}
}
