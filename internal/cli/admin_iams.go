package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
)

func iamsCommand(c *clientOptions) *cobra.Command {
	return group("iams", "Manage identity providers (IAMs) and their user-info endpoints",
		`Manage the identity providers users belong to. "bim" is built in and cannot
be deleted. An identity provider may name a user-info endpoint that the
user-info sync reads, and a profile mapping: for each platform (such as
trino), the attribute of that endpoint's answer that holds the user's name
there. These commands need USER_ADMIN.`,
		iamsCreate(c), iamsUpdate(c), iamsList(c), iamGet(c), iamsDelete(c))
}

// iamBody is the request body of POST /iams and PUT /iams/{id}.
type iamBody struct {
	ID             string                      `json:"id,omitempty"`
	DisplayName    string                      `json:"displayName"`
	UserInfo       *directory.UserInfoEndpoint `json:"userInfo,omitempty"`
	ProfileMapping map[string]string           `json:"profileMapping,omitempty"`
}

// iamFlagNames are the flags of `iams create` and `iams update`.
var iamFlagNames = []string{"name", "userinfo-uri", "userinfo-username", "userinfo-password-file",
	"ca-file", "cert-file", "key-file", "profile-mapping"}

// iamFlags are the flags of `iams create` and `iams update`.
type iamFlags struct {
	name, uri, username, passwordFile, caFile, certFile, keyFile string
	mapping                                                      []string
}

func (f *iamFlags) register(cmd *cobra.Command, update bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.name, "name", "", "display name")
	fs.StringVar(&f.uri, "userinfo-uri", "", "URL of the user-info endpoint")
	fs.StringVar(&f.username, "userinfo-username", "", "basic-auth user name for the user-info endpoint")
	fs.StringVar(&f.passwordFile, "userinfo-password-file", "", "file holding the basic-auth password (never given on the command line; it cannot be read back)")
	fs.StringVar(&f.caFile, "ca-file", "", "CA bundle (PEM) the user-info endpoint's certificate must chain to, as a path on the server")
	fs.StringVar(&f.certFile, "cert-file", "", "client certificate (PEM) for the user-info endpoint, as a path on the server")
	fs.StringVar(&f.keyFile, "key-file", "", "client key (PEM) for the user-info endpoint, as a path on the server")
	help := "platform=attribute: the user-info attribute holding the user's name on platform (repeatable)"
	if update {
		help += `; merged into the current mapping, "platform=" removes one`
	}
	fs.StringArrayVar(&f.mapping, "profile-mapping", nil, help)
}

// apply writes the flags that were given onto b, leaving the others as they
// are, so that one function serves both create (b empty) and update (b read
// from the server).
func (f *iamFlags) apply(cmd *cobra.Command, b *iamBody) error {
	changed := cmd.Flags().Changed
	if changed("name") {
		b.DisplayName = f.name
	}
	ui := directory.UserInfoEndpoint{}
	if b.UserInfo != nil {
		ui = *b.UserInfo
	}
	given := false // a user-info flag other than the URI was given a value
	for flag, v := range map[string]struct{ src, dst *string }{
		"userinfo-uri": {&f.uri, &ui.URI}, "userinfo-username": {&f.username, &ui.Username},
		"ca-file": {&f.caFile, &ui.CAFile}, "cert-file": {&f.certFile, &ui.CertFile}, "key-file": {&f.keyFile, &ui.KeyFile},
	} {
		if changed(flag) {
			*v.dst = strings.TrimSpace(*v.src)
			given = given || (flag != "userinfo-uri" && *v.dst != "")
		}
	}
	if changed("userinfo-password-file") {
		raw, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return fmt.Errorf("--userinfo-password-file: %w", err)
		}
		if ui.Password = strings.TrimRight(string(raw), "\r\n"); ui.Password == "" {
			return fmt.Errorf("--userinfo-password-file %s is empty", f.passwordFile)
		}
		given = true
	}
	switch {
	case ui.URI != "":
		b.UserInfo = &ui
	case given:
		return errors.New("the user-info flags need --userinfo-uri")
	default: // never had one, or --userinfo-uri "" removes it
		b.UserInfo = nil
	}
	for _, m := range f.mapping {
		platform, attr, ok := strings.Cut(m, "=")
		if !ok || platform == "" {
			return fmt.Errorf("--profile-mapping %q is not platform=attribute, such as trino=preferred_username", m)
		}
		if b.ProfileMapping == nil {
			b.ProfileMapping = map[string]string{}
		}
		if attr == "" {
			delete(b.ProfileMapping, platform)
		} else {
			b.ProfileMapping[platform] = attr
		}
	}
	return nil
}

func iamsCreate(c *clientOptions) *cobra.Command {
	var f iamFlags
	cmd := apiCommand(c, leaf("create ID", "Add an identity provider", ""),
		func(cmd *cobra.Command, cl *client, a []string) (call, error) {
			b := iamBody{ID: a[0]}
			if err := f.apply(cmd, &b); err != nil {
				return call{}, err
			}
			// The server's POST also replaces an existing provider; refusing
			// here keeps "create" from silently overwriting one.
			var cur directory.IAM
			err := cl.get(apiPath("iams", a[0]), &cur)
			var ae *apiError
			switch {
			case err == nil:
				return call{}, fmt.Errorf("identity provider %q already exists: change it with `gatehouse iams update %s`", a[0], a[0])
			case !errors.As(err, &ae) || ae.Status != http.StatusNotFound:
				return call{}, err
			}
			return call{method: http.MethodPost, path: apiPath("iams"), body: b}, nil
		}, showIAM)
	cmd.Example = `  gatehouse iams create corp --name "Corporate SSO" \
    --userinfo-uri https://sso.example.com/userinfo --userinfo-username gatehouse \
    --userinfo-password-file /etc/gatehouse/sso-password --profile-mapping trino=preferred_username`
	f.register(cmd, false)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// iamsUpdate changes only the flags given. The server's PUT replaces the
// whole provider, so the current one is read first; its password is
// write-only, so an update that keeps basic auth must send it again.
func iamsUpdate(c *clientOptions) *cobra.Command {
	var f iamFlags
	cmd := apiCommand(c, leaf("update ID", "Change an identity provider",
		`Change an identity provider; what you do not pass stays as it is.
--userinfo-uri "" removes the user-info endpoint, --profile-mapping trino=
removes one mapping.

The user-info password cannot be read back, and the server replaces the
whole provider on update: while the endpoint uses basic auth, pass
--userinfo-password-file on every update (or --userinfo-username "" to stop
using basic auth).`),
		func(cmd *cobra.Command, cl *client, a []string) (call, error) {
			if !changedAny(cmd, iamFlagNames...) {
				return call{}, fmt.Errorf("nothing to update: pass at least one of --%s", strings.Join(iamFlagNames, ", --"))
			}
			var cur directory.IAM
			if err := cl.get(apiPath("iams", a[0]), &cur); err != nil {
				return call{}, err
			}
			b := iamBody{DisplayName: cur.DisplayName, UserInfo: cur.UserInfo, ProfileMapping: cur.ProfileMapping}
			if err := f.apply(cmd, &b); err != nil {
				return call{}, err
			}
			if b.UserInfo != nil && b.UserInfo.Username != "" && b.UserInfo.Password == "" {
				return call{}, errors.New("the user-info endpoint uses basic auth and its password cannot be read back: pass --userinfo-password-file again, or it would be cleared")
			}
			return call{method: http.MethodPut, path: apiPath("iams", a[0]), body: b}, nil
		}, showIAM)
	f.register(cmd, true)
	return cmd
}

func iamsList(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("list", "List identity providers", ""),
		fixed(func([]string) call { return call{method: http.MethodGet, path: apiPath("iams")} }),
		func(cmd *cobra.Command, p rest.IAMsPage) error {
			rows := make([][]string, len(p.IAMs))
			for i, v := range p.IAMs {
				var uri string
				if v.UserInfo != nil {
					uri = v.UserInfo.URI
				}
				rows[i] = []string{v.ID, v.DisplayName, uri, list(mapping(v.ProfileMapping)), when(v.UpdatedAt)}
			}
			return table(cmd.OutOrStdout(), []string{"ID", "NAME", "USERINFO URI", "PROFILE MAPPING", "UPDATED"}, rows)
		})
}

func iamGet(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("get ID", "Show an identity provider", ""),
		fixed(func(a []string) call { return call{method: http.MethodGet, path: apiPath("iams", a[0])} }), showIAM)
}

func iamsDelete(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("delete ID", "Delete an identity provider nobody belongs to", ""),
		fixed(func(a []string) call {
			return call{method: http.MethodDelete, path: apiPath("iams", a[0]), done: "deleted identity provider " + a[0]}
		}), noAnswer)
}

func showIAM(cmd *cobra.Command, v directory.IAM) error {
	ui := directory.UserInfoEndpoint{}
	if v.UserInfo != nil {
		ui = *v.UserInfo
	}
	fs := []field{
		{"ID", v.ID}, {"Name", v.DisplayName},
		{"User-info URI", ui.URI}, {"User-info username", ui.Username},
		{"CA file", ui.CAFile}, {"Cert file", ui.CertFile}, {"Key file", ui.KeyFile},
	}
	fs = append(fs, multi("Profile mapping", mapping(v.ProfileMapping))...)
	fs = append(fs, field{"Created", when(v.CreatedAt)}, field{"Updated", when(v.UpdatedAt)})
	return details(cmd.OutOrStdout(), fs)
}
