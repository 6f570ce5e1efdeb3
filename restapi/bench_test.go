package restapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// madeUpStore answers CredentialByHash from made-up keys: key i of n is a
// general key of account i%1000, or, for every tenth, the token of a user of
// its own. Everything else goes to a real store. It holds only the index of
// the hashes, so that what the cache keeps of each answer can be measured.
type madeUpStore struct {
	*sqlstore.Store
	index    map[[32]byte]int
	lookups  sync.Map // hash → count, when counting
	counting bool
	tokens   bool
}

func newMadeUpStore(tb testing.TB, n int) (*madeUpStore, [][]string) {
	tb.Helper()
	m := &madeUpStore{Store: storetest.OpenSQLite(tb), index: make(map[[32]byte]int, n), tokens: true}
	headers := make([][]string, n)
	for i := range headers {
		secret := fmt.Sprintf("a+bench%013d", i)
		m.index[access.HashKey(secret)] = i
		headers[i] = []string{"Token token=" + secret}
	}
	return m, headers
}

func (m *madeUpStore) CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error) {
	if m.counting {
		n, _ := m.lookups.LoadOrStore(hash, new(int))
		*n.(*int)++
	}
	i, ok := m.index[hash]
	if !ok {
		return nil, gatehouse.NotFound("API key")
	}
	a := &gatehouse.Account{ID: fmt.Sprintf("PA%05d", i%1000), Subdomain: fmt.Sprint("a", i%1000), Name: "Bench", Plan: gatehouse.PlanBusiness}
	k := &gatehouse.APIKey{ID: fmt.Sprintf("P%06d", i), AccountID: a.ID, Kind: gatehouse.KeyGeneral, Description: "bench key"}
	c := &sqlstore.Credential{Key: k, Account: a}
	if i%10 == 0 && m.tokens {
		k.Kind, k.UserID = gatehouse.KeyUserToken, fmt.Sprintf("PU%05d", i)
		c.User = &gatehouse.User{ID: k.UserID, AccountID: a.ID, Email: "u@example.com", Name: "User", Role: gatehouse.RoleUser}
	}
	return c, nil
}

// benchServer returns a server whose cache holds n made-up keys, and the
// Authorization headers of those keys.
func benchServer(b *testing.B, n int, opts ...fixtureOption) (*Server, [][]string) {
	b.Helper()
	store, headers := newMadeUpStore(b, n)
	cfg := Config{Store: store, CacheSize: max(n, 1000)}
	for _, o := range opts {
		o(&cfg)
	}
	srv := New(cfg)
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	now := time.Now()
	for _, h := range headers {
		if _, _, err := srv.authenticate(context.Background(), h, now, netip.MustParseAddr("192.0.2.1")); err != nil {
			b.Fatal(err)
		}
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
		if _, _, err := srv.authenticate(ctx, headers[0], time.Now(), netip.MustParseAddr("192.0.2.1")); err != nil {
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
			if _, _, err := srv.authenticate(ctx, headers[i%len(headers)], time.Now(), netip.MustParseAddr("192.0.2.1")); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkMemoryPerKey fills the cache with 1 000 000 keys of 1000
// accounts, each used once from an address (so its use waits to be
// flushed), and reports the heap they take per key after a GC: entry,
// principal, use and address, the shared accounts and users included. A
// tenth of the keys are user tokens, each of a user of its own, unless
// BENCH_TOKENS=0. Run it alone:
//
//	go test -run XXX -bench MemoryPerKey -benchtime 1x ./restapi/
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 1_000_000
	store, headers := newMadeUpStore(b, n)
	store.tokens = os.Getenv("BENCH_TOKENS") != "0"
	ctx := context.Background()
	for b.Loop() {
		before := heapInUse()
		srv := New(Config{Store: store, CacheSize: n})
		srv.keys.TrustUntil(time.Now().Add(time.Hour))
		now := time.Now()
		for i, h := range headers {
			if _, _, err := srv.authenticate(ctx, h, now, netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 200)})); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		if known, _ := srv.keys.Len(); known != n {
			b.Fatalf("%d keys cached, want %d", known, n)
		}
		b.ReportMetric(float64(after-before)/n, "B/key")

		runtime.KeepAlive(srv)
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
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
// same invocation. The limit is PagerDuty's, 960 a minute, on a limiter
// whose clock moves a sixteenth of a second per request, so the allowance
// never runs out and the headers carry the numbers they carry in use.
func BenchmarkServeAbilities(b *testing.B) {
	lim := ratelimit.NewMemory()
	clock := time.Now()
	lim.Now = func() time.Time {
		clock = clock.Add(time.Minute / DefaultRateLimit)
		return clock
	}
	srv, headers := benchServer(b, 1, func(c *Config) { c.Limiter, c.RateLimit = lim, DefaultRateLimit })
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

// BenchmarkKeysInUse keeps 10 000 keys of a PostgreSQL database in use for
// BENCH_DURATION (2m by default) through the REST door in process, with the
// change feed and the last-used flush running, and reports the store
// lookups per key (at most one per cache lifetime, authn.DefaultTTL), the
// most of one key, and the requests served per second. It needs
// GATEHOUSE_TEST_POSTGRES_URL:
//
//	go test -run XXX -bench KeysInUse -benchtime 1x -timeout 30m ./restapi/
func BenchmarkKeysInUse(b *testing.B) {
	const keys = 10_000
	duration := 2 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil {
		duration = d
	}
	for b.Loop() {
		s := storetest.Open(b, storetest.Config(b, "postgres"))
		a, _ := storetest.MustCreateAccount(b, s, "acme", gatehouse.PlanBusiness)
		headers := make([][]string, keys)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < keys; i += 8 {
					key, _ := mustKey(b, s, a, nil, false)
					headers[i] = []string{token(key)}
				}
			})
		}
		wg.Wait()
		counting := &countingStore{Store: s}
		srv := New(Config{Store: counting})
		s.OnChange(srv.ApplyChange)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Run(ctx); close(done) }()
		<-srv.Ready()

		var requests, failures sync.Map
		deadline := time.Now().Add(duration)
		for w := range 4 {
			wg.Go(func() {
				n, failed := 0, 0
				req := httptest.NewRequest("GET", "/abilities", nil)
				req.RemoteAddr = fmt.Sprintf("192.0.2.%d:5000", w)
				for i := w; time.Now().Before(deadline); i += 4 {
					req.Header["Authorization"] = headers[i%keys]
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						failed++
					}
					n++
				}
				requests.Store(w, n)
				failures.Store(w, failed)
			})
		}
		wg.Wait()
		cancel()
		<-done
		total, failed := 0, 0
		requests.Range(func(_, n any) bool { total += n.(int); return true })
		failures.Range(func(_, n any) bool { failed += n.(int); return true })
		if failed > 0 {
			b.Errorf("%d of %d requests failed", failed, total)
		}
		b.ReportMetric(float64(counting.count())/keys, "lookups/key")
		b.ReportMetric(float64(total)/duration.Seconds(), "requests/s")
	}
}
