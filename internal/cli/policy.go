package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

func newPolicyCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Test, check and debug the Rego policy bundle (works offline, no server needed)",
	}
	cmd.AddCommand(newPolicyTestCmd(), newPolicyCheckCmd(), newPolicyEvalCmd(getenv))
	return cmd
}

func newPolicyTestCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [dir]",
		Short: "Run the *_test.rego tests of a policy directory (default ./policies), as `opa test` does",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "./policies"
			if len(args) == 1 {
				dir = args[0]
			}
			results, err := tester.Run(cmd.Context(), dir)
			if err != nil {
				return fmt.Errorf("policy test %s: %w", dir, err)
			}
			out := cmd.OutOrStdout()
			pass, fail := 0, 0
			for _, r := range results {
				if r.Pass() {
					pass++
					if verbose {
						fmt.Fprintf(out, "PASS %s.%s (%s)\n", r.Package, r.Name, r.Duration)
					}
					continue
				}
				fail++
				fmt.Fprintf(out, "FAIL %s.%s", r.Package, r.Name)
				if r.Location != nil {
					fmt.Fprintf(out, " at %s:%d", r.Location.File, r.Location.Row)
				}
				if r.Error != nil {
					fmt.Fprintf(out, ": %v", r.Error)
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", pass, fail)
			if pass+fail == 0 {
				return fmt.Errorf("no tests found in %s", dir)
			}
			if fail > 0 {
				return exitError{code: 2, err: fmt.Errorf("%d policy tests failed", fail)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list passing tests too")
	return cmd
}

func newPolicyCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check [dir]",
		Short: "Compile a policy directory (default ./policies) as the server would, and report errors",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "./policies"
			if len(args) == 1 {
				dir = args[0]
			}
			e, err := policy.New(cmd.Context(), dir, policy.WithLogger(discardLogger()))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d modules compile; entry points %s are defined\n",
				dir, e.Modules(), strings.Join(policy.EntryPoints, ", "))
			return nil
		},
	}
}

func newPolicyEvalCmd(getenv func(string) string) *cobra.Command {
	var inputFile, entry, dir, dataFile, dataDir string
	var explain, fullTrace bool
	cmd := &cobra.Command{
		Use:   "eval --input request.json",
		Short: "Evaluate one Trino request against the policies and say which rules decided",
		Long: `Evaluate one decision offline. The input file holds a request as Trino sends
it ({"input": {...}}) or the bare input object. The directory comes from
--data (a file written by "gatehouse data export") or, by default, from the
store in --data-dir.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			input, err := readInput(inputFile)
			if err != nil {
				return err
			}
			e, err := policy.New(ctx, dir, policy.WithLogger(discardLogger()))
			if err != nil {
				return err
			}
			if err := loadDirectory(ctx, e, dataFile, dataDir, getenv); err != nil {
				return err
			}
			value, defined, trace, rules, err := e.Explain(ctx, entry, input)
			if err != nil {
				return fmt.Errorf("evaluate data.%s.%s: %w", policy.Package, entry, err)
			}
			out := cmd.OutOrStdout()
			if !defined {
				fmt.Fprintf(out, "data.%s.%s is undefined for this input\n", policy.Package, entry)
			} else {
				b, _ := json.MarshalIndent(value, "", "  ")
				fmt.Fprintf(out, "data.%s.%s = %s\n", policy.Package, entry, b)
			}
			if explain {
				fmt.Fprintln(out, "\nrules that succeeded on the way to this answer:")
				for _, r := range rules {
					fmt.Fprintln(out, "  "+r)
				}
			}
			if fullTrace {
				fmt.Fprintln(out, "\ntrace:")
				topdown.PrettyTraceWithLocation(out, trace)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&inputFile, "input", "i", "", "request file (required; - for stdin)")
	f.StringVar(&entry, "entry", "allow", "entry point: "+strings.Join(policy.EntryPoints, ", "))
	f.StringVar(&dir, "policies", "./policies", "policy directory")
	f.StringVar(&dataFile, "data", "", "directory data file from `gatehouse data export`")
	f.StringVar(&dataDir, "data-dir", "./gatehouse-data", "store to read the directory from when --data is not given")
	f.BoolVar(&explain, "explain", false, "list the rules that produced the decision")
	f.BoolVar(&fullTrace, "trace", false, "print OPA's full evaluation trace")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

// readInput reads a request file: {"input": ...} or the bare input.
func readInput(path string) (ast.Value, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("input %s is not JSON: %w", path, err)
	}
	if obj, ok := v.(ast.Object); ok {
		if in := obj.Get(ast.StringTerm("input")); in != nil {
			return in.Value, nil
		}
	}
	return v, nil
}

// loadDirectory puts the directory snapshot into the engine, from an export
// file or from the store.
func loadDirectory(ctx context.Context, e *policy.Engine, dataFile, dataDir string, getenv func(string) string) error {
	var snap ast.Value
	if dataFile != "" {
		b, err := os.ReadFile(dataFile)
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		v, err := ast.ValueFromReader(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("data %s is not JSON: %w", dataFile, err)
		}
		obj, ok := v.(ast.Object)
		if !ok || obj.Get(ast.StringTerm(policy.DirectoryKey)) == nil {
			return fmt.Errorf("data %s has no top-level %q key: write it with `gatehouse data export`", dataFile, policy.DirectoryKey)
		}
		snap = obj.Get(ast.StringTerm(policy.DirectoryKey)).Value
	} else {
		s, err := exportSnapshot(ctx, dataDir, getenv)
		if err != nil {
			return err
		}
		snap = s
	}
	return e.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{policy.DirectoryKey}, snap)
	})
}

// exportSnapshot reads data.gatehouse from the store in dataDir, with the
// settings of the serve configuration (env and --config file).
func exportSnapshot(ctx context.Context, dataDir string, getenv func(string) string) (ast.Object, error) {
	if _, err := os.Stat(dataDir); err != nil {
		return nil, fmt.Errorf("store: %w (give --data-dir, or --data with an exported file)", err)
	}
	st, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cfg := config.Default()
	if getenv != nil {
		cfg.AllowedServiceUsers = splitCSV(getenv("GATEHOUSE_IMPERSONATION_ALLOWED_SERVICE_USERS"))
		cfg.PolicyExemptUsers = splitCSV(getenv("GATEHOUSE_POLICY_EXEMPT_USERS"))
		if m := getenv("GATEHOUSE_IMPERSONATION_MODE"); m != "" {
			cfg.ImpersonationMode = m
		}
		// trinoUsers is keyed by lower-cased name under case-insensitive matching.
		cfg.TrinoNamesCaseInsensitive = getenv("GATEHOUSE_TRINO_NAME_MATCHING") == "case-insensitive"
	}
	snap, _, _, err := authz.Snapshot(ctx, st, authz.Settings{
		AllowedServiceUsers: cfg.AllowedServiceUsers, ImpersonationMode: cfg.ImpersonationMode, PolicyExemptUsers: cfg.PolicyExemptUsers,
		CaseInsensitiveTrinoNames: cfg.TrinoNamesCaseInsensitive,
	})
	return snap, err
}

func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newDataCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Export the directory as OPA data",
	}
	var dataDir, out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the directory snapshot as an OPA data file ({\"gatehouse\": ...})",
		Long: `Write the directory snapshot that policies read as data.gatehouse, so that
stock OPA serves the same decisions:

  gatehouse data export -f data.json
  opa run -s policies/ data.json

Settings (impersonation.allowedServiceUsers, policyExemptUsers, mode) come from
the same GATEHOUSE_* variables the server reads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			snap, err := exportSnapshot(cmd.Context(), dataDir, getenv)
			if err != nil {
				return err
			}
			doc := ast.NewObject(ast.Item(ast.StringTerm(policy.DirectoryKey), ast.NewTerm(snap)))
			var w io.Writer = cmd.OutOrStdout()
			if out != "-" {
				f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			v, err := ast.JSON(doc)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			return enc.Encode(v)
		},
	}
	export.Flags().StringVar(&dataDir, "data-dir", "./gatehouse-data", "the store to export")
	export.Flags().StringVarP(&out, "file", "f", "-", "output file (- for stdout)")
	cmd.AddCommand(export)
	return cmd
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
