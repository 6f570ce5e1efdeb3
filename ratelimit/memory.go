package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// shardCount spreads keys over this many locks and maps; a power of two.
	shardCount = 256
	// sweepInterval is how often a shard in use looks for idle keys.
	sweepInterval = time.Minute
	// minSweepLen is the smallest shard size that makes an insert sweep.
	minSweepLen = 64
	// minRebuildPeak is the smallest peak size worth giving memory back for.
	minRebuildPeak = 256
)

// Memory is a Limiter that keeps its state in the process: a token bucket
// (golang.org/x/time/rate) per key in use. It suits a single node; nodes that
// share limits use Redis.
//
// State is created on a key's first request and dropped once the key's
// allowance is full again, so memory follows the keys active within their
// period. Dropping happens inside Allow, amortised: a shard sweeps its idle
// keys once a minute and whenever it has doubled in size since its last sweep,
// and it rebuilds its map when most keys are gone, since Go maps never shrink.
// Allow on a key that has state makes no heap allocation.
//
// Memory is safe for concurrent use. Its zero value is not usable: call
// NewMemory.
type Memory struct {
	// Now returns the current time; NewMemory sets it to time.Now. Tests
	// replace it before the first Allow.
	Now func() time.Time

	seed   maphash.Seed
	shards [shardCount]shard
}

// shard is a part of Memory's keys under one lock.
type shard struct {
	mu       sync.Mutex
	entries  map[string]*entry
	sweepAt  time.Time // the next sweep due to time
	sweepLen int       // the size at which an insert sweeps
	peak     int       // the largest size since the map was made
	_        [64]byte  // keeps neighbouring shards' locks off one cache line
}

// entry is the state of one key.
type entry struct {
	lim    *rate.Limiter
	limit  Limit
	fullAt time.Time // when the allowance is full again, if unused until then
}

// NewMemory returns an empty in-process limiter that reads time.Now.
func NewMemory() *Memory {
	m := &Memory{Now: time.Now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]*entry)
		m.shards[i].sweepLen = minSweepLen
	}
	return m
}

// Allow consumes one request from key's allowance under limit, if one is
// left. It returns an error only for a limit that is not positive; ctx is not
// consulted.
func (m *Memory) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.validate(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	now := m.Now()
	s := &m.shards[maphash.String(m.seed, key)&(shardCount-1)]

	s.mu.Lock()
	defer s.mu.Unlock()
	if !now.Before(s.sweepAt) {
		s.sweep(now)
	}
	e, ok := s.entries[key]
	switch {
	case !ok:
		if len(s.entries) >= s.sweepLen {
			s.sweep(now)
		}
		e = &entry{lim: rate.NewLimiter(perSecond(limit), limit.Rate), limit: limit}
		// A clone does not keep alive whatever buffer key was cut from.
		s.entries[strings.Clone(key)] = e
		s.peak = max(s.peak, len(s.entries))
	case e.limit != limit:
		// Tokens carry over: refilled under the old limit up to now, then
		// capped at the new burst.
		e.lim.SetLimitAt(now, perSecond(limit))
		e.lim.SetBurstAt(now, limit.Rate)
		e.limit = limit
	}

	res := Result{Limit: limit.Rate}
	res.Allowed = e.lim.AllowN(now, 1)
	tokens := e.lim.TokensAt(now)
	res.ResetAfter = min(refillTime(limit, float64(limit.Rate)-tokens), limit.Period)
	if res.Allowed {
		// x/time/rate allows a request when it lacks less than a
		// nanosecond's worth of a token; count remaining requests alike.
		res.Remaining = min(max(int(tokens+oneNanosecond(limit)), 0), limit.Rate)
	} else {
		res.RetryAfter = refillTime(limit, 1-tokens)
	}
	e.fullAt = now.Add(res.ResetAfter)
	return res, nil
}

// sweep drops the keys whose allowance is full at now: a new bucket would be
// the same. It makes a new map when most of the old one is empty.
func (s *shard) sweep(now time.Time) {
	for k, e := range s.entries {
		if !now.Before(e.fullAt) {
			delete(s.entries, k)
		}
	}
	n := len(s.entries)
	if s.peak >= minRebuildPeak && n < s.peak/4 {
		entries := make(map[string]*entry, n)
		for k, e := range s.entries {
			entries[k] = e
		}
		s.entries = entries
		s.peak = n
	}
	s.sweepAt = now.Add(sweepInterval)
	s.sweepLen = max(2*n, minSweepLen)
}

// perSecond is limit as x/time/rate counts it: tokens per second.
func perSecond(limit Limit) rate.Limit {
	return rate.Limit(float64(limit.Rate) / limit.Period.Seconds())
}

// oneNanosecond is how many tokens limit adds in a nanosecond.
func oneNanosecond(limit Limit) float64 {
	return float64(limit.Rate) / float64(limit.Period)
}

// refillTime is how long limit takes to add tokens to an allowance, to the
// nearest nanosecond: x/time/rate allows a request that lacks less than a
// nanosecond's worth of a token, so a request then is allowed.
func refillTime(limit Limit, tokens float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	return time.Duration(math.Round(tokens * float64(limit.Period) / float64(limit.Rate)))
}
