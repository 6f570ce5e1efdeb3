package restapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// serve sends r through srv and returns what the client sees.
func serve(srv http.Handler, r *http.Request) response {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return response{w.Code, w.Header(), w.Body.String()}
}

// TestHalfClosedRequestIsAuthenticated: a request whose context is cancelled
// (the client half-closed its connection, and still waits for the answer)
// has its key looked up all the same: it is neither logged as an internal
// error nor answered 500.
func TestHalfClosedRequestIsAuthenticated(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		key, _ := mustKey(t, s, a, nil, false)
		f := newFixture(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequestWithContext(ctx, "GET", "/abilities", nil)
		r.Header.Set("Authorization", token(key))
		if got := serve(f.server, r); got.Status != http.StatusOK {
			t.Errorf("GET /abilities with a cancelled context = %d %s, want 200", got.Status, got.Body)
		}
		if strings.Contains(f.logs.String(), "internal error") {
			t.Errorf("logged as an internal error:\n%s", f.logs)
		}
	})
}

// hangingLookupStore is a store whose key lookups hang until their deadline,
// as a database that stopped answering does.
type hangingLookupStore struct {
	*sqlstore.Store
}

func (h hangingLookupStore) CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHungStoreAnswers503: a key that must be looked up in a store that does
// not answer gets 503 (code 2901) with Retry-After within the lookup's
// deadline, and the fault is logged once, not per request.
func TestHungStoreAnswers503(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	var logs lockedBuffer
	srv := New(Config{
		Store:            hangingLookupStore{s},
		KeyLookupTimeout: 50 * time.Millisecond,
		Logger:           slog.New(slog.NewTextHandler(&logs, nil)),
	})
	var wg sync.WaitGroup
	for range 5 {
		key, _ := mustKey(t, s, a, nil, false)
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/abilities", nil)
			r.Header.Set("Authorization", token(key))
			got := serve(srv, r)
			wantError(t, got, http.StatusServiceUnavailable, gatehouse.CodeUnavailable, "")
			if got.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "REST API key lookups failing"); n != 1 {
		t.Errorf("the hung store was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("logged as an internal error:\n%s", logs.String())
	}
}

// countingStore counts its key lookups.
type countingStore struct {
	*sqlstore.Store
	mu      sync.Mutex
	lookups int
}

func (c *countingStore) CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error) {
	c.mu.Lock()
	c.lookups++
	c.mu.Unlock()
	return c.Store.CredentialByHash(ctx, hash)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups
}

// TestFailedAuthenticationsAreLimited: an address that failed to
// authenticate too often is answered 429 with Retry-After, without a lookup
// in the store; keys already cached still work from it.
func TestFailedAuthenticationsAreLimited(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	cached, _ := mustKey(t, s, a, nil, false)
	uncached, _ := mustKey(t, s, a, nil, false)
	disabled, k := mustKey(t, s, a, nil, false)
	if err := s.DisableKey(context.Background(), a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	// Three failures in three minutes; the fourth waits for a minute.
	failures := ratelimit.NewFailures(ratelimit.Limit{Rate: 3, Period: 3 * time.Minute}, 1000)
	counting := &countingStore{Store: s}
	srv := New(Config{Store: counting, AuthFailures: failures})
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	get := func(key, addr string) response {
		r := httptest.NewRequest("GET", "/abilities", nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", token(key))
		return serve(srv, r)
	}
	if got := get(cached, "192.0.2.1:1000"); got.Status != 200 {
		t.Fatalf("a valid key = %d", got.Status)
	}
	for _, key := range []string{access.GenerateKey(gatehouse.KeyGeneral), disabled, access.GenerateKey(gatehouse.KeyGeneral)} {
		wantError(t, get(key, "192.0.2.1:1001"), 401, gatehouse.CodeUnauthorized, "Authentication failed")
	}
	lookups := counting.count()
	got := get(access.GenerateKey(gatehouse.KeyGeneral), "192.0.2.1:1002")
	wantError(t, got, 429, gatehouse.CodeRateLimited, "Rate Limit Exceeded")
	if got.Header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q, want 60", got.Header.Get("Retry-After"))
	}
	wantError(t, get(uncached, "192.0.2.1:1003"), 429, gatehouse.CodeRateLimited, "Rate Limit Exceeded")
	if n := counting.count() - lookups; n != 0 {
		t.Errorf("a blocked address made %d lookups, want 0", n)
	}
	if got := get(cached, "192.0.2.1:1004"); got.Status != 200 {
		t.Errorf("a cached key from a blocked address = %d, want 200", got.Status)
	}
	if got := get(uncached, "192.0.2.2:1000"); got.Status != 200 {
		t.Errorf("a key from another address = %d, want 200", got.Status)
	}
	if st := failures.Stats(); st.Addresses != 1 || st.Failures != 3 {
		t.Errorf("failures = %+v, want 3 from one address (192.0.2.1)", st)
	}
}

// TestKeysInUseOneLookupPerLifetime: 10 000 keys in steady use for two
// minutes (of a simulated clock) cost one lookup each, and afterwards one per
// cache lifetime (authn.DefaultTTL, shortened by up to a tenth).
func TestKeysInUseOneLookupPerLifetime(t *testing.T) {
	t.Parallel()
	const keys = 10_000
	store, headers := newMadeUpStore(t, keys)
	store.counting = true
	srv := New(Config{Store: store})
	start := time.Now()
	srv.keys.TrustUntil(start.Add(time.Hour))
	ctx := context.Background()
	use := func(from, to time.Duration) {
		// Every key every 10 simulated seconds.
		for at := from; at < to; at += 10 * time.Second {
			for _, h := range headers {
				if _, _, err := srv.authenticate(ctx, h, start.Add(at), netip.MustParseAddr("192.0.2.1")); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	lookups := func() (most, total int) {
		store.lookups.Range(func(_, n any) bool {
			most, total = max(most, *n.(*int)), total+*n.(*int)
			return true
		})
		return most, total
	}
	use(0, 2*time.Minute)
	if most, total := lookups(); most != 1 || total != keys {
		t.Errorf("in 2 minutes: %d lookups, at most %d of one key; want %d, 1", total, most, keys)
	}
	use(2*time.Minute, 10*time.Minute)
	// Lifetimes of 4.5 to 5 minutes: 2 or 3 lookups in 10 minutes.
	if most, total := lookups(); most > 3 || total > 3*keys {
		t.Errorf("in 10 minutes: %d lookups, at most %d of one key; want at most 3 per key", total, most)
	}
}

// blockedTouchStore is a store whose last-used writes hang until the test
// ends, and which counts its key lookups.
type blockedTouchStore struct {
	countingStore
	touching chan struct{}
	release  chan struct{}
}

func (b *blockedTouchStore) TouchKeys(ctx context.Context, uses []sqlstore.KeyUse) error {
	select {
	case b.touching <- struct{}{}:
	default:
	}
	<-b.release
	return nil
}

// TestSlowLastUsedFlushDoesNotStallTheFeed: while last uses are being
// written (slowly: PostgreSQL took 2 s for 10 000 keys), the change feed is
// still read, so the cache stays trusted and a change made on another node
// still takes effect within a second.
func TestSlowLastUsedFlushDoesNotStallTheFeed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		cli := storetest.Open(t, cfg)
		a, _ := storetest.MustCreateAccount(t, cli, "acme", gatehouse.PlanBusiness)
		key, k := mustKey(t, cli, a, nil, false)
		store := &blockedTouchStore{countingStore: countingStore{Store: storetest.Open(t, cfg)}, touching: make(chan struct{}, 1), release: make(chan struct{})}
		srv := New(Config{Store: store, ChangePoll: 20 * time.Millisecond})
		srv.flushEvery = 10 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); close(store.release); <-done })
		<-srv.Ready()
		get := func() int {
			r := httptest.NewRequest("GET", "/abilities", nil)
			r.Header.Set("Authorization", token(key))
			return serve(srv, r).Status
		}
		if code := get(); code != 200 {
			t.Fatalf("GET = %d", code)
		}
		<-store.touching // the flush of that use hangs from now on
		for range 1200 / 20 {
			get()
			time.Sleep(20 * time.Millisecond)
		}
		if n := store.count(); n != 1 {
			t.Errorf("%d key lookups while the flush hangs, want 1: the cache was bypassed", n)
		}
		if err := cli.DisableKey(context.Background(), a.ID, k.ID, gatehouse.CLIActor); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a key disabled on another node to stop working", func() bool { return get() == 401 })
	})
}
