package userinfo

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the user-info sync's Prometheus series. Label values are
// identity provider ids (few, chosen by admins) and fixed words: never a
// username. A nil *Metrics counts nothing, so tests need not build one.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	syncs       *prometheus.CounterVec
	changes     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	dropped     prometheus.Counter
}

// Sync outcomes, the result label of gatehouse_userinfo_syncs_total.
const (
	ResultSuccess = "success" // the answer was applied whole
	ResultPartial = "partial" // applied, but some names or values were unusable
	ResultError   = "error"   // no usable answer: nothing changed
)

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_userinfo_requests_total",
			Help: "Requests to user-info endpoints by identity provider and result (ok, timeout, connect, tls, status, malformed, config, canceled); retries count each.",
		}, []string{"iam", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_userinfo_request_duration_seconds",
			Help:    "Time for one request to a user-info endpoint, by identity provider.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"iam"}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_userinfo_syncs_total",
			Help: "User syncs by identity provider and result (success, partial, error).",
		}, []string{"iam", "result"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_userinfo_changes_total",
			Help: "Memberships and attribute values the sync added or removed, by kind (group, attribute) and op (add, remove).",
		}, []string{"kind", "op"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gatehouse_userinfo_last_success_timestamp_seconds",
			Help: "When a sync from the identity provider last succeeded (Unix time); alert when it falls behind.",
		}, []string{"iam"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_userinfo_triggers_dropped_total",
			Help: "Syncs of never-synced users that the decision path could not queue (queue full); the periodic sync catches them up.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.syncs, m.changes, m.lastSuccess, m.dropped)
	return m
}

func (m *Metrics) request(iam, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(iam, result).Inc()
	m.duration.WithLabelValues(iam).Observe(d.Seconds())
}

// Synced counts one sync of a user of iam and what it changed.
func (m *Metrics) Synced(iam, result string, c Changes, at time.Time) {
	if m == nil {
		return
	}
	m.syncs.WithLabelValues(iam, result).Inc()
	if result == ResultError {
		return
	}
	m.lastSuccess.WithLabelValues(iam).Set(float64(at.UnixNano()) / 1e9)
	m.changes.WithLabelValues("group", "add").Add(float64(len(c.GroupsAdded)))
	m.changes.WithLabelValues("group", "remove").Add(float64(len(c.GroupsRemoved)))
	m.changes.WithLabelValues("attribute", "add").Add(float64(count(c.AttributesAdded)))
	m.changes.WithLabelValues("attribute", "remove").Add(float64(count(c.AttributesRemoved)))
}

func (m *Metrics) triggerDropped() {
	if m != nil {
		m.dropped.Inc()
	}
}
