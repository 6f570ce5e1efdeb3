package restapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// PagerDuty's window of GET /incidents: the last month unless since says
// otherwise or date_range=all, and at most six months.
const (
	defaultIncidentMonths = 1
	maxIncidentMonths     = 6
)

// incidentQuery reads GET /incidents' filters, sort and page.
func (r *request) incidentQuery() (sqlstore.IncidentQuery, error) {
	q := sqlstore.IncidentQuery{
		ServiceIDs: r.values("service_ids"), TeamIDs: r.values("team_ids"), UserIDs: r.values("user_ids"),
		IncidentKey: r.query("incident_key"),
	}
	var problems []string
	for _, s := range r.values("statuses") {
		st := gatehouse.IncidentStatus(s)
		if !slices.Contains(gatehouse.IncidentStatuses, st) {
			problems = append(problems, fmt.Sprintf("statuses[] %q is not one of triggered, acknowledged, resolved", s))
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, u := range r.values("urgencies") {
		if u != string(gatehouse.UrgencyHigh) && u != string(gatehouse.UrgencyLow) {
			problems = append(problems, fmt.Sprintf("urgencies[] %q is not one of high, low", u))
		}
		q.Urgencies = append(q.Urgencies, gatehouse.Urgency(u))
	}
	sorts, err := incidentSorts(r.query("sort_by"))
	if err != nil {
		problems = append(problems, err.Error())
	}
	q.Sort = sorts
	if err := r.incidentWindow(&q); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if q.Page, err = r.page(); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if len(problems) > 0 {
		return q, gatehouse.InvalidInput(problems...)
	}
	return q, nil
}

// incidentWindow sets the time window of q: since and until, or
// PagerDuty's default of the last month, or none with date_range=all.
func (r *request) incidentWindow(q *sqlstore.IncidentQuery) error {
	loc, err := r.timeZone()
	if err != nil {
		return err
	}
	since, until, err := r.timeRange(loc)
	if err != nil {
		return err
	}
	switch dr := r.query("date_range"); dr {
	case "all":
		return nil
	case "":
	default:
		return gatehouse.InvalidInput(fmt.Sprintf("date_range %q is not one of all", dr))
	}
	end := until
	if end.IsZero() {
		end = r.now()
	}
	if since.IsZero() {
		since = end.AddDate(0, -defaultIncidentMonths, 0)
	}
	if since.Before(end.AddDate(0, -maxIncidentMonths, 0)) {
		return gatehouse.InvalidInput(fmt.Sprintf("The range from since to until must be at most %d months; use date_range=all for every incident", maxIncidentMonths))
	}
	q.Since, q.Until = since, until
	return nil
}

// incidentSorts reads sort_by: at most two fields, each with :asc or
// :desc, separated by commas.
func incidentSorts(v string) ([]sqlstore.IncidentSort, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > 2 {
		return nil, fmt.Errorf("sort_by %q has more than two fields", v)
	}
	var sorts []sqlstore.IncidentSort
	for _, p := range parts {
		field, dir, _ := strings.Cut(strings.TrimSpace(p), ":")
		if !slices.Contains(sqlstore.IncidentSortFields, field) || (dir != "" && dir != "asc" && dir != "desc") {
			return nil, fmt.Errorf("sort_by %q is not one of %s, each with :asc or :desc", p, strings.Join(sqlstore.IncidentSortFields, ", "))
		}
		sorts = append(sorts, sqlstore.IncidentSort{Field: field, Descending: dir == "desc"})
	}
	return sorts, nil
}

// errorLines returns the lines of a 2001 error, or its text.
func errorLines(err error) []string {
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && len(e.Errors) > 0 {
		return e.Errors
	}
	return []string{err.Error()}
}

func listIncidents(r *request) (int, any, error) {
	q, err := r.incidentQuery()
	if err != nil {
		return 0, nil, err
	}
	loc, _ := r.timeZone()
	incidents, err := r.scope().Incidents(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(loc, sqlstore.Related{Incidents: incidents.Items}, "incidents")
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]incidentBody, len(incidents.Items))
	for i, inc := range incidents.Items {
		bodies[i] = v.incidentBody(inc)
	}
	return http.StatusOK, list{key: "incidents", items: bodies, page: q.Page, more: incidents.More, total: incidents.Total}, nil
}

func getIncident(r *request) (int, any, error) {
	inc, err := r.scope().Incident(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return r.incidentAnswer(http.StatusOK, inc)
}

// incidentAnswer is {"incident": …}, with what include[] asks for.
func (r *request) incidentAnswer(status int, inc *gatehouse.Incident) (int, any, error) {
	loc, err := r.timeZone()
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(loc, sqlstore.Related{Incidents: []*gatehouse.Incident{inc}}, "incidents")
	if err != nil {
		return 0, nil, err
	}
	return status, map[string]incidentBody{"incident": v.incidentBody(inc)}, nil
}

// incidentInput is an Incident in a request body: what POST /incidents and
// PUT /incidents take. Read-only and unknown fields are ignored.
type incidentInput struct {
	ID               opt[string]            `json:"id"`
	Type             opt[string]            `json:"type"`
	Title            opt[string]            `json:"title"`
	Service          opt[refInput]          `json:"service"`
	Urgency          opt[string]            `json:"urgency"`
	IncidentKey      opt[string]            `json:"incident_key"`
	Body             opt[incidentBodyInput] `json:"body"`
	Assignments      opt[[]assignmentInput] `json:"assignments"`
	EscalationPolicy opt[refInput]          `json:"escalation_policy"`
	EscalationLevel  opt[int]               `json:"escalation_level"`
	Status           opt[string]            `json:"status"`
	Resolution       opt[string]            `json:"resolution"`
	Priority         opt[json.RawMessage]   `json:"priority"`
}

// incidentBodyInput is an incident's body: its details, a JSON object as
// PagerDuty's description has it or a string as go-pagerduty sends it.
type incidentBodyInput struct {
	Type    string          `json:"type"`
	Details json.RawMessage `json:"details"`
}

type assignmentInput struct {
	Assignee refInput `json:"assignee"`
}

// problems are what the store cannot check: references and types of the
// wrong kind, and what Gatehouse does not have yet. path names the object
// in the lines, such as "incident".
func (in *incidentInput) problems(path string, types ...string) []string {
	var problems []string
	if t := in.Type; t.Set && !t.Null && !slices.Contains(types, t.Value) {
		problems = append(problems, fmt.Sprintf("%s.type must be %s, not %q", path, strings.Join(types, " or "), t.Value))
	}
	refType := func(field string, ref opt[refInput], want ...string) {
		if ref.Set && !ref.Null && ref.Value.Type != "" && !slices.Contains(want, ref.Value.Type) {
			problems = append(problems, fmt.Sprintf("%s.%s.type must be %s, not %q", path, field, want[0], ref.Value.Type))
		}
	}
	refType("service", in.Service, "service_reference", "service")
	refType("escalation_policy", in.EscalationPolicy, "escalation_policy_reference", "escalation_policy")
	if p := in.EscalationPolicy; p.Set && !p.Null && p.Value.ID == "" {
		problems = append(problems, path+".escalation_policy.id must be given")
	}
	for i, a := range in.Assignments.Value {
		if t := a.Assignee.Type; t != "" && t != "user_reference" && t != "user" {
			problems = append(problems, fmt.Sprintf("%s.assignments[%d].assignee.type must be user_reference, not %q", path, i, t))
		}
		if a.Assignee.ID == "" {
			problems = append(problems, fmt.Sprintf("%s.assignments[%d].assignee.id must be given", path, i))
		}
	}
	if p := in.Priority; p.Set && !p.Null {
		problems = append(problems, path+".priority: Gatehouse does not set priorities on incidents yet; send null or leave it out")
	}
	return problems
}

func (in *incidentInput) assigneeIDs() []string {
	if !in.Assignments.Set || in.Assignments.Null {
		return nil
	}
	ids := make([]string, len(in.Assignments.Value))
	for i, a := range in.Assignments.Value {
		ids[i] = a.Assignee.ID
	}
	return ids
}

// update is the IncidentUpdate the input asks for.
func (in *incidentInput) update() gatehouse.IncidentUpdate {
	u := gatehouse.IncidentUpdate{
		ID: in.ID.Value, Status: gatehouse.IncidentStatus(in.Status.Value), Resolution: in.Resolution.Value,
		Title: in.Title.Value, Urgency: gatehouse.Urgency(in.Urgency.Value), AssigneeIDs: in.assigneeIDs(),
		EscalationPolicyID: in.EscalationPolicy.Value.ID, EscalationLevel: in.EscalationLevel.Value,
	}
	return u
}

// actingUser is the user a write to incidents is made as: the token's user,
// or the one the From header names (see checkFrom).
func (r *request) actingUser() (*gatehouse.User, error) {
	if r.from == nil {
		return nil, errFromMissing
	}
	return r.from, nil
}

func createIncident(r *request) (int, any, error) {
	in, err := decode[incidentInput](r, "incident")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	if problems := in.problems("incident", "incident"); len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	m := &gatehouse.ManualIncident{
		Title: in.Title.Value, ServiceID: in.Service.Value.ID, Urgency: gatehouse.Urgency(in.Urgency.Value),
		IncidentKey: in.IncidentKey.Value, Details: in.Body.Value.Details, EscalationPolicyID: in.EscalationPolicy.Value.ID,
	}
	if ids := in.assigneeIDs(); len(ids) > 0 {
		m.AssigneeIDs = ids
	}
	if string(m.Details) == "null" {
		m.Details = nil
	}
	inc, err := r.scope().CreateIncident(r.ctx, by, m)
	if err != nil {
		return 0, nil, err
	}
	return r.incidentAnswer(http.StatusCreated, inc)
}

func updateIncident(r *request) (int, any, error) {
	in, err := decode[incidentInput](r, "incident")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	if problems := in.problems("incident", "incident", "incident_reference"); len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	inc, err := r.scope().UpdateIncident(r.ctx, r.http.PathValue("id"), by, in.update())
	if err != nil {
		return 0, nil, err
	}
	return r.incidentAnswer(http.StatusOK, inc)
}

// decodeList reads a body {"<key>": [{…}, …]} into one T per object, as
// decode does for one, naming each in the lines of the 2001 error; more than
// gatehouse.MaxBulkUpdate objects is a 2902 error.
func decodeList[T any](r *request, key string) ([]*T, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	outer, err := bodyObject(body)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(outer[key], &raws); err != nil || outer[key] == nil || raws == nil {
		return nil, gatehouse.InvalidInput(fmt.Sprintf("The body must be {%q: [...]}, a list of %s", key, key))
	}
	if len(raws) > gatehouse.MaxBulkUpdate {
		return nil, &gatehouse.Error{Code: gatehouse.CodeTooLarge, Message: "Request Entity Too Large",
			Errors: []string{fmt.Sprintf("At most %d %s may be updated at a time, not %d", gatehouse.MaxBulkUpdate, key, len(raws))}}
	}
	out := make([]*T, len(raws))
	var problems []string
	for i, raw := range raws {
		v, err := decodeInto[T](fmt.Sprintf("%s[%d]", key, i), raw)
		if err != nil {
			problems = append(problems, errorLines(err)...)
			continue
		}
		out[i] = v
	}
	if len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	return out, nil
}

func updateIncidents(r *request) (int, any, error) {
	inputs, err := decodeList[incidentInput](r, "incidents")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	var problems []string
	updates := make([]gatehouse.IncidentUpdate, len(inputs))
	for i, in := range inputs {
		problems = append(problems, in.problems(fmt.Sprintf("incidents[%d]", i), "incident", "incident_reference")...)
		updates[i] = in.update()
	}
	if len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	incidents, err := r.scope().UpdateIncidents(r.ctx, by, updates)
	if err != nil {
		return 0, nil, err
	}
	loc, err := r.timeZone()
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(loc, sqlstore.Related{Incidents: incidents}, "incidents")
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]incidentBody, len(incidents))
	for i, inc := range incidents {
		bodies[i] = v.incidentBody(inc)
	}
	return http.StatusOK, list{key: "incidents", items: bodies, page: sqlstore.Page{Limit: max(len(bodies), 1)}}, nil
}

// noteBody is PagerDuty's IncidentNote object.
type noteBody struct {
	ID        string      `json:"id"`
	User      *reference  `json:"user"`
	Channel   noteChannel `json:"channel"`
	Content   string      `json:"content"`
	CreatedAt string      `json:"created_at"`
	UpdatedAt string      `json:"updated_at"`
}

type noteChannel struct {
	Summary string `json:"summary"`
}

// noteChannelSummary is how PagerDuty names where a person's note came
// from.
const noteChannelSummary = "The PagerDuty website or APIs"

func (r *request) noteBody(n *gatehouse.IncidentNote) noteBody {
	b := noteBody{ID: n.ID, Channel: noteChannel{Summary: noteChannelSummary}, Content: n.Content,
		CreatedAt: n.CreatedAt.Format(time.RFC3339), UpdatedAt: n.CreatedAt.Format(time.RFC3339)}
	if n.User.ID != "" {
		ref := r.ref("user", n.User.ID, n.User.Summary)
		b.User = &ref
	}
	return b
}

func listIncidentNotes(r *request) (int, any, error) {
	notes, err := r.scope().IncidentNotes(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]noteBody, len(notes))
	for i, n := range notes {
		bodies[i] = r.noteBody(n)
	}
	return http.StatusOK, map[string][]noteBody{"notes": bodies}, nil
}

type noteInput struct {
	Content opt[string] `json:"content"`
}

func createIncidentNote(r *request) (int, any, error) {
	in, err := decode[noteInput](r, "note")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	n, err := r.scope().AddIncidentNote(r.ctx, r.http.PathValue("id"), by, in.Content.Value)
	if err != nil {
		return 0, nil, err
	}
	// PagerDuty's description answers 200, not 201.
	return http.StatusOK, map[string]noteBody{"note": r.noteBody(n)}, nil
}
