package edge

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-dev/gatehouse/metrics"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handlers, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

var benchBody = []byte(`{"abilities":["advanced_permissions","read_only_users","rest_api","teams"]}`)

// benchMux is a top-level mux with one door whose handler sets its route,
// as a door does, and writes the same bytes as the bare handler.
func benchMux(door bool) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if door {
			InfoOf(r.Context()).Route = "GET /abilities"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(benchBody)
	})
	if door {
		h = &Door{Name: "rest", Handler: h, MaxBody: 1 << 20, Error: RESTError}
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("/v2/enqueue", h)
	return mux
}

func runBench(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/abilities", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkBare is the baseline: a bare handler behind a ServeMux.
func BenchmarkBare(b *testing.B) {
	runBench(b, benchMux(false))
}

// BenchmarkEdge is the same handler behind the whole outer layer: request
// ID, client address, context value, access log line (formatted as text,
// then discarded), metrics.
func BenchmarkEdge(b *testing.B) {
	runBench(b, New(Config{
		Handler: benchMux(true),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: metrics.New(),
	}))
}

// BenchmarkEdgeNoAccessLog is BenchmarkEdge with the access log off, to
// show what the line costs.
func BenchmarkEdgeNoAccessLog(b *testing.B) {
	runBench(b, New(Config{
		Handler: benchMux(true),
		Logger:  slog.New(slog.DiscardHandler),
		Metrics: metrics.New(),
	}))
}
