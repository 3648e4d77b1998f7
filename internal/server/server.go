// Package server wires gatehouse together from one Config: the store, the
// admin service, the HTTP server (admin REST, health, metrics) and the gRPC
// server, and runs them until the context ends, then shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/server/grpcadmin"
	"github.com/gatehouse-authz/gatehouse/internal/server/grpcauthz"
	"github.com/gatehouse-authz/gatehouse/internal/server/rest"
	"github.com/gatehouse-authz/gatehouse/internal/session"
	"github.com/gatehouse-authz/gatehouse/internal/session/sessionstore"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// Server is a running gatehouse. Build it with New, run it with Run.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	store    store.Store
	sink     audit.Sink
	admin    *admin.Service
	registry *prometheus.Registry
	engine   *policy.Engine
	dir      *authz.Directory
	auditor  *authz.Auditor
	syncer   *userinfo.Syncer

	httpLn, grpcLn net.Listener
	front          *front
	// decisionCtx is what decisions run under; cancelled when a shutdown
	// stops waiting for them.
	decisionCtx   context.Context
	stopDecisions context.CancelFunc
	debugLn       net.Listener // pprof, when debug-addr is set
	grpcSrv       *grpc.Server
	health        *health.Server
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithStore uses st instead of opening the embedded store in cfg.DataDir.
func WithStore(st store.Store) Option { return func(s *Server) { s.store = st } }

// WithAuditSink uses sink instead of the one cfg.AuditSink names.
func WithAuditSink(sink audit.Sink) Option { return func(s *Server) { s.sink = sink } }

// New opens the store, builds every component and binds the listeners, so
// that when New returns the addresses are known and taken.
func New(ctx context.Context, cfg *config.Config, opts ...Option) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: slog.Default(), registry: prometheus.NewRegistry()}
	for _, o := range opts {
		o(s)
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.store == nil {
		if s.store, err = sqlite.Open(ctx, cfg.DataDir); err != nil {
			return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
		}
	}
	if s.sink == nil {
		if s.sink, err = audit.OpenSink(cfg.AuditSink); err != nil {
			return nil, err
		}
	}
	settings := authz.Settings{
		AllowedServiceUsers: cfg.AllowedServiceUsers, ImpersonationMode: cfg.ImpersonationMode, PolicyExemptUsers: cfg.PolicyExemptUsers,
		CaseInsensitiveTrinoNames: cfg.TrinoNamesCaseInsensitive,
	}
	// The built-in IAM first: it is the only write of a start, and one after
	// the read-ahead below would make Load read the directory again.
	if err := admin.New(s.store).Init(ctx); err != nil {
		return nil, fmt.Errorf("initialise directory: %w", err)
	}
	// Read the directory while the policies compile: on two cores that is
	// most of the start-up with a large directory (Load checks that nothing
	// was written in between).
	type readAhead struct {
		snap *authz.ReadAhead
		err  error
	}
	ahead := make(chan readAhead, 1)
	go func() {
		snap, err := authz.ReadSnapshot(ctx, s.store, settings)
		ahead <- readAhead{snap, err}
	}()
	defer func() {
		if err != nil {
			<-ahead // do not close the store under the reader
		}
	}()
	// Scheduler latency (go_sched_latencies_seconds: how long goroutines
	// wait to run) and GC pauses beside the decision durations tell an
	// operator whether a slow decision was the policy or a starved process;
	// the collector's CPU (go_cpu_classes_gc_*) says what its cycles cost.
	s.registry.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler, collectors.MetricsGC,
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/gc/`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := authz.NewMetrics(s.registry)
	cache := authz.NewDecisionCache(cfg.DecisionCacheSize, 64<<10)
	if s.engine, err = policy.New(ctx, cfg.PoliciesDir, policy.WithLogger(s.log), policy.WithReloadHook(metrics.PolicyReloaded),
		policy.WithReloadHook(func(error) { cache.Invalidate() })); err != nil {
		return nil, err
	}
	s.dir = authz.NewDirectory(s.store, s.engine, settings, s.log)
	s.dir.OnRevision = func(rev int64) {
		cache.Invalidate() // what decisions read has changed
		metrics.SetRevision(rev)
	}

	uiMetrics := userinfo.NewMetrics(s.registry)
	s.admin = admin.New(s.store, admin.WithAuditSink(s.sink), admin.WithLogger(s.log),
		admin.WithBootstrapToken(cfg.AdminToken), admin.WithCommitHook(s.dir.Sync),
		admin.WithPolicyReloader(s.engine.Reload),
		admin.WithUserInfoClient(userinfo.NewClient(userinfo.WithTimeout(cfg.UserInfoTimeout),
			userinfo.WithRetries(cfg.UserInfoRetries, userinfo.DefaultBackoff), userinfo.WithMetrics(uiMetrics))),
		admin.WithCaseInsensitiveTrinoNames(cfg.TrinoNamesCaseInsensitive))
	s.syncer = userinfo.NewSyncer(s.store, s.admin.SystemSync, userinfo.WithInterval(cfg.UserInfoSyncInterval),
		userinfo.WithJitter(cfg.UserInfoSyncJitter), userinfo.WithConcurrency(cfg.UserInfoSyncConcurrency), userinfo.WithSyncLogger(s.log), userinfo.WithSyncMetrics(uiMetrics))
	ra := <-ahead
	ahead <- ra // for the deferred wait above, should a later step fail
	if ra.err != nil {
		ra.snap = nil // read it again in Load, which reports the error
	}
	if err := s.dir.LoadSnapshot(ctx, ra.snap); err != nil {
		return nil, fmt.Errorf("load directory snapshot: %w", err)
	}
	s.auditor = authz.NewAuditor(s.store, s.sink, s.log, cfg.DecisionAuditAllows, cfg.DecisionAuditSample, cfg.AuditBuffer, metrics.AuditDropped)
	authorizer := authz.NewAuthorizer(s.engine, s.dir, s.auditor, metrics)
	authorizer.SetCache(cache)
	// A Trino user who was never synced is queued for a background sync;
	// the decision itself goes on with what the directory has.
	authorizer.SetSyncTrigger(func(username string) { s.syncer.Trigger(username) })

	mux := http.NewServeMux()
	decisions := trino.NewHandler(authorizer, s.log, cfg.MaxRequestBytes).SplitBatchesFrom(cfg.BatchSplitItems)
	decisions.Register(mux) // the front serves these itself; the ServeMux keeps them for completeness and tests
	mux.Handle("/api/v1/", rest.New(s.admin, s.log).Handler())
	mux.HandleFunc("GET /health", s.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.decisionCtx, s.stopDecisions = context.WithCancel(context.Background())
	s.front = newFront(decisions, mux, newHTTPMetrics(s.registry), max(decisions.MaxBodyBytes(), rest.MaxBodyBytes), s.log, s.decisionCtx)

	s.grpcSrv = grpc.NewServer(grpc.ChainUnaryInterceptor(grpcadmin.UnaryInterceptor(s.admin)))
	grpcadmin.Register(s.grpcSrv, s.admin)
	mode, err := session.ParseMode(cfg.ImpersonationMode)
	if err != nil {
		return nil, err
	}
	grpcauthz.Register(s.grpcSrv, authorizer, sessionstore.New(s.store), mode, s.log)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpcSrv, s.health)
	reflection.Register(s.grpcSrv)

	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http-addr: %w", err)
	}
	if s.grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("grpc-addr: %w", err)
	}
	if cfg.DebugAddr != "" {
		if s.debugLn, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			return nil, fmt.Errorf("debug-addr: %w", err)
		}
	}
	return s, nil
}

// DebugAddr is the bound pprof address, or "" when debug-addr is not set.
func (s *Server) DebugAddr() string {
	if s.debugLn == nil {
		return ""
	}
	return s.debugLn.Addr().String()
}

// debugHandler serves Go's profiling endpoints, on their own listener so that
// they are never exposed with the decision and admin API.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// HTTPAddr is the bound HTTP address (useful with port 0).
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// GRPCAddr is the bound gRPC address.
func (s *Server) GRPCAddr() string { return s.grpcLn.Addr().String() }

// Admin returns the admin service, for in-process callers such as tests.
func (s *Server) Admin() *admin.Service { return s.admin }

// Run serves until ctx is done, then stops accepting, waits up to the
// shutdown timeout for in-flight requests and closes the store.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() {
		if err := s.front.srv.Serve(s.httpLn); err != nil {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	go func() {
		if err := s.grpcSrv.Serve(s.grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			errc <- fmt.Errorf("grpc server: %w", err)
		}
	}()
	if s.debugLn != nil {
		dbg := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = dbg.Serve(s.debugLn) }()
		defer dbg.Close()
		s.log.Info("pprof profiling endpoints on", "addr", s.debugLn.Addr().String())
	}
	if s.cfg.PolicyWatch {
		if err := s.engine.Watch(ctx, 200*time.Millisecond); err != nil {
			s.log.Warn("policy file watch unavailable; SIGHUP and POST /api/v1/policies:reload still reload", "err", err)
		}
	}
	go s.dir.Run(ctx, 5*time.Second)
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	syncerDone := make(chan struct{})
	go func() { s.syncer.Run(syncCtx); close(syncerDone) }()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.Info("gatehouse serving", "http", s.HTTPAddr(), "grpc", s.GRPCAddr(), "dataDir", s.cfg.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("gatehouse shutting down", "timeout", s.cfg.ShutdownTimeout)
	s.health.Shutdown()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		stopped := make(chan struct{})
		go func() { s.grpcSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			s.grpcSrv.Stop()
		}
	}()
	if err := s.front.srv.ShutdownWithContext(sctx); err != nil {
		s.log.Warn("http shutdown incomplete", "err", err)
	}
	s.stopDecisions()
	wg.Wait()
	stopSync()
	<-syncerDone      // its syncs write to the store, closed below
	s.auditor.Close() // decisions have stopped: ship what is buffered
	s.auditor = nil
	s.close()
	return runErr
}

// ReloadPolicies recompiles the policy bundle (SIGHUP); on failure the
// current bundle keeps serving.
func (s *Server) ReloadPolicies(ctx context.Context) error { return s.engine.Reload(ctx) }

// FlushAudit waits until buffered decision audit records are stored.
func (s *Server) FlushAudit(ctx context.Context) error { return s.auditor.Flush(ctx) }

func (s *Server) close() {
	if s.auditor != nil {
		s.auditor.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Warn("closing store", "err", err)
		}
	}
	if s.sink != nil {
		_ = s.sink.Close()
	}
	if s.httpLn != nil {
		_ = s.httpLn.Close()
	}
	if s.grpcLn != nil {
		_ = s.grpcLn.Close()
	}
	if s.debugLn != nil {
		_ = s.debugLn.Close()
	}
}

// serveHealth answers 200 once the policies are compiled (New fails
// otherwise), the store answers and the directory snapshot is current.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("health check: store does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","store":"down"}` + "\n"))
		return
	}
	if err := s.dir.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","directory":"stale"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// httpMetrics counts and times every HTTP request by its route pattern
// (never by raw path, which would put usernames into label values).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// The decision endpoints' series, looked up once: fasthttp serves
	// them without the ServeMux (front.go), under the same route names.
	decisionRoute    map[string]string // by endpoint
	decisionOK       map[string]prometheus.Counter
	decisionDuration map[string]prometheus.Observer
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		decisionRoute: map[string]string{}, decisionOK: map[string]prometheus.Counter{}, decisionDuration: map[string]prometheus.Observer{},
	}
	reg.MustRegister(m.requests, m.duration)
	for path, ep := range trino.EntryPaths() {
		route := "POST " + path // the ServeMux pattern trino.Handler.Register uses
		m.decisionRoute[ep] = route
		m.decisionOK[ep] = m.requests.WithLabelValues(route, http.MethodPost, "200")
		m.decisionDuration[ep] = m.duration.WithLabelValues(route)
	}
	return m
}

// observeDecision records a decision endpoint's request.
func (m *httpMetrics) observeDecision(endpoint string, code int, d time.Duration) {
	if code == http.StatusOK {
		m.decisionOK[endpoint].Inc()
	} else {
		m.requests.WithLabelValues(m.decisionRoute[endpoint], http.MethodPost, strconv.Itoa(code)).Inc()
	}
	m.decisionDuration[endpoint].Observe(d.Seconds())
}

// instrument wraps the ServeMux's handler with the same counts.
func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
