package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/metrics"
	"github.com/gatehouse-dev/gatehouse/restapi"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchHandlers returns the REST door alone and the whole handler serve
// builds (edge, mux, doors), on a fresh SQLite database, and the first key.
func benchHandlers(b *testing.B) (rest, whole http.Handler, key string) {
	b.Helper()
	store := storetest.OpenSQLite(b)
	var out bytes.Buffer
	cfg := serveConfig{ownerEmail: "owner@example.com", externalURL: "http://gatehouse.test"}
	if err := bootstrap(context.Background(), store, cfg, func(p string) string { return "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$" + p }, &out); err != nil {
		b.Fatal(err)
	}
	key = regexp.MustCompile(`REST API key:\s+(\S+)`).FindStringSubmatch(out.String())[1]
	logger, logs, _ := newLogger("json", "info", io.Discard)
	srv := restapi.New(restapi.Config{Store: store, ExternalURL: cfg.externalURL, Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	whole = newHandler(doorsConfig{store: store, rest: srv, metrics: metrics.New(), logger: logger, accessLog: logs, accessJSON: true}, true)
	// Let the change feed's first read make the key cache usable.
	time.Sleep(500 * time.Millisecond)
	return srv, whole, key
}

func benchServe(b *testing.B, h http.Handler, key string) {
	req := httptest.NewRequest("GET", "/abilities", nil)
	req.Header.Set("Authorization", "Token token="+key)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkRESTDoorAlone is an authenticated GET /abilities through the
// REST door alone, as before the edge existed.
func BenchmarkRESTDoorAlone(b *testing.B) {
	rest, _, key := benchHandlers(b)
	benchServe(b, rest, key)
}

// BenchmarkRESTThroughEdge is the same request through everything serve
// puts in front of the door: the edge (request ID, client address, access
// log line formatted as text, metrics) and the top-level mux.
func BenchmarkRESTThroughEdge(b *testing.B) {
	_, whole, key := benchHandlers(b)
	benchServe(b, whole, key)
}
