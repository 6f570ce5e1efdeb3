package restapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// benchServer returns a server whose cache already holds n keys, and the
// Authorization headers of those keys.
func benchServer(b *testing.B, n int) (*Server, [][]string) {
	b.Helper()
	s := storetest.OpenSQLite(b)
	a, _ := storetest.MustCreateAccount(b, s, "bench", gatehouse.PlanBusiness)
	srv := New(Config{Store: s})
	srv.feedReadAt.Store(time.Now().Add(time.Hour).UnixNano())
	headers := make([][]string, n)
	for i := range headers {
		secret := access.GenerateKey(gatehouse.KeyGeneral)
		k := &gatehouse.APIKey{ID: gatehouse.NewID(), AccountID: a.ID, Kind: gatehouse.KeyGeneral}
		srv.keys.put(access.HashKey(secret), cacheEntry{principal: access.KeyPrincipal(k, a, nil), keyID: k.ID, accountID: a.ID}, srv.keys.generation())
		headers[i] = []string{"Token token=" + secret}
	}
	return srv, headers
}

// BenchmarkVerifyKey measures the front door's key check on a cache hit:
// parse the header, hash the key, look it up.
func BenchmarkVerifyKey(b *testing.B) {
	srv, headers := benchServer(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.authenticate(ctx, headers[0], time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyKeyRotating is BenchmarkVerifyKey over 10 000 cached keys,
// from every core.
func BenchmarkVerifyKeyRotating(b *testing.B) {
	srv, headers := benchServer(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := srv.authenticate(ctx, headers[i%len(headers)], time.Now()); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// below measure the handlers, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeAbilities is an authenticated GET /abilities through the
// whole front door (cache hit, rate limit, routing, JSON); compare it with
// BenchmarkBareAbilities, a bare handler writing the same bytes, run in the
// same invocation.
func BenchmarkServeAbilities(b *testing.B) {
	srv, headers := benchServer(b, 1)
	srv.cfg.Limiter, srv.limit.Rate = ratelimit.NewMemory(), 1_000_000_000
	req := httptest.NewRequest("GET", "/abilities", nil)
	req.Header["Authorization"] = headers[0]
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}

func BenchmarkBareAbilities(b *testing.B) {
	body := []byte(`{"abilities":["advanced_permissions","read_only_users","rest_api","teams"]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /abilities", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	req := httptest.NewRequest("GET", "/abilities", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		mux.ServeHTTP(w, req)
	}
}
