// Package restapi serves PagerDuty's REST API v2: the front door that checks
// every request's credential, plan, access level and rate limit, and the
// handlers behind it, all speaking PagerDuty's JSON and errors.
package restapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/edge"
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
	if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' && edge.IsCleanPath(p[:len(p)-1]) {
		// PagerDuty takes a trailing slash, and go-pagerduty sends one on
		// PUT /incidents/{id}/alerts/.
		u := *r.URL
		u.Path, u.RawPath = p[:len(p)-1], ""
		r.URL = &u
	}
	if !edge.IsCleanPath(r.URL.Path) {
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
	params := pathParams(rt.Pattern)
	s.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		req := s.newRequest(r)
		defer req.release()
		req.info.Route = rt.Pattern
		p, ok := s.admit(w, req)
		if !ok {
			return
		}
		if err := p.Permit(rt.Perm); err != nil {
			s.fail(w, r, err)
			return
		}
		if rt.Ability != "" {
			if err := p.Account.LacksAbility(rt.Ability); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if err := checkText(r, params); err != nil {
			s.fail(w, r, err)
			return
		}
		req.principal = p
		if err := req.checkFrom(rt.From); err != nil {
			s.fail(w, r, err)
			return
		}
		status, body, err := rt.Handle(req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		switch b := body.(type) {
		case nil:
			w.WriteHeader(status)
		case *rawJSON:
			w.Header()["Content-Type"] = jsonContentType
			w.WriteHeader(status)
			w.Write(b.b)
		default:
			writeJSON(w, status, body)
		}
	})
}

// pathParams are the names of the path parameters of a route's pattern,
// such as "id" of "GET /users/{id}".
func pathParams(pattern string) []string {
	var names []string
	for _, seg := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}

// checkText refuses, before the store sees them, parameters that no
// object's ID or text can be: not UTF-8, or holding a NUL character (which
// PostgreSQL cannot take, and SQLite never matches). Such a path parameter
// names no object (404); such a query parameter is a 400.
func checkText(r *http.Request, params []string) error {
	for _, name := range params {
		if !isText(r.PathValue(name)) {
			return errNotFound
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	for name, values := range r.URL.Query() {
		for _, v := range values {
			if !isText(v) {
				return gatehouse.InvalidInput(fmt.Sprintf("The query parameter %q must be UTF-8 text without NUL characters", name))
			}
		}
	}
	return nil
}

func isText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// errFromMissing is PagerDuty's answer to an account-level credential
// without the From header an operation requires.
var errFromMissing = gatehouse.Errorf(gatehouse.CodeFromHeaderMissing, `You must specify a user's email address in the "From" header to perform this action`)

// checkFrom checks the From header of a request made with an account-level
// credential: where sent, it must be the email of a user of the account,
// who becomes r.from (400, code 2001, otherwise); where the route requires
// it, it must be sent (400, code 2016). User-level credentials act as their
// user whatever From says.
func (r *request) checkFrom(required bool) error {
	if r.principal.User != nil {
		r.from = r.principal.User
		return nil
	}
	from := r.http.Header.Get("From")
	if from == "" {
		if required {
			return errFromMissing
		}
		return nil
	}
	u, err := r.scope().UserByEmail(r.ctx, from)
	if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
		return gatehouse.InvalidInput(fmt.Sprintf(`The "From" header must be the email address of a user of this account; no user has %q`, from))
	}
	if err != nil {
		return fmt.Errorf("check From header: %w", err)
	}
	r.from = u
	return nil
}

// notFound is the route of every path the table does not have: 404 for an
// admitted credential, the front door's answer for any other.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	req := s.newRequest(r)
	defer req.release()
	if _, ok := s.admit(w, req); ok {
		writeError(w, errNotFound)
	}
}

// admit is the front door, once per request: credential, rate limit, plan
// and access level. It answers and returns false when the request may not
// go on.
func (s *Server) admit(w http.ResponseWriter, req *request) (*access.Principal, bool) {
	r, info := req.http, req.info
	now := info.Start // the outer layer's clock read, when it is there
	if now.IsZero() {
		now = s.cfg.Now()
	}
	p, last4, err := s.authenticate(req.ctx, r.Header["Authorization"], now, clientAddr(r, info))
	if err != nil {
		if e, ok := errors.AsType[*tooManyFailures](err); ok {
			w.Header()["Retry-After"] = s.headerNumber(max(ceilSeconds(e.retryAfter), 1))
			err = errTooManyFailures
		}
		info.AuthFailure = authFailure(err)
		s.fail(w, r, err)
		return nil, false
	}
	info.Credential, info.Last4 = p.Kind.String(), last4
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
	s.log(r.Context()).Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, errInternal)
}

// log is the logger of a request: the outer layer's, which names the
// request, when the request passed it; the server's otherwise (tests).
func (s *Server) log(ctx context.Context) *slog.Logger {
	if edge.InfoOf(ctx).RequestID != "" {
		return edge.Logger(ctx)
	}
	return s.logger
}

// authFailures are the metrics' labels of the reasons a credential is
// refused with 401.
var authFailures = map[string]string{
	string(access.ProblemMissing):   "missing",
	string(access.ProblemRepeated):  "repeated",
	string(access.ProblemMalformed): "malformed",
	string(access.ProblemKeyShape):  "key_shape",
	string(access.ProblemEmpty):     "empty",
	errUnknownKey.Errors[0]:         "unknown_key",
	errBearerNotYet.Errors[0]:       "bearer",
}

// authFailure is the label of the reason err refused a credential.
func authFailure(err error) string {
	e, ok := errors.AsType[*gatehouse.Error](err)
	switch {
	case !ok:
		return "store"
	case e.Code != gatehouse.CodeUnauthorized:
		return strconv.Itoa(e.Code)
	case len(e.Errors) > 0 && authFailures[e.Errors[0]] != "":
		return authFailures[e.Errors[0]]
	}
	return "other"
}
