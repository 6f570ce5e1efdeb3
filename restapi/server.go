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
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/edge"
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
	// AuditRecords returns a page of the account's audit trail.
	AuditRecords(ctx context.Context, accountID string, q sqlstore.AuditQuery) ([]*gatehouse.AuditRecord, string, error)
	// Scope returns the account's store as actor sees it.
	Scope(accountID string, actor sqlstore.Actor) *sqlstore.Scope
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
	for i := range routes {
		s.handle(&routes[i])
	}
	s.mux.HandleFunc("/", s.notFound)
	return s
}

// ServeHTTP serves the REST API: every path is a route of the table, or
// the fallback that answers 404 once the credential is admitted.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	params := pathParams(rt.Pattern)
	s.mux.HandleFunc(rt.Pattern, func(w http.ResponseWriter, r *http.Request) {
		edge.InfoOf(r.Context()).Route = rt.Pattern
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
		if err := checkText(r, params); err != nil {
			s.fail(w, r, err)
			return
		}
		req := &request{http: r, ctx: r.Context(), principal: p, externalURL: s.cfg.ExternalURL, store: s.cfg.Store}
		if err := req.checkFrom(rt.From); err != nil {
			s.fail(w, r, err)
			return
		}
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
	if _, ok := s.admit(w, r); ok {
		writeError(w, errNotFound)
	}
}

// admit is the front door, once per request: credential, rate limit, plan
// and access level. It answers and returns false when the request may not
// go on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	now := s.cfg.Now()
	info := edge.InfoOf(r.Context())
	p, err := s.authenticate(r.Context(), r.Header["Authorization"], now)
	if err != nil {
		info.AuthFailure = authFailure(err)
		s.fail(w, r, err)
		return nil, false
	}
	info.Credential = p.Kind.String()
	if _, secret, problem := access.ParseAuthorization(r.Header["Authorization"]); problem == "" {
		info.Last4 = access.Last4(secret)
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
	s.usage.record(p.KeyID, now)
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
