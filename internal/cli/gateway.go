package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/gateway/grpcresolver"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

func newGatewayCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run the Trino gateway: SET / SHOW / RESET SESSION gatehouse.impersonate_user in front of a coordinator",
		Long: `Run a proxy for Trino's client protocol in front of a coordinator.

Clients connect to the gateway as they would to Trino. It answers SET SESSION
and RESET SESSION of gatehouse.* properties itself, adds gatehouse's rows to
SHOW SESSION, and forwards every other statement to --trino-url: under an
impersonation, as the target (X-Trino-User) on behalf of the connecting user
(X-Trino-Original-User), so that Trino asks gatehouse ImpersonateUser for every
query. Impersonation targets are resolved by the gatehouse server at
--gateway-resolver-addr (its gRPC port).

Options are read like serve's: flags, GATEHOUSE_* environment variables, or
keys of the YAML file named by --config (one file can serve both commands).`,
		Args: cobra.NoArgs,
	}
	config.RegisterGatewayFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Load(cmd.Flags(), getenv)
		if err != nil {
			return err
		}
		if cfg.Gateway.TrinoURL == "" {
			return errors.New("gateway: --trino-url is required: the coordinator's base URL, e.g. http://trino:8080")
		}
		log := newLogger(cfg)
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()

		conn, err := grpc.NewClient(cfg.Gateway.ResolverAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return fmt.Errorf("gateway-resolver-addr: %w", err)
		}
		defer conn.Close()
		trinoURL, _ := url.Parse(cfg.Gateway.TrinoURL) // checked by config.Load
		var ext *url.URL
		if cfg.Gateway.ExternalURL != "" {
			ext, _ = url.Parse(cfg.Gateway.ExternalURL)
		}
		gw, err := gateway.New(gateway.Config{
			Trino:        trinoURL,
			External:     ext,
			Mode:         session.Mode(cfg.ImpersonationMode),
			Resolver:     grpcresolver.New(conn, 0),
			MaxBodyBytes: cfg.Gateway.MaxBodyBytes,
			Log:          log,
		})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.Gateway.Addr)
		if err != nil {
			return fmt.Errorf("gateway-addr: %w", err)
		}
		srv := &http.Server{
			Handler:           gw,
			ReadHeaderTimeout: 10 * time.Second,
			MaxHeaderBytes:    gateway.MaxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "gatehouse %s gateway listening on %s for Trino %s (impersonation mode %s, resolving through %s)\n",
			Version, ln.Addr(), trinoURL, cfg.ImpersonationMode, cfg.Gateway.ResolverAddr)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("gateway: %w", err)
		case <-ctx.Done():
		}
		log.Info("gateway shutting down", "timeout", cfg.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("gateway shutdown incomplete: streams still open were cut", "err", err)
		}
		return nil
	}
	return cmd
}
