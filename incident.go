package gatehouse

import (
	"encoding/json"
	"time"
)

// IncidentStatus is where an incident stands: triggered, then acknowledged,
// then resolved, which is final.
type IncidentStatus string

// The statuses of an incident.
const (
	IncidentTriggered    IncidentStatus = "triggered"
	IncidentAcknowledged IncidentStatus = "acknowledged"
	IncidentResolved     IncidentStatus = "resolved"
)

// IncidentStatuses are the values of Incident.Status.
var IncidentStatuses = []IncidentStatus{IncidentTriggered, IncidentAcknowledged, IncidentResolved}

// Urgency is how urgently an incident needs a person.
type Urgency string

// The urgencies of an incident.
const (
	UrgencyHigh Urgency = "high"
	UrgencyLow  Urgency = "low"
)

// Incident is a problem someone must look at, opened on a service by an
// alert (one alert per incident for now) or by hand.
type Incident struct {
	ID        string
	AccountID string
	// Number is the incident's number, unique in its account, counted from
	// 1.
	Number    int64
	Title     string
	Status    IncidentStatus
	Urgency   Urgency
	ServiceID string
	// EscalationPolicyID is the policy of the service when the incident
	// was opened.
	EscalationPolicyID string
	// IncidentKey is the dedup key of the alert that opened it.
	IncidentKey string
	// AssignedVia is "escalation_policy" or "direct_assignment".
	AssignedVia string
	// Assignees are the users assigned, in order: the targets of the first
	// rule of the escalation policy when it was opened. A resolved incident
	// has none.
	Assignees []string
	// Acknowledgers are who acknowledged it since it was last triggered; a
	// resolved incident has none.
	Acknowledgers []Acknowledgement
	// LastStatusChangeBy is who last changed its status: the service for
	// events, a user for people.
	LastStatusChangeBy Ref
	CreatedAt          time.Time
	UpdatedAt          time.Time
	LastStatusChangeAt time.Time
	// ResolvedAt is zero unless the incident is resolved.
	ResolvedAt  time.Time
	AlertCounts AlertCounts
}

// Acknowledgement is one acknowledgement of an incident: who, and when.
type Acknowledgement struct {
	At           time.Time
	Acknowledger Ref
}

// AlertCounts counts an incident's alerts by status.
type AlertCounts struct {
	Triggered int
	Resolved  int
}

// All is the number of the incident's alerts.
func (c AlertCounts) All() int { return c.Triggered + c.Resolved }

// The values of Incident.AssignedVia.
const (
	AssignedViaEscalationPolicy = "escalation_policy"
	AssignedViaDirect           = "direct_assignment"
)

// StatusChange says whether an incident in status from moves to status to
// when someone asks for it, through an event or the REST API. It returns
// changed false when the incident already stands there, and a 2001 error
// when it cannot go there: a resolved incident stays resolved, and no one
// triggers an incident again by asking.
func StatusChange(from, to IncidentStatus) (changed bool, err error) {
	switch {
	case to != IncidentAcknowledged && to != IncidentResolved:
		return false, notOneOf("Status", string(to), []IncidentStatus{IncidentAcknowledged, IncidentResolved})
	case from == to:
		return false, nil
	case from == IncidentResolved:
		return false, InvalidInput("Incident Already Resolved")
	}
	return true, nil
}

// UrgencyFor returns the urgency of an incident opened on a service whose
// incident urgency rule says ruleUrgency ("high", "low" or
// "severity_based"), by an alert of severity sev: with severity_based,
// critical and error alerts are high, warning and info low.
func UrgencyFor(ruleUrgency string, sev Severity) Urgency {
	switch ruleUrgency {
	case string(UrgencyLow):
		return UrgencyLow
	case "severity_based":
		if sev == SeverityWarning || sev == SeverityInfo {
			return UrgencyLow
		}
	}
	return UrgencyHigh
}

// AlertStatus is where an alert stands: an alert is triggered until it is
// resolved (its incident is what people acknowledge).
type AlertStatus string

// The statuses of an alert.
const (
	AlertTriggered AlertStatus = "triggered"
	AlertResolved  AlertStatus = "resolved"
)

// Alert is a problem a monitoring tool reported through an integration:
// the events with one dedup key from its trigger to its resolve.
type Alert struct {
	ID            string
	AccountID     string
	ServiceID     string
	IntegrationID string
	IncidentID    string
	// AlertKey is the dedup key of its events.
	AlertKey string
	Status   AlertStatus
	Severity Severity
	Summary  string
	// Body is what the trigger said: its details and contexts.
	Body AlertBody
	// EventSeq is the event log's number of the trigger that opened it.
	EventSeq   int64
	CreatedAt  time.Time
	ResolvedAt time.Time
}

// AlertBody is what describes an alert: PagerDuty's alert_body.
type AlertBody struct {
	// Details is the trigger's custom details (v2) or details (v1) as the
	// client sent them, or nil.
	Details  json.RawMessage
	Contexts []Context
	// CEFDetails is the trigger's payload in PagerDuty's Common Event
	// Format: summary, source, severity, component, group, class, client…
	CEF CEFDetails
}

// CEFDetails is an alert's trigger in PagerDuty's Common Event Format.
type CEFDetails struct {
	Summary       string
	Source        string
	Severity      Severity
	Component     string
	Group         string
	Class         string
	Client        string
	ClientURL     string
	EventAction   EventAction
	DedupKey      string
	Timestamp     time.Time
	ServiceID     string
	IntegrationID string
}

// Context is a link or an image shown with an alert or a log entry.
type Context struct {
	// Type is "link" or "image".
	Type string
	Href string
	Text string
	Src  string
	Alt  string
}

// ContextsOf returns an event's links and images as contexts, links first.
func ContextsOf(e *Event) []Context {
	out := make([]Context, 0, len(e.Links)+len(e.Images))
	for _, l := range e.Links {
		out = append(out, Context{Type: "link", Href: l.Href, Text: l.Text})
	}
	for _, img := range e.Images {
		out = append(out, Context{Type: "image", Src: img.Src, Href: img.Href, Alt: img.Alt})
	}
	return out
}

// LogEntryType is what a log entry records, PagerDuty's names.
type LogEntryType string

// The types of log entry Gatehouse records.
const (
	LogTrigger     LogEntryType = "trigger_log_entry"
	LogAcknowledge LogEntryType = "acknowledge_log_entry"
	LogResolve     LogEntryType = "resolve_log_entry"
	LogAssign      LogEntryType = "assign_log_entry"
	LogAnnotate    LogEntryType = "annotate_log_entry"
	LogUrgency     LogEntryType = "urgency_change_log_entry"
)

// LogEntry is one step of an incident's life: triggered, acknowledged,
// assigned, annotated, resolved…
type LogEntry struct {
	ID        string
	AccountID string
	// Seq orders the account's log entries: a later entry has a greater Seq.
	Seq        int64
	IncidentID string
	ServiceID  string
	Type       LogEntryType
	CreatedAt  time.Time
	// Agent is who did it: the integration for events, a user for people.
	Agent   Ref
	Channel Channel
	// Note is an annotation's text.
	Note string
	// Assignees are the users an assign (or trigger) entry assigned.
	Assignees []string
	// Contexts are a trigger's links and images.
	Contexts []Context
}

// Channel is how a log entry's step came about: "api" for the Events and
// REST APIs, "web_trigger" for the web app… with the event's summary and
// details for a trigger.
type Channel struct {
	Type      string
	Summary   string
	Details   json.RawMessage
	Client    string
	ClientURL string
}

// ChangeEvent is a change to a service (a deploy, a configuration change)
// that a tool recorded through the Events API: it opens no alert.
type ChangeEvent struct {
	ID            string
	AccountID     string
	ServiceID     string
	IntegrationID string
	Summary       string
	Source        string
	// Timestamp is when the change happened, as the tool said, or when it
	// was received if it did not say.
	Timestamp     time.Time
	CustomDetails json.RawMessage
	Links         []Link
	Images        []Image
	// EventSeq is the event log's number of the event that recorded it.
	EventSeq  int64
	CreatedAt time.Time
}

// OpenAlert is the alert open under an integration's dedup key, with the
// status of its incident: what decides what an alert event does.
type OpenAlert struct {
	AlertID        string
	IncidentID     string
	IncidentStatus IncidentStatus
}

// EventEffect is what an alert event does to alerts and incidents.
type EventEffect int

// The effects of alert events.
const (
	// EffectNone changes nothing: an acknowledge or resolve of no open
	// alert, or an acknowledge of an incident already acknowledged.
	EffectNone EventEffect = iota
	// EffectOpen opens a new alert, and an incident for it.
	EffectOpen
	// EffectDeduplicate adds a trigger to the open alert with its dedup
	// key: no new alert.
	EffectDeduplicate
	// EffectAcknowledge acknowledges the open alert's incident.
	EffectAcknowledge
	// EffectResolve resolves the open alert and its incident.
	EffectResolve
)

var effectNames = [...]string{"none", "open", "deduplicate", "acknowledge", "resolve"}

// String names the effect.
func (e EventEffect) String() string {
	if int(e) < len(effectNames) {
		return effectNames[e]
	}
	return "unknown"
}

// EffectOf returns what an alert event with that action does, given the
// alert open under its dedup key on its integration (nil when there is
// none): the alert and incident state machine. An open alert whose
// incident was resolved (through the REST API) counts as none.
func EffectOf(action EventAction, open *OpenAlert) EventEffect {
	if open != nil && open.IncidentStatus == IncidentResolved {
		open = nil
	}
	switch {
	case action == EventTrigger && open == nil:
		return EffectOpen
	case action == EventTrigger:
		return EffectDeduplicate
	case open == nil:
		return EffectNone
	case action == EventAcknowledge && open.IncidentStatus == IncidentTriggered:
		return EffectAcknowledge
	case action == EventResolve:
		return EffectResolve
	}
	return EffectNone
}

// NewRecordID returns the identifier of a kind of record made in numbers
// (alerts, log entries, change events): "Q" and 13 upper-case letters and
// digits, as PagerDuty's, so that collisions stay out of sight.
func NewRecordID() string {
	return "Q" + RandomString(13, idAlphabet)
}
