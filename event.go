package gatehouse

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// EventKind says what an event of the Events API is about.
type EventKind string

// The kinds of event.
const (
	// EventAlert triggers, acknowledges or resolves an alert.
	EventAlert EventKind = "alert"
	// EventChange records a change, such as a deploy: it opens no alert.
	EventChange EventKind = "change"
)

// EventAction is what an alert event asks of the alert with its dedup key.
type EventAction string

// The actions of alert events.
const (
	EventTrigger     EventAction = "trigger"
	EventAcknowledge EventAction = "acknowledge"
	EventResolve     EventAction = "resolve"
)

// EventActions are the values of Event.Action for alert events.
var EventActions = []EventAction{EventTrigger, EventAcknowledge, EventResolve}

// Severity is how bad the monitoring tool says a problem is.
type Severity string

// The severities of alerts, PagerDuty's.
const (
	SeverityCritical Severity = "critical"
	SeverityError    Severity = "error"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Severities are the values of Event.Severity, in the order PagerDuty lists
// them in its errors.
var Severities = []Severity{SeverityCritical, SeverityWarning, SeverityError, SeverityInfo}

// The doors of the Events API, as Event.API names them.
const (
	EventsAPIV1 = "v1"
	EventsAPIV2 = "v2"
)

// The limits of an event's fields, PagerDuty's.
const (
	// MaxEventSummary is the longest summary (v2) or description (v1), in
	// characters.
	MaxEventSummary = 1024
	// MaxDedupKey is the longest dedup key (v2) or incident key (v1), in
	// characters.
	MaxDedupKey = 255
	// MaxChangeEventLinks is the most links a change event may carry.
	MaxChangeEventLinks = 50
)

// Event is an event the Events API accepted: an alert event (trigger,
// acknowledge, resolve) or a change event, as the event log keeps it until
// it is applied to alerts and incidents, or recorded as a change.
type Event struct {
	// Seq is the event's place in the event log, given when it is
	// committed: events are applied in that order.
	Seq  int64
	Kind EventKind
	// API is the door it came through: EventsAPIV1 or EventsAPIV2.
	API string
	// The integration whose routing key the event came with, its service
	// and account.
	AccountID     string
	ServiceID     string
	IntegrationID string
	ReceivedAt    time.Time

	// Action and DedupKey are an alert event's: the dedup key (v1: the
	// incident key) names the alert; a trigger without one is given one.
	Action   EventAction
	DedupKey string

	// Summary is the v2 payload's summary, the v1 description, or the
	// change event's summary; Source, Severity, Component, Group and Class
	// are the v2 payload's (a change event has a source too).
	Summary   string
	Source    string
	Severity  Severity
	Component string
	Group     string
	Class     string
	// Timestamp is when the monitoring tool saw what the event reports, as
	// it said; zero when it said nothing that reads as a time.
	Timestamp time.Time
	// CustomDetails is the JSON the client sent as custom_details (v2) or
	// details (v1), exactly; nil when it sent none.
	CustomDetails json.RawMessage
	Client        string
	ClientURL     string
	Links         []Link
	Images        []Image
}

// Link is a link shown with an alert or a change: href is required.
type Link struct {
	Href string
	Text string
}

// Image is an image shown with an alert or a change: src is required.
type Image struct {
	Src  string
	Href string
	Alt  string
}

// EventFieldNames are the names an Events API door gives an event's fields
// in its error lines: "'payload.summary'" for v2, "Description" for v1. A
// field whose name is empty is not the door's and is not checked.
type EventFieldNames struct {
	Action        string
	DedupKey      string
	Summary       string
	Source        string
	Severity      string
	Component     string
	Group         string
	Class         string
	CustomDetails string
	Client        string
	ClientURL     string
	Links         string
	LinkHref      string
	LinkText      string
	ImageSrc      string
	ImageHref     string
	ImageAlt      string
}

// Problems returns one line per problem with the event, in the words of the
// door whose names are given: what is missing, too long, not one of the
// allowed values. A trigger's missing dedup key is not a problem: the door
// gives it one before asking.
func (e *Event) Problems(names EventFieldNames) []string {
	var p problemList
	switch e.Kind {
	case EventAlert:
		switch {
		case e.Action == "":
			p.missing(names.Action)
		case !contains(EventActions, e.Action):
			p.add(names.Action, "is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
		}
		if (e.Action == EventAcknowledge || e.Action == EventResolve) && e.DedupKey == "" {
			p.missing(names.DedupKey)
		}
		p.length(names.DedupKey, e.DedupKey, MaxDedupKey)
		if e.Action == EventTrigger {
			p.required(names.Summary, e.Summary)
			p.required(names.Source, e.Source)
			switch {
			case names.Severity == "":
			case e.Severity == "":
				p.missing(names.Severity)
			case !contains(Severities, e.Severity):
				p.add(names.Severity, "is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
			}
		}
	case EventChange:
		p.required(names.Summary, e.Summary)
		if len(e.Links) > MaxChangeEventLinks {
			p.add(names.Links, fmt.Sprintf("has too many items (maximum is %d)", MaxChangeEventLinks))
		}
	}
	p.length(names.Summary, e.Summary, MaxEventSummary)
	for _, f := range []struct{ name, value string }{
		{names.DedupKey, e.DedupKey}, {names.Summary, e.Summary}, {names.Source, e.Source},
		{names.Component, e.Component}, {names.Group, e.Group}, {names.Class, e.Class},
		{names.Client, e.Client}, {names.ClientURL, e.ClientURL},
	} {
		p.text(f.name, f.value)
	}
	for _, l := range e.Links {
		if l.Href == "" {
			p.missing(names.LinkHref)
		}
		p.text(names.LinkHref, l.Href)
		p.text(names.LinkText, l.Text)
	}
	for _, img := range e.Images {
		if img.Src == "" {
			p.missing(names.ImageSrc)
		}
		p.text(names.ImageSrc, img.Src)
		p.text(names.ImageHref, img.Href)
		p.text(names.ImageAlt, img.Alt)
	}
	if names.CustomDetails != "" && !utf8.Valid(e.CustomDetails) {
		p.add(names.CustomDetails, "must be valid UTF-8")
	}
	return p.lines
}

// problemList gathers an event's problems once each, in the order found.
type problemList struct {
	lines []string
}

func (p *problemList) add(name, what string) {
	if name == "" {
		return
	}
	line := name + " " + what
	for _, l := range p.lines {
		if l == line {
			return
		}
	}
	p.lines = append(p.lines, line)
}

func (p *problemList) missing(name string) { p.add(name, "is missing or blank") }

func (p *problemList) required(name, value string) {
	if strings.TrimSpace(value) == "" {
		p.missing(name)
	}
}

func (p *problemList) length(name, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		p.add(name, fmt.Sprintf("is too long (maximum is %d characters)", max))
	}
}

// text refuses the NUL character, which PostgreSQL cannot store in text:
// both engines must take the same events.
func (p *problemList) text(name, value string) {
	if strings.IndexByte(value, 0) >= 0 {
		p.add(name, "must not contain the NUL character")
	}
}

// eventTimeLayouts are the forms of ISO 8601 that monitoring tools send as
// an event's timestamp: RFC 3339 ("2015-07-17T08:42:58.315Z"), an offset
// without a colon as in PagerDuty's own examples ("…315+0000"), a space for
// the T, or no zone at all (read as UTC).
var eventTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// ParseEventTimestamp reads an event's timestamp in the forms of ISO 8601
// that clients send. It reports false for anything else: PagerDuty takes
// such an event and dates it when it arrives, and so does Gatehouse.
func ParseEventTimestamp(s string) (time.Time, bool) {
	for _, layout := range eventTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// NewDedupKey returns a dedup key for a trigger that came without one: 32
// lower-case hexadecimal characters, as PagerDuty's.
func NewDedupKey() string {
	return RandomString(32, "0123456789abcdef")
}

// EventRoute is where an Events API routing key leads: an integration of a
// service that is not disabled.
type EventRoute struct {
	AccountID     string
	ServiceID     string
	IntegrationID string
	// IntegrationType is the integration's type, such as
	// "events_api_v2_inbound_integration".
	IntegrationType string
}
