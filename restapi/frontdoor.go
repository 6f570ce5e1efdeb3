package restapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/edge"
)

// AuthFailures limits failed authentications per client address, so that a
// flood of made-up keys from one address is refused before it reaches the
// store. The per-address limiter of package ratelimit implements it.
type AuthFailures interface {
	// Blocked reports whether addr has failed too often at now, and when it
	// may try again.
	Blocked(addr netip.Addr, now time.Time) (retryAfter time.Duration, blocked bool)
	// Fail records a failed authentication from addr at now.
	Fail(addr netip.Addr, now time.Time)
}

// newKeyCache returns the cache of REST API keys: hashes to principals, nil
// for a disabled key.
func (s *Server) newKeyCache() *authn.Cache[*access.Principal] {
	return authn.New(authn.Config[*access.Principal]{
		Load:          s.loadKey,
		Size:          s.cfg.CacheSize,
		LookupTimeout: s.cfg.KeyLookupTimeout,
		BeforeLookup:  s.beforeLookup,
		UseID: func(p *access.Principal) string {
			if p == nil {
				return ""
			}
			return p.KeyID
		},
		What:   "REST API key",
		Logger: s.logger,
	})
}

// authenticate resolves an Authorization header to a principal and the last
// four characters of its key, or returns a 401 error (429 for an address
// that failed too often, 503 when the store cannot be asked in time).
func (s *Server) authenticate(ctx context.Context, header []string, now time.Time, from netip.Addr) (*access.Principal, string, error) {
	scheme, secret, problem := access.ParseAuthorization(header)
	if problem != "" {
		return nil, "", unauthorized(string(problem))
	}
	if scheme == access.SchemeBearer {
		return nil, "", errBearerNotYet
	}
	p, err := s.keys.Get(ctx, access.HashKey(secret), now, from)
	if errors.Is(err, authn.ErrUnknown) || err == nil && p == nil {
		if s.cfg.AuthFailures != nil {
			s.cfg.AuthFailures.Fail(from, now)
		}
		return nil, "", errUnknownKey
	}
	return p, access.Last4(secret), err
}

// beforeLookup refuses a lookup in the store to an address that failed to
// authenticate too often. Keys already cached still work from it.
func (s *Server) beforeLookup(ctx context.Context, from netip.Addr) error {
	if s.cfg.AuthFailures == nil {
		return nil
	}
	if after, blocked := s.cfg.AuthFailures.Blocked(from, s.cfg.Now()); blocked {
		return &tooManyFailures{retryAfter: after}
	}
	return nil
}

// tooManyFailures is the answer to an address that failed to authenticate
// too often: 429 with Retry-After.
type tooManyFailures struct{ retryAfter time.Duration }

func (e *tooManyFailures) Error() string {
	return fmt.Sprintf("too many failed authentications; retry after %s", e.retryAfter)
}

var errTooManyFailures = &gatehouse.Error{
	Code:    gatehouse.CodeRateLimited,
	Message: "Rate Limit Exceeded",
	Errors:  []string{"Too many failed authentications from this address"},
}

// clientAddr is the address of r's client: the outer layer's, or the peer's
// for a request that did not pass it; the zero Addr when unknown.
func clientAddr(r *http.Request, info *edge.Info) netip.Addr {
	if info.ClientAddr.IsValid() {
		return info.ClientAddr
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// loadKey reads the key with that hash from the store. The principals of one
// account (general keys) or one user (tokens) share their identity, and with
// it the account and the user, so a million cached keys hold one copy of
// each.
func (s *Server) loadKey(ctx context.Context, hash authn.Hash) (*access.Principal, []authn.Tag, error) {
	cred, err := s.cfg.Store.CredentialByHash(ctx, hash)
	if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
		return nil, nil, authn.ErrUnknown
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up key: %w", err)
	}
	account := s.accounts.Get(cred.Account.ID, cred.Account)
	tags := []authn.Tag{authn.TagOf(gatehouse.ChangeAccount, account.ID)}
	var id *access.Identity
	if cred.Key.Kind == gatehouse.KeyUserToken && cred.User != nil {
		tags = append(tags, authn.TagOf(gatehouse.ChangeUser, cred.User.ID))
		id = s.identities.Get(cred.User.ID, access.NewIdentity(account, cred.User))
	} else {
		id = s.identities.Get(account.ID, access.NewIdentity(account, nil))
	}
	if cred.Key.Disabled() {
		return nil, tags, nil
	}
	return id.KeyPrincipal(cred.Key), tags, nil
}

func sameAccount(a, b *gatehouse.Account) bool {
	return a.ID == b.ID && a.Subdomain == b.Subdomain && a.Name == b.Name && a.Plan == b.Plan &&
		maps.Equal(a.AbilityOverrides, b.AbilityOverrides) && a.CreatedAt.Equal(b.CreatedAt)
}

// sameIdentity reports whether two identities have the same (shared)
// account and equal users, so that one can stand for the other.
func sameIdentity(a, b *access.Identity) bool {
	if a.Account != b.Account || (a.User == nil) != (b.User == nil) {
		return false
	}
	return a.User == nil || *a.User == *b.User
}

// rateLimit draws one request from p's allowance and sets PagerDuty's rate
// limit headers. It answers 429 and returns false when none is left, and
// returns false without answering when the client hung up. When the limiter
// fails (Redis down), the request goes through: a limit is not worth an
// outage.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, p *access.Principal) bool {
	res, err := s.cfg.Limiter.Allow(r.Context(), p.RateLimitKey(), s.limit)
	if err != nil && r.Context().Err() != nil {
		return false // the client hung up: nobody to answer, nothing failed
	}
	if err != nil {
		s.logger.Warn("rate limiter failed; request allowed", "err", err)
		return true
	}
	h := w.Header()
	// Canonical keys assigned directly: Header.Set would check them again on
	// every request. The values come from a table made once.
	h["Ratelimit-Limit"] = s.limitHeader
	h["Ratelimit-Remaining"] = s.headerNumber(res.Remaining)
	h["Ratelimit-Reset"] = s.headerNumber(ceilSeconds(res.ResetAfter))
	if !res.Allowed {
		h["Retry-After"] = s.headerNumber(max(ceilSeconds(res.RetryAfter), 1))
		writeError(w, errRateLimited)
		return false
	}
	return true
}

// newHeaderNumbers returns the header values "0" to n, made once so that the
// rate limit headers of an answer cost no allocation.
func newHeaderNumbers(n int) []string {
	nums := make([]string, n+1)
	for i := range nums {
		nums[i] = strconv.Itoa(i)
	}
	return nums
}

// maxHeaderNumber bounds the table of header values; larger numbers are
// formatted on each answer.
const maxHeaderNumber = 10_000

// headerNumber returns the header value of n: from the table when it has
// it, as a slice of its own capacity, so that an append elsewhere copies it.
func (s *Server) headerNumber(n int) []string {
	if n >= 0 && n < len(s.headerNumbers) {
		return s.headerNumbers[n : n+1 : n+1]
	}
	return []string{strconv.Itoa(n)}
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
