package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
)

func usersCommand(c *clientOptions) *cobra.Command {
	return group("users", "Manage directory users: create, disable, delete, permissions, attributes",
		`Manage the users of the gatehouse directory.

A user's email is their username: it is unique (case-insensitively) and is
what every other command takes as USER. Policies read users, their
permissions, groups, attributes and external ids (the "trino" external id is
the Trino user name that maps to the directory user).

These commands need a token of a user holding USER_ADMIN, or the bootstrap
admin token (GATEHOUSE_TOKEN or --token). Anyone may read themselves with
"users get".`,
		append([]*cobra.Command{
			usersCreate(c), usersList(c), userGet(c), usersUpdate(c),
			userDisabled(c, "disable", "Disable a user: they are denied everything and hidden from lists", true),
			userDisabled(c, "enable", "Enable a disabled user again", false),
			usersDelete(c), usersMigrate(c), usersSync(c),
			userPermission(c, "grant", http.MethodPost), userPermission(c, "revoke", http.MethodDelete),
			usersSetExternalID(c), usersUnsetExternalID(c),
		}, attributeCommands(c, "users", "USER", "NAME", showUser)...)...)
}

// userCommand is a command whose answer is one user, shown in full.
func userCommand(c *clientOptions, use, short, long string, build builder) *cobra.Command {
	return apiCommand(c, leaf(use, short, long), build, showUser)
}

func usersCreate(c *clientOptions) *cobra.Command {
	var req admin.CreateUserRequest
	cmd := userCommand(c, "create", "Create a user; their email is their username",
		`Create a user. Without --iam the user belongs to the built-in identity
provider "bim"; without --user-id their id there is their email.`,
		fixed(func([]string) call { return call{method: http.MethodPost, path: apiPath("users"), body: req} }))
	cmd.Example = `  gatehouse users create --email alice@example.com --name "Alice Analyst"`
	f := cmd.Flags()
	f.StringVar(&req.Email, "email", "", "the user's email, which becomes their username (required)")
	f.StringVar(&req.FullName, "name", "", "the user's full name (required)")
	f.StringVar(&req.IAM, "iam", "", "identity provider id (see `gatehouse iams list`); default bim")
	f.StringVar(&req.UserID, "user-id", "", "the user's id in that identity provider; default the email")
	_ = cmd.MarkFlagRequired("email")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func usersList(c *clientOptions) *cobra.Command {
	var includeDisabled bool
	var iam string
	cmd := apiCommand(c, leaf("list", "List users (active ones unless --include-disabled)", ""),
		fixed(func([]string) call {
			q := url.Values{}
			if includeDisabled {
				q.Set("includeDisabled", "true")
			}
			if iam != "" {
				q.Set("iam", iam)
			}
			return call{method: http.MethodGet, path: apiPath("users"), query: q}
		}), showUsers)
	cmd.Flags().BoolVar(&includeDisabled, "include-disabled", false, "list disabled users too")
	cmd.Flags().StringVar(&iam, "iam", "", "only users of this identity provider")
	return cmd
}

func userGet(c *clientOptions) *cobra.Command {
	return userCommand(c, "get USER", "Show a user with permissions, groups, attributes and external ids", "",
		fixed(func(a []string) call { return call{method: http.MethodGet, path: apiPath("users", a[0])} }))
}

func usersUpdate(c *clientOptions) *cobra.Command {
	var name string
	cmd := userCommand(c, "update USER", "Change a user's full name", "",
		fixed(func(a []string) call {
			return call{method: http.MethodPatch, path: apiPath("users", a[0]), body: map[string]string{"fullName": name}}
		}))
	cmd.Flags().StringVar(&name, "name", "", "the new full name (required)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// userDisabled is `users disable` and `users enable`, the server's
// POST /users/{username}:disable and :enable.
func userDisabled(c *clientOptions, action, short string, disable bool) *cobra.Command {
	long := "Enable a disabled user: their permissions, groups and attributes were kept."
	if disable {
		long = `Disable a user. A disabled user is denied every query and admin call, their
tokens stop working and lists hide them, but nothing is deleted: "users
enable" brings them back as they were.`
	}
	return userCommand(c, action+" USER", short, long,
		fixed(func(a []string) call {
			return call{method: http.MethodPost, path: apiPath("users", a[0]) + ":" + action}
		}))
}

func usersDelete(c *clientOptions) *cobra.Command {
	var confirm string
	cmd := apiCommand(c, leaf("delete USER", "Delete a user permanently, with every trace of them",
		`Delete a user permanently: their permissions, group memberships, attributes,
external ids and tokens go with them. The audit log keeps the deletion.
To keep the user but deny them everything, use "users disable" instead.

Without --confirm the command asks you to type DELETE; in scripts pass
--confirm DELETE. Anything else deletes nothing.`),
		func(cmd *cobra.Command, _ *client, a []string) (call, error) {
			if err := confirmDelete(cmd, a[0], confirm); err != nil {
				return call{}, err
			}
			return call{
				method: http.MethodDelete, path: apiPath("users", a[0]),
				query: url.Values{"confirm": {directory.DeleteConfirmation}},
				done:  fmt.Sprintf("deleted user %s permanently (the audit log keeps the deletion)", a[0]),
			}, nil
		}, noAnswer)
	cmd.Flags().StringVar(&confirm, "confirm", "", "the word DELETE, to delete without being asked")
	return cmd
}

// confirmDelete asks for the confirmation word unless --confirm gave it, so
// that a permanent delete is never one mistyped command away. Nothing is
// sent unless the word is exactly DELETE.
func confirmDelete(cmd *cobra.Command, user, confirm string) error {
	if cmd.Flags().Changed("confirm") {
		if confirm != directory.DeleteConfirmation {
			return fmt.Errorf("--confirm must be exactly %s; %s was not deleted", directory.DeleteConfirmation, user)
		}
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Type %s to permanently delete %s and every trace of them: ", directory.DeleteConfirmation, user)
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("reading the confirmation: %w", err)
	}
	if strings.TrimRight(line, "\r\n") != directory.DeleteConfirmation {
		if err == io.EOF && line == "" {
			fmt.Fprintln(cmd.ErrOrStderr())
		}
		return fmt.Errorf("aborted: %s was not deleted", user)
	}
	return nil
}

// noAnswer renders the answer of calls that answer 204 No Content; their
// table output is the call's done message.
func noAnswer(*cobra.Command, struct{}) error { return nil }

func usersSync(c *clientOptions) *cobra.Command {
	return userCommand(c, "sync USER", "Sync a user from their identity provider's user-info endpoint now",
		`Ask the user's identity provider's user-info endpoint for their groups and
authorizations now, and make them the user's memberships and attributes owned
by that provider: ones the endpoint no longer names are removed, ones set by
hand are never touched. The profile mapping sets external ids such as the
Trino name. Gatehouse also syncs users periodically and when a Trino user
appears who was never synced; this command is for not waiting.

When the endpoint gives no usable answer nothing changes, the command fails
saying why, and "users get" shows the error until a sync succeeds.`,
		fixed(func(a []string) call {
			return call{method: http.MethodPost, path: apiPath("users", a[0]) + ":sync"}
		}))
}

func usersMigrate(c *clientOptions) *cobra.Command {
	var iam, userID string
	cmd := userCommand(c, "migrate USER", "Move a user to another identity provider",
		`Move a user to another identity provider, keeping their permissions, groups,
attributes and external ids set by hand. Without --user-id their id there is
their email. When the new provider has a user-info endpoint the user is synced
from it at once; when it has none, what the old provider's sync gave them goes.`,
		fixed(func(a []string) call {
			return call{method: http.MethodPost, path: apiPath("users", a[0]) + ":migrate",
				body: map[string]string{"iam": iam, "userId": userID}}
		}))
	cmd.Flags().StringVar(&iam, "iam", "", "the identity provider to move to (required)")
	cmd.Flags().StringVar(&userID, "user-id", "", "the user's id in that identity provider; default the email")
	_ = cmd.MarkFlagRequired("iam")
	return cmd
}

// userPermission is `users grant` and `users revoke`.
func userPermission(c *clientOptions, verb, method string) *cobra.Command {
	short := "Grant a permission to a user"
	if method == http.MethodDelete {
		short = "Revoke a permission from a user"
	}
	return userCommand(c, verb+" USER PERMISSION", short,
		short+`. PERMISSION is one of `+strings.ReplaceAll(list(directory.Permissions), ",", ", ")+`
(case does not matter here).`,
		fixed(func(a []string) call {
			perm := strings.ToUpper(a[1])
			if method == http.MethodDelete {
				return call{method: method, path: apiPath("users", a[0], "permissions", perm)}
			}
			return call{method: method, path: apiPath("users", a[0], "permissions"), body: map[string]string{"permission": perm}}
		}))
}

func usersSetExternalID(c *clientOptions) *cobra.Command {
	return userCommand(c, "set-external-id USER PLATFORM NAME", "Set the user's name on another platform",
		`Set the user's name on another platform. With PLATFORM "trino", NAME is the
Trino user name that policies resolve to this directory user.`,
		fixed(func(a []string) call {
			return call{method: http.MethodPut, path: apiPath("users", a[0], "external-ids", a[1]),
				body: map[string]string{"username": a[2]}}
		}))
}

func usersUnsetExternalID(c *clientOptions) *cobra.Command {
	return userCommand(c, "unset-external-id USER PLATFORM", "Remove the user's name on a platform", "",
		fixed(func(a []string) call {
			return call{method: http.MethodDelete, path: apiPath("users", a[0], "external-ids", a[1])}
		}))
}

// attributeCommands are set-attr and unset-attr, the same for users and
// groups: attributes are a name → set of values on either.
func attributeCommands[T any](c *clientOptions, collection, owner, attr string, render func(*cobra.Command, T) error) []*cobra.Command {
	set := apiCommand(c, leaf("set-attr "+owner+" "+attr+" VALUE", "Add a value to an attribute",
		`Add VALUE to the attribute `+attr+`. Attributes hold a set of values, so setting a
second value keeps the first; adding a value already there changes nothing.`),
		fixed(func(a []string) call {
			return call{method: http.MethodPost, path: apiPath(collection, a[0], "attributes"),
				body: map[string]string{"name": a[1], "value": a[2]}}
		}), render)
	unset := apiCommand(c, leaf("unset-attr "+owner+" "+attr+" [VALUE]", "Remove one value of an attribute, or all of them",
		`Remove VALUE from the attribute `+attr+`, or the whole attribute when no VALUE is given.`),
		fixed(func(a []string) call {
			return call{method: http.MethodDelete, path: apiPath(append([]string{collection, a[0], "attributes"}, a[1:]...)...)}
		}), render)
	return []*cobra.Command{set, unset}
}

func showUsers(cmd *cobra.Command, p rest.UsersPage) error {
	rows := make([][]string, len(p.Users))
	for i, u := range p.Users {
		rows[i] = []string{u.Email, u.FullName, u.IAM, fmt.Sprint(u.Disabled), list(u.Permissions), list(u.Groups)}
	}
	return table(cmd.OutOrStdout(), []string{"EMAIL", "NAME", "IAM", "DISABLED", "PERMISSIONS", "GROUPS"}, rows)
}

func showUser(cmd *cobra.Command, u directory.User) error {
	fs := []field{
		{"Email", u.Email}, {"Name", u.FullName}, {"IAM", u.IAM}, {"User ID", u.UserID},
		{"Disabled", fmt.Sprint(u.Disabled)}, {"Created", when(u.CreatedAt)}, {"Updated", when(u.UpdatedAt)},
		{"Permissions", list(u.Permissions)},
		{"Groups", list(u.Groups)},
	}
	fs = append(fs, multi("Attributes", attrs(u.Attributes))...)
	fs = append(fs, multi("External IDs", mapping(u.ExternalIDs))...)
	if st := u.Sync; st != nil {
		var last, success string
		if st.LastSyncAt != nil {
			last = when(*st.LastSyncAt) + " from " + st.IAM
		}
		if st.LastSuccessAt != nil {
			success = when(*st.LastSuccessAt)
		}
		fs = append(fs, field{"Last sync", last}, field{"Last good sync", success}, field{"Sync error", st.LastError},
			field{"Synced groups", list(st.Groups)})
		fs = append(fs, multi("Synced attributes", attrs(st.Attributes))...)
	}
	return details(cmd.OutOrStdout(), fs)
}
