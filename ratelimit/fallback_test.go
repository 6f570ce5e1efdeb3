package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/fault"
)

// scripted is a Limiter that fails while down and counts its calls. Like a
// Redis client, it fails with ctx.Err() once ctx has ended.
type scripted struct {
	mu    sync.Mutex
	down  bool
	calls int
}

func (s *scripted) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if s.down {
		return Result{}, errors.New("connection refused")
	}
	return Result{Allowed: true, Limit: limit.Rate, Remaining: 7}, nil
}

// logLines is a log of a fault.Tracker, safe for concurrent use.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestFallback returns a Fallback over primary and a fresh Memory, on a
// clock that moves when told, with its fault log.
func newTestFallback(primary Limiter) (*Fallback, *fakeClock, *logLines) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	logs := &logLines{}
	secondary := NewMemory()
	secondary.Now = clock.Now
	return &Fallback{
		Primary:   primary,
		Secondary: secondary,
		Cooldown:  5 * time.Second,
		Fault:     &fault.Tracker{Logger: slog.New(slog.NewTextHandler(logs, nil)), What: "Redis rate limiter", Now: clock.Now},
		Now:       clock.Now,
	}, clock, logs
}

func TestFallback(t *testing.T) {
	t.Parallel()
	primary := &scripted{}
	f, clock, logs := newTestFallback(primary)
	limit := Limit{Rate: 2, Period: time.Minute}
	allow := func() Result {
		t.Helper()
		res, err := f.Allow(t.Context(), "k", limit)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return res
	}

	if res := allow(); res.Remaining != 7 || primary.calls != 1 {
		t.Fatalf("with the primary up: %+v after %d calls, want its answer", res, primary.calls)
	}
	primary.down = true
	// The failing call falls back at once, and the cooldown spares the
	// primary: the secondary limits alone (2 a minute) until it ends.
	got := []bool{allow().Allowed, allow().Allowed, allow().Allowed}
	if want := []bool{true, true, false}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("during the cooldown: allowed %v, want %v", got, want)
	}
	if primary.calls != 2 {
		t.Errorf("during the cooldown the primary was called %d times, want 2", primary.calls)
	}
	if st := f.Stats(); st.Fallbacks != 1 || !st.InMemory {
		t.Errorf("Stats() during the cooldown = %+v, want 1 fallback, in memory", st)
	}
	// Still down after the cooldown: a second cooldown, not a second warning.
	clock.Advance(5 * time.Second)
	allow()
	if primary.calls != 3 {
		t.Errorf("after the first cooldown the primary was called %d times in all, want 3", primary.calls)
	}
	clock.Advance(5 * time.Second)
	primary.down = false
	if res := allow(); res.Remaining != 7 || primary.calls != 4 {
		t.Errorf("after the cooldown: %+v, primary calls %d; want the primary's answer", res, primary.calls)
	}
	allow()
	if st := f.Stats(); st.Fallbacks != 2 || st.InMemory {
		t.Errorf("Stats() after recovery = %+v, want 2 fallbacks, not in memory", st)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "Redis rate limiter failing") ||
		!strings.Contains(lines[1], "Redis rate limiter recovered") || !strings.Contains(lines[1], "failures=2") {
		t.Errorf("fault log:\n%s\nwant one line when failing began and one when it ended, after 2 failures", logs)
	}
}

// TestFallbackHangUpIsNotAFailure is the regression test of issue 6 (b): a
// client that hangs up made the node limit in memory, alone, for a while.
func TestFallbackHangUpIsNotAFailure(t *testing.T) {
	t.Parallel()
	limit := Limit{Rate: 2, Period: time.Minute}
	tests := []struct {
		name string
		ctx  func(t *testing.T) context.Context
	}{
		{"canceled", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}},
		{"deadline passed", func(t *testing.T) context.Context {
			ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
			t.Cleanup(cancel)
			return ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			primary := &scripted{}
			f, _, logs := newTestFallback(primary)
			ctx := tt.ctx(t)
			_, err := f.Allow(ctx, "k", limit)
			if !errors.Is(err, ctx.Err()) {
				t.Errorf("Allow with an ended context: error %v, want one wrapping %v", err, ctx.Err())
			}
			for i := range 3 {
				res, err := f.Allow(t.Context(), "k", limit)
				if err != nil || res.Remaining != 7 {
					t.Fatalf("request %d after the hang-up = %+v, %v, want the primary's answer", i+1, res, err)
				}
			}
			if primary.calls != 4 {
				t.Errorf("primary called %d times, want 4: every request", primary.calls)
			}
			if st := f.Stats(); st.Fallbacks != 0 || st.InMemory {
				t.Errorf("Stats() = %+v, want no fallback", st)
			}
			if logs.String() != "" {
				t.Errorf("fault log %q, want none", logs)
			}
		})
	}
}

func TestFallbackInvalidLimitIsNotAFailure(t *testing.T) {
	t.Parallel()
	primary := &scripted{}
	f, _, _ := newTestFallback(primary)
	if _, err := f.Allow(t.Context(), "k", Limit{Rate: 0, Period: time.Minute}); err == nil || !strings.HasPrefix(err.Error(), "rate limit k: ") {
		t.Errorf("Allow with rate 0: error %v, want a rate limit error", err)
	}
	if st := f.Stats(); st.Fallbacks != 0 {
		t.Errorf("Stats() = %+v, want no fallback", st)
	}
}

func TestFallbackConformance(t *testing.T) {
	t.Parallel()
	testLimiter(t, func(t *testing.T) Limiter {
		return &Fallback{Primary: &scripted{down: true}, Secondary: NewMemory(), Cooldown: time.Hour}
	})
}

// TestFallbackHangUpWithRedis is TestFallbackHangUpIsNotAFailure with a real
// Redis and two nodes: after a client of node 1 hangs up, node 1 still
// counts its requests in Redis, so node 2 sees the key's allowance spent.
func TestFallbackHangUpWithRedis(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	node := func() *Fallback {
		return &Fallback{Primary: NewRedis(client), Secondary: NewMemory(), Cooldown: time.Hour}
	}
	node1, node2 := node(), node()
	key, limit := uniqueKey(t), Limit{Rate: 2, Period: time.Hour}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := node1.Allow(ctx, key, limit); !errors.Is(err, context.Canceled) {
		t.Errorf("Allow with a canceled context: error %v, want one wrapping context.Canceled", err)
	}
	for i := range limit.Rate {
		if got := mustAllowL(t, node1, key, limit); !got.Allowed {
			t.Fatalf("node 1, request %d = %+v, want allowed", i+1, got)
		}
	}
	if got := mustAllowL(t, node2, key, limit); got.Allowed {
		t.Errorf("node 2 after node 1 spent the allowance = %+v, want refused", got)
	}
	if st := node1.Stats(); st.Fallbacks != 0 || st.RedisErrors != 0 {
		t.Errorf("node 1 Stats() = %+v, want no fallback, no Redis error", st)
	}
}
