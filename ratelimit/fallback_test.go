package ratelimit

import (
	"context"
	"errors"
	"testing"
	"time"
)

// scripted is a Limiter that fails while down and counts its calls.
type scripted struct {
	down  bool
	calls int
}

func (s *scripted) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	s.calls++
	if s.down {
		return Result{}, errors.New("connection refused")
	}
	return Result{Allowed: true, Limit: limit.Rate, Remaining: 7}, nil
}

func TestFallback(t *testing.T) {
	t.Parallel()
	primary := &scripted{}
	now := time.Unix(1000, 0)
	var failures []error
	f := &Fallback{
		Primary:   primary,
		Secondary: NewMemory(),
		Cooldown:  5 * time.Second,
		OnFailure: func(err error) { failures = append(failures, err) },
		Now:       func() time.Time { return now },
	}
	limit := Limit{Rate: 2, Period: time.Minute}
	allow := func() Result {
		t.Helper()
		res, err := f.Allow(context.Background(), "k", limit)
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
	if primary.calls != 2 || len(failures) != 1 {
		t.Errorf("during the cooldown the primary was called %d times and %d failures reported; want 2 and 1", primary.calls, len(failures))
	}
	now = now.Add(5 * time.Second)
	primary.down = false
	if res := allow(); res.Remaining != 7 || primary.calls != 3 {
		t.Errorf("after the cooldown: %+v, primary calls %d; want the primary's answer", res, primary.calls)
	}
}
