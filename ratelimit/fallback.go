package ratelimit

import (
	"context"
	"sync/atomic"
	"time"
)

// Fallback is a Limiter that asks Primary (Redis, shared by the nodes) and,
// for Cooldown after Primary fails, Secondary (in memory, this node only)
// without asking Primary at all: while Redis is down or slow, requests keep
// both a limit and their speed, and Primary is tried again after Cooldown.
type Fallback struct {
	Primary, Secondary Limiter
	Cooldown           time.Duration
	// OnFailure, if set, is told of the failure that starts each cooldown.
	OnFailure func(error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// downUntil is the end of the current cooldown, in Unix nanoseconds.
	downUntil atomic.Int64
}

// Allow asks Primary, or Secondary during a cooldown. It fails only if the
// limiter it ends on fails.
func (f *Fallback) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	t := now().UnixNano()
	if t < f.downUntil.Load() {
		return f.Secondary.Allow(ctx, key, limit)
	}
	res, err := f.Primary.Allow(ctx, key, limit)
	if err == nil {
		return res, nil
	}
	if previous := f.downUntil.Swap(t + int64(f.Cooldown)); previous <= t && f.OnFailure != nil {
		f.OnFailure(err)
	}
	return f.Secondary.Allow(ctx, key, limit)
}
