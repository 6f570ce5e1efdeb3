package ratelimit

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisPrefix begins the name of every key this package keeps in Redis.
const redisPrefix = "gatehouse:rl:"

const (
	// leaseDivisor sets the most a node holds of a key's allowance:
	// Rate/leaseDivisor requests, at least one.
	leaseDivisor = 64
	// leaseTTL is how long leased requests stay usable on a node after the
	// last round trip for their key.
	leaseTTL = int64(5 * time.Second)
)

// Redis is a Limiter shared by every node that uses the same Redis: a key's
// TAT lives in Redis (a Lua script runs the GCRA on Redis's clock), and each
// node leases small parts of a key's allowance from it, so that most
// requests are decided in the process without a round trip.
//
// A lease is at most Rate/64 requests (at least one); a node tops its lease
// up when a quarter of it is left, in the request that notices, and Redis
// grants what the allowance holds, up to what was asked. When Redis refuses,
// the node refuses the key on its own until a lease is free again, so
// refused requests cost no round trip (a key at its limit costs each node
// one round trip per lease's worth of time), and no allowance either. Unused
// leased requests lapse 5 s after the key's last round trip.
//
// Accuracy, with N nodes and L = max(1, Rate/64):
//   - A limit of at most 64 requests a period (L = 1) is exact: every
//     allowed request is a round trip, as with a single GCRA in Redis.
//   - Leased requests count in Redis when leased, so over any time window
//     the nodes together allow at most N·L requests more than one GCRA would
//     (requests leased before the window and used in it), and in the long
//     run no more at all. For 960 a minute and 3 nodes: 45 requests, 4.7%
//     of the allowance. They may also refuse requests a single GCRA would
//     allow: up to N·L leased on other nodes or lapsed, and those that come
//     free in the L-1 intervals after Redis refused.
//   - Remaining and ResetAfter are this node's view at its last round trip
//     for the key, moved on by what it allowed since: exact for a key that
//     only this node serves, and otherwise high by what other nodes used
//     since then (about N·L requests for a key the nodes serve alike).
//     RetryAfter of a refusal is when this node asks Redis again: up to
//     L-1 intervals later than a single GCRA's (under a second for 960 a
//     minute, and Retry-After counts whole seconds).
//
// Redis is safe for concurrent use. Its zero value is not usable: call
// NewRedis.
type Redis struct {
	// Now returns the current time; NewRedis sets it to time.Now.
	Now func() time.Time

	client redis.Scripter
	epoch  time.Time
	keys   table[lease]
	calls  atomic.Uint64
	errors atomic.Uint64
}

// lease is what a node holds of one key's allowance.
type lease struct {
	limit Limit
	// tat is the key's TAT in Redis at the last round trip, on this node's
	// clock; it counts the requests leased here and not yet used.
	tat int64
	// tokens is how many leased requests are left, usable until expires.
	tokens, expires int64
	// refusedUntil is when Redis may allow a request again, after it
	// refused one.
	refusedUntil int64
	// inflight counts round trips under way; topping says one of them tops
	// the lease up.
	inflight int32
	topping  bool
}

func (l lease) idle(now int64) bool {
	return l.inflight == 0 && now >= l.expires && now >= l.refusedUntil
}

// leaseSize is the most requests of limit a node holds at once.
func leaseSize(limit Limit) int64 {
	return max(int64(limit.Rate)/leaseDivisor, 1)
}

// NewRedis returns a limiter that keeps its state through client (a
// *redis.Client, or a cluster or ring client).
func NewRedis(client redis.Scripter) *Redis {
	r := &Redis{Now: time.Now, client: client, epoch: time.Now()}
	r.keys.init()
	return r
}

// Allow consumes one request from key's allowance under limit, if one is
// left: from this node's lease when it holds one, else from Redis. It
// returns a wrapped error for a limit that is not positive and for a failure
// to reach or run Redis when it needed Redis; the error wraps ctx.Err() when
// ctx ended first.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.validate(); err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	size := leaseSize(limit)
	now := r.now()
	s, h := r.keys.shard(key)

	s.mu.Lock()
	l, ok := s.get(h, now)
	if l.limit != limit {
		// A new key, or a new limit: what Redis refused under the old one
		// may be allowed now.
		l.limit, l.tokens, l.refusedUntil = limit, min(l.tokens, size), 0
	}
	if now >= l.expires {
		l.tokens = 0
	}
	switch {
	case l.tokens > 0:
		l.tokens--
		s.allowed++
		res := l.allowed(now)
		topUp := size > 1 && l.tokens <= size/4 && !l.topping && now >= l.refusedUntil
		want := size - l.tokens
		if topUp {
			l.topping = true
			l.inflight++
		}
		s.put(h, l, ok, now)
		s.mu.Unlock()
		if topUp {
			// This request is decided; it only waits for the round trip
			// that serves the next ones. Its failure waits for one that
			// needs Redis to be reported.
			r.lease(ctx, key, h, limit, want, true, false)
		}
		return res, nil

	case now < l.refusedUntil:
		s.refused++
		res := l.refused(now)
		s.put(h, l, ok, now)
		s.mu.Unlock()
		return res, nil

	default:
		// Ask for a whole lease unless a top-up is under way; then only for
		// this request, so a node never holds more than size.
		want := int64(1)
		topping := !l.topping
		if topping {
			want, l.topping = size, true
		}
		l.inflight++
		s.put(h, l, ok, now)
		s.mu.Unlock()
		return r.lease(ctx, key, h, limit, want, topping, true)
	}
}

// lease asks Redis for up to want requests of key's allowance and adds them
// to the node's lease; topping says it is the key's top-up. When forSelf,
// one of them is this request's, and the result says whether it is allowed.
func (r *Redis) lease(ctx context.Context, key string, h uint64, limit Limit, want int64, topping, forSelf bool) (Result, error) {
	granted, debt, err := r.call(ctx, key, limit, want)
	now := r.now()
	s := &r.keys.shards[h&(shardCount-1)]

	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.states[h]
	if ok {
		// A state with a round trip under way is never swept.
		l.inflight--
		l.topping = l.topping && !topping
	}
	if err != nil {
		if ctx.Err() == nil {
			r.errors.Add(1)
		}
		s.put(h, l, ok, now)
		return Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if l.limit != limit {
		// The limit changed while Redis answered: start over under it.
		l.limit, l.tokens, l.refusedUntil = limit, 0, 0
	}
	l.tat = now + debt
	if granted == 0 {
		// Asking again when one request is free would make every node ask
		// Redis once an interval while a key is at its limit; this node
		// asks again when a lease is free.
		l.refusedUntil = now + debt - int64(limit.Period) + leaseSize(limit)*limit.interval()
	} else {
		l.expires = now + leaseTTL
	}
	var res Result
	switch {
	case !forSelf:
		l.tokens += granted
	case granted == 0:
		s.refused++
		res = l.refused(now)
	default:
		s.allowed++
		l.tokens += granted - 1
		res = l.allowed(now)
	}
	s.put(h, l, ok, now)
	return res, nil
}

// allowed is the result of a request just allowed from the lease.
func (l *lease) allowed(now int64) Result {
	// The requests leased here and not used are the key's own, not spent.
	return allowed(l.limit, l.tat-now-l.tokens*l.limit.interval())
}

// refused is the result of a request refused because Redis refused one.
func (l *lease) refused(now int64) Result {
	return Result{
		Limit:      l.limit.Rate,
		ResetAfter: time.Duration(min(max(l.tat-now, 0), int64(l.limit.Period))),
		RetryAfter: time.Duration(l.refusedUntil - now),
	}
}

// now is the time in nanoseconds since r.epoch.
func (r *Redis) now() int64 {
	return int64(r.Now().Sub(r.epoch))
}

// leaseScript takes up to ARGV[3] requests of the allowance at KEYS[1], a
// GCRA TAT in microseconds since 2017 (exact in a double for centuries), for
// ARGV[2] requests per ARGV[1] microseconds. It returns how many it granted
// (0 when none is left, which costs nothing) and the key's debt, the time
// from now to its TAT, in microseconds. Like gcra, it cuts a debt longer than
// the period, left by a longer limit, to one period.
var leaseScript = redis.NewScript(`
redis.replicate_commands()
local period = tonumber(ARGV[1])
local interval = period / tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = (t[1] - 1483228800) * 1000000 + t[2]
local stored = tonumber(redis.call("GET", KEYS[1]) or now)
local tat = math.min(math.max(stored, now), now + period)
local granted = math.min(want, math.floor((period - (tat - now)) / interval + 1e-6))
if granted > 0 then
  tat = tat + granted * interval
else
  granted = 0
end
if tat ~= stored and tat > now then
  redis.call("SET", KEYS[1], tat, "PX", math.ceil((tat - now) / 1000))
end
return {granted, tostring(tat - now)}
`)

// call runs leaseScript for key and returns what it granted and the key's
// debt in nanoseconds.
func (r *Redis) call(ctx context.Context, key string, limit Limit, want int64) (granted, debt int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	r.calls.Add(1)
	periodMicros := float64(limit.Period) / float64(time.Microsecond)
	v, err := leaseScript.Run(ctx, r.client, []string{redisPrefix + key}, periodMicros, limit.Rate, want).Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(v) == 2 {
		g, ok := v[0].(int64)
		d, _ := v[1].(string)
		micros, err := strconv.ParseFloat(d, 64)
		if ok && err == nil {
			// Redis's clock counts microseconds; the fractions are noise of
			// its doubles, which near now are 1/16 µs apart.
			return g, int64(math.Round(micros)) * int64(time.Microsecond), nil
		}
	}
	return 0, 0, fmt.Errorf("unexpected answer from Redis: %v", v)
}

// Stats returns the requests allowed and refused so far, the keys with a
// lease on this node now, and the round trips to Redis.
func (r *Redis) Stats() Stats {
	st := r.keys.stats()
	st.RedisCalls, st.RedisErrors = r.calls.Load(), r.errors.Load()
	return st
}
