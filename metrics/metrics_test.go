package metrics

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestFuncMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	var hits atomic.Int64
	entries := 3.0
	m.GaugeFunc("cache_entries", "Keys cached.", func() float64 { return entries })
	m.CounterFunc("cache_hits_total", "Cache hits.", func() float64 { return float64(hits.Load()) })
	hits.Add(5)
	out := scrape(t, m)
	for _, want := range []string{
		"# TYPE gatehouse_cache_entries gauge\ngatehouse_cache_entries 3\n",
		"# TYPE gatehouse_cache_hits_total counter\ngatehouse_cache_hits_total 5\n",
		"# TYPE go_goroutines gauge\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestRequestDone(t *testing.T) {
	t.Parallel()
	m := New()
	m.RequestStarted()
	m.RequestDone("events", "POST /v2/enqueue", 202, 3*time.Millisecond)
	m.RequestStarted()
	m.RequestDone("events", "POST /v2/enqueue", 429, time.Millisecond)
	m.RequestStarted()
	m.RequestDone("rest", "", 404, time.Millisecond)
	out := scrape(t, m)
	for _, want := range []string{
		`gatehouse_http_requests_total{door="events",route="POST /v2/enqueue",status="202"} 1`,
		`gatehouse_http_requests_total{door="events",route="POST /v2/enqueue",status="429"} 1`,
		`gatehouse_http_requests_total{door="rest",route="none",status="404"} 1`,
		`gatehouse_http_request_duration_seconds_bucket{door="events",route="POST /v2/enqueue",le="0.005"} 2`,
		`gatehouse_http_request_duration_seconds_bucket{door="events",route="POST /v2/enqueue",le="0.0025"} 1`,
		`gatehouse_rate_limited_total{door="events"} 1`,
		`gatehouse_http_requests_in_flight 0`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}
