// Package ratelimit decides whether one more request is allowed under a rate
// limit, and says everything PagerDuty's rate-limit headers need: the limit,
// what remains, when the allowance is full again and, for a refused request,
// when to retry.
//
// Memory keeps the state in the process, for a single node; Redis keeps it in
// Redis, shared by every node of a deployment. Both implement Limiter and
// answer alike: a key gets Rate requests at once, then one more every
// Period/Rate, and a refused request costs nothing.
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
// for a key is adopted from the next call on. Allow returns an error when
// the limit is not positive or the state cannot be reached; callers decide
// whether to fail open. Its errors are plain wrapped errors, not
// *gatehouse.Error: to the HTTP edge they are internal (code 2000).
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
}

// validate reports a limit that no implementation can enforce.
func (l Limit) validate() error {
	if l.Rate <= 0 || l.Period <= 0 {
		return fmt.Errorf("invalid limit %d per %s", l.Rate, l.Period)
	}
	return nil
}
