package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/eventsapi"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/restapi"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

type serveConfig struct {
	db            databaseFlags
	addr          string
	externalURL   string
	logFormat     string
	ownerEmail    string
	restRateLimit int
	redisURL      string
	// eventsRateLimit is events a minute per routing key; 0 is off.
	eventsRateLimit int
}

func runServe(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	var cfg serveConfig
	cfg.db.register(fs)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.externalURL, "external-url", "", "URL clients reach this server at, for links in responses (default http://ADDR)")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.ownerEmail, "owner-email", "owner@example.com", "email of the owner created on the first start")
	fs.IntVar(&cfg.restRateLimit, "rest-rate-limit", restapi.DefaultRateLimit, "REST requests a minute per general key and per user; 0 turns limits off")
	fs.StringVar(&cfg.redisURL, "redis-url", "", "Redis URL (redis://…) to share rate limits between nodes; in memory when empty")
	fs.IntVar(&cfg.eventsRateLimit, "events-rate-limit", eventsapi.DefaultRateLimit, "Events API events a minute per routing key; 0 turns limits off")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	logger, err := newLogger(cfg.logFormat, stderr)
	if err != nil {
		return err
	}
	if err := gatehouse.ValidateEmail(gatehouse.NormalizeEmail(cfg.ownerEmail)); err != nil {
		return usagef("--owner-email: %v", err.(*gatehouse.Error).Errors[0])
	}
	if cfg.restRateLimit < 0 {
		return usagef("--rest-rate-limit must be 0 (off) or more, not %d", cfg.restRateLimit)
	}
	if cfg.eventsRateLimit < 0 {
		return usagef("--events-rate-limit must be 0 (off) or more, not %d", cfg.eventsRateLimit)
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
	if cfg.externalURL == "" {
		cfg.externalURL = "http://" + ln.Addr().String()
	}

	store, err := cfg.db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := bootstrap(ctx, store, cfg, stdout); err != nil {
		return err
	}

	rest := restapi.New(restapi.Config{
		Store:       store,
		Limiter:     limiter,
		RateLimit:   cfg.restRateLimit,
		ExternalURL: cfg.externalURL,
		Logger:      logger,
	})
	store.OnChange(rest.ApplyChange)
	background, stopBackground := context.WithCancel(context.Background())
	backgroundDone := make(chan struct{})
	go func() {
		defer close(backgroundDone)
		rest.Run(background)
	}()
	defer func() {
		stopBackground()
		<-backgroundDone
	}()

	events, err := startEvents(ctx, store, limiter, cfg.eventsRateLimit, logger)
	if err != nil {
		return err
	}
	// Runs after the HTTP server has shut down (below), so that every event
	// taken is committed, and before the store closes.
	defer events.stop()

	srv := &http.Server{
		Handler:           newHandler(store, rest, events.handler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "url", cfg.externalURL)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usagef("--log-format must be text or json, not %q", format)
}

// bootstrap creates the first account and its owner on an empty database and
// prints their credentials, once.
func bootstrap(ctx context.Context, store *sqlstore.Store, cfg serveConfig, stdout io.Writer) error {
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
		PasswordHash: password.Hash(pass, passwordParams),
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
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, usagef("--redis-url: %v", err)
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 250 * time.Millisecond
	opts.WriteTimeout = 250 * time.Millisecond
	opts.PoolTimeout = 500 * time.Millisecond
	opts.MaxRetries = -1 // a retry would double the wait; the fallback answers instead
	return &ratelimit.Fallback{
		Primary:   ratelimit.NewRedis(redis.NewClient(opts)),
		Secondary: ratelimit.NewMemory(),
		Cooldown:  10 * time.Second,
		OnFailure: func(err error) {
			logger.Warn("Redis rate limiter failed; limiting in memory on this node for 10s", "err", err)
		},
	}, nil
}

// eventsDoor is the Events API and the two goroutines behind it: the
// group-commit writer of the event log and the applier that follows it.
type eventsDoor struct {
	handler http.Handler
	// stop commits what the writer holds, then stops the applier after a
	// last pass.
	stop func()
}

func startEvents(ctx context.Context, store *sqlstore.Store, limiter ratelimit.Limiter, rateLimit int, logger *slog.Logger) (*eventsDoor, error) {
	routes, err := store.PrepareEventRoutes(ctx)
	if err != nil {
		return nil, err
	}
	applier := eventsapi.NewApplier(eventsapi.ApplierConfig{Log: store, Logger: logger})
	writer := eventsapi.NewWriter(eventsapi.WriterConfig{Store: store, OnCommit: applier.Wake, Logger: logger})
	applierCtx, cancel := context.WithCancel(context.Background())
	applied := make(chan struct{})
	go writer.Run()
	go func() {
		defer close(applied)
		applier.Run(applierCtx)
	}()
	return &eventsDoor{
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
			routes.Close()
		},
	}, nil
}

// newHandler routes every door of the server: operations endpoints, the
// Events API, and the REST API at the root, as PagerDuty's paths are.
func newHandler(store *sqlstore.Store, rest, events http.Handler) http.Handler {
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n")
			return
		}
		io.WriteString(w, "ok\n")
	})
	// Paths are dispatched here rather than by one ServeMux, which would
	// answer unclean REST paths with an HTML redirect before the REST API's
	// own rules (authentication first, JSON errors) could apply.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz":
			ops.ServeHTTP(w, r)
		case eventsapi.PathV2, eventsapi.PathChange, eventsapi.PathV1:
			events.ServeHTTP(w, r)
		default:
			rest.ServeHTTP(w, r)
		}
	})
}
