package restapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// incidentView writes incidents, their alerts, log entries and notes, and
// change events, for one request: with the names of what they refer to,
// the whole objects include[] asks for, and times in the request's time
// zone. Everything it shows is loaded when it is made, one query per kind.
type incidentView struct {
	r   *request
	loc *time.Location
	rel *sqlstore.IncidentRelations
	// include are the include[] values the operation expands.
	include map[string]bool
	// The whole objects include[] asks for, by ID.
	users         map[string]userBody
	services      map[string]*gatehouse.Service
	policies      map[string]*gatehouse.EscalationPolicy
	teams         map[string]*gatehouse.Team
	firstTriggers map[string]*gatehouse.LogEntry
}

// includeSets are the include[] values each kind of operation expands;
// the others the spec lists are accepted and ignored (priorities,
// conference bridges and custom fields Gatehouse does not have).
var includeSets = map[string][]string{
	"incidents":   {"acknowledgers", "agents", "assignees", "escalation_policies", "first_trigger_log_entries", "services", "teams", "users"},
	"log_entries": {"incidents", "services", "channels", "teams"},
	"alerts":      {"incidents", "services"},
}

// newIncidentView loads what of refers to, and what include[] asks to
// expand of the values in includeSets[set]. With include[]=incidents, the
// incidents of log entries and alerts are added to of, whole.
func (r *request) newIncidentView(loc *time.Location, of sqlstore.Related, set string) (*incidentView, error) {
	v := &incidentView{r: r, loc: loc, include: map[string]bool{}}
	asked := r.includes()
	for _, name := range includeSets[set] {
		v.include[name] = asked[name]
	}
	sc := r.scope()
	if v.include["incidents"] {
		var ids []string
		for _, le := range of.LogEntries {
			ids = append(ids, le.IncidentID)
		}
		for _, a := range of.Alerts {
			ids = append(ids, a.IncidentID)
		}
		incidents, err := sc.IncidentsByID(r.ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range slices.Sorted(maps.Keys(incidents)) {
			of.Incidents = append(of.Incidents, incidents[id])
		}
	}
	rel, err := sc.IncidentRelations(r.ctx, of)
	if err != nil {
		return nil, err
	}
	v.rel = rel
	if v.include["services"] {
		if v.services, err = sc.ServicesByID(r.ctx, slices.Collect(maps.Keys(rel.Services))); err != nil {
			return nil, err
		}
	}
	if v.include["escalation_policies"] {
		if v.policies, err = sc.EscalationPoliciesByID(r.ctx, slices.Collect(maps.Keys(rel.Policies))); err != nil {
			return nil, err
		}
	}
	if v.include["teams"] {
		if v.teams, err = sc.TeamsByID(r.ctx, slices.Collect(maps.Keys(rel.Teams))); err != nil {
			return nil, err
		}
	}
	if v.include["first_trigger_log_entries"] {
		if v.firstTriggers, err = sc.LogEntriesByID(r.ctx, slices.Collect(maps.Values(rel.FirstTriggers))); err != nil {
			return nil, err
		}
	}
	if v.include["users"] || v.include["assignees"] || v.include["acknowledgers"] || v.include["agents"] {
		if err := v.loadUsers(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// loadUsers loads the User objects of the users the incidents name.
func (v *incidentView) loadUsers() error {
	users, err := v.r.scope().UsersByID(v.r.ctx, slices.Collect(maps.Keys(v.rel.Users)))
	if err != nil {
		return err
	}
	list := slices.Collect(maps.Values(users))
	bodies, err := v.r.userBodies(list, nil)
	if err != nil {
		return err
	}
	v.users = make(map[string]userBody, len(bodies))
	for _, b := range bodies {
		v.users[b.ID] = b
	}
	return nil
}

// time is t in the view's time zone, as PagerDuty writes times.
func (v *incidentView) time(t time.Time) string {
	return t.In(v.loc).Format(time.RFC3339)
}

func (v *incidentView) timeOrNull(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := v.time(t)
	return &s
}

// user is the reference to a user, or the User object when expand and
// include[] asked for it.
func (v *incidentView) user(id string, expand bool) any {
	if b, ok := v.users[id]; ok && expand {
		return b
	}
	return v.r.ref("user", id, v.rel.Users[id])
}

func (v *incidentView) service(id string) any {
	if s := v.services[id]; s != nil {
		return v.r.serviceBody(s, serviceIncludes{})
	}
	return v.r.ref("service", id, v.rel.Services[id])
}

func (v *incidentView) policy(id string) any {
	if p := v.policies[id]; p != nil {
		return v.r.policyBody(p, policyIncludes{})
	}
	return v.r.ref("escalation_policy", id, v.rel.Policies[id])
}

// incidentTeams are the teams of an incident: its escalation policy's.
func (v *incidentView) incidentTeams(policyID string) []any {
	ids := v.rel.PolicyTeams[policyID]
	out := make([]any, len(ids))
	for i, id := range ids {
		if t := v.teams[id]; t != nil {
			out[i] = v.r.teamBody(t)
		} else {
			out[i] = v.r.ref("team", id, v.rel.Teams[id])
		}
	}
	return out
}

// agent is the reference to who did something: a user, a service, or an
// integration (whose type is its own, as
// events_api_v2_inbound_integration_reference); or the User or Service
// object when expand.
func (v *incidentView) agent(ref gatehouse.Ref, serviceID string, expand bool) any {
	switch ref.Type {
	case "user_reference":
		return v.user(ref.ID, expand)
	case "service_reference":
		if expand {
			if s := v.services[ref.ID]; s != nil {
				return v.r.serviceBody(s, serviceIncludes{})
			}
		}
		return v.r.ref("service", ref.ID, v.rel.Services[ref.ID])
	}
	in, ok := v.rel.Integrations[ref.ID]
	if ok {
		serviceID = in.ServiceID
	}
	typ := strings.TrimSuffix(ref.Type, "_reference")
	return v.r.nestedRef("service", serviceID, typ, "integrations", ref.ID, in.Name)
}

// agentName is how a log entry's summary names its agent.
func (v *incidentView) agentName(ref gatehouse.Ref) string {
	switch ref.Type {
	case "user_reference":
		return v.rel.Users[ref.ID]
	case "service_reference":
		return v.rel.Services[ref.ID]
	}
	return v.rel.Integrations[ref.ID].Name
}

// incidentSummary is how PagerDuty sums an incident up: "[#12] Title".
func incidentSummary(inc *gatehouse.Incident) string {
	return fmt.Sprintf("[#%d] %s", inc.Number, inc.Title)
}

// incidentRef is the reference to the incident with that ID, or the
// Incident object with include[]=incidents.
func (v *incidentView) incidentRef(id string) any {
	inc := v.rel.Incidents[id]
	if inc == nil {
		return v.r.ref("incident", id, "")
	}
	if v.include["incidents"] {
		return v.incidentBody(inc)
	}
	return v.r.ref("incident", id, incidentSummary(inc))
}

// incidentBody is PagerDuty's Incident object.
type incidentBody struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Summary        string `json:"summary"`
	Self           string `json:"self"`
	HTMLURL        string `json:"html_url"`
	IncidentNumber int64  `json:"incident_number"`
	Title          string `json:"title"`
	// Description is the title again: older clients read it.
	Description          string            `json:"description"`
	CreatedAt            string            `json:"created_at"`
	UpdatedAt            string            `json:"updated_at"`
	Status               string            `json:"status"`
	IncidentKey          string            `json:"incident_key"`
	Service              any               `json:"service"`
	Assignments          []assignmentBody  `json:"assignments"`
	AssignedVia          string            `json:"assigned_via"`
	LastStatusChangeAt   string            `json:"last_status_change_at"`
	LastStatusChangeBy   any               `json:"last_status_change_by"`
	ResolvedAt           *string           `json:"resolved_at"`
	FirstTriggerLogEntry any               `json:"first_trigger_log_entry,omitempty"`
	AlertCounts          alertCountsBody   `json:"alert_counts"`
	IsMergeable          bool              `json:"is_mergeable"`
	IncidentType         incidentTypeBody  `json:"incident_type"`
	EscalationPolicy     any               `json:"escalation_policy"`
	Teams                []any             `json:"teams"`
	PendingActions       []struct{}        `json:"pending_actions"`
	Acknowledgements     []acknowledgement `json:"acknowledgements"`
	// Priority is null: Gatehouse does not set priorities on incidents.
	Priority *struct{} `json:"priority"`
	Urgency  string    `json:"urgency"`
}

type assignmentBody struct {
	At       string `json:"at"`
	Assignee any    `json:"assignee"`
}

type acknowledgement struct {
	At           string `json:"at"`
	Acknowledger any    `json:"acknowledger"`
}

type alertCountsBody struct {
	All       int `json:"all"`
	Triggered int `json:"triggered"`
	Resolved  int `json:"resolved"`
}

type incidentTypeBody struct {
	Name string `json:"name"`
}

func (v *incidentView) incidentBody(inc *gatehouse.Incident) incidentBody {
	r := v.r
	b := incidentBody{
		ID: inc.ID, Type: "incident", Summary: incidentSummary(inc), Self: r.self("incident", inc.ID), HTMLURL: r.htmlURL("incident", inc.ID),
		IncidentNumber: inc.Number, Title: inc.Title, Description: inc.Title,
		CreatedAt: v.time(inc.CreatedAt), UpdatedAt: v.time(inc.UpdatedAt),
		Status: string(inc.Status), IncidentKey: inc.IncidentKey,
		Service:            v.service(inc.ServiceID),
		Assignments:        make([]assignmentBody, len(inc.Assignees)),
		AssignedVia:        inc.AssignedVia,
		LastStatusChangeAt: v.time(inc.LastStatusChangeAt),
		LastStatusChangeBy: v.agent(inc.LastStatusChangeBy, inc.ServiceID, v.include["agents"] || v.include["users"]),
		ResolvedAt:         v.timeOrNull(inc.ResolvedAt),
		AlertCounts:        alertCountsBody{All: inc.AlertCounts.All(), Triggered: inc.AlertCounts.Triggered, Resolved: inc.AlertCounts.Resolved},
		IncidentType:       incidentTypeBody{Name: "incident_default"},
		EscalationPolicy:   v.policy(inc.EscalationPolicyID),
		Teams:              v.incidentTeams(inc.EscalationPolicyID),
		PendingActions:     []struct{}{},
		Acknowledgements:   make([]acknowledgement, len(inc.Acknowledgers)),
		Urgency:            string(inc.Urgency),
	}
	assignedAt := v.time(v.rel.AssignedAt[inc.ID])
	for i, id := range inc.Assignees {
		b.Assignments[i] = assignmentBody{At: assignedAt, Assignee: v.user(id, v.include["assignees"] || v.include["users"])}
	}
	for i, a := range inc.Acknowledgers {
		b.Acknowledgements[i] = acknowledgement{At: v.time(a.At),
			Acknowledger: v.agent(a.Acknowledger, inc.ServiceID, v.include["acknowledgers"] || v.include["users"])}
	}
	if id, ok := v.rel.FirstTriggers[inc.ID]; ok {
		if le := v.firstTriggers[id]; le != nil {
			b.FirstTriggerLogEntry = v.logEntryBody(le)
		} else {
			b.FirstTriggerLogEntry = v.logEntryRef(id, inc.ID, gatehouse.LogTrigger, "Triggered through the API")
		}
	}
	return b
}

// logEntryRef is the reference to a log entry of an incident.
func (v *incidentView) logEntryRef(id, incidentID string, typ gatehouse.LogEntryType, summary string) reference {
	return reference{ID: id, Type: string(typ) + "_reference", Summary: summary,
		Self: v.r.self("log_entry", id), HTMLURL: v.r.htmlURL("incident", incidentID) + "/log_entries/" + id}
}

// logEntryBody is PagerDuty's LogEntry object, of one of its types.
type logEntryBody struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Summary   string `json:"summary"`
	Self      string `json:"self"`
	HTMLURL   string `json:"html_url"`
	CreatedAt string `json:"created_at"`
	Agent     any    `json:"agent"`
	// Channel is its type, and all it says with include[]=channels.
	Channel  map[string]any `json:"channel"`
	Service  any            `json:"service"`
	Incident any            `json:"incident"`
	Teams    []any          `json:"teams"`
	Contexts []contextBody  `json:"contexts"`
	// EventDetails holds a trigger's description; go-pagerduty reads it
	// as strings.
	EventDetails map[string]string `json:"event_details,omitempty"`
	Note         string            `json:"note,omitempty"`
	Assignees    []any             `json:"assignees,omitempty"`
}

// contextBody is a link or an image shown with an alert or a log entry.
type contextBody struct {
	Type string `json:"type"`
	Href string `json:"href,omitempty"`
	Text string `json:"text,omitempty"`
	Src  string `json:"src,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

func contextBodies(contexts []gatehouse.Context) []contextBody {
	out := make([]contextBody, len(contexts))
	for i, c := range contexts {
		out[i] = contextBody(c)
	}
	return out
}

// logEntrySummary says what a log entry records, as PagerDuty does.
func (v *incidentView) logEntrySummary(le *gatehouse.LogEntry) string {
	by := ""
	if le.Agent.Type == "user_reference" {
		by = v.rel.Users[le.Agent.ID]
	}
	how := func(verb string) string {
		if by != "" {
			return verb + " by " + by
		}
		if le.Channel.Type == "api" {
			return verb + " through the API"
		}
		if name := v.agentName(le.Agent); name != "" {
			return verb + " by " + name
		}
		return verb
	}
	names := func() string {
		n := make([]string, len(le.Assignees))
		for i, id := range le.Assignees {
			n[i] = v.rel.Users[id]
		}
		return strings.Join(n, ", ")
	}
	switch le.Type {
	case gatehouse.LogTrigger:
		return "Triggered through the API"
	case gatehouse.LogAcknowledge:
		return how("Acknowledged")
	case gatehouse.LogResolve:
		return how("Resolved")
	case gatehouse.LogAssign:
		return "Assigned to " + names()
	case gatehouse.LogEscalate:
		return "Escalated to " + names()
	case gatehouse.LogAnnotate:
		return "Note added"
	case gatehouse.LogUrgency:
		// The channel's summary says what it changed to.
		return how(cmp.Or(le.Channel.Summary, "Urgency changed"))
	}
	return string(le.Type)
}

func (v *incidentView) logEntryBody(le *gatehouse.LogEntry) logEntryBody {
	inc := v.rel.Incidents[le.IncidentID]
	b := logEntryBody{
		ID: le.ID, Type: string(le.Type), Summary: v.logEntrySummary(le),
		Self: v.r.self("log_entry", le.ID), HTMLURL: v.r.htmlURL("incident", le.IncidentID) + "/log_entries/" + le.ID,
		CreatedAt: v.time(le.CreatedAt),
		Agent:     v.agent(le.Agent, le.ServiceID, false),
		Channel:   map[string]any{"type": le.Channel.Type},
		Service:   v.service(le.ServiceID),
		Incident:  v.incidentRef(le.IncidentID),
		Teams:     []any{},
		Contexts:  contextBodies(le.Contexts),
		Note:      le.Note,
	}
	if inc != nil {
		b.Teams = v.incidentTeams(inc.EscalationPolicyID)
	}
	if v.include["channels"] {
		c := le.Channel
		for k, val := range map[string]string{"summary": c.Summary, "client": c.Client, "client_url": c.ClientURL} {
			if val != "" {
				b.Channel[k] = val
			}
		}
		if len(c.Details) > 0 {
			b.Channel["details"] = json.RawMessage(c.Details)
		}
	}
	if le.Type == gatehouse.LogTrigger && le.Channel.Summary != "" {
		b.EventDetails = map[string]string{"description": le.Channel.Summary}
	}
	if le.Type == gatehouse.LogAssign || le.Type == gatehouse.LogEscalate {
		b.Assignees = make([]any, len(le.Assignees))
		for i, id := range le.Assignees {
			b.Assignees[i] = v.r.ref("user", id, v.rel.Users[id])
		}
	}
	return b
}
