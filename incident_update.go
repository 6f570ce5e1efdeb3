package gatehouse

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds what people ask of incidents through the REST API (and,
// later, the web app): opening one by hand, changing one, writing notes and
// resolving alerts, with the rules their requests must follow. The store
// applies them, one transaction each, beside the events' effects.

// The limits of what people write on incidents.
const (
	// MaxIncidentTitle is the longest title, in characters: an event's
	// summary, which becomes its incident's title, may be as long.
	MaxIncidentTitle = MaxEventSummary
	// MaxIncidentKey is the longest incident key: an event's dedup key.
	MaxIncidentKey = MaxDedupKey
	// MaxNoteContent is the longest note, in characters.
	MaxNoteContent = 25_000
	// MaxIncidentNotes is how many notes an incident may have, PagerDuty's.
	MaxIncidentNotes = 2000
	// MaxBulkUpdate is how many incidents, or alerts, one request may
	// change, PagerDuty's.
	MaxBulkUpdate = 250
	// maxResolution is the longest resolution note, in characters.
	maxResolution = MaxNoteContent
)

// LogEscalate is the type of the log entry of an incident escalated by hand
// to a level of its escalation policy.
const LogEscalate LogEntryType = "escalate_log_entry"

// ManualIncident is an incident a person opens on a service, without an
// event: the REST API's POST /incidents.
type ManualIncident struct {
	Title     string
	ServiceID string
	// Urgency is the incident's urgency; empty for what the service's
	// incident urgency rule says.
	Urgency Urgency
	// IncidentKey names the incident on its service: no other open incident
	// of the service may have it. Empty for a new random one.
	IncidentKey string
	// Details are the body's details, the JSON the client sent (an object
	// or a string); nil when it sent none.
	Details json.RawMessage
	// AssigneeIDs assigns the incident to these users directly; nil for the
	// targets of the first rule of its escalation policy.
	AssigneeIDs []string
	// EscalationPolicyID is the policy the incident escalates along; empty
	// for the service's.
	EscalationPolicyID string
}

// errAssignedBothWays is the problem of a request that names assignees and
// an escalation policy: it is one or the other.
const errAssignedBothWays = "Assignments cannot be given with an escalation policy: give one or the other"

// Validate returns a 2001 error listing every problem with the incident.
func (m *ManualIncident) Validate() error {
	var problems []string
	problems = append(problems, NameProblems("Title", m.Title, MaxIncidentTitle)...)
	if m.ServiceID == "" {
		problems = append(problems, "Service must be given: a reference to the service the incident is on")
	}
	if m.Urgency != "" && m.Urgency != UrgencyHigh && m.Urgency != UrgencyLow {
		problems = append(problems, notOneOf("Urgency", string(m.Urgency), []Urgency{UrgencyHigh, UrgencyLow}).Errors...)
	}
	problems = append(problems, incidentKeyProblems(m.IncidentKey)...)
	if len(m.AssigneeIDs) > 0 && m.EscalationPolicyID != "" {
		problems = append(problems, errAssignedBothWays)
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

func incidentKeyProblems(key string) []string {
	switch {
	case utf8.RuneCountInString(key) > MaxIncidentKey:
		return []string{fmt.Sprintf("Incident key must be at most %d characters", MaxIncidentKey)}
	case strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key):
		// PostgreSQL cannot store NUL in text: both engines refuse it.
		return []string{"Incident key must be valid UTF-8 without the NUL character"}
	}
	return nil
}

// IncidentUpdate is what a person asks of an incident: acknowledge or
// resolve it, retitle it, change its urgency, or assign it anew. Zero fields
// keep what the incident has.
type IncidentUpdate struct {
	// ID names the incident, by ID or number, in a request that updates
	// several.
	ID     string
	Status IncidentStatus
	// Resolution is the note of the resolve's log entry.
	Resolution string
	Title      string
	Urgency    Urgency
	// AssigneeIDs, when not nil, assigns the incident to these users
	// directly.
	AssigneeIDs []string
	// EscalationPolicyID assigns the incident to the targets of the first
	// rule of this policy, which it then escalates along.
	EscalationPolicyID string
	// EscalationLevel assigns the incident to the targets of this rule of
	// its escalation policy, counted from 1.
	EscalationLevel int
}

// Validate returns a 2001 error listing every problem with the update.
func (u *IncidentUpdate) Validate() error {
	var problems []string
	if u.Status != "" && u.Status != IncidentAcknowledged && u.Status != IncidentResolved {
		problems = append(problems, notOneOf("Status", string(u.Status), []IncidentStatus{IncidentAcknowledged, IncidentResolved}).Errors...)
	}
	if u.Resolution != "" && u.Status != IncidentResolved {
		problems = append(problems, "Resolution is the note of a resolve: give it with the status resolved")
	}
	problems = append(problems, DescriptionProblems("Resolution", u.Resolution, maxResolution)...)
	if u.Title != "" {
		problems = append(problems, NameProblems("Title", u.Title, MaxIncidentTitle)...)
	}
	if u.Urgency != "" && u.Urgency != UrgencyHigh && u.Urgency != UrgencyLow {
		problems = append(problems, notOneOf("Urgency", string(u.Urgency), []Urgency{UrgencyHigh, UrgencyLow}).Errors...)
	}
	reassigns := 0
	if u.AssigneeIDs != nil {
		reassigns++
		if len(u.AssigneeIDs) == 0 {
			problems = append(problems, "Assignments must name at least one user")
		}
	}
	if u.EscalationPolicyID != "" {
		reassigns++
	}
	if u.EscalationLevel < 0 {
		problems = append(problems, "Escalation level must be a positive number")
	} else if u.EscalationLevel > 0 {
		reassigns++
	}
	if reassigns > 1 {
		problems = append(problems, "Give one of assignments, escalation_policy and escalation_level")
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// Reassigns reports whether the update assigns the incident anew.
func (u *IncidentUpdate) Reassigns() bool {
	return u.AssigneeIDs != nil || u.EscalationPolicyID != "" || u.EscalationLevel > 0
}

// IncidentNote is a note a person wrote on an incident.
type IncidentNote struct {
	ID         string
	AccountID  string
	IncidentID string
	// User is who wrote it; its ID is empty once that user is removed.
	User      Ref
	Content   string
	CreatedAt time.Time
}

// Validate returns a 2001 error listing every problem with the note.
func (n *IncidentNote) Validate() error {
	if strings.TrimSpace(n.Content) == "" {
		return InvalidInput("Content must not be empty")
	}
	if p := DescriptionProblems("Content", n.Content, MaxNoteContent); len(p) > 0 {
		return InvalidInput(p...)
	}
	return nil
}

// AlertUpdate is what a person asks of an alert: resolve it. ID names the
// alert in a request that updates several; IncidentID, when set, is the
// incident the client says it belongs to (moving alerts between incidents
// is not supported: it must be the alert's own).
type AlertUpdate struct {
	ID         string
	Status     AlertStatus
	IncidentID string
}

// Validate returns a 2001 error listing every problem with the update.
func (u *AlertUpdate) Validate() error {
	if u.Status != "" && u.Status != AlertResolved {
		return notOneOf("Status", string(u.Status), []AlertStatus{AlertResolved})
	}
	return nil
}
