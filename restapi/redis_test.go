package restapi

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// TestRateLimitSharedThroughRedis runs two nodes on one database and one
// Redis: a key's allowance is spent across both.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	limiter := ratelimit.NewRedis(client)

	cfg := storetest.Config(t, "sqlite")
	s := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, a, nil, false)
	shared := func(c *Config) { c.Limiter, c.RateLimit = limiter, 4 }
	node1 := newFixture(t, s, shared)
	node2 := newFixture(t, storetest.Open(t, cfg), shared)

	var got []int
	for _, node := range []*fixture{node1, node2, node1, node2, node1, node2} {
		got = append(got, node.do(t, "GET", "/abilities", token(key)).Status)
	}
	want := []int{200, 200, 200, 200, 429, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses across two nodes = %v, want %v", got, want)
		}
	}
	r := node2.do(t, "GET", "/abilities", token(key))
	wantError(t, r, 429, gatehouse.CodeRateLimited, "Rate Limit Exceeded")
	if r.Header.Get("Ratelimit-Limit") != "4" || r.Header.Get("Ratelimit-Remaining") != "0" || r.Header.Get("Retry-After") == "" {
		t.Errorf("429 headers: %v", r.Header)
	}
}
