package userinfo

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// SyncFunc syncs one user from their identity provider (admin.Service's
// SystemSync). With onlyIfNeverSynced it does nothing for a user the sync
// already tried.
type SyncFunc func(ctx context.Context, username string, onlyIfNeverSynced bool) error

// Defaults of a Syncer; config overrides them.
const (
	DefaultInterval    = time.Hour
	DefaultJitter      = 10 * time.Minute
	DefaultConcurrency = 4
	queueSize          = 4096
	// maxTriggered bounds the memory of users the decision path already
	// triggered; past it the memory starts afresh (a repeat trigger only
	// costs a store read, as the sync itself skips users tried before).
	maxTriggered = 1 << 20
)

// Syncer decides when users are synced. Periodically, users whose last
// attempt is older than the interval plus a per-user jitter are synced, by a
// bounded number of workers, so that neither replicas nor a restart send a
// burst to the endpoint; the due time comes from the stored last attempt, so
// restarts more frequent than the interval do not starve the sync. Trigger
// queues a never-synced user without blocking, for the decision path.
type Syncer struct {
	store       store.Store
	sync        SyncFunc
	interval    time.Duration
	jitter      time.Duration
	concurrency int
	log         *slog.Logger
	metrics     *Metrics
	now         func() time.Time

	queue chan job

	mu        sync.Mutex
	queued    map[string]bool // in the queue or being synced
	triggered map[string]bool // already triggered by the decision path
}

type job struct {
	username  string
	onlyNever bool
}

// SyncerOption configures a Syncer.
type SyncerOption func(*Syncer)

// WithInterval sets how often each user is synced; 0 turns the periodic sync
// off (triggers, on-demand and migration syncs still run).
func WithInterval(d time.Duration) SyncerOption { return func(s *Syncer) { s.interval = d } }

// WithJitter spreads each user's periodic sync over up to d after it is due.
func WithJitter(d time.Duration) SyncerOption { return func(s *Syncer) { s.jitter = d } }

// WithConcurrency bounds the syncs running at once.
func WithConcurrency(n int) SyncerOption { return func(s *Syncer) { s.concurrency = max(n, 1) } }

// WithSyncLogger sets the logger.
func WithSyncLogger(l *slog.Logger) SyncerOption { return func(s *Syncer) { s.log = l } }

// WithSyncMetrics counts dropped triggers in m.
func WithSyncMetrics(m *Metrics) SyncerOption { return func(s *Syncer) { s.metrics = m } }

// WithSyncClock replaces time.Now, for tests.
func WithSyncClock(now func() time.Time) SyncerOption { return func(s *Syncer) { s.now = now } }

// NewSyncer returns a Syncer that finds due users in st and syncs them with
// fn. Call Run to start it.
func NewSyncer(st store.Store, fn SyncFunc, opts ...SyncerOption) *Syncer {
	s := &Syncer{store: st, sync: fn, interval: DefaultInterval, jitter: DefaultJitter, concurrency: DefaultConcurrency,
		log: slog.Default(), now: time.Now, queue: make(chan job, queueSize),
		queued: map[string]bool{}, triggered: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Trigger queues a sync of username unless the user was synced before, for
// a Trino user who appears unsynced. It never blocks and is cheap to call on
// every decision: each user is queued at most once per process (a failed
// first sync is retried by the periodic sync), and a full queue drops the
// trigger, counted, to be retried by the next one.
func (s *Syncer) Trigger(username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.triggered[username] || s.queued[username] {
		return false
	}
	select {
	case s.queue <- job{username: username, onlyNever: true}:
		if len(s.triggered) >= maxTriggered {
			clear(s.triggered)
		}
		s.triggered[username] = true
		s.queued[username] = true
		return true
	default:
		s.metrics.triggerDropped()
		return false
	}
}

// Run syncs queued users with the configured concurrency and, unless the
// interval is 0, queues due users every tick; it returns when ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.concurrency {
		wg.Go(func() { s.work(ctx) })
	}
	if s.interval > 0 {
		tick := s.tick()
		// The first pass waits a random part of a tick, so that replicas
		// started together do not all ask at once.
		timer := time.NewTimer(rand.N(tick) + time.Second)
	loop:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				break loop
			case <-timer.C:
				if _, err := s.QueueDue(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("user-info sync: listing due users failed", "err", err)
				}
				timer.Reset(tick)
			}
		}
	}
	wg.Wait()
}

// tick is how often Run looks for due users: often enough that a user is
// synced within a fraction of the interval of becoming due, rarely enough
// that the query costs nothing.
func (s *Syncer) tick() time.Duration {
	return min(max(s.interval/10, time.Second), time.Minute)
}

func (s *Syncer) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-s.queue:
			if err := s.sync(ctx, j.username, j.onlyNever); err != nil && ctx.Err() == nil {
				// The sync logged and recorded the failure on the user; this
				// only keeps a store failure from passing silently.
				s.log.Debug("user-info sync failed", "user", j.username, "err", err)
			}
			s.mu.Lock()
			delete(s.queued, j.username)
			s.mu.Unlock()
		}
	}
}

// QueueDue queues every user due for a periodic sync and returns how many it
// queued. A user is due interval plus their jitter after their last attempt,
// or at once when never tried. It waits for room in the queue, so a large
// directory drains at the pace the workers sync.
func (s *Syncer) QueueDue(ctx context.Context) (int, error) {
	if s.interval <= 0 {
		return 0, nil
	}
	now := s.now()
	var due []string
	err := s.store.View(ctx, func(r store.Reader) error {
		iams, err := r.ListIAMs(ctx)
		if err != nil {
			return err
		}
		for _, i := range iams {
			if i.UserInfo == nil {
				continue
			}
			cands, err := r.UsersToSync(ctx, i.ID, now.Add(-s.interval), 0)
			if err != nil {
				return err
			}
			for _, c := range cands {
				if c.LastSyncAt.IsZero() || !now.Before(c.LastSyncAt.Add(s.interval+s.jitterFor(c.Username))) {
					due = append(due, c.Username)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range due {
		s.mu.Lock()
		busy := s.queued[u]
		if !busy {
			s.queued[u] = true
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		select {
		case s.queue <- job{username: u}:
			n++
		case <-ctx.Done():
			s.mu.Lock()
			delete(s.queued, u)
			s.mu.Unlock()
			return n, ctx.Err()
		}
	}
	return n, nil
}

// jitterFor is username's fixed share of the jitter: a hash, so that each
// user keeps their place in the spread across ticks, restarts and replicas.
func (s *Syncer) jitterFor(username string) time.Duration {
	if s.jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(username))
	return time.Duration(h.Sum64() % uint64(s.jitter))
}
