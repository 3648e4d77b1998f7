package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/server"
)

func newServeCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run gatehouse: HTTP (Trino decisions, admin REST, /health, /metrics) and gRPC",
		Long: `Run gatehouse with its embedded store.

Every option can be given as a flag, as a GATEHOUSE_* environment variable
(GATEHOUSE_HTTP_ADDR for --http-addr) or as a key of the YAML file named by
--config (http-addr: ":8181"). Flags win over the environment, which wins
over the file.`,
		Args: cobra.NoArgs,
	}
	config.RegisterFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Load(cmd.Flags(), getenv)
		if err != nil {
			return err
		}
		log := newLogger(cfg)
		procs := setServeProcs(getenv, cfg.Procs)
		log.Debug("Go Ps set", "GOMAXPROCS", procs, "cpus", runtime.NumCPU())
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		srv, err := server.New(ctx, cfg, server.WithLogger(log))
		if err != nil {
			return err
		}
		// The heap limit applies once the directory is loaded: start-up builds
		// the snapshot with much short-lived garbage, which a collector held
		// to the limit would chase all the way.
		if limit, gogc := setServeGC(getenv, cfg.MemoryLimit); limit > 0 {
			log.Debug("heap limit set", "GOMEMLIMIT", limit, "GOGC", gogc)
		}
		out := cmd.ErrOrStderr()
		fmt.Fprintf(out, "gatehouse %s listening: HTTP http://%s  gRPC %s  store %s\n", Version, srv.HTTPAddr(), srv.GRPCAddr(), cfg.DataDir)
		if cfg.AdminToken == "" {
			fmt.Fprintln(out, "no bootstrap admin token: set GATEHOUSE_ADMIN_TOKEN or --admin-token-file to use the admin API")
		} else {
			fmt.Fprintf(out, "admin: export GATEHOUSE_TOKEN=<the bootstrap token>; gatehouse --server http://%s users list\n", srv.HTTPAddr())
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				_ = srv.ReloadPolicies(ctx) // outcome logged and counted by the engine
			}
		}()
		return srv.Run(ctx)
	}
	return cmd
}

func newLogger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}
