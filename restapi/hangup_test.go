package restapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// goneLimiter answers as a limiter does once the request's client hung up.
type goneLimiter struct{}

func (goneLimiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	return ratelimit.Result{}, fmt.Errorf("rate limit %s: %w", key, ctx.Err())
}

// TestRateLimitHangUp: a client that hung up before its request was rate
// limited gets nothing, and nothing is logged: it is not a fault.
func TestRateLimitHangUp(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	logs := &lockedBuffer{}
	srv := New(Config{Store: s, Limiter: goneLimiter{}, RateLimit: DefaultRateLimit, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	// The key is cached, so that only the rate limit meets the hang-up.
	key, _ := mustKey(t, s, a, nil, false)
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	if _, _, err := srv.authenticate(t.Context(), []string{token(key)}, time.Now(), netip.MustParseAddr("192.0.2.1")); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/abilities", nil)
	req.Header.Set("Authorization", token(key))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Body.Len() != 0 || logs.String() != "" {
		t.Errorf("a request whose client hung up: answered %d %q, logged %q; want nothing", w.Code, w.Body, logs)
	}
}
