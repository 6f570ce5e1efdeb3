// Package eventsapi serves PagerDuty's Events API: alert events (v2, POST
// /v2/enqueue), change events (POST /v2/change/enqueue) and v1 events (POST
// /generic/2010-04-15/create_event.json), with PagerDuty's bodies, answers
// and errors. Each event is decoded and checked, its routing key resolved to
// an integration and rate limited, and it is committed to the event log by
// the group-commit Writer before the answer: a 2xx means committed. The
// Applier then turns the log into alerts, incidents and change events.
package eventsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/edge"
	"github.com/gatehouse-dev/gatehouse/fault"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// Routes resolves routing keys to integrations.
type Routes interface {
	// EventRoute returns where routingKey leads, or a 2100 error when it
	// leads nowhere: no such key, its integration deleted, or its service
	// disabled.
	EventRoute(ctx context.Context, routingKey string) (*gatehouse.EventRoute, error)
}

// EventWriter commits an event to the event log and returns once it is
// committed; Writer is the one Gatehouse uses.
type EventWriter interface {
	Write(ctx context.Context, e *gatehouse.Event) error
}

// Config configures a Handler.
type Config struct {
	Routes Routes
	Writer EventWriter
	// Limiter enforces RateLimit per routing key; nil or a RateLimit of 0
	// turns limits off.
	Limiter   ratelimit.Limiter
	RateLimit int
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultRateLimit is PagerDuty's limit of events a minute per routing key.
const DefaultRateLimit = 120

// MaxBody is the largest event the Events API takes, in bytes: PagerDuty's
// 512 KB.
const MaxBody = 512 << 10

// The Events API's paths.
const (
	PathV2     = "/v2/enqueue"
	PathChange = "/v2/change/enqueue"
	PathV1     = "/generic/2010-04-15/create_event.json"
)

// Paths are the paths the Events API serves.
var Paths = []string{PathV2, PathChange, PathV1}

// Handler is the Events API's door.
type Handler struct {
	cfg         Config
	limit       ratelimit.Limit
	limitHealth *fault.Tracker
}

// New returns the Events API's handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		cfg:         cfg,
		limit:       ratelimit.Limit{Rate: cfg.RateLimit, Period: time.Minute},
		limitHealth: &fault.Tracker{Logger: cfg.Logger, What: "events rate limiter"},
	}
}

// door is one of the three doors: what it decodes and how it answers.
type door int

const (
	doorV2 door = iota
	doorChange
	doorV1
)

// ServeHTTP serves the Events API's paths.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var d door
	switch r.URL.Path {
	case PathV2:
		d = doorV2
	case PathChange:
		d = doorChange
	case PathV1:
		d = doorV1
	default:
		writeJSON(w, http.StatusNotFound, &errorBody{Status: "not found", Message: "Not Found"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, &errorBody{Status: "method not allowed", Message: "Events are sent with POST"})
		return
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBody)); err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeJSON(w, http.StatusBadRequest, invalid("Event object is too large (the most is 512 KB)"))
			return
		}
		if edge.TimedOut(err) {
			writeJSON(w, http.StatusBadRequest, invalid("The request body did not arrive in time"))
			return
		}
		writeJSON(w, http.StatusBadRequest, invalid("The request body could not be read"))
		return
	}
	e, problems, err := decodeEvent(d, buf.Bytes())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &errorBody{Status: "Unrecognized object", Message: "Event object format is unrecognized", Errors: []string{"JSON parse error"}})
		return
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusBadRequest, invalid(problems...))
		return
	}
	h.accept(w, r, d, e)
}

// accept routes, rate limits and commits a valid event, and answers.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request, d door, e *routedEvent) {
	ctx := r.Context()
	route, err := h.cfg.Routes.EventRoute(ctx, e.routingKey)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			if d == doorV1 {
				writeJSON(w, http.StatusBadRequest, invalid("Service key is invalid"))
			} else {
				writeJSON(w, http.StatusBadRequest, invalid("Invalid routing key"))
			}
			return
		}
		h.failed(w, err)
		return
	}
	if refused, retryAfter := h.rateLimited(ctx, route); refused {
		w.Header().Set("Retry-After", retryAfter)
		writeJSON(w, throttleStatus(d), &errorBody{Status: "throttle exceeded", Message: "Requests for this service are arriving too quickly. Please retry later."})
		return
	}
	ev := &e.Event
	ev.AccountID, ev.ServiceID, ev.IntegrationID = route.AccountID, route.ServiceID, route.IntegrationID
	ev.ReceivedAt = h.cfg.Now()
	if err := h.cfg.Writer.Write(ctx, ev); err != nil {
		if errors.Is(err, ErrQueueFull) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, throttleStatus(d), &errorBody{Status: "throttle exceeded", Message: "Too many events are waiting to be written. Please retry in a second."})
			return
		}
		if errors.Is(err, ErrBehind) {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, throttleStatus(d), &errorBody{Status: "throttle exceeded", Message: "Events arrive faster than they are processed. Please retry in a few seconds."})
			return
		}
		h.failed(w, err)
		return
	}
	switch d {
	case doorV2:
		writeSuccess(w, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":`, ev.DedupKey)
	case doorV1:
		writeSuccess(w, http.StatusOK, `{"status":"success","message":"Event processed","incident_key":`, ev.DedupKey)
	case doorChange:
		writeJSON(w, http.StatusAccepted, &successBody{Status: "success", Message: "Change event processed"})
	}
}

// throttleStatus is the door's "retry later" status: 429, but 403 on v1,
// as PagerDuty answers there.
func throttleStatus(d door) int {
	if d == doorV1 {
		return http.StatusForbidden
	}
	return http.StatusTooManyRequests
}

// rateLimited takes one event from the routing key's allowance, and reports
// whether none was left and when to retry (seconds). A limiter that fails
// lets events through: refusing every event for a Redis outage would lose
// more than it protects.
func (h *Handler) rateLimited(ctx context.Context, route *gatehouse.EventRoute) (bool, string) {
	if h.cfg.Limiter == nil || h.cfg.RateLimit <= 0 {
		return false, ""
	}
	res, err := h.cfg.Limiter.Allow(ctx, "events:"+route.IntegrationID, h.limit)
	if err != nil {
		if ctx.Err() == nil {
			h.limitHealth.Fail(err)
		}
		return false, ""
	}
	h.limitHealth.OK()
	if res.Allowed {
		return false, ""
	}
	return true, strconv.Itoa(max(1, int(math.Ceil(res.RetryAfter.Seconds()))))
}

// failed answers an event that could not be routed or committed: 503 with
// Retry-After when the database did not answer (clients retry 5xx), 500
// otherwise. The writer and the store log their faults; nothing is logged
// per request.
func (h *Handler) failed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrStopped):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, &errorBody{Status: "unavailable", Message: "The server is shutting down. Please retry in a few seconds."})
	case gatehouse.ErrorCode(err) == gatehouse.CodeUnavailable || gatehouse.ErrorCode(err) == gatehouse.CodeConflict ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, &errorBody{Status: "unavailable", Message: "The event could not be committed in time. Please retry in a few seconds."})
	default:
		writeJSON(w, http.StatusInternalServerError, &errorBody{Status: "error", Message: "Internal error: the event was not committed. Please retry."})
	}
}

// routedEvent is a decoded event and the routing key it came with.
type routedEvent struct {
	gatehouse.Event
	routingKey string
}

// decodeEvent reads a door's body into an event. It returns
// errUnrecognized for a body that is no JSON object, and otherwise every
// problem with the event, one line each: its routing key's form first.
func decodeEvent(d door, body []byte) (*routedEvent, []string, error) {
	var e routedEvent
	var problems []string
	var err error
	switch d {
	case doorV2:
		var in v2Event
		if problems, err = decode(body, &in); err != nil {
			return nil, nil, err
		}
		e.routingKey = in.RoutingKey
		problems = append(routingKeyProblems(in.RoutingKey, "routing_key", false), problems...)
		e.Event = gatehouse.Event{
			Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV2,
			Action: gatehouse.EventAction(in.EventAction), DedupKey: in.DedupKey,
			Client: in.Client, ClientURL: in.ClientURL, Links: links(in.Links), Images: images(in.Images),
		}
		if p := in.Payload; p != nil {
			e.Summary, e.Source, e.Severity = p.Summary, p.Source, gatehouse.Severity(p.Severity)
			e.Component, e.Group, e.Class = p.Component, p.Group, p.Class
			e.Timestamp, _ = gatehouse.ParseEventTimestamp(p.Timestamp)
			e.CustomDetails = details(p.CustomDetails)
		}
		if e.Action == gatehouse.EventTrigger && e.DedupKey == "" {
			e.DedupKey = gatehouse.NewDedupKey()
		}
		problems = append(problems, e.Problems(v2Names)...)
	case doorChange:
		var in changeEvent
		if problems, err = decode(body, &in); err != nil {
			return nil, nil, err
		}
		e.routingKey = in.RoutingKey
		problems = append(routingKeyProblems(in.RoutingKey, "routing_key", false), problems...)
		e.Event = gatehouse.Event{Kind: gatehouse.EventChange, API: gatehouse.EventsAPIV2, Links: links(in.Links), Images: images(in.Images)}
		if p := in.Payload; p != nil {
			e.Summary, e.Source = p.Summary, p.Source
			e.Timestamp, _ = gatehouse.ParseEventTimestamp(p.Timestamp)
			e.CustomDetails = details(p.CustomDetails)
		}
		problems = append(problems, e.Problems(changeNames)...)
	case doorV1:
		var in v1Event
		if problems, err = decode(body, &in); err != nil {
			return nil, nil, err
		}
		e.routingKey = in.ServiceKey
		problems = append(routingKeyProblems(in.ServiceKey, "service_key", true), problems...)
		e.Event = gatehouse.Event{
			Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV1,
			Action: gatehouse.EventAction(in.EventType), DedupKey: in.IncidentKey,
			Summary: in.Description, Severity: gatehouse.SeverityCritical, CustomDetails: details(in.Details),
			Client: in.Client, ClientURL: in.ClientURL,
		}
		for _, c := range in.Contexts {
			switch c.Type {
			case "link":
				e.Links = append(e.Links, gatehouse.Link{Href: c.Href, Text: c.Text})
			case "image":
				e.Images = append(e.Images, gatehouse.Image{Src: c.Src, Href: c.Href, Alt: c.Alt})
			default:
				problems = append(problems, "Context type is invalid (must be one of the following: 'link' or 'image')")
			}
		}
		if e.Action == gatehouse.EventTrigger && e.DedupKey == "" {
			e.DedupKey = gatehouse.NewDedupKey()
		}
		problems = append(problems, e.Problems(v1Names)...)
	}
	return &e, dedupLines(problems), nil
}

// dedupLines keeps the first of each line.
func dedupLines(lines []string) []string {
	out := lines[:0]
	for i, l := range lines {
		seen := false
		for _, prev := range lines[:i] {
			if prev == l {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, l)
		}
	}
	return out
}

// errorBody is the Events API's error body.
type errorBody struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors,omitempty"`
}

// successBody is a change event's answer.
type successBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// invalid is the 400 body of an event with problems.
func invalid(problems ...string) *errorBody {
	return &errorBody{Status: "invalid event", Message: "Event object is invalid", Errors: problems}
}

var (
	bodies          = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	jsonContentType = []string{"application/json"}
)

// writeJSON answers with v as JSON, leaving < > & as they are.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status":"error","message":"Internal error"}`)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeSuccess answers with prefix, key as a JSON string, and "}": the
// answer of every accepted event, built without an encoder.
func writeSuccess(w http.ResponseWriter, status int, prefix, key string) {
	b := make([]byte, 0, len(prefix)+len(key)+8)
	b = append(b, prefix...)
	quoted, _ := json.Marshal(key)
	b = append(b, quoted...)
	b = append(b, '}')
	w.Header()["Content-Type"] = jsonContentType
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
}
