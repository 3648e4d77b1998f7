// Package admin is the one implementation of gatehouse's admin operations:
// REST and gRPC handlers both call it. It authenticates bearer tokens, checks
// the caller's permission, validates input, writes through the store and
// appends the audit record in the same transaction as the write.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// BootstrapActor is the name the bootstrap admin token acts under.
const BootstrapActor = "bootstrap-admin"

// Principal is an authenticated caller.
type Principal struct {
	Username    string
	Bootstrap   bool // the configured bootstrap token: holds every permission
	Permissions []directory.Permission
}

// Has reports whether the caller holds any of ps.
func (p Principal) Has(ps ...directory.Permission) bool {
	if p.Bootstrap {
		return true
	}
	for _, want := range ps {
		if slices.Contains(p.Permissions, want) {
			return true
		}
	}
	return false
}

// Service implements the admin operations. Build it with New.
type Service struct {
	store          store.Store
	sink           audit.Sink
	log            *slog.Logger
	now            func() time.Time
	bootstrapToken string
	onCommit       []func(ctx context.Context, recs []audit.Record)
	reloadPolicies func(context.Context) error
	userinfo       *userinfo.Client
	foldTrinoNames bool
}

// WithPolicyReloader lets ReloadPolicies recompile the policy bundle.
func WithPolicyReloader(fn func(context.Context) error) Option {
	return func(v *Service) { v.reloadPolicies = fn }
}

// Option configures a Service.
type Option func(*Service)

// WithAuditSink ships every committed audit record to s as well.
func WithAuditSink(s audit.Sink) Option { return func(v *Service) { v.sink = s } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(v *Service) { v.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(v *Service) { v.now = now } }

// WithBootstrapToken sets the secret that authenticates as the built-in admin.
func WithBootstrapToken(tok string) Option { return func(v *Service) { v.bootstrapToken = tok } }

// WithCommitHook calls fn with the audit records of every committed write,
// before the write is answered, e.g. to refresh the directory snapshot that
// decisions read, so the very next decision sees the write.
func WithCommitHook(fn func(ctx context.Context, recs []audit.Record)) Option {
	return func(v *Service) { v.onCommit = append(v.onCommit, fn) }
}

// New returns a Service over st.
func New(st store.Store, opts ...Option) *Service {
	s := &Service{store: st, sink: audit.Discard{}, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.userinfo == nil {
		s.userinfo = userinfo.NewClient()
	}
	return s
}

// Init makes sure the built-in identity provider exists. Call once at start.
func (s *Service) Init(ctx context.Context) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetIAM(ctx, directory.BuiltinIAM); err == nil {
			return nil
		} else if !errors.Is(err, directory.ErrNotFound) {
			return err
		}
		now := s.now().UTC()
		return tx.PutIAM(ctx, directory.IAM{ID: directory.BuiltinIAM, DisplayName: "Built-in", CreatedAt: now, UpdatedAt: now})
	})
}

type ctxKey int

const requestIDKey ctxKey = iota

// WithRequestID returns a context whose writes are audited with id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id carried by ctx, if any.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// HashToken is how token secrets are stored: SHA-256, hex. Secrets are 256
// random bits, so a fast unsalted hash is enough to make a leaked table useless.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate resolves a bearer token to a principal. Tokens of disabled
// users, expired tokens and unknown tokens are all ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if bearer == "" {
		return Principal{}, directory.Unauthenticated("missing bearer token: send Authorization: Bearer <token>")
	}
	if s.bootstrapToken != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(s.bootstrapToken)) == 1 {
		return Principal{Username: BootstrapActor, Bootstrap: true}, nil
	}
	var p Principal
	err := s.store.View(ctx, func(r store.Reader) error {
		t, err := r.TokenByHash(ctx, HashToken(bearer))
		if err != nil {
			return err
		}
		if t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt) {
			return directory.ErrNotFound
		}
		u, err := r.GetUser(ctx, t.Username)
		if err != nil {
			return err
		}
		if u.Disabled {
			return directory.ErrNotFound
		}
		p = Principal{Username: u.Email, Permissions: u.Permissions}
		return nil
	})
	if errors.Is(err, directory.ErrNotFound) {
		return Principal{}, directory.Unauthenticated("invalid or expired token")
	}
	return p, err
}

func require(p Principal, ps ...directory.Permission) error {
	if p.Has(ps...) {
		return nil
	}
	names := make([]string, len(ps))
	for i, x := range ps {
		names[i] = string(x)
	}
	return directory.Denied("this call requires the %s permission", strings.Join(names, " or "))
}

// write runs fn in one transaction and audits what it returns. fn returns the
// audit records of what it changed; when it returns none, nothing changed
// (an idempotent grant, say) and nothing is audited.
func (s *Service) write(ctx context.Context, p Principal, fn func(tx store.Tx, now time.Time) ([]audit.Record, error)) error {
	var recs []audit.Record
	err := s.store.Update(ctx, func(tx store.Tx) error {
		now := s.now().UTC()
		var err error
		recs, err = fn(tx, now)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			// Nothing changed (an idempotent grant, say): roll back, so that
			// the directory revision only moves when the directory does.
			return errNoChange
		}
		return s.appendAudit(ctx, tx, p.Username, now, recs)
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	s.committed(ctx, recs)
	return nil
}

// appendAudit stamps recs and stores them in tx.
func (s *Service) appendAudit(ctx context.Context, tx store.Tx, actor string, now time.Time, recs []audit.Record) error {
	for i := range recs {
		recs[i].Time = now
		recs[i].Actor = actor
		recs[i].RequestID = RequestID(ctx)
		var err error
		if recs[i].ID, err = tx.AppendAudit(ctx, recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// committed ships the records of a committed write to the sink and the
// commit hooks.
func (s *Service) committed(ctx context.Context, recs []audit.Record) {
	if len(recs) == 0 {
		return
	}
	for _, r := range recs {
		if err := s.sink.Write(r); err != nil {
			s.log.Warn("audit sink write failed", "err", err, "type", r.Type)
		}
	}
	for _, fn := range s.onCommit {
		fn(ctx, recs)
	}
}

var errNoChange = errors.New("no change")

func record(typ, target string, changes any) audit.Record {
	r := audit.Record{Type: typ, Target: target}
	if changes != nil {
		b, err := json.Marshal(changes)
		if err == nil {
			r.Changes = b
		}
	}
	return r
}

func userTarget(u string) string  { return "user:" + u }
func groupTarget(g string) string { return "group:" + g }

// newSecret returns a token secret: a recognisable prefix and 256 random bits.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ghs_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func newID(prefix string) (string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}
