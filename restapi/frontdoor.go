package restapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

// authenticate resolves an Authorization header to a principal, or returns
// a 401 error.
func (s *Server) authenticate(ctx context.Context, header []string, now time.Time) (*access.Principal, error) {
	scheme, secret, problem := access.ParseAuthorization(header)
	if problem != "" {
		return nil, unauthorized(string(problem))
	}
	if scheme == access.SchemeBearer {
		return nil, errBearerNotYet
	}
	hash := access.HashKey(secret)
	// Whether the cache may be used is decided before the store is read: an
	// answer read before the feed was known to be current is never cached.
	fresh := now.UnixNano()-s.feedReadAt.Load() < int64(s.maxFeedAge)
	if fresh {
		if e, ok := s.keys.get(hash, now); ok {
			if e.principal == nil {
				return nil, errUnknownKey
			}
			return e.principal, nil
		}
	}
	return s.lookupKey(ctx, hash, now, fresh)
}

// lookupKey is the cache miss: ask the store, and remember the answer when
// cacheable.
func (s *Server) lookupKey(ctx context.Context, hash [32]byte, now time.Time, cacheable bool) (*access.Principal, error) {
	gen := s.keys.generation()
	cred, err := s.cfg.Store.CredentialByHash(ctx, hash)
	switch {
	case gatehouse.ErrorCode(err) == gatehouse.CodeNotFound:
		if cacheable {
			s.keys.put(hash, cacheEntry{expires: now.Add(negativeTTL)}, gen)
		}
		return nil, errUnknownKey
	case err != nil:
		return nil, fmt.Errorf("look up key: %w", err)
	}
	entry := cacheEntry{keyID: cred.Key.ID, accountID: cred.Account.ID}
	if cred.User != nil {
		entry.userID = cred.User.ID
	}
	if !cred.Key.Disabled() {
		entry.principal = access.KeyPrincipal(cred.Key, cred.Account, cred.User)
	}
	if cacheable {
		s.keys.put(hash, entry, gen)
	}
	if entry.principal == nil {
		return nil, errUnknownKey
	}
	return entry.principal, nil
}

// rateLimit draws one request from p's allowance and sets PagerDuty's rate
// limit headers. It answers 429 and returns false when none is left. When the
// limiter fails (Redis down), the request goes through: a limit is not worth
// an outage.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, p *access.Principal) bool {
	res, err := s.cfg.Limiter.Allow(r.Context(), p.RateLimitKey, s.limit)
	if err != nil {
		s.logger.Warn("rate limiter failed; request allowed", "err", err)
		return true
	}
	h := w.Header()
	// Canonical keys assigned directly: Header.Set would check them again on
	// every request.
	h["Ratelimit-Limit"] = s.limitHeader
	h["Ratelimit-Remaining"] = []string{strconv.Itoa(res.Remaining)}
	h["Ratelimit-Reset"] = []string{strconv.Itoa(ceilSeconds(res.ResetAfter))}
	if !res.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(ceilSeconds(res.RetryAfter), 1)))
		writeError(w, errRateLimited)
		return false
	}
	return true
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
