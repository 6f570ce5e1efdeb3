// Package restapi serves PagerDuty's REST API v2: the front door that checks
// every request's credential, plan, access level and rate limit, and the
// handlers behind it, all speaking PagerDuty's JSON and errors.
package restapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// Store is what the REST API needs of the database.
type Store interface {
	// CredentialByHash returns the key with that hash, its account and, for a
	// user token, its user; 2100 when no key has it.
	CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error)
	// ChangesAfter returns up to limit changes after afterID, oldest first.
	ChangesAfter(ctx context.Context, afterID int64, limit int) ([]gatehouse.Change, error)
	// LastChangeID returns the newest change's ID.
	LastChangeID(ctx context.Context) (int64, error)
	// TouchKeys moves the keys' last-used times forward.
	TouchKeys(ctx context.Context, lastUsed map[string]time.Time) error
	// PruneChanges deletes the changes recorded before cutoff.
	PruneChanges(ctx context.Context, cutoff time.Time) (int64, error)
}

// Config configures a Server.
type Config struct {
	Store Store
	// Limiter enforces RateLimit; nil or a RateLimit of 0 turns limits off.
	Limiter ratelimit.Limiter
	// RateLimit is how many requests a minute each general key, and each user
	// across all their tokens, may make.
	RateLimit int
	// ExternalURL is the server's URL as clients reach it, for links.
	ExternalURL string
	Logger      *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ChangePoll is how often the change feed is read; 200 ms when zero.
	// Changes made by this process reach the server at once through
	// ApplyChange.
	ChangePoll time.Duration
	// CacheSize bounds the number of cached keys; 100 000 when zero.
	CacheSize int
}

// DefaultRateLimit is PagerDuty's REST limit: 960 requests a minute.
const DefaultRateLimit = 960

// changeRetention is how long rows of the change feed are kept.
const changeRetention = 24 * time.Hour

// negativeTTL is how long an unknown key's hash is remembered.
const negativeTTL = 5 * time.Second

// Server is the REST API. Run its background work with Run.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	keys  *keyCache
	usage *usageTracker
	limit ratelimit.Limit
	// limitHeader is the ratelimit-limit header's value, the same on every
	// answer.
	limitHeader []string
	logger      *slog.Logger
	// feedReadAt is when the last successful read of the change feed began,
	// in Unix nanoseconds; 0 before the first. Cached keys are trusted only
	// while it is recent, so a feed that stalls (a hung database) makes every
	// request ask the store instead of serving a key disabled meanwhile.
	feedReadAt atomic.Int64
	// maxFeedAge is how old feedReadAt may be for the cache to be used.
	maxFeedAge time.Duration
	// feedReady is closed after the first successful read of the feed.
	feedReady chan struct{}
}

// New returns a REST API server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ChangePoll == 0 {
		cfg.ChangePoll = 200 * time.Millisecond
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 100_000
	}
	s := &Server{
		cfg:         cfg,
		mux:         http.NewServeMux(),
		keys:        newKeyCache(cfg.CacheSize),
		usage:       newUsageTracker(),
		limit:       ratelimit.Limit{Rate: cfg.RateLimit, Period: time.Minute},
		limitHeader: []string{strconv.Itoa(cfg.RateLimit)},
		logger:      cfg.Logger,
		feedReady:   make(chan struct{}),
		maxFeedAge:  cfg.ChangePoll + 800*time.Millisecond,
	}
	s.routes()
	return s
}

type principalKey struct{}

// principalOf returns the principal the front door put in r's context.
func principalOf(r *http.Request) *access.Principal {
	return r.Context().Value(principalKey{}).(*access.Principal)
}

// ServeHTTP is the front door: credential, rate limit, plan and access level,
// then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.recoverPanic(w, r)
	if !isCleanPath(r.URL.Path) {
		// ServeMux would answer an HTML redirect; PagerDuty has no such
		// paths.
		writeError(w, errNotFound)
		return
	}
	now := s.cfg.Now()
	p, err := s.authenticate(r.Context(), r.Header["Authorization"], now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.Limiter != nil && s.limit.Rate > 0 {
		if !s.rateLimit(w, r, p) {
			return
		}
	}
	if err := p.Admit(r.Method); err != nil {
		s.fail(w, r, err)
		return
	}
	s.usage.record(p.KeyID, now)
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

// isCleanPath reports whether p is a path ServeMux serves as it is: rooted,
// with no empty, "." or ".." segment.
func isCleanPath(p string) bool {
	return p != "" && p[0] == '/' && path.Clean(p) == p || p == "/"
}

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
// limit headers. It answers 429 and returns false when none is left, and
// returns false without answering when the client hung up. When the limiter
// fails (Redis down), the request goes through: a limit is not worth an
// outage.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, p *access.Principal) bool {
	res, err := s.cfg.Limiter.Allow(r.Context(), p.RateLimitKey, s.limit)
	if err != nil && r.Context().Err() != nil {
		return false
	}
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

// fail answers with err: its PagerDuty code if it has one, else a logged 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*gatehouse.Error](err); ok {
		writeError(w, e)
		return
	}
	s.logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, errInternal)
}

func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.logger.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v)
	writeError(w, errInternal)
}

// Run reads the change feed, so that keys disabled, deleted or changed
// elsewhere stop working here within a poll, and flushes last-used times
// every 30 seconds. It returns when ctx ends, after a last flush.
func (s *Server) Run(ctx context.Context) error {
	started := s.cfg.Now()
	last, err := s.cfg.Store.LastChangeID(ctx)
	for err != nil {
		s.logger.Warn("change feed: cannot read the newest change; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		started = s.cfg.Now()
		last, err = s.cfg.Store.LastChangeID(ctx)
	}
	s.feedReadAt.Store(started.UnixNano())
	close(s.feedReady)

	poll := time.NewTicker(s.cfg.ChangePoll)
	defer poll.Stop()
	flush := time.NewTicker(30 * time.Second)
	defer flush.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.usage.flush(flushCtx, s.cfg.Store.TouchKeys); err != nil {
				s.logger.Warn("last-used times not saved", "err", err)
			}
			return nil
		case <-flush.C:
			if err := s.usage.flush(ctx, s.cfg.Store.TouchKeys); err != nil {
				s.logger.Warn("last-used times not saved; will retry", "err", err)
			}
			continue
		case <-prune.C:
			if _, err := s.cfg.Store.PruneChanges(ctx, s.cfg.Now().Add(-changeRetention)); err != nil {
				s.logger.Warn("old changes not pruned; will retry", "err", err)
			}
			continue
		case <-poll.C:
		}
		last = s.readChanges(ctx, last)
	}
}

// ApplyChange drops what ch makes stale from the server's caches. Wire it to
// the store's OnChange, so that a change made in this process takes effect
// before the call that made it returns.
func (s *Server) ApplyChange(ch gatehouse.Change) {
	s.keys.apply(ch)
}

// readChanges applies the changes after last and returns the newest ID seen.
// A read that takes longer than the cache may trust the feed is abandoned.
func (s *Server) readChanges(ctx context.Context, last int64) int64 {
	started := s.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, s.maxFeedAge)
	defer cancel()
	for {
		changes, err := s.cfg.Store.ChangesAfter(ctx, last, 1000)
		if err != nil {
			if ctx.Err() == nil {
				// Cached keys may now be stale for longer than promised: drop
				// them all rather than serve a disabled key.
				s.logger.Warn("change feed unreadable; cache cleared", "err", err)
				s.keys.clear()
			}
			return last
		}
		for _, ch := range changes {
			s.keys.apply(ch)
			last = ch.ID
		}
		if len(changes) < 1000 {
			s.feedReadAt.Store(started.UnixNano())
			return last
		}
	}
}
