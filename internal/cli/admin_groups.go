package cli

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
)

func groupsCommand(c *clientOptions) *cobra.Command {
	return group("groups", "Manage groups: members and group attributes",
		`Manage groups of the gatehouse directory. Policies match a user's directory
groups (together with any groups Trino sends), and group attributes apply
to every member. These commands need USER_ADMIN.`,
		append([]*cobra.Command{
			groupsCreate(c), groupsList(c), groupGet(c), groupsUpdate(c), groupsDelete(c),
			groupMember(c, "add-member", "Add a user to a group", http.MethodPost),
			groupMember(c, "remove-member", "Remove a user from a group", http.MethodDelete),
		}, attributeCommands(c, "groups", "NAME", "ATTR", showGroup)...)...)
}

// groupFlags are the settable fields of a group.
type groupFlags struct{ description, email string }

func (g *groupFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.description, "description", "", "what the group is for")
	cmd.Flags().StringVar(&g.email, "email", "", "the group's mailing list address")
}

func groupsCreate(c *clientOptions) *cobra.Command {
	var g groupFlags
	cmd := apiCommand(c, leaf("create NAME", "Create a group",
		"Create a group. NAME starts with a letter or digit and holds letters, digits and . _ : @ -"),
		fixed(func(a []string) call {
			return call{method: http.MethodPost, path: apiPath("groups"),
				body: map[string]string{"name": a[0], "description": g.description, "email": g.email}}
		}), showGroup)
	g.register(cmd)
	return cmd
}

func groupsList(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("list", "List groups", ""),
		fixed(func([]string) call { return call{method: http.MethodGet, path: apiPath("groups")} }),
		func(cmd *cobra.Command, p rest.GroupsPage) error {
			rows := make([][]string, len(p.Groups))
			for i, g := range p.Groups {
				rows[i] = []string{g.Name, g.Description, g.Email, fmt.Sprint(len(g.Members)), list(attrs(g.Attributes))}
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "DESCRIPTION", "EMAIL", "MEMBERS", "ATTRIBUTES"}, rows)
		})
}

func groupGet(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("get NAME", "Show a group with its members and attributes", ""),
		fixed(func(a []string) call { return call{method: http.MethodGet, path: apiPath("groups", a[0])} }), showGroup)
}

// groupsUpdate changes only the fields given. The server's PATCH rewrites
// both description and email, so the group is read first and the fields not
// given are sent back unchanged.
func groupsUpdate(c *clientOptions) *cobra.Command {
	var g groupFlags
	cmd := apiCommand(c, leaf("update NAME", "Change a group's description or email",
		`Change a group's description and/or email; what you do not pass stays as it
is. Pass --email "" to remove the email.`),
		func(cmd *cobra.Command, cl *client, a []string) (call, error) {
			changed := cmd.Flags().Changed
			if !changedAny(cmd, "description", "email") {
				return call{}, fmt.Errorf("nothing to update: pass --description and/or --email")
			}
			var cur directory.Group
			if err := cl.get(apiPath("groups", a[0]), &cur); err != nil {
				return call{}, err
			}
			if changed("description") {
				cur.Description = g.description
			}
			if changed("email") {
				cur.Email = g.email
			}
			return call{method: http.MethodPatch, path: apiPath("groups", a[0]),
				body: map[string]string{"description": cur.Description, "email": cur.Email}}, nil
		}, showGroup)
	g.register(cmd)
	return cmd
}

func groupsDelete(c *clientOptions) *cobra.Command {
	return apiCommand(c, leaf("delete NAME", "Delete a group with its memberships and attributes",
		"Delete a group. Its members stay in the directory; only the group, its\nmemberships and its attributes go."),
		fixed(func(a []string) call {
			return call{method: http.MethodDelete, path: apiPath("groups", a[0]), done: "deleted group " + a[0]}
		}), noAnswer)
}

// groupMember is `groups add-member` and `groups remove-member`.
func groupMember(c *clientOptions, verb, short, method string) *cobra.Command {
	return apiCommand(c, leaf(verb+" NAME USER", short, ""),
		fixed(func(a []string) call {
			if method == http.MethodDelete {
				return call{method: method, path: apiPath("groups", a[0], "members", a[1])}
			}
			return call{method: method, path: apiPath("groups", a[0], "members"), body: map[string]string{"username": a[1]}}
		}), showGroup)
}

func showGroup(cmd *cobra.Command, g directory.Group) error {
	fs := []field{
		{"Name", g.Name}, {"Description", g.Description}, {"Email", g.Email},
		{"Created", when(g.CreatedAt)}, {"Updated", when(g.UpdatedAt)},
	}
	fs = append(fs, multi("Members", g.Members)...)
	fs = append(fs, multi("Attributes", attrs(g.Attributes))...)
	return details(cmd.OutOrStdout(), fs)
}
