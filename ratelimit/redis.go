package ratelimit

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// redisPrefix begins the name of every key this package passes to
// redis_rate, which puts its own "rate:" before it.
const redisPrefix = "gatehouse:rl:"

// Redis is a Limiter whose state lives in Redis, shared by every node that
// uses the same Redis. It runs the GCRA of github.com/go-redis/redis_rate
// with a burst of Rate, in one script call per Allow; the clock is Redis's.
type Redis struct {
	limiter *redis_rate.Limiter
}

// NewRedis returns a limiter that keeps its state through client.
func NewRedis(client *redis.Client) *Redis {
	return &Redis{limiter: redis_rate.NewLimiter(client)}
}

// Allow consumes one request from key's allowance under limit, if one is
// left. It returns a wrapped error for a limit that is not positive and for
// any failure to reach or run Redis.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.validate(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	res, err := r.limiter.Allow(ctx, redisPrefix+key, redis_rate.Limit{
		Rate:   limit.Rate,
		Burst:  limit.Rate,
		Period: limit.Period,
	})
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	out := Result{
		Allowed:    res.Allowed > 0,
		Limit:      limit.Rate,
		Remaining:  max(res.Remaining, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}
	if !out.Allowed {
		// redis_rate says -1 when allowed; only a refusal has a retry time.
		out.Remaining = 0
		out.RetryAfter = max(res.RetryAfter, 0)
	}
	return out, nil
}
