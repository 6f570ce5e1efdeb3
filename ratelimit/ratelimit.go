// Package ratelimit decides whether one more request is allowed under a rate
// limit, and says everything PagerDuty's rate-limit headers need: the limit,
// what remains, when the allowance is full again and, for a refused request,
// when to retry.
//
// Every limiter runs the generic cell rate algorithm (GCRA): a key gets Rate
// requests at once, then one more every Period/Rate, and a refused request
// costs nothing. Its whole state is one time per key, the theoretical arrival
// time (TAT): when the key's allowance is full again.
//
// Memory keeps the state in the process, for a single node. Redis shares it
// between the nodes of a deployment through Redis, leasing small allowances
// so that most requests are decided in the process. Fallback limits in
// memory while Redis fails. Failures limits failed authentications per
// client address.
package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Limit is how many requests are allowed per period, e.g.
// Limit{Rate: 960, Period: time.Minute}. All Rate requests may come at once;
// after that the allowance refills at Rate per Period.
type Limit struct {
	Rate   int
	Period time.Duration
}

// Result is the outcome of one Allow, everything needed for PagerDuty's
// headers ratelimit-limit, ratelimit-remaining, ratelimit-reset (seconds)
// and Retry-After.
type Result struct {
	Allowed    bool
	Limit      int           // = Limit.Rate
	Remaining  int           // requests still allowed right now (0 when refused)
	ResetAfter time.Duration // time until the allowance is full again
	RetryAfter time.Duration // when refused: time until one request is allowed again; 0 when allowed
}

// Limiter decides whether one more request under key is allowed.
//
// The key names what is limited (a key's hash or ID, a user ID, a routing
// key's hash), never a secret: it may appear in errors. A limit that changes
// for a key is adopted from the next call on, keeping the moment the key's
// allowance is full again (at most one new period away). Allow returns an
// error when the limit is not positive or the state cannot be reached, and
// one wrapping ctx.Err() when ctx ended before a decision needed it: the
// client is gone, nothing failed. Callers decide whether to fail open. Its
// errors are plain wrapped errors, not *gatehouse.Error: to the HTTP edge
// they are internal (code 2000).
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
}

// Stats are a limiter's counters since it was made, for metrics. A limiter
// leaves the fields it has nothing to say about at zero.
type Stats struct {
	Allowed uint64 // requests allowed
	Refused uint64 // requests refused
	// Keys is how many keys have state in this process now.
	Keys int
	// RedisCalls counts round trips to Redis; RedisErrors those that failed
	// (a client gone before its round trip is not counted).
	RedisCalls, RedisErrors uint64
	// Fallbacks counts the times Redis failed and this node began limiting
	// in memory; InMemory is whether it does so now.
	Fallbacks uint64
	InMemory  bool
}

// add returns the sum of s and t.
func (s Stats) add(t Stats) Stats {
	return Stats{
		Allowed:     s.Allowed + t.Allowed,
		Refused:     s.Refused + t.Refused,
		Keys:        s.Keys + t.Keys,
		RedisCalls:  s.RedisCalls + t.RedisCalls,
		RedisErrors: s.RedisErrors + t.RedisErrors,
		Fallbacks:   s.Fallbacks + t.Fallbacks,
		InMemory:    s.InMemory || t.InMemory,
	}
}

// validate reports a limit that no implementation can enforce.
func (l Limit) validate() error {
	if l.Rate <= 0 || l.Period <= 0 {
		return fmt.Errorf("invalid limit %d per %s", l.Rate, l.Period)
	}
	return nil
}

// interval is the time one request adds to a key's TAT: Period/Rate,
// rounded down to the nanosecond (so a key never gets fewer than Rate
// requests a period) and at least one nanosecond.
func (l Limit) interval() int64 {
	return max(int64(l.Period)/int64(l.Rate), 1)
}

// gcra decides one request under limit at now (nanoseconds on any clock that
// tat is on too): it returns the result and the key's new TAT. A refused
// request leaves tat as it was, unless tat is more than a period away: a
// longer limit before left it there, and it is cut to one period.
func gcra(limit Limit, tat, now int64) (Result, int64) {
	interval, period := limit.interval(), int64(limit.Period)
	// A debt longer than the period is left by a longer limit before.
	tat = min(max(tat, now), now+period)
	next := tat + interval
	if debt := next - now; debt > period {
		return Result{
			Limit:      limit.Rate,
			ResetAfter: time.Duration(min(tat-now, period)),
			RetryAfter: time.Duration(debt - period),
		}, tat
	}
	return allowed(limit, next-now), next
}

// allowed is the result of an allowed request that leaves debt: the time
// until the key's allowance is full again.
func allowed(limit Limit, debt int64) Result {
	debt = max(debt, 0)
	return Result{
		Allowed:    true,
		Limit:      limit.Rate,
		Remaining:  free(limit, debt),
		ResetAfter: time.Duration(debt),
	}
}

// free is how many requests a key with debt may make at once.
func free(limit Limit, debt int64) int {
	period := int64(limit.Period)
	if debt >= period {
		return 0
	}
	return int(min((period-max(debt, 0))/limit.interval(), int64(limit.Rate)))
}
