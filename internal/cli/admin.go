package cli

import "github.com/spf13/cobra"

// clientOptions are the flags every admin subcommand shares.
type clientOptions struct {
	getenv func(string) string
}

func (c *clientOptions) register(root *cobra.Command) {}

// adminCommands returns the admin client subcommands.
func adminCommands(c *clientOptions) []*cobra.Command { return nil }
