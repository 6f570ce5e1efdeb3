package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// newTestRedis connects to the Redis named by GATEHOUSE_TEST_REDIS_URL and
// skips the test when it is unset.
func newTestRedis(t testing.TB) *redis.Client {
	t.Helper()
	url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis.ParseURL(%q) error: %v", url, err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ping %s: %v", url, err)
	}
	return client
}

// mustAllowL calls l.Allow and fails the test on an error.
func mustAllowL(t testing.TB, l Limiter, key string, limit Limit) Result {
	t.Helper()
	got, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %v) error: %v", key, limit, err)
	}
	return got
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	testLimiter(t, func(t *testing.T) Limiter { return NewRedis(client) })
}

func TestRedisKeyPrefix(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	key := uniqueKey(t)
	limit := Limit{Rate: 2, Period: time.Minute}
	mustAllowL(t, NewRedis(client), key, limit)
	stored := "gatehouse:rl:" + key
	t.Cleanup(func() { client.Del(context.Background(), stored) })
	ttl, err := client.PTTL(t.Context(), stored).Result()
	if err != nil {
		t.Fatalf("PTTL %q error: %v", stored, err)
	}
	if ttl <= 0 || ttl > limit.Period/2 {
		t.Errorf("PTTL %q = %v, want a key that expires when the allowance is full, in 30s", stored, ttl)
	}
}

func TestRedisErrorIsWrapped(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	client.Close()
	r := NewRedis(client)
	limit := Limit{Rate: 2, Period: time.Minute}
	_, err := r.Allow(t.Context(), "k", limit)
	if !errors.Is(err, redis.ErrClosed) || !strings.HasPrefix(err.Error(), "rate limit k: ") {
		t.Errorf(`Allow("k", %v) error = %v, want "rate limit k: " wrapping redis.ErrClosed`, limit, err)
	}
	if st := r.Stats(); st.RedisCalls != 1 || st.RedisErrors != 1 {
		t.Errorf("Stats() = %+v, want 1 call, 1 error", st)
	}
}

// TestRedisHangUp: a request whose client is gone gets an error wrapping
// ctx.Err(), which is not counted as a Redis error, and takes nothing.
func TestRedisHangUp(t *testing.T) {
	t.Parallel()
	r := NewRedis(newTestRedis(t))
	key, limit := uniqueKey(t), Limit{Rate: 2, Period: time.Minute}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Allow(ctx, key, limit); !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a canceled context: error %v, want one wrapping context.Canceled", err)
	}
	if st := r.Stats(); st.RedisErrors != 0 {
		t.Errorf("Stats() = %+v, want no Redis error", st)
	}
	want := Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Second}
	if diff := cmp.Diff(want, mustAllowL(t, r, key, limit), approxDuration(time.Second)); diff != "" {
		t.Errorf("Allow after the hang-up mismatch (-want +got):\n%s", diff)
	}
}

// TestRedisLeases follows one key through its leases on one node: which
// requests need a round trip, and what each answers.
func TestRedisLeases(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	r := NewRedis(client)
	clock := &fakeClock{now: time.Now()}
	r.Now = clock.Now
	key := uniqueKey(t)
	// A lease is 640/64 = 10 requests; a top-up comes when 2 are left.
	limit := Limit{Rate: 640, Period: time.Hour}
	interval := limit.Period / time.Duration(limit.Rate)
	opt := approxDuration(time.Second)

	type step struct {
		requests  int // how many requests this step makes
		wantCalls uint64
		want      Result // the last request's
	}
	steps := []step{
		{1, 1, Result{Allowed: true, Limit: 640, Remaining: 639, ResetAfter: interval}},
		// Requests 2 to 8 from the lease; the 8th leaves 2 and tops up.
		{7, 2, Result{Allowed: true, Limit: 640, Remaining: 632, ResetAfter: 8 * interval}},
		{7, 2, Result{Allowed: true, Limit: 640, Remaining: 625, ResetAfter: 15 * interval}},
		{1, 3, Result{Allowed: true, Limit: 640, Remaining: 624, ResetAfter: 16 * interval}},
		{1, 3, Result{Allowed: true, Limit: 640, Remaining: 623, ResetAfter: 17 * interval}},
	}
	for i, s := range steps {
		var got Result
		for range s.requests {
			got = mustAllowL(t, r, key, limit)
		}
		if diff := cmp.Diff(s.want, got, opt); diff != "" {
			t.Errorf("step %d mismatch (-want +got):\n%s", i+1, diff)
		}
		if calls := r.Stats().RedisCalls; calls != s.wantCalls {
			t.Errorf("step %d: %d round trips, want %d", i+1, calls, s.wantCalls)
		}
	}

	// Unused leased requests lapse: the next request asks Redis, which counts
	// the lapsed ones as spent.
	clock.Advance(time.Duration(leaseTTL))
	got := mustAllowL(t, r, key, limit)
	if calls := r.Stats().RedisCalls; calls != 4 {
		t.Errorf("after the lease lapsed: %d round trips, want 4", calls)
	}
	// 17 used, 9 lapsed and this one: Redis's clock moved on by far less
	// than an interval.
	want := Result{Allowed: true, Limit: 640, Remaining: 640 - 27, ResetAfter: 27 * interval}
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("after the lease lapsed mismatch (-want +got):\n%s", diff)
	}
}

// TestRedisDropsIdleLeases: a node forgets a key once its lease has lapsed
// and no refusal is remembered, so its memory follows the keys in use.
func TestRedisDropsIdleLeases(t *testing.T) {
	t.Parallel()
	r := NewRedis(newTestRedis(t))
	clock := &fakeClock{now: time.Now()}
	r.Now = clock.Now
	prefix := uniqueKey(t)
	leased, refused := Limit{Rate: 6400, Period: time.Hour}, Limit{Rate: 1, Period: time.Hour}
	const keys = 1000
	for i := range keys {
		mustAllowL(t, r, fmt.Sprint(prefix, i), leased)
	}
	mustAllowL(t, r, prefix+"/refused", refused)
	if got := mustAllowL(t, r, prefix+"/refused", refused); got.Allowed {
		t.Fatalf("second request under %v = %+v, want refused", refused, got)
	}
	if got := r.Stats().Keys; got != keys+1 {
		t.Fatalf("Stats().Keys = %d, want %d", got, keys+1)
	}
	clock.Advance(sweepInterval)
	touchShards(t, r, r.keys.seed, leased)
	// The touches leased; the refused key waits for its hour.
	if got, want := r.Stats().Keys, shardCount+1; got != want {
		t.Errorf("Stats().Keys after a sweep = %d, want %d", got, want)
	}
}

// TestRedisRefusalsAreLocal: once Redis refused, the node refuses the key
// without asking again until the refusal's Retry-After.
func TestRedisRefusalsAreLocal(t *testing.T) {
	t.Parallel()
	r := NewRedis(newTestRedis(t))
	clock := &fakeClock{now: time.Now()}
	r.Now = clock.Now
	key, limit := uniqueKey(t), Limit{Rate: 2, Period: time.Hour}
	mustAllowL(t, r, key, limit)
	mustAllowL(t, r, key, limit)
	first := mustAllowL(t, r, key, limit)
	if first.Allowed || first.RetryAfter < 29*time.Minute {
		t.Fatalf("third request = %+v, want refused for 30 min", first)
	}
	for range 100 {
		if got := mustAllowL(t, r, key, limit); got.Allowed {
			t.Fatalf("Allow after a refusal = %+v, want refused", got)
		}
	}
	clock.Advance(time.Minute)
	got := mustAllowL(t, r, key, limit)
	if got.Allowed || got.RetryAfter != first.RetryAfter-time.Minute {
		t.Errorf("a minute later = %+v, want refused %v later", got, first.RetryAfter-time.Minute)
	}
	if st := r.Stats(); st.RedisCalls != 3 || st.Allowed != 2 || st.Refused != 102 {
		t.Errorf("Stats() = %+v, want 3 round trips, 2 allowed, 102 refused", st)
	}
}

// TestRedisLimitChange: a new limit is adopted at once, even for a key that
// Redis refused under the old one, and keeps the key's debt in time.
func TestRedisLimitChange(t *testing.T) {
	t.Parallel()
	r := NewRedis(newTestRedis(t))
	key := uniqueKey(t)
	small, wide := Limit{Rate: 2, Period: time.Hour}, Limit{Rate: 4, Period: 2 * time.Hour}
	mustAllowL(t, r, key, small)
	mustAllowL(t, r, key, small)
	if got := mustAllowL(t, r, key, small); got.Allowed {
		t.Fatalf("third request under %v = %+v, want refused", small, got)
	}
	// An hour of debt, of 2 h allowing 4: 2 left before this one.
	want := Result{Allowed: true, Limit: 4, Remaining: 1, ResetAfter: 90 * time.Minute}
	if diff := cmp.Diff(want, mustAllowL(t, r, key, wide), approxDuration(time.Second)); diff != "" {
		t.Errorf("Allow under %v mismatch (-want +got):\n%s", wide, diff)
	}
}

// TestRedisMatchesMemoryOnOneNode: a key served by one node gets the answers
// Memory gives, request after request, leases or not.
func TestRedisMatchesMemoryOnOneNode(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	for _, limit := range []Limit{{Rate: 640, Period: time.Hour}, {Rate: 100, Period: time.Hour}, {Rate: 7, Period: time.Hour}} {
		t.Run(fmt.Sprint(limit.Rate), func(t *testing.T) {
			t.Parallel()
			r, m, key := NewRedis(client), NewMemory(), uniqueKey(t)
			interval := limit.Period / time.Duration(limit.Rate)
			for i := range limit.Rate + 20 {
				want, got := mustAllowL(t, m, key, limit), mustAllowL(t, r, key, limit)
				// A refusal waits for a whole lease, not one request.
				if wait := want.RetryAfter; wait <= got.RetryAfter && got.RetryAfter <= wait+time.Duration(leaseSize(limit)-1)*interval+time.Second {
					want.RetryAfter = got.RetryAfter
				}
				if diff := cmp.Diff(want, got, approxDuration(5*time.Second)); diff != "" {
					t.Fatalf("request %d: Redis and Memory differ (-memory +redis):\n%s", i+1, diff)
				}
			}
		})
	}
}

// TestRedisOvershootAcrossNodes runs three nodes (three limiters on one
// Redis) against one key and finds the window in which they allowed the most
// beyond what one GCRA allows in it: that overshoot stays within what the
// nodes hold in leases. The worst case is provoked: each node leases, the key
// rests until Redis's allowance is full, then every node hammers it from
// several goroutines.
func TestRedisOvershootAcrossNodes(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	const nodes, perNode = 3, 4
	limit := Limit{Rate: 1920, Period: 2 * time.Second} // leases of 30
	interval := limit.Period / time.Duration(limit.Rate)
	key := uniqueKey(t)
	limiters := make([]*Redis, nodes)
	for i := range limiters {
		limiters[i] = NewRedis(client)
	}
	var mu sync.Mutex
	var times []time.Duration // when each allowed request was answered
	start := time.Now()
	allow := func(l *Redis) bool {
		res, err := l.Allow(context.Background(), key, limit)
		if err != nil {
			t.Error(err)
			return false
		}
		if res.Allowed {
			mu.Lock()
			times = append(times, time.Since(start))
			mu.Unlock()
		}
		return err == nil
	}
	for _, l := range limiters {
		for range 10 {
			allow(l)
		}
	}
	time.Sleep(limit.Period)
	var wg sync.WaitGroup
	hammer := 2 * time.Second
	for _, l := range limiters {
		for range perNode {
			wg.Go(func() {
				for time.Since(start) < limit.Period+hammer && allow(l) {
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(times)

	// One GCRA allows at most Rate + (t_j - t_i)/interval requests from t_i
	// to t_j: the overshoot of that window is j-i+1 less that. The greatest,
	// over all windows, is the greatest rise of k - t_k/interval.
	overshoot, lowest := math.Inf(-1), math.Inf(1)
	for k, at := range times {
		v := float64(k) - float64(at)/float64(interval)
		lowest = min(lowest, v)
		overshoot = max(overshoot, v-lowest+1-float64(limit.Rate))
	}
	total := int64(len(times))
	// The rest refilled what the first requests took: one GCRA would allow
	// them, then a full allowance and what refills while the nodes hammer.
	ideal := int64(nodes*10) + int64(limit.Rate) + int64((elapsed-limit.Period)/interval)
	bound := int64(nodes) * leaseSize(limit)
	var calls, refused uint64
	for _, l := range limiters {
		st := l.Stats()
		calls += st.RedisCalls
		refused += st.Refused
	}
	t.Logf("%d nodes × %d goroutines, %d per %v, for %v: allowed %d, one GCRA %d (%+d); worst window overshoot %.1f requests (%.2f%% of the limit; bound %d); %d refused; %d round trips (%.1f allowed per round trip)",
		nodes, perNode, limit.Rate, limit.Period, elapsed.Round(time.Millisecond), total, ideal, total-ideal,
		overshoot, 100*overshoot/float64(limit.Rate), bound, refused, calls, float64(total)/float64(calls))
	// A few intervals of slack: times are taken on return, not in Redis.
	if overshoot > float64(bound)+3 {
		t.Errorf("overshoot %.1f requests, want at most %d", overshoot, bound)
	}
	if total > ideal+bound+3 || total < ideal-bound-int64(limit.Rate)/50 {
		t.Errorf("allowed %d in %v, want %d ± %d", total, elapsed, ideal, bound)
	}
	if refused == 0 {
		t.Errorf("no request refused: the test did not reach the limit")
	}
}

// TestRedisLeasedAllowDoesNotAllocate is not parallel: AllocsPerRun counts
// every goroutine's allocations.
func TestRedisLeasedAllowDoesNotAllocate(t *testing.T) {
	r := NewRedis(newTestRedis(t))
	key, limit := uniqueKey(t), Limit{Rate: 1 << 30, Period: time.Second}
	mustAllowL(t, r, key, limit)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Allow(ctx, key, limit); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || r.Stats().RedisCalls != 1 {
		t.Errorf("Allow from a lease: %v allocations, %d round trips in all; want 0 and 1", allocs, r.Stats().RedisCalls)
	}
}
