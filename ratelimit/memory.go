package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Memory is a Limiter that keeps its state in the process: the TAT of each
// key in use, one int64 under the key's 64-bit hash (see table for what a
// collision means). It suits a single node; nodes that share limits use
// Redis.
//
// A key's state is created on its first request and dropped once its
// allowance is full again, so memory follows the keys active within their
// period: 24 to 38 bytes a key, as Go's map tables fill and double. Allow on a key that has state makes no heap
// allocation.
//
// Memory is safe for concurrent use. Its zero value is not usable: call
// NewMemory.
type Memory struct {
	// Now returns the current time; NewMemory sets it to time.Now. Tests
	// replace it before the first Allow.
	Now func() time.Time

	// epoch is the origin of the nanoseconds the table holds; durations from
	// it use the monotonic clock when Now gives one.
	epoch time.Time
	keys  table[tat]
}

// tat is a key's theoretical arrival time, in nanoseconds since the epoch.
type tat int64

// idle reports whether the key's allowance is full at now.
func (t tat) idle(now int64) bool { return int64(t) <= now }

// NewMemory returns an empty in-process limiter that reads time.Now.
func NewMemory() *Memory {
	m := &Memory{Now: time.Now, epoch: time.Now()}
	m.keys.init()
	return m
}

// Allow consumes one request from key's allowance under limit, if one is
// left. It returns an error only for a limit that is not positive; ctx is not
// consulted.
func (m *Memory) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.validate(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	now := int64(m.Now().Sub(m.epoch))
	s, h := m.keys.shard(key)

	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.get(h, now)
	if !ok {
		t = tat(now)
	}
	res, next := gcra(limit, int64(t), now)
	if res.Allowed {
		s.allowed++
	} else {
		s.refused++
	}
	if tat(next) != t {
		// Allowed, or refused under a shorter period than the key's debt:
		// that debt is cut to one period.
		s.put(h, tat(next), ok, now)
	}
	return res, nil
}

// Stats returns the requests allowed and refused so far and the keys with
// state now.
func (m *Memory) Stats() Stats {
	return m.keys.stats()
}
