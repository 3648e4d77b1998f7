package cli

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
)

func auditCommand(c *clientOptions) *cobra.Command {
	return group("audit", "Read the audit log of admin writes", "", auditList(c))
}

func auditList(c *clientOptions) *cobra.Command {
	var since, until, actor, typ, target string
	var limit, before int64
	cmd := apiCommand(c, leaf("list", "List audit records, newest first",
		`List audit records of admin writes, newest first. Needs AUDIT or USER_ADMIN.

--since and --until take an RFC 3339 time, a date (YYYY-MM-DD, UTC) or a
duration back from now such as 24h. --type takes a type such as user.create
or a prefix ending in a dot, such as user. When more records match than
--limit, the command tells the --before value that fetches the next page.`),
		func(cmd *cobra.Command, _ *client, _ []string) (call, error) {
			q := url.Values{}
			now := time.Now()
			for name, v := range map[string]string{"since": since, "until": until} {
				if d, err := time.ParseDuration(v); err == nil && v != "" {
					v = now.Add(-d).UTC().Format(time.RFC3339)
				}
				if v != "" {
					q.Set(name, v)
				}
			}
			for name, v := range map[string]string{"actor": actor, "type": typ, "target": target} {
				if v != "" {
					q.Set(name, v)
				}
			}
			for name, v := range map[string]int64{"limit": limit, "before": before} {
				if cmd.Flags().Changed(name) {
					q.Set(name, strconv.FormatInt(v, 10))
				}
			}
			return call{method: http.MethodGet, path: apiPath("audit"), query: q}, nil
		},
		func(cmd *cobra.Command, p rest.AuditPage) error {
			rows := make([][]string, len(p.Records))
			for i, r := range p.Records {
				rows[i] = []string{strconv.FormatInt(r.ID, 10), when(r.Time), r.Actor, r.Type, r.Target, string(r.Changes)}
			}
			if err := table(cmd.OutOrStdout(), []string{"ID", "TIME", "ACTOR", "TYPE", "TARGET", "CHANGES"}, rows); err != nil {
				return err
			}
			if p.NextBefore != 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "more records: add --before %d for the next page\n", p.NextBefore)
			}
			return nil
		})
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only records at or after this time (RFC 3339, YYYY-MM-DD or a duration such as 24h)")
	f.StringVar(&until, "until", "", "only records before this time (same forms as --since)")
	f.StringVar(&actor, "actor", "", "only records of this caller (a username, or bootstrap-admin)")
	f.StringVar(&typ, "type", "", "only this type (user.create) or type prefix (user.)")
	f.StringVar(&target, "target", "", "only this target, such as user:alice@example.com or group:analysts")
	f.Int64Var(&limit, "limit", 100, "at most this many records (1 to 1000)")
	f.Int64Var(&before, "before", 0, "only records older than this record id (the next page)")
	return cmd
}

func tokensCommand(c *clientOptions) *cobra.Command {
	return group("tokens", "Manage admin API tokens",
		`Manage bearer tokens for the admin API. A token acts as its user, with that
user's permissions; a disabled user's tokens stop working. Users may manage
their own tokens; USER_ADMIN may manage anyone's. Only a hash of each
secret is stored, so a secret is shown once, when it is created.`,
		tokensCreate(c), tokensList(c), tokensDelete(c))
}

func tokensCreate(c *clientOptions) *cobra.Command {
	var user, description, ttl string
	cmd := apiCommand(c, leaf("create", "Create a token and print its secret, once", ""),
		fixed(func([]string) call {
			return call{method: http.MethodPost, path: apiPath("users", user, "tokens"),
				body: map[string]string{"description": description, "ttl": ttl}}
		}),
		func(cmd *cobra.Command, t rest.CreatedToken) error {
			expires := "never expires"
			if t.ExpiresAt != nil {
				expires = "expires " + when(*t.ExpiresAt)
			}
			// The secret is the last line, alone, so `| tail -1` captures it.
			fmt.Fprintf(cmd.OutOrStdout(), "Created token %s for %s (%s).\nThe secret is shown only this once; store it now:\n%s\n",
				t.ID, t.Username, expires, t.Secret)
			return nil
		})
	cmd.Example = `  export GATEHOUSE_TOKEN=$(gatehouse tokens create --user alice@example.com --description laptop --ttl 720h | tail -1)`
	cmd.Flags().StringVar(&user, "user", "", "the user the token acts as (required)")
	cmd.Flags().StringVar(&description, "description", "", "what the token is for, to recognise it in lists")
	cmd.Flags().StringVar(&ttl, "ttl", "", "lifetime such as 720h; by default the token never expires")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func tokensList(c *clientOptions) *cobra.Command {
	var user string
	cmd := apiCommand(c, leaf("list", "List a user's tokens (never their secrets)", ""),
		fixed(func([]string) call { return call{method: http.MethodGet, path: apiPath("users", user, "tokens")} }),
		func(cmd *cobra.Command, p rest.TokensPage) error {
			rows := make([][]string, len(p.Tokens))
			for i, t := range p.Tokens {
				expires := "never"
				if t.ExpiresAt != nil {
					expires = when(*t.ExpiresAt)
				}
				rows[i] = []string{t.ID, t.Description, when(t.CreatedAt), expires}
			}
			return table(cmd.OutOrStdout(), []string{"ID", "DESCRIPTION", "CREATED", "EXPIRES"}, rows)
		})
	cmd.Flags().StringVar(&user, "user", "", "whose tokens (required)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func tokensDelete(c *clientOptions) *cobra.Command {
	var user string
	cmd := apiCommand(c, leaf("delete ID", "Revoke a token", "Revoke a token: it stops working at once."),
		fixed(func(a []string) call {
			return call{method: http.MethodDelete, path: apiPath("users", user, "tokens", a[0]),
				done: fmt.Sprintf("deleted token %s of %s", a[0], user)}
		}), noAnswer)
	cmd.Flags().StringVar(&user, "user", "", "whose token (required)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func metricsCommand(c *clientOptions) *cobra.Command {
	return group("metrics", "Download anonymised usage metrics", "", metricsDownload(c))
}

// metricsDownload saves the usage report. It is not an apiCommand because
// its answer goes to a file, not to the screen.
func metricsDownload(c *clientOptions) *cobra.Command {
	var days int
	var file string
	cmd := leaf("download", "Save daily usage counts as a JSON file",
		`Save the anonymised usage report: for each of the last --days days (UTC,
today included), how many times each admin workflow ran (users created,
permissions granted, ...). It holds only days, workflow names and counts,
never a username, email or id, so it may be shared outside the organisation.
Needs USER_ADMIN or AUDIT.

Without -f the file gets the name the server suggests
(gatehouse-usage-<last day>.json); -f - writes to standard output.`)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cl, err := c.client(cmd)
		if err != nil {
			return err
		}
		a, err := cl.send(call{method: http.MethodGet, path: apiPath("usage-metrics"), query: url.Values{"days": {strconv.Itoa(days)}}})
		if err != nil {
			return err
		}
		if file == "-" {
			return printJSON(cmd.OutOrStdout(), a.body)
		}
		if file == "" {
			file = suggestedName(a.header, "gatehouse-usage.json")
		}
		out, err := os.Create(file)
		if err != nil {
			return err
		}
		err = printJSON(out, a.body)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", file, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote usage metrics of the last %d day(s) to %s\n", days, file)
		return nil
	}
	cmd.Example = "  gatehouse metrics download --days 90 -f usage.json"
	cmd.Flags().IntVar(&days, "days", 30, "how many days back, today included (1 to 365)")
	cmd.Flags().StringVarP(&file, "file", "f", "", `file to write; "-" is standard output`)
	return cmd
}

// suggestedName is the file name of a Content-Disposition header, reduced to
// its base name so that a server can never choose where the file goes.
func suggestedName(h http.Header, fallback string) string {
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil {
		return fallback
	}
	name := filepath.Base(params["filename"])
	if name == "." || name == "/" || name == ".." || name == "" {
		return fallback
	}
	return name
}
