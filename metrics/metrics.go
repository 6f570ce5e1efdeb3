// Package metrics holds the server's Prometheus metrics: the requests every
// door answers, authentication failures, rate-limit refusals and connections,
// and figures other packages offer through functions (cache sizes, feed lag),
// served in Prometheus's text format.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of Gatehouse's own.
const namespace = "gatehouse"

// NoRoute is the route label of a request no route of its door matched
// (an unknown path, or one refused before routing).
const NoRoute = "none"

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: a cached key check answers in well under a millisecond, a
// durable write in a few.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Registry holds the server's metrics. Its methods are safe for concurrent
// use.
type Registry struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	inFlight     prometheus.Gauge

	// series caches the counter and histogram of each door, route and
	// status, so that a request costs one map read rather than the label
	// hashing of the vectors.
	mu     sync.RWMutex
	series map[seriesKey]*requestSeries
}

type seriesKey struct {
	door, route string
	status      int
}

type requestSeries struct {
	requests    prometheus.Counter
	latency     prometheus.Observer
	rateLimited prometheus.Counter // nil unless the status is 429
}

// New returns a registry holding the request metrics and the Go runtime's
// and the process's own.
func New() *Registry {
	m := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by door, route pattern and status (499: the client hung up first).",
		}, []string{"door", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time from a request's headers to the end of its answer, by door and route pattern.",
			Buckets: latencyBuckets,
		}, []string{"door", "route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "auth_failures_total",
			Help: "Requests whose credential was refused, by door and reason.",
		}, []string{"door", "reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused with 429 Too Many Requests, by door.",
		}, []string{"door"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "http_requests_in_flight",
			Help: "Requests being answered now.",
		}),
		series: make(map[seriesKey]*requestSeries),
	}
	m.reg.MustRegister(
		m.requests, m.latency, m.authFailures, m.rateLimited, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// Register adds c to the registry, for metrics richer than GaugeFunc and
// CounterFunc offer. It panics if c's metrics clash with others, as a
// mistake of the program.
func (m *Registry) Register(c prometheus.Collector) {
	m.reg.MustRegister(c)
}

// GaugeFunc registers a gauge named gatehouse_NAME whose value f returns at
// each scrape, such as the number of cached keys. f must be fast and safe
// for concurrent use.
func (m *Registry) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, f))
}

// CounterFunc registers a counter named gatehouse_NAME whose value f returns
// at each scrape, such as cache hits counted by an atomic. The value must
// only grow.
func (m *Registry) CounterFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, f))
}

// RequestStarted counts a request in flight until RequestDone.
func (m *Registry) RequestStarted() { m.inFlight.Inc() }

// RequestDone records an answered request: door, route pattern (never the
// raw path: the label's values must stay few), status and how long it took.
// A 429 also counts as a rate-limit refusal of the door.
func (m *Registry) RequestDone(door, route string, status int, elapsed time.Duration) {
	m.inFlight.Dec()
	if route == "" {
		route = NoRoute
	}
	s := m.seriesOf(seriesKey{door, route, status})
	s.requests.Inc()
	s.latency.Observe(elapsed.Seconds())
	if s.rateLimited != nil {
		s.rateLimited.Inc()
	}
}

func (m *Registry) seriesOf(k seriesKey) *requestSeries {
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.series[k]; ok {
		return s
	}
	s = &requestSeries{
		requests: m.requests.WithLabelValues(k.door, k.route, strconv.Itoa(k.status)),
		latency:  m.latency.WithLabelValues(k.door, k.route),
	}
	if k.status == http.StatusTooManyRequests {
		s.rateLimited = m.rateLimited.WithLabelValues(k.door)
	}
	m.series[k] = s
	return s
}

// AuthFailure counts a refused credential; reason is a short label the door
// chooses from a fixed set, such as "unknown key".
func (m *Registry) AuthFailure(door, reason string) {
	m.authFailures.WithLabelValues(door, reason).Inc()
}
