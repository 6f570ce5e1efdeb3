package ratelimit

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// newTestRedis connects to the Redis named by GATEHOUSE_TEST_REDIS_URL and
// skips the test when it is unset.
func newTestRedis(t *testing.T) *redis.Client {
	t.Helper()
	url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redis.ParseURL(%q) error: %v", url, err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("ping %s: %v", url, err)
	}
	return client
}

func TestRedisConformance(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	testLimiter(t, func(t *testing.T) Limiter { return NewRedis(client) })
}

func TestRedisKeyPrefix(t *testing.T) {
	t.Parallel()
	client := newTestRedis(t)
	key := uniqueKey(t)
	limit := Limit{Rate: 2, Period: time.Minute}
	if _, err := NewRedis(client).Allow(t.Context(), key, limit); err != nil {
		t.Fatalf("Allow(%q, %v) error: %v", key, limit, err)
	}
	// redis_rate puts its own "rate:" before our prefix.
	stored := "rate:gatehouse:rl:" + key
	ttl, err := client.TTL(t.Context(), stored).Result()
	if err != nil {
		t.Fatalf("TTL %q error: %v", stored, err)
	}
	if ttl <= 0 || ttl > limit.Period {
		t.Errorf("TTL %q = %v, want a key that expires within the period", stored, ttl)
	}
	t.Cleanup(func() { client.Del(context.Background(), stored) })
}

func TestRedisErrorIsWrapped(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	client.Close()
	limit := Limit{Rate: 2, Period: time.Minute}
	_, err := NewRedis(client).Allow(t.Context(), "k", limit)
	if !errors.Is(err, redis.ErrClosed) || !strings.HasPrefix(err.Error(), "rate limit k: ") {
		t.Errorf(`Allow("k", %v) error = %v, want "rate limit k: " wrapping redis.ErrClosed`, limit, err)
	}
}
