package ratelimit

import (
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testLimiter runs the behaviour every Limiter shares against limiters made
// by newLimiter. It uses real time, with a small rate over a long period, so
// that no allowance refills while it runs; keys are unique to each run.
func testLimiter(t *testing.T, newLimiter func(t *testing.T) Limiter) {
	t.Helper()
	limit := Limit{Rate: 4, Period: 10 * time.Minute}
	interval := limit.Period / time.Duration(limit.Rate)
	// slack is how long a run may take: durations only shrink as time passes.
	const slack = 5 * time.Second
	// rounding is how far a duration may exceed its exact value.
	const rounding = 10 * time.Millisecond
	opt := approxDuration(slack)

	allow := func(t *testing.T, l Limiter, key string, limit Limit) Result {
		t.Helper()
		got, err := l.Allow(t.Context(), key, limit)
		if err != nil {
			t.Fatalf("Allow(%q, %v) error: %v", key, limit, err)
		}
		if got.ResetAfter > limit.Period+rounding {
			t.Errorf("Allow(%q, %v).ResetAfter = %v, want at most the period", key, limit, got.ResetAfter)
		}
		if got.RetryAfter > limit.Period/time.Duration(limit.Rate)+rounding {
			t.Errorf("Allow(%q, %v).RetryAfter = %v, want at most period/rate", key, limit, got.RetryAfter)
		}
		return got
	}
	exhaust := func(t *testing.T, l Limiter, key string) {
		t.Helper()
		for range limit.Rate {
			if got := allow(t, l, key, limit); !got.Allowed {
				t.Fatalf("Allow(%q, %v) = %+v, want allowed", key, limit, got)
			}
		}
	}
	refused := Result{Allowed: false, Limit: limit.Rate, Remaining: 0, ResetAfter: limit.Period, RetryAfter: interval}

	t.Run("counts down then refuses", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), uniqueKey(t)
		for i := range limit.Rate {
			want := Result{
				Allowed:    true,
				Limit:      limit.Rate,
				Remaining:  limit.Rate - 1 - i,
				ResetAfter: time.Duration(i+1) * interval,
			}
			if diff := cmp.Diff(want, allow(t, l, key, limit), opt); diff != "" {
				t.Fatalf("request %d: Allow(%q, %v) mismatch (-want +got):\n%s", i+1, key, limit, diff)
			}
		}
		if diff := cmp.Diff(refused, allow(t, l, key, limit), opt); diff != "" {
			t.Errorf("request %d: Allow(%q, %v) mismatch (-want +got):\n%s", limit.Rate+1, key, limit, diff)
		}
	})

	t.Run("refusal consumes nothing", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), uniqueKey(t)
		exhaust(t, l, key)
		first := allow(t, l, key, limit)
		for range 5 {
			got := allow(t, l, key, limit)
			if diff := cmp.Diff(refused, got, opt); diff != "" {
				t.Fatalf("Allow(%q, %v) mismatch (-want +got):\n%s", key, limit, diff)
			}
			// Had a refusal consumed, the wait would have grown by an interval.
			if got.RetryAfter > first.RetryAfter || got.ResetAfter > first.ResetAfter {
				t.Fatalf("Allow(%q, %v) = %+v after a refusal %+v, want no longer waits", key, limit, got, first)
			}
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		t.Parallel()
		l, a, b := newLimiter(t), uniqueKey(t), uniqueKey(t)
		exhaust(t, l, a)
		want := Result{Allowed: true, Limit: limit.Rate, Remaining: limit.Rate - 1, ResetAfter: interval}
		if diff := cmp.Diff(want, allow(t, l, b, limit), opt); diff != "" {
			t.Errorf("Allow(%q, %v) after exhausting %q mismatch (-want +got):\n%s", b, limit, a, diff)
		}
		if diff := cmp.Diff(refused, allow(t, l, a, limit), opt); diff != "" {
			t.Errorf("Allow(%q, %v) mismatch (-want +got):\n%s", a, limit, diff)
		}
	})

	t.Run("concurrent requests", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), uniqueKey(t)
		const goroutines, each = 8, 3
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range each {
					got, err := l.Allow(t.Context(), key, limit)
					if err != nil {
						t.Errorf("Allow(%q, %v) error: %v", key, limit, err)
						return
					}
					if got.Allowed {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if allowed != limit.Rate {
			t.Errorf("%d concurrent requests: %d allowed, want %d", goroutines*each, allowed, limit.Rate)
		}
	})

	t.Run("limit change is adopted", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), uniqueKey(t)
		allow(t, l, key, limit)
		wider := Limit{Rate: 2 * limit.Rate, Period: limit.Period}
		got := allow(t, l, key, wider)
		if !got.Allowed || got.Limit != wider.Rate {
			t.Errorf("Allow(%q, %v) = %+v, want allowed with limit %d", key, wider, got, wider.Rate)
		}
	})

	t.Run("invalid limit", func(t *testing.T) {
		t.Parallel()
		l, key := newLimiter(t), uniqueKey(t)
		for _, bad := range []Limit{{}, {Rate: 0, Period: time.Minute}, {Rate: -1, Period: time.Minute}, {Rate: 1}, {Rate: 1, Period: -time.Second}} {
			got, err := l.Allow(t.Context(), key, bad)
			if err == nil || !strings.HasPrefix(err.Error(), "rate limit "+key+": ") {
				t.Errorf("Allow(%q, %v) = %+v, %v, want a rate limit error", key, bad, got, err)
			}
		}
	})
}

// uniqueKey returns a key no other test or test run uses.
func uniqueKey(t *testing.T) string {
	t.Helper()
	return t.Name() + "/" + rand.Text()
}

// approxDuration compares durations up to slack, but tells zero from any
// other duration.
func approxDuration(slack time.Duration) cmp.Option {
	return cmp.Comparer(func(x, y time.Duration) bool {
		if x == 0 || y == 0 {
			return x == y
		}
		return (x - y).Abs() <= slack
	})
}

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	testLimiter(t, func(t *testing.T) Limiter { return NewMemory() })
}
