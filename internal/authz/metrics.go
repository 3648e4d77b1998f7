package authz

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the decision path's Prometheus series.
type Metrics struct {
	decisions    *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	batchSize    *prometheus.HistogramVec
	reloads      *prometheus.CounterVec
	revision     prometheus.Gauge
	auditDropped prometheus.Counter
}

// NewMetrics registers the series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_decisions_total", Help: "Decisions by endpoint, Trino operation and result (allow, deny, partial, error, unknown_operation).",
		}, []string{"endpoint", "operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_decision_duration_seconds", Help: "Time to decide, from decoded request to encoded answer, by endpoint.",
			Buckets: []float64{.00002, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}, []string{"endpoint"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_batch_size", Help: "Items per batch request (filterResources, or columns for FilterColumns).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}, []string{"endpoint"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_policy_reloads_total", Help: "Policy bundle loads by result (success, failure).",
		}, []string{"result"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_directory_revision", Help: "Directory revision the decision snapshot reflects.",
		}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_audit_dropped_total", Help: "Decision audit records dropped because the buffer was full.",
		}),
	}
	reg.MustRegister(m.decisions, m.duration, m.batchSize, m.reloads, m.revision, m.auditDropped)
	return m
}

func (m *Metrics) observe(d Decision) {
	op := d.Operation
	if d.Result == ResultUnknown {
		op = "unknown" // callers choose operation names: keep label values bounded
	}
	m.decisions.WithLabelValues(d.Endpoint, op, d.Result).Inc()
	m.duration.WithLabelValues(d.Endpoint).Observe(d.Duration.Seconds())
	if d.Items > 0 {
		m.batchSize.WithLabelValues(d.Endpoint).Observe(float64(d.Items))
	}
}

// PolicyReloaded counts a load attempt; use as policy.WithReloadHook.
func (m *Metrics) PolicyReloaded(err error) {
	if err != nil {
		m.reloads.WithLabelValues("failure").Inc()
		return
	}
	m.reloads.WithLabelValues("success").Inc()
}

// AuditDropped counts one dropped audit record.
func (m *Metrics) AuditDropped() { m.auditDropped.Inc() }

// SetRevision publishes the directory revision.
func (m *Metrics) SetRevision(rev int64) { m.revision.Set(float64(rev)) }
