package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/edge"
	"github.com/gatehouse-dev/gatehouse/eventsapi"
	"github.com/gatehouse-dev/gatehouse/fault"
	"github.com/gatehouse-dev/gatehouse/metrics"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/restapi"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

type serveConfig struct {
	db             databaseFlags
	addr           string
	metricsAddr    string
	externalURL    string
	logFormat      string
	logLevel       string
	ownerEmail     string
	restRateLimit  int
	redisURL       string
	trustedProxies string
	cacheSize      int
	failedAuth     int
	limits         serverLimits
	// eventsRateLimit is events a minute per routing key; 0 is off.
	eventsRateLimit int
}

// serverLimits bound what a client may hold of the server.
type serverLimits struct {
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxHeaderBytes    int
	maxConnections    int
}

func (l *serverLimits) register(fs *flag.FlagSet) {
	fs.DurationVar(&l.readHeaderTimeout, "read-header-timeout", 5*time.Second, "longest wait for a request's headers")
	fs.DurationVar(&l.readTimeout, "read-timeout", 30*time.Second, "longest wait for a whole request, headers and body")
	fs.DurationVar(&l.writeTimeout, "write-timeout", 30*time.Second, "longest time to answer a request once its headers are read")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", 60*time.Second, "how long an idle keep-alive connection is kept open")
	fs.DurationVar(&l.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long SIGTERM waits for requests in flight before closing every connection")
	fs.IntVar(&l.maxHeaderBytes, "max-header-bytes", 64<<10, "largest request header, in bytes (431 above)")
	fs.IntVar(&l.maxConnections, "max-connections", 0, "cap on open client connections; 0 for three quarters of the open-file limit")
}

func (l *serverLimits) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--read-header-timeout", l.readHeaderTimeout},
		{"--read-timeout", l.readTimeout},
		{"--write-timeout", l.writeTimeout},
		{"--idle-timeout", l.idleTimeout},
		{"--shutdown-timeout", l.shutdownTimeout},
	} {
		if d.v <= 0 {
			return usagef("%s must be more than 0, not %v", d.name, d.v)
		}
	}
	if l.maxHeaderBytes < 1024 {
		return usagef("--max-header-bytes must be at least 1024, not %d", l.maxHeaderBytes)
	}
	if l.maxConnections < 0 {
		return usagef("--max-connections must be 0 (from the open-file limit) or more, not %d", l.maxConnections)
	}
	if l.maxConnections == 0 {
		l.maxConnections = edge.DefaultMaxConns()
	}
	return nil
}

// newServer returns an http.Server with l's limits.
func (l *serverLimits) newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeaderTimeout,
		ReadTimeout:       l.readTimeout,
		WriteTimeout:      l.writeTimeout,
		IdleTimeout:       l.idleTimeout,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Body caps of the doors: PagerDuty's Events API takes payloads up to
// 512 KB; the largest REST body is far below 1 MB.
const (
	restMaxBody   = 1 << 20
	eventsMaxBody = 512 << 10
	smallMaxBody  = 64 << 10
)

func runServe(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	var cfg serveConfig
	cfg.db.register(fs)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "address to serve /metrics on instead of --addr (such as 127.0.0.1:9090)")
	fs.StringVar(&cfg.externalURL, "external-url", "", "URL clients reach this server at, for links in responses (default http://ADDR)")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "lowest level logged: debug, info (with a line per request), warn or error")
	fs.StringVar(&cfg.ownerEmail, "owner-email", "owner@example.com", "email of the owner created on the first start")
	fs.IntVar(&cfg.restRateLimit, "rest-rate-limit", restapi.DefaultRateLimit, "REST requests a minute per general key and per user; 0 turns limits off")
	fs.StringVar(&cfg.redisURL, "redis-url", "", "Redis URL (redis://…) to share rate limits between nodes; in memory when empty")
	fs.IntVar(&cfg.failedAuth, "failed-auth-limit", 300, "failed authentications a minute per client address before 429; 0 turns the limit off")
	fs.IntVar(&cfg.cacheSize, "cache-size", authn.DefaultSize, "credentials kept in memory on this node, REST API keys and as many routing keys; the least recently used go first")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For gives the client's address")
	cfg.limits.register(fs)
	fs.IntVar(&cfg.eventsRateLimit, "events-rate-limit", eventsapi.DefaultRateLimit, "Events API events a minute per routing key; 0 turns limits off")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	logger, logs, err := newLogger(cfg.logFormat, cfg.logLevel, stderr)
	if err != nil {
		return err
	}
	logsCtx, stopLogs := context.WithCancel(context.Background())
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		logs.Run(logsCtx)
	}()
	defer func() {
		stopLogs()
		<-logsDone
	}()
	if err := gatehouse.ValidateEmail(gatehouse.NormalizeEmail(cfg.ownerEmail)); err != nil {
		return usagef("--owner-email: %v", err.(*gatehouse.Error).Errors[0])
	}
	if cfg.restRateLimit < 0 {
		return usagef("--rest-rate-limit must be 0 (off) or more, not %d", cfg.restRateLimit)
	}
	if cfg.eventsRateLimit < 0 {
		return usagef("--events-rate-limit must be 0 (off) or more, not %d", cfg.eventsRateLimit)
	}
	if cfg.failedAuth < 0 {
		return usagef("--failed-auth-limit must be 0 (off) or more, not %d", cfg.failedAuth)
	}
	if cfg.cacheSize < 1 {
		return usagef("--cache-size must be at least 1, not %d", cfg.cacheSize)
	}
	if err := cfg.limits.check(); err != nil {
		return err
	}
	trusted, err := edge.ParseTrustedProxies(cfg.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	limiter, err := newLimiter(cfg.redisURL, logger)
	if err != nil {
		return err
	}

	// Listen first, so a taken port fails before anything is written.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.metricsAddr); err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		defer metricsLn.Close()
	}
	if cfg.externalURL == "" {
		cfg.externalURL = "http://" + ln.Addr().String()
	}

	cfg.db.logger = logger
	store, err := cfg.db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	hash := func(pass string) string { return password.Hash(pass, passwordParams) }
	if err := bootstrap(ctx, store, cfg, hash, stdout); err != nil {
		return err
	}

	// One change feed serves the caches of every door.
	feed := authn.NewFeed(authn.FeedConfig{Store: store, Logger: logger})
	store.OnChange(feed.Apply)
	failures := ratelimit.NewFailures(ratelimit.Limit{Rate: cfg.failedAuth, Period: time.Minute}, ratelimit.DefaultMaxAddrs)
	rest := restapi.New(restapi.Config{
		Store:        store,
		Limiter:      limiter,
		RateLimit:    cfg.restRateLimit,
		ExternalURL:  cfg.externalURL,
		Logger:       logger,
		Feed:         feed,
		CacheSize:    cfg.cacheSize,
		AuthFailures: failures,
	})
	background, stopBackground := context.WithCancel(context.Background())
	var backgroundWork sync.WaitGroup
	backgroundWork.Go(func() { feed.Run(background) })
	backgroundWork.Go(func() { rest.Run(background) })
	defer func() {
		stopBackground()
		backgroundWork.Wait()
	}()

	events := startEvents(store, feed, cfg.cacheSize, limiter, cfg.eventsRateLimit, logger)
	// Runs after the HTTP server has shut down (below), so that every event
	// taken is committed, and before the store closes.
	defer events.stop()

	reg := metrics.New()
	registerMetrics(reg, store, feed, rest, events, limiter, failures)
	conns := edge.NewConns(cfg.limits.maxConnections, logger)
	conns.Register(reg)
	doors := doorsConfig{store: store, rest: rest, events: events.handler, metrics: reg, trustedProxies: trusted, logger: logger,
		accessLog: logs, accessJSON: cfg.logFormat == "json"}
	srv := cfg.limits.newServer(newHandler(doors, metricsLn == nil), logger)
	srv.ConnState = conns.ConnState
	srv.ConnContext = conns.ConnContext
	servers := []*http.Server{srv}
	served := make(chan error, 2)
	// "listening" comes last: whoever waits for it finds everything up.
	if metricsLn != nil {
		metricsSrv := cfg.limits.newServer(newMetricsHandler(doors), logger)
		servers = append(servers, metricsSrv)
		go func() { served <- metricsSrv.Serve(metricsLn) }()
		logger.Info("serving metrics", "addr", metricsLn.Addr().String())
	}
	go func() { served <- srv.Serve(conns.Listener(ln)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "url", cfg.externalURL, "max_connections", cfg.limits.maxConnections)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "deadline", cfg.limits.shutdownTimeout)
	shutdown(servers, cfg.limits.shutdownTimeout, conns, logger)
	for range servers {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	logger.Info("stopped")
	return nil
}

// shutdown stops the servers: they finish the requests in flight until the
// deadline, then every connection still open is closed.
func shutdown(servers []*http.Server, deadline time.Duration, conns *edge.Conns, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				logger.Warn("shutdown deadline passed; closing the connections still open", "deadline", deadline, "open", conns.Open())
				srv.Close()
			}
		})
	}
	wg.Wait()
}

// bootstrap creates the first account and its owner on an empty database and
// prints their credentials, once. The owner's password is hashed (a costly
// argon2id) only when the database holds no account yet; when several nodes
// start at once, Bootstrap lets one of them create it.
func bootstrap(ctx context.Context, store *sqlstore.Store, cfg serveConfig, hash func(password string) string, stdout io.Writer) error {
	if has, err := store.HasAccounts(ctx); err != nil || has {
		return err
	}
	account := &gatehouse.Account{Subdomain: "default", Name: "Default", Plan: gatehouse.PlanBusiness}
	secret := access.GenerateKey(gatehouse.KeyGeneral)
	key := &gatehouse.APIKey{
		Kind:        gatehouse.KeyGeneral,
		Description: "First key, made by the first start",
		Hash:        access.HashKey(secret),
		Last4:       access.Last4(secret),
		CreatedBy:   gatehouse.CLIActor,
	}
	pass := password.Generate()
	owner := &gatehouse.User{
		Email:        cfg.ownerEmail,
		Name:         "Account Owner",
		Role:         gatehouse.RoleOwner,
		PasswordHash: hash(pass),
	}
	created, err := store.Bootstrap(ctx, account, owner, key)
	if err != nil || !created {
		return err
	}
	fmt.Fprintf(stdout, `
Gatehouse created its first account, %q (plan %s), and its owner.
These credentials are shown only now; keep them somewhere safe.

  Owner email:     %s
  Owner password:  %s
  REST API key:    %s   (general access, full)

Next, try the REST API:

  curl -H 'Authorization: Token token=%s' %s/abilities

and see README.md for the CLI (gatehouse keys, users and accounts).

`, account.Subdomain, account.Plan, owner.Email, pass, secret, secret, cfg.externalURL)
	return nil
}

// newLimiter returns the rate limiter: shared through Redis when url is set,
// in memory otherwise. A Redis that fails or is slow costs a request at most
// a few hundred milliseconds once: the node then limits in memory for a
// while before trying Redis again.
func newLimiter(url string, logger *slog.Logger) (ratelimit.Limiter, error) {
	if url == "" {
		return ratelimit.NewMemory(), nil
	}
	opts, err := parseRedisURL(url)
	if err != nil {
		return nil, usagef("--redis-url: %v", err)
	}
	redis.SetLogger(redisLogger{logger})
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.PoolTimeout = 500 * time.Millisecond
	opts.MaxRetries = -1 // a retry would double the wait; the fallback answers instead
	return &ratelimit.Fallback{
		Primary:   ratelimit.NewRedis(redis.NewClient(opts)),
		Secondary: ratelimit.NewMemory(),
		Cooldown:  10 * time.Second,
		Fault:     &fault.Tracker{Logger: logger, What: "Redis rate limiter"},
	}, nil
}

// parseRedisURL parses a Redis URL into options. Its errors never show the
// URL's password: they are those of the same URL with the user information
// replaced.
func parseRedisURL(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	if err == nil {
		return opts, nil
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	at := strings.LastIndexByte(rest, '@')
	if !ok || at < 0 {
		return nil, err
	}
	if _, err := redis.ParseURL(scheme + "://xxxxx@" + rest[at+1:]); err != nil {
		var urlErr *neturl.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, err
	}
	return nil, errors.New("the user or password is not valid in a URL (percent-encode its special characters)")
}

// redisLogger writes go-redis's messages into the server's log, in its
// format, with the request's ID when there is one, at debug level: they
// repeat at every dial while Redis is down, and the fallback already logs
// the fault once as it starts and once as it ends.
type redisLogger struct{ logger *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, args ...any) {
	attrs := []slog.Attr{slog.String("detail", strings.TrimSpace(fmt.Sprintf(format, args...)))}
	if id := edge.InfoOf(ctx).RequestID; id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	l.logger.LogAttrs(ctx, slog.LevelDebug, "redis client", attrs...)
}

// doorsConfig is what the doors are made of.
type doorsConfig struct {
	store          *sqlstore.Store
	rest           http.Handler
	events         http.Handler
	metrics        *metrics.Registry
	trustedProxies []netip.Prefix
	logger         *slog.Logger
	// accessLog, when set, takes the access log's lines, formatted as
	// logger's handler would (JSON when accessJSON).
	accessLog  io.Writer
	accessJSON bool
}

// eventsPaths are the Events API's paths (DESIGN §1).
var eventsPaths = []string{"/v2/enqueue", "/v2/change/enqueue", "/generic/2010-04-15/create_event.json"}

// newHandler mounts every door on one ServeMux behind the edge: the REST API
// takes what no other door claims, as PagerDuty's paths are at the root.
// withMetrics serves /metrics here too.
func newHandler(cfg doorsConfig, withMetrics bool) http.Handler {
	rest := &edge.Door{Name: "rest", Handler: cfg.rest, MaxBody: restMaxBody, Error: edge.RESTError}
	events := &edge.Door{Name: "events", Handler: cfg.events, MaxBody: eventsMaxBody, Error: edge.EventsError}
	oauth := &edge.Door{Name: "oauth", Handler: edge.NotServed, MaxBody: smallMaxBody, Error: edge.OAuthError}
	web := &edge.Door{Name: "web", Handler: edge.NotServed, MaxBody: restMaxBody, Error: edge.PlainError}
	ops := &edge.Door{Name: "ops", Handler: opsHandler(cfg, withMetrics), MaxBody: smallMaxBody, Error: edge.PlainError}

	mux := http.NewServeMux()
	mux.Handle("/", rest)
	for _, p := range eventsPaths {
		mux.Handle(p, events)
	}
	// Both forms of a subtree, so that ServeMux never redirects one to the
	// other.
	mux.Handle("/oauth", oauth)
	mux.Handle("/oauth/", oauth)
	mux.Handle("/app", web)
	mux.Handle("/app/", web)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, ops)
	}
	return edge.New(edge.Config{
		Handler:        mux,
		Default:        rest,
		Logger:         cfg.logger,
		AccessLog:      cfg.accessLog,
		AccessLogJSON:  cfg.accessJSON,
		Metrics:        cfg.metrics,
		TrustedProxies: cfg.trustedProxies,
	})
}

// newMetricsHandler serves /metrics alone, for --metrics-addr.
func newMetricsHandler(cfg doorsConfig) http.Handler {
	notFound := &edge.Door{Name: "ops", Handler: edge.NotServed, MaxBody: smallMaxBody, Error: edge.PlainError}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", &edge.Door{Name: "ops", Handler: opsMetrics{cfg.metrics.Handler()}, MaxBody: smallMaxBody, Error: edge.PlainError})
	mux.Handle("/", notFound)
	return edge.New(edge.Config{Handler: mux, Default: notFound, Logger: cfg.logger, AccessLog: cfg.accessLog, AccessLogJSON: cfg.accessJSON, Metrics: cfg.metrics})
}

// eventsDoor is the Events API and the two goroutines behind it: the
// group-commit writer of the event log and the applier that follows it.
type eventsDoor struct {
	handler http.Handler
	routes  *eventsapi.RouteCache
	writer  *eventsapi.Writer
	applier *eventsapi.Applier
	// stop commits what the writer holds, then stops the applier after a
	// last pass.
	stop func()
}

// startEvents starts the Events door, its routing keys cached like REST
// keys and following feed.
func startEvents(store *sqlstore.Store, feed *authn.Feed, cacheSize int, limiter ratelimit.Limiter, rateLimit int, logger *slog.Logger) *eventsDoor {
	routes := eventsapi.NewRouteCache(store, cacheSize, logger)
	feed.Follow(routes.Follower())
	applier := eventsapi.NewApplier(eventsapi.ApplierConfig{Log: store, Logger: logger})
	writer := eventsapi.NewWriter(eventsapi.WriterConfig{Store: store, OnCommit: applier.Wake, Pending: applier.Pending, Logger: logger})
	applierCtx, cancel := context.WithCancel(context.Background())
	applied := make(chan struct{})
	go writer.Run()
	go func() {
		defer close(applied)
		applier.Run(applierCtx)
	}()
	return &eventsDoor{
		routes:  routes,
		writer:  writer,
		applier: applier,
		handler: eventsapi.New(eventsapi.Config{
			Routes:    routes,
			Writer:    writer,
			Limiter:   limiter,
			RateLimit: rateLimit,
			Logger:    logger,
		}),
		stop: func() {
			writer.Stop()
			cancel()
			<-applied
		},
	}
}

// opsHandler serves the operations endpoints.
func opsHandler(cfg doorsConfig, withMetrics bool) http.Handler {
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		edge.InfoOf(r.Context()).Route = "GET /healthz"
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		edge.InfoOf(r.Context()).Route = "GET /readyz"
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := cfg.store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	if withMetrics {
		ops.Handle("GET /metrics", opsMetrics{cfg.metrics.Handler()})
	}
	return ops
}

// opsMetrics serves the metrics under their route's name.
type opsMetrics struct{ http.Handler }

func (h opsMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	edge.InfoOf(r.Context()).Route = "GET /metrics"
	h.Handler.ServeHTTP(w, r)
}

// registerMetrics exposes the figures of the store, the change feed, the
// doors' credential caches and the event log at /metrics.
func registerMetrics(reg *metrics.Registry, store *sqlstore.Store, feed *authn.Feed, rest *restapi.Server, events *eventsDoor,
	limiter ratelimit.Limiter, failures *ratelimit.Failures) {
	routes := events.routes
	reg.GaugeFunc("change_feed_lag_seconds", "Seconds since the last good read of the change feed began; grows while the feed stalls.",
		func() float64 { return feed.Lag(time.Now()).Seconds() })
	cache := func(pick func(authn.Stats) float64) func() float64 {
		return func() float64 { return pick(rest.KeyCacheStats()) }
	}
	reg.CounterFunc("rest_key_cache_hits_total", "REST API key checks answered from memory.", cache(func(s authn.Stats) float64 { return float64(s.Hits) }))
	reg.CounterFunc("rest_key_cache_misses_total", "REST API key checks that asked the database.", cache(func(s authn.Stats) float64 { return float64(s.Misses) }))
	reg.GaugeFunc("rest_key_cache_entries", "REST API keys held in memory.", cache(func(s authn.Stats) float64 { return float64(s.Known) }))
	reg.GaugeFunc("rest_key_cache_unknown_entries", "Hashes no REST API key has, remembered for a while.", cache(func(s authn.Stats) float64 { return float64(s.Unknown) }))
	reg.CounterFunc("routing_key_cache_hits_total", "Events API routing keys resolved from memory.", func() float64 { return float64(routes.Stats().Hits) })
	reg.CounterFunc("routing_key_cache_misses_total", "Events API routing keys that asked the database.", func() float64 { return float64(routes.Stats().Misses) })
	reg.GaugeFunc("routing_key_cache_entries", "Events API routing keys held in memory.", func() float64 { return float64(routes.Stats().Known) })
	reg.CounterFunc("events_written_total", "Events committed to the event log (each answered 2xx).", func() float64 { return float64(events.writer.Stats().Events) })
	reg.CounterFunc("events_write_batches_total", "Transactions that committed events to the event log.", func() float64 { return float64(events.writer.Stats().Batches) })
	reg.GaugeFunc("events_write_queued", "Events waiting for the writer's next transaction.", func() float64 { return float64(events.writer.Queued()) })
	reg.GaugeFunc("events_pending", "Events in the log not yet applied to alerts and incidents, as the applier last counted.", func() float64 { return float64(events.applier.Pending()) })
	storeStat := func(pick func(sqlstore.Stats) uint64) func() float64 {
		return func() float64 { return float64(pick(store.Stats())) }
	}
	reg.CounterFunc("store_unavailable_total", "Database calls that failed because it did not answer in time, or at all.", storeStat(func(s sqlstore.Stats) uint64 { return s.Unavailable }))
	reg.CounterFunc("store_conflicts_total", "Writes that still lost to concurrent writers after every retry (409).", storeStat(func(s sqlstore.Stats) uint64 { return s.Conflict }))
	reg.CounterFunc("store_internal_errors_total", "Database calls that failed with an error the store does not know.", storeStat(func(s sqlstore.Stats) uint64 { return s.Internal }))
	reg.CounterFunc("store_canceled_total", "Database calls abandoned by their caller, such as a client that hung up.", storeStat(func(s sqlstore.Stats) uint64 { return s.Canceled }))
	if st, ok := limiter.(interface{ Stats() ratelimit.Stats }); ok {
		reg.CounterFunc("rate_limit_refusals_total", "Requests the rate limiter refused (429).", func() float64 { return float64(st.Stats().Refused) })
		reg.CounterFunc("rate_limit_redis_fallbacks_total", "Times Redis failed and this node began limiting in memory.", func() float64 { return float64(st.Stats().Fallbacks) })
	}
	reg.GaugeFunc("failed_auth_addresses", "Client addresses whose failed authentications are counted.", func() float64 { return float64(failures.Stats().Addresses) })
	reg.CounterFunc("failed_auth_blocked_total", "Requests refused (429) because their address failed to authenticate too often.", func() float64 { return float64(failures.Stats().Blocked) })
	reg.CounterFunc("store_retries_total", "Transactions run again after a serialization failure, a deadlock or a taken ID.", storeStat(func(s sqlstore.Stats) uint64 { return s.Retries }))
}
