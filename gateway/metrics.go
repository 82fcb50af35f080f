package gateway

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus metrics. Labels are route templates,
// methods, status codes, outcome classes, channel names and roles — never a
// local reference, pseudonym, token or transaction id.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	inflight   prometheus.Gauge
	queued     prometheus.Gauge
	rejected   *prometheus.CounterVec
	ledger     *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	events     *prometheus.CounterVec
	logSeq     prometheus.Gauge
	sse        prometheus.Gauge
	webhooks   *prometheus.CounterVec
	automation *prometheus.CounterVec
	replays    prometheus.Counter
	refusals   *prometheus.CounterVec
	clockSkew  *prometheus.GaugeVec
}

// NewMetrics registers the gateway's metrics on a new registry.
func NewMetrics() (*Metrics, error) {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "API requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_seconds", Help: "API latency by route template.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_http_inflight", Help: "API requests being served (event streams excluded).",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_http_queued", Help: "API requests waiting for a slot (at most --max-queue, for at most --queue-wait).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_rejected_total", Help: "Requests refused before any work, by reason.",
		}, []string{"reason"}),
		ledger: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_ledger_call_seconds", Help: "Ledger calls by kind (evaluate, submit) and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"kind", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_ledger_retries_total", Help: "Ledger retries by reason (mvcc, policy, endorse, resubmit, journal, lag).",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_chaincode_events_total", Help: "Chaincode events appended to the event log, by channel.",
		}, []string{"channel"}),
		logSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_event_log_position", Help: "Sequence number of the last event in the log.",
		}),
		sse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_sse_subscribers", Help: "Open server-sent event streams.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhook_deliveries_total", Help: "Webhook delivery attempts by outcome.",
		}, []string{"outcome"}),
		automation: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_automation_actions_total", Help: "Automation actions by automation and outcome.",
		}, []string{"automation", "outcome"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_idempotent_replays_total", Help: "Writes answered from a stored outcome.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_endorsement_refusals_total", Help: "Chaincode refusals of endorsements, by the refusing endorser's MSP id and the kind (a refusal retried because the endorser lagged counts each time).",
		}, []string{"msp_id", "kind"}),
		clockSkew: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_endorser_clock_skew_seconds", Help: "How long an endorser has refused every write for clock skew, by MSP id (0: not, or no longer).",
		}, []string{"msp_id"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.inflight, m.queued, m.rejected, m.ledger, m.retries,
		m.events, m.logSeq, m.sse, m.webhooks, m.automation, m.replays, m.refusals, m.clockSkew,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := m.reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

// Registry is where the metrics live (for /metrics).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// LedgerCall implements LedgerMetrics.
func (m *Metrics) LedgerCall(kind, outcome string, d time.Duration) {
	m.ledger.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// LedgerRetry implements LedgerMetrics.
func (m *Metrics) LedgerRetry(reason string) { m.retries.WithLabelValues(reason).Inc() }

// EndorserRefused implements LedgerMetrics.
func (m *Metrics) EndorserRefused(mspID, kind string) { m.refusals.WithLabelValues(mspID, kind).Inc() }

// EndorserClockSkew implements LedgerMetrics.
func (m *Metrics) EndorserClockSkew(mspID string, d time.Duration) {
	m.clockSkew.WithLabelValues(mspID).Set(d.Seconds())
}
