package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newFakeMemory returns a Memory that reads a fake clock.
func newFakeMemory() (*Memory, *fakeClock) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := NewMemory()
	m.Now = clock.Now
	return m, clock
}

// mustAllow calls m.Allow and fails the test on an error.
func mustAllow(t testing.TB, m *Memory, key string, limit Limit) Result {
	t.Helper()
	got, err := m.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%q, %v) error: %v", key, limit, err)
	}
	return got
}

// len returns how many keys m holds state for.
func (m *Memory) len() int {
	return m.Stats().Keys
}

// touchAllShards makes one request in each shard of m, under fresh keys.
func touchAllShards(t *testing.T, m *Memory, limit Limit) {
	t.Helper()
	touchShards(t, m, m.keys.seed, limit)
}

// touchShards makes one request of l in each shard of a table with seed,
// under fresh keys.
func touchShards(t *testing.T, l Limiter, seed maphash.Seed, limit Limit) {
	t.Helper()
	var touched [shardCount]bool
	for i, left := 0, shardCount; left > 0; i++ {
		key := fmt.Sprintf("touch-%d", i)
		if j := maphash.String(seed, key) & (shardCount - 1); !touched[j] {
			touched[j] = true
			left--
			mustAllowL(t, l, key, limit)
		}
	}
}

func TestMemoryRefill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit Limit
	}{
		{"REST API", Limit{Rate: 960, Period: time.Minute}},
		{"Events API", Limit{Rate: 120, Period: time.Minute}},
		{"one per hour", Limit{Rate: 1, Period: time.Hour}},
		{"three per second", Limit{Rate: 3, Period: time.Second}},
		{"period not a multiple of rate", Limit{Rate: 7, Period: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clock := newFakeMemory()
			limit := tt.limit
			interval := limit.Period / time.Duration(limit.Rate)
			// Only the last case needs it: its interval is not whole nanoseconds.
			opt := approxDuration(time.Duration(limit.Rate))

			for i := range limit.Rate {
				want := Result{Allowed: true, Limit: limit.Rate, Remaining: limit.Rate - 1 - i, ResetAfter: time.Duration(i+1) * interval}
				if diff := cmp.Diff(want, mustAllow(t, m, "k", limit), opt); diff != "" {
					t.Fatalf("request %d: Allow mismatch (-want +got):\n%s", i+1, diff)
				}
			}
			refused := mustAllow(t, m, "k", limit)
			want := Result{Allowed: false, Limit: limit.Rate, Remaining: 0, ResetAfter: limit.Period, RetryAfter: interval}
			if diff := cmp.Diff(want, refused, opt); diff != "" {
				t.Fatalf("request %d: Allow mismatch (-want +got):\n%s", limit.Rate+1, diff)
			}

			// One request is allowed again after RetryAfter, not before.
			clock.Advance(refused.RetryAfter - time.Microsecond)
			if got := mustAllow(t, m, "k", limit); got.Allowed {
				t.Fatalf("Allow %v before RetryAfter = %+v, want refused", time.Microsecond, got)
			}
			clock.Advance(time.Microsecond)
			want = Result{Allowed: true, Limit: limit.Rate, Remaining: 0, ResetAfter: limit.Period}
			if diff := cmp.Diff(want, mustAllow(t, m, "k", limit), opt); diff != "" {
				t.Fatalf("Allow after RetryAfter mismatch (-want +got):\n%s", diff)
			}

			// After a whole period the allowance is full again.
			clock.Advance(limit.Period)
			want = Result{Allowed: true, Limit: limit.Rate, Remaining: limit.Rate - 1, ResetAfter: interval}
			if diff := cmp.Diff(want, mustAllow(t, m, "k", limit), opt); diff != "" {
				t.Errorf("Allow after a period mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemoryRefusalConsumesNothing(t *testing.T) {
	t.Parallel()
	m, clock := newFakeMemory()
	limit := Limit{Rate: 2, Period: time.Minute}
	mustAllow(t, m, "k", limit)
	mustAllow(t, m, "k", limit)
	for _, wantRetry := range []time.Duration{30 * time.Second, 20 * time.Second, 10 * time.Second} {
		got := mustAllow(t, m, "k", limit)
		want := Result{Allowed: false, Limit: 2, ResetAfter: 30*time.Second + wantRetry, RetryAfter: wantRetry}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Allow mismatch (-want +got):\n%s", diff)
		}
		clock.Advance(10 * time.Second)
	}
	want := Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}
	if diff := cmp.Diff(want, mustAllow(t, m, "k", limit)); diff != "" {
		t.Errorf("Allow after refusals mismatch (-want +got):\n%s", diff)
	}
}

// TestMemoryLimitChange checks that a key's new limit keeps the moment its
// allowance is full again, at most one new period away, as Redis does.
func TestMemoryLimitChange(t *testing.T) {
	t.Parallel()
	perMinute := func(rate int) Limit { return Limit{Rate: rate, Period: time.Minute} }
	type step struct {
		advance time.Duration
		limit   Limit
		want    Result
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"raised: refills at the new rate", []step{
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Second}},
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}},
			// Full in a minute: no room for even one more of the new 6 s.
			{0, perMinute(10), Result{Allowed: false, Limit: 10, ResetAfter: time.Minute, RetryAfter: 6 * time.Second}},
			{6 * time.Second, perMinute(10), Result{Allowed: true, Limit: 10, Remaining: 0, ResetAfter: time.Minute}},
			{time.Minute, perMinute(10), Result{Allowed: true, Limit: 10, Remaining: 9, ResetAfter: 6 * time.Second}},
		}},
		{"raised after a pause", []step{
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Second}},
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}},
			{30 * time.Second, perMinute(10), Result{Allowed: true, Limit: 10, Remaining: 4, ResetAfter: 36 * time.Second}},
		}},
		{"lowered", []step{
			{0, perMinute(10), Result{Allowed: true, Limit: 10, Remaining: 9, ResetAfter: 6 * time.Second}},
			{0, perMinute(10), Result{Allowed: true, Limit: 10, Remaining: 8, ResetAfter: 12 * time.Second}},
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: 42 * time.Second}},
			{0, perMinute(2), Result{Allowed: false, Limit: 2, ResetAfter: 42 * time.Second, RetryAfter: 12 * time.Second}},
			{12 * time.Second, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}},
		}},
		{"shorter period: at most one new period away", []step{
			{0, Limit{Rate: 2, Period: time.Hour}, Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Minute}},
			{0, Limit{Rate: 2, Period: time.Hour}, Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Hour}},
			{0, perMinute(2), Result{Allowed: false, Limit: 2, ResetAfter: time.Minute, RetryAfter: 30 * time.Second}},
			{30 * time.Second, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}},
		}},
		{"longer period", []step{
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Second}},
			{0, perMinute(2), Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Minute}},
			{0, Limit{Rate: 2, Period: time.Hour}, Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: 31 * time.Minute}},
			{0, Limit{Rate: 2, Period: time.Hour}, Result{Allowed: false, Limit: 2, ResetAfter: 31 * time.Minute, RetryAfter: time.Minute}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clock := newFakeMemory()
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				if diff := cmp.Diff(s.want, mustAllow(t, m, "k", s.limit)); diff != "" {
					t.Fatalf("step %d: Allow(%v) mismatch (-want +got):\n%s", i+1, s.limit, diff)
				}
			}
		})
	}
}

func TestMemoryEvictsFullKeys(t *testing.T) {
	t.Parallel()
	m, clock := newFakeMemory()
	fast := Limit{Rate: 2, Period: time.Minute}
	slow := Limit{Rate: 2, Period: time.Hour}
	const keys = 1000
	for i := range keys {
		mustAllow(t, m, fmt.Sprintf("fast-%d", i), fast)
	}
	mustAllow(t, m, "slow", slow)
	if got := m.len(); got != keys+1 {
		t.Fatalf("len() = %d, want %d", got, keys+1)
	}

	// Every shard sweeps once a minute; the fast keys are full after 30 s,
	// the slow one only after 30 min.
	clock.Advance(sweepInterval)
	touchAllShards(t, m, fast)
	if got, want := m.len(), shardCount+1; got != want {
		t.Errorf("len() after a sweep = %d, want %d (one key per shard and the slow one)", got, want)
	}
	// The slow key kept its state: one request left, not two.
	want := Result{Allowed: true, Limit: 2, Remaining: 0, ResetAfter: time.Hour - sweepInterval}
	if diff := cmp.Diff(want, mustAllow(t, m, "slow", slow)); diff != "" {
		t.Errorf("Allow(slow) after the sweep mismatch (-want +got):\n%s", diff)
	}

	// An evicted key starts full, as it would have been anyway.
	wantFull := Result{Allowed: true, Limit: 2, Remaining: 1, ResetAfter: 30 * time.Second}
	if diff := cmp.Diff(wantFull, mustAllow(t, m, "fast-0", fast)); diff != "" {
		t.Errorf("Allow(fast-0) after eviction mismatch (-want +got):\n%s", diff)
	}
}

func TestMemoryGrowthSweeps(t *testing.T) {
	t.Parallel()
	m, clock := newFakeMemory()
	// Each key is full again 1 ms after its request; all of it takes 100 ms,
	// less than sweepInterval, so only growth makes the shards sweep.
	limit := Limit{Rate: 1, Period: time.Millisecond}
	const keys = 100_000
	for i := range keys {
		mustAllow(t, m, fmt.Sprintf("k%d", i), limit)
		clock.Advance(time.Microsecond)
	}
	if got, most := m.len(), shardCount*minSweepLen; got > most {
		t.Errorf("len() after %d short-lived keys = %d, want at most %d", keys, got, most)
	}
}

// TestMemoryGivesMemoryBack is not parallel: it reads the heap's size.
func TestMemoryGivesMemoryBack(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	m, clock := newFakeMemory()
	limit := Limit{Rate: 10, Period: time.Minute}
	before := heap()
	for i := range 200_000 {
		mustAllow(t, m, fmt.Sprintf("key-%d", i), limit)
	}
	full := heap()
	clock.Advance(sweepInterval)
	touchAllShards(t, m, limit)
	after := heap()
	t.Logf("heap: %d KiB before, %d KiB with 200k keys, %d KiB after the sweep", before>>10, full>>10, after>>10)
	if grown, kept := full-before, int64(after)-int64(before); kept > int64(grown/10) {
		t.Errorf("heap after evicting every key keeps %d of %d bytes, want at most a tenth", kept, grown)
	}
	runtime.KeepAlive(m)
}

// TestMemoryAllowDoesNotAllocate is not parallel: AllocsPerRun counts every
// goroutine's allocations.
func TestMemoryAllowDoesNotAllocate(t *testing.T) {
	tests := []struct {
		name   string
		limits []Limit
	}{
		{"allowed", []Limit{{Rate: 1 << 30, Period: time.Second}}},
		{"refused", []Limit{{Rate: 1, Period: time.Hour}}},
		{"limit changes", []Limit{{Rate: 960, Period: time.Minute}, {Rate: 120, Period: time.Minute}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory()
			ctx := context.Background()
			mustAllow(t, m, "key", tt.limits[0])
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := m.Allow(ctx, "key", tt.limits[i%len(tt.limits)]); err != nil {
					t.Fatal(err)
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("Allow on an existing key: %v allocations, want 0", allocs)
			}
		})
	}
}

func TestMemoryConcurrentSweeps(t *testing.T) {
	t.Parallel()
	m, clock := newFakeMemory()
	limit := Limit{Rate: 3, Period: time.Second}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				mustAllow(t, m, fmt.Sprintf("k%d", (g*7919+i)%500), limit)
				if i%100 == 0 {
					clock.Advance(10 * time.Second)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	limit := Limit{Rate: 960, Period: time.Minute}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Allow(ctx, "key", limit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryAllowParallel(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	limit := Limit{Rate: 960, Period: time.Minute}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
		mustAllow(b, m, keys[i], limit)
	}
	var next sync.Mutex
	start := 0
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		i := start
		start += 997
		next.Unlock()
		for pb.Next() {
			if _, err := m.Allow(ctx, keys[i%len(keys)], limit); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
