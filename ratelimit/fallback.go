package ratelimit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/fault"
)

// Fallback is a Limiter that asks Primary (Redis, shared by the nodes) and,
// for Cooldown after Primary fails, Secondary (in memory, this node only)
// without asking Primary at all: while Redis is down or slow, requests keep
// both a limit and their speed, and Primary is tried again after Cooldown.
// Meanwhile each node allows a key the whole limit, so the nodes together
// allow it as many times the limit as there are nodes.
//
// A request whose context ended before Primary answered (its client hung
// up) is not a failure of Primary: it gets Primary's error, wrapping
// ctx.Err(), and every other request goes on with Primary.
type Fallback struct {
	Primary, Secondary Limiter
	Cooldown           time.Duration
	// Fault, if set, logs a fault of Primary once when it starts failing and
	// once when it answers again.
	Fault *fault.Tracker
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// downUntil is the end of the current cooldown, in Unix nanoseconds.
	downUntil atomic.Int64
	// failing is whether Fault was told of a failure and not yet of the
	// recovery.
	failing   atomic.Bool
	fallbacks atomic.Uint64
}

// Allow asks Primary, or Secondary during a cooldown. It fails for a limit
// that is not positive, when ctx ended before Primary answered, and if
// Secondary fails.
func (f *Fallback) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.validate(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	t := f.now().UnixNano()
	if t < f.downUntil.Load() {
		return f.Secondary.Allow(ctx, key, limit)
	}
	res, err := f.Primary.Allow(ctx, key, limit)
	if err == nil {
		if f.failing.Load() && f.failing.CompareAndSwap(true, false) && f.Fault != nil {
			f.Fault.OK()
		}
		return res, nil
	}
	if ctx.Err() != nil {
		return Result{}, err
	}
	f.failing.Store(true)
	if f.Fault != nil {
		f.Fault.Fail(err)
	}
	if previous := f.downUntil.Swap(t + int64(f.Cooldown)); previous <= t {
		f.fallbacks.Add(1)
	}
	return f.Secondary.Allow(ctx, key, limit)
}

// Stats returns the sum of Primary's and Secondary's stats (of those that
// have a Stats method), with the cooldowns begun so far and whether one is
// under way.
func (f *Fallback) Stats() Stats {
	var st Stats
	for _, l := range []Limiter{f.Primary, f.Secondary} {
		if s, ok := l.(interface{ Stats() Stats }); ok {
			st = st.add(s.Stats())
		}
	}
	st.Fallbacks = f.fallbacks.Load()
	st.InMemory = f.now().UnixNano() < f.downUntil.Load()
	return st
}

func (f *Fallback) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}
