// Package restapi serves PagerDuty's REST API v2: the front door that checks
// every request's credential, plan, access level and rate limit, and the
// handlers behind it, all speaking PagerDuty's JSON and errors.
package restapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// Store is what the REST API needs of the database.
type Store interface {
	// CredentialByHash returns the key with that hash, its account and, for a
	// user token, its user; 2100 when no key has it.
	CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error)
	// TouchKeys moves the keys' last uses forward, in batches.
	TouchKeys(ctx context.Context, uses []sqlstore.KeyUse) error
	// AuditRecords returns a page of the account's audit trail.
	AuditRecords(ctx context.Context, accountID string, q sqlstore.AuditQuery) ([]*gatehouse.AuditRecord, string, error)
	// Scope returns the account's store as actor sees it.
	Scope(accountID string, actor sqlstore.Actor) *sqlstore.Scope
	// The change feed, which the server follows unless Config.Feed is set.
	authn.ChangeStore
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
	// Feed is the change feed the server's cache follows, shared with the
	// other doors; when nil, the server reads one of its own from Store in
	// Run. Changes made by this process reach the server at once through
	// ApplyChange.
	Feed *authn.Feed
	// ChangePoll is how often the server's own change feed is read; 200 ms
	// when zero.
	ChangePoll time.Duration
	// CacheSize bounds the number of cached keys; authn.DefaultSize
	// (1 000 000) when zero.
	CacheSize int
	// KeyLookupTimeout bounds a key's lookup in the store on a cache miss,
	// beyond which the request is answered 503; authn.DefaultLookupTimeout
	// (2 s) when zero.
	KeyLookupTimeout time.Duration
	// AuthFailures limits failed authentications per client address; none
	// when nil.
	AuthFailures AuthFailures
}

// DefaultRateLimit is PagerDuty's REST limit: 960 requests a minute.
const DefaultRateLimit = 960

// Server is the REST API. Run its background work with Run.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	logger *slog.Logger
	// keys resolves key hashes to principals; trusted only while feed is
	// read.
	keys    *authn.Cache[*access.Principal]
	feed    *authn.Feed
	ownFeed bool
	// accounts and identities are shared by the cached principals.
	accounts   *authn.Shared[gatehouse.Account]
	identities *authn.Shared[access.Identity]
	limit      ratelimit.Limit
	// limitHeader is the ratelimit-limit header's value, the same on every
	// answer; headerNumbers the values of the other rate limit headers.
	limitHeader   []string
	headerNumbers []string
	// flushEvery is how often the keys' last uses are written.
	flushEvery time.Duration
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
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = authn.DefaultSize
	}
	s := &Server{
		cfg:           cfg,
		mux:           http.NewServeMux(),
		logger:        cfg.Logger,
		accounts:      authn.NewShared(cfg.CacheSize, sameAccount),
		identities:    authn.NewShared(cfg.CacheSize, sameIdentity),
		limit:         ratelimit.Limit{Rate: cfg.RateLimit, Period: time.Minute},
		limitHeader:   []string{strconv.Itoa(cfg.RateLimit)},
		headerNumbers: newHeaderNumbers(min(max(cfg.RateLimit, 60), maxHeaderNumber)),
		flushEvery:    lastUsedFlush,
	}
	s.keys = s.newKeyCache()
	s.feed, s.ownFeed = cfg.Feed, cfg.Feed == nil
	if s.ownFeed {
		s.feed = authn.NewFeed(authn.FeedConfig{Store: cfg.Store, Poll: cfg.ChangePoll, Logger: cfg.Logger, Now: cfg.Now})
	}
	s.feed.Follow(s.keys)
	for i := range routes {
		s.handle(&routes[i])
	}
	s.mux.HandleFunc("/", s.notFound)
	return s
}

// ServeHTTP serves the REST API: every path is a route of the table, or
// the fallback that answers 404 once the credential is admitted.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.recoverPanic(w, r)
	if !isCleanPath(r.URL.Path) {
		// ServeMux would answer an HTML redirect; PagerDuty has no such
		// paths.
		writeError(w, errNotFound)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handle registers rt with the mux: the front door admits the request, the
// route's permission is checked, and its handler answers.
func (s *Server) handle(rt *route) {
	s.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.admit(w, r)
		if !ok {
			return
		}
		if err := p.Permit(rt.Perm); err != nil {
			s.fail(w, r, err)
			return
		}
		if rt.Ability != "" && !p.Account.Has(rt.Ability) {
			s.fail(w, r, gatehouse.Errorf(gatehouse.CodeAbilityMissing, "The %s plan does not have the %s ability", p.Account.Plan, rt.Ability))
			return
		}
		req := &request{http: r, ctx: r.Context(), principal: p, externalURL: s.cfg.ExternalURL, store: s.cfg.Store}
		status, body, err := rt.Handle(req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	})
}

// notFound is the route of every path the table does not have: 404 for an
// admitted credential, the front door's answer for any other.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.admit(w, r); ok {
		writeError(w, errNotFound)
	}
}

// admit is the front door, once per request: credential, rate limit, plan
// and access level. It answers and returns false when the request may not
// go on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	now := s.cfg.Now()
	p, err := s.authenticate(r.Context(), r.Header["Authorization"], now, clientAddr(r))
	if err != nil {
		if e, ok := errors.AsType[*tooManyFailures](err); ok {
			w.Header()["Retry-After"] = s.headerNumber(max(ceilSeconds(e.retryAfter), 1))
			err = errTooManyFailures
		}
		s.fail(w, r, err)
		return nil, false
	}
	if s.cfg.Limiter != nil && s.limit.Rate > 0 {
		if !s.rateLimit(w, r, p) {
			return nil, false
		}
	}
	if err := p.Admit(r.Method); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return p, true
}

// isCleanPath reports whether p is a path ServeMux serves as it is: rooted,
// with no empty, "." or ".." segment.
func isCleanPath(p string) bool {
	return p != "" && p[0] == '/' && path.Clean(p) == p || p == "/"
}

// fail answers with err: its PagerDuty code if it has one, else a logged 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := errors.AsType[*gatehouse.Error](err); ok {
		writeError(w, e)
		return
	}
	if r.Context().Err() != nil {
		// The client hung up: nobody reads the answer, and nothing failed
		// here. The access log shows it.
		writeError(w, errClientGone)
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
