// Package edge is the outer layer every door of the server shares: request
// IDs, the client's address, panic recovery, an access log line and metrics
// per request, and body size limits. Doors are mounted on one ServeMux by
// path (see Door); the Edge wraps that mux.
package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/metrics"
)

// Info is what the outer layer knows of a request and what the door behind
// it adds.
type Info struct {
	RequestID   string
	ClientAddr  netip.Addr // the peer, or from X-Forwarded-For when the peer is a trusted proxy
	Door        string     // "rest", "events", "oauth", "web", "ops"
	Route       string     // the door's route pattern, e.g. "GET /services/{id}"; set by the door
	Credential  string     // the credential kind, e.g. "general access key"; set by the door
	Last4       string     // last 4 characters of the credential; set by the door
	AuthFailure string     // why authentication failed, a short label for metrics; set by the door
	Start       time.Time  // when the request reached the edge: a door need not read the clock again
}

// StatusClientClosed is the status the access log and the metrics record
// for a request whose client hung up before its answer was complete, as
// nginx does.
const StatusClientClosed = 499

// requestKey is the context key of a request's *request.
type requestKey struct{}

// InfoOf returns the Info of the request whose context ctx is; never nil: a
// throwaway Info when the request did not pass the edge.
func InfoOf(ctx context.Context) *Info {
	if info, ok := Lookup(ctx); ok {
		return info
	}
	return new(Info)
}

// Lookup returns the Info of the request whose context ctx is, and whether
// the request passed the edge; it never allocates.
func Lookup(ctx context.Context) (*Info, bool) {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return &rq.info, true
	}
	return nil, false
}

// Logger returns the server's logger with the request's ID and door
// attached, or slog.Default() when the request did not pass the edge.
func Logger(ctx context.Context) *slog.Logger {
	rq, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return slog.Default()
	}
	if l := rq.logger.Load(); l != nil {
		return l
	}
	// Two goroutines of one request may both make it; either will do.
	l := rq.edge.logger.With("request_id", rq.info.RequestID, "door", rq.info.Door)
	rq.logger.Store(l)
	return l
}

// Config configures an Edge.
type Config struct {
	// Handler routes requests to their doors: a ServeMux on which each
	// door's paths are mounted with its *Door.
	Handler http.Handler
	// Default is the door that answers paths that are not clean ("//x",
	// "/x/../y"), which Handler would redirect, and panics raised before a
	// door is reached: the REST door, which takes what no other door claims.
	Default *Door
	// Logger receives the access log and the panics; slog.Default() when nil.
	Logger *slog.Logger
	// AccessLog, when set, receives the access log's lines instead of
	// Logger, formatted as Logger's JSON (AccessLogJSON) or text handler
	// would, at a fraction of the cost; Logger still decides whether INFO
	// lines are written.
	AccessLog     io.Writer
	AccessLogJSON bool
	// Metrics records every request; none when nil.
	Metrics *metrics.Registry
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock of request durations; time.Now when nil.
	Now func() time.Time
}

// Edge is the outer layer: an http.Handler in front of the doors.
type Edge struct {
	access     io.Writer
	accessJSON bool
	handler    http.Handler
	deflt      *Door
	logger     *slog.Logger
	metrics    *metrics.Registry
	trusted    []netip.Prefix
	now        func() time.Time
}

// New returns the outer layer in front of cfg.Handler.
func New(cfg Config) *Edge {
	e := &Edge{
		access:     cfg.AccessLog,
		accessJSON: cfg.AccessLogJSON,
		handler:    cfg.Handler,
		deflt:      cfg.Default,
		logger:     cfg.Logger,
		metrics:    cfg.Metrics,
		trusted:    cfg.TrustedProxies,
		now:        cfg.Now,
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.deflt == nil {
		e.deflt = &Door{Name: "default", Handler: NotServed, Error: PlainError}
	}
	return e
}

// request is the edge's state of one request, allocated once: its Info, the
// ResponseWriter the door writes to, and the body reader.
type request struct {
	info Info
	edge *Edge
	door *Door
	w    http.ResponseWriter
	// idHeader is the X-Request-Id header's value.
	idHeader [1]string
	// status is the status written, 0 before.
	status  int
	written int64
	// hasBody is whether the request announced a body; body tracks it.
	hasBody bool
	body    body
	// logger is Logger's answer, made on its first call (the door is known
	// by then).
	logger atomic.Pointer[slog.Logger]
}

// ServeHTTP runs the request through the outer layer and on to its door.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := e.now()
	rq := &request{edge: e, w: w}
	rq.info.Start = start
	rq.info.RequestID = requestID(r.Header["X-Request-Id"])
	rq.info.ClientAddr = clientAddr(r, e.trusted)
	rq.idHeader[0] = rq.info.RequestID
	w.Header()["X-Request-Id"] = rq.idHeader[:]
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		rq.hasBody = true
		rq.body.r = r.Body
		rq.body.conn = connOf(r.Context())
		rq.body.w = w
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, rq))
	if rq.hasBody {
		r.Body = &rq.body
	}
	if e.metrics != nil {
		e.metrics.RequestStarted()
	}
	defer e.finish(rq, r, start)
	if p := r.URL.Path; len(p) > 1 && p[len(p)-1] == '/' && IsCleanPath(p[:len(p)-1]) {
		// One trailing slash is taken, as PagerDuty does, by the door of
		// the path without it: POST /v2/enqueue/ is an event.
		// The access log keeps the path as sent.
		trimmed := *r
		u := *r.URL
		u.Path, u.RawPath = p[:len(p)-1], ""
		trimmed.URL = &u
		r = &trimmed
	}
	if !IsCleanPath(r.URL.Path) {
		// ServeMux would answer with an HTML redirect to the clean path;
		// no door has such paths.
		e.deflt.ServeHTTP(rq, r)
		return
	}
	e.handler.ServeHTTP(rq, r)
}

// IsCleanPath reports whether p is a path ServeMux serves as it is, which
// path.Clean leaves alone: rooted, with no empty, "." or ".." segment and no
// trailing slash (but "/"). It makes no allocation.
func IsCleanPath(p string) bool {
	if p == "/" {
		return true
	}
	if p == "" || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	// Each segment starts after a slash.
	for i := 1; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		switch p[i : i+j] {
		case "", ".", "..":
			return false
		}
		i += j + 1
	}
	return true
}

// finish recovers a panic of the door, writes the access log line and
// records the metrics. It runs deferred, after the door returned.
func (e *Edge) finish(rq *request, r *http.Request, start time.Time) {
	v := recover()
	aborted := v == http.ErrAbortHandler
	if v != nil && !aborted {
		rq.edge.logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
			slog.String("request_id", rq.info.RequestID),
			slog.String("door", rq.info.Door),
			slog.String("method", r.Method),
			slog.String("path", logPath(r.URL.Path)),
			slog.Any("panic", v),
			slog.String("stack", string(debug.Stack())))
		if rq.status == 0 {
			d := rq.door
			if d == nil {
				d = e.deflt
			}
			h := rq.w.Header()
			delete(h, "Content-Length")
			d.Error(rq, http.StatusInternalServerError, "Internal Error")
		} else {
			// Part of an answer is out; cutting the connection is the
			// only honest end.
			aborted = true
		}
	}
	status := rq.status
	switch {
	case rq.body.timedOut && status != 0:
		// net/http cancels the context of a request whose body timed
		// out, but the client is there to read the answer.
	case r.Context().Err() != nil:
		status = StatusClientClosed
	case status == 0 && aborted:
		status = http.StatusInternalServerError
	case status == 0:
		status = http.StatusOK
	}
	rq.body.done()
	if rq.hasBody && !rq.body.eof {
		// A body the door did not read is not waited for: net/http would
		// read up to 256 KB of it, as slowly as the client sends, before
		// closing or reusing the connection.
		http.NewResponseController(rq.w).SetReadDeadline(time.Now())
	}
	elapsed := e.now().Sub(start)
	e.logAccess(r, rq, status, start, elapsed, aborted)
	if e.metrics != nil {
		e.metrics.RequestDone(rq.info.Door, rq.info.Route, status, elapsed)
		if rq.info.AuthFailure != "" {
			e.metrics.AuthFailure(rq.info.Door, rq.info.AuthFailure)
		}
	}
	if aborted {
		panic(http.ErrAbortHandler)
	}
}

// AccessLogMessage is the message of the access log's lines, which a log
// handler may buffer: there is one per request.
const AccessLogMessage = "request"

// logAccess writes the access log line of a request: never a secret, only
// the credential's kind and last four characters.
func (e *Edge) logAccess(r *http.Request, rq *request, status int, start time.Time, elapsed time.Duration, aborted bool) {
	ctx := r.Context()
	if !e.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if e.access != nil {
		line := AccessLine{
			Time: start.Add(elapsed), RequestID: rq.info.RequestID, Method: r.Method, Path: r.URL.Path,
			Status: status, Duration: elapsed, Bytes: rq.written, Door: rq.info.Door, Client: rq.info.ClientAddr,
			Route: rq.info.Route, Credential: rq.info.Credential, Last4: rq.info.Last4, AuthFailure: rq.info.AuthFailure,
			Aborted: aborted,
		}
		bp := accessLineBuffers.Get().(*[]byte)
		*bp = appendAccessLine((*bp)[:0], &line, e.accessJSON)
		e.access.Write(*bp) // a failing log has nowhere to report
		accessLineBuffers.Put(bp)
		return
	}
	var buf [12]slog.Attr
	attrs := append(buf[:0],
		slog.String("request_id", rq.info.RequestID),
		slog.String("method", r.Method),
		slog.String("path", logPath(r.URL.Path)),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.Int64("bytes", rq.written),
		slog.String("door", rq.info.Door),
		slog.String("client", rq.info.ClientAddr.String()),
	)
	if rq.info.Route != "" {
		attrs = append(attrs, slog.String("route", rq.info.Route))
	}
	if rq.info.Credential != "" {
		attrs = append(attrs, slog.String("credential", rq.info.Credential), slog.String("last4", rq.info.Last4))
	}
	if rq.info.AuthFailure != "" {
		attrs = append(attrs, slog.String("auth_failure", rq.info.AuthFailure))
	}
	if aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	e.logger.LogAttrs(ctx, slog.LevelInfo, AccessLogMessage, attrs...)
}

// logPath is p cut to a length fit for a log line.
func logPath(p string) string {
	const max = 256
	if len(p) > max {
		return p[:max] + "…"
	}
	return p
}

// Header is the door's view of the answer's header.
func (rq *request) Header() http.Header { return rq.w.Header() }

// WriteHeader records the status. An answer that starts while the request
// body is unread closes the connection afterwards rather than draining a
// body nobody wants.
func (rq *request) WriteHeader(status int) {
	if rq.status == 0 && status >= 200 {
		rq.status = status
		if rq.hasBody && !rq.body.eof {
			rq.w.Header()["Connection"] = closeHeader
		}
	}
	rq.w.WriteHeader(status)
}

var closeHeader = []string{"close"}

func (rq *request) Write(p []byte) (int, error) {
	if rq.status == 0 {
		rq.WriteHeader(http.StatusOK)
	}
	n, err := rq.w.Write(p)
	rq.written += int64(n)
	return n, err
}

// Flush sends what is buffered to the client.
func (rq *request) Flush() {
	if rq.status == 0 {
		rq.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(rq.w).Flush()
}

// Unwrap lets http.ResponseController reach net/http's writer.
func (rq *request) Unwrap() http.ResponseWriter { return rq.w }

// body is the request body as the door reads it; it notes whether the door
// read it to its end, and tells the connection cap while it is read.
type body struct {
	r    io.ReadCloser
	eof  bool
	conn *trackedConn // nil when the server has no cap
	// reading is whether conn was told the body is being read.
	reading bool
	// w is the request's writer, timedOut whether the body did not arrive
	// within the server's ReadTimeout.
	w        http.ResponseWriter
	timedOut bool
}

// lateAnswerTime is how long the door has to answer a request whose body did
// not arrive in time: its write deadline may have passed with the read's.
const lateAnswerTime = 5 * time.Second

func (b *body) Read(p []byte) (int, error) {
	if b.conn != nil && !b.reading {
		b.reading = true
		b.conn.readingBody()
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	if err != nil {
		b.done()
		if TimedOut(err) && !b.timedOut {
			b.timedOut = true
			http.NewResponseController(b.w).SetWriteDeadline(time.Now().Add(lateAnswerTime))
		}
	}
	return n, err
}

// TimedOut reports whether err is the error of a request body that did not
// arrive within the server's ReadTimeout.
func TimedOut(err error) bool {
	netErr, ok := errors.AsType[net.Error](err)
	return ok && netErr.Timeout()
}

// done tells the connection cap the body is no longer read.
func (b *body) done() {
	if b.reading {
		b.reading = false
		b.conn.bodyRead()
	}
}

func (b *body) Close() error { return b.r.Close() }
