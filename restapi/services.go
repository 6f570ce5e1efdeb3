package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// serviceBody is PagerDuty's Service object.
type serviceBody struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self"`
	HTMLURL string `json:"html_url"`

	Name        string `json:"name"`
	Description string `json:"description"`
	Status      string `json:"status"`
	// EscalationPolicy is a reference, or the whole policy with
	// include[]=escalation_policies.
	EscalationPolicy       any     `json:"escalation_policy"`
	AcknowledgementTimeout *int    `json:"acknowledgement_timeout"`
	AutoResolveTimeout     *int    `json:"auto_resolve_timeout"`
	AlertCreation          string  `json:"alert_creation"`
	AlertGrouping          *string `json:"alert_grouping,omitempty"`
	AlertGroupingTimeout   *int    `json:"alert_grouping_timeout,omitempty"`

	AlertGroupingParameters          gatehouse.AlertGroupingParameters `json:"alert_grouping_parameters"`
	AutoPauseNotificationsParameters gatehouse.AutoPauseParameters     `json:"auto_pause_notifications_parameters"`
	IncidentUrgencyRule              gatehouse.IncidentUrgencyRule     `json:"incident_urgency_rule"`
	// SupportHours is always null and ScheduledActions always empty until
	// services have support hours.
	SupportHours     *struct{}  `json:"support_hours"`
	ScheduledActions []struct{} `json:"scheduled_actions"`
	Addons           []struct{} `json:"addons"`
	// Teams and Integrations are references, or whole objects with
	// include[]=teams and include[]=integrations.
	Teams                 []any   `json:"teams"`
	Integrations          []any   `json:"integrations"`
	LastIncidentTimestamp *string `json:"last_incident_timestamp"`
	CreatedAt             string  `json:"created_at"`
}

// serviceIncludes says which references of services are expanded.
type serviceIncludes struct {
	teams, integrations bool
	// policies are the services' whole policies with
	// include[]=escalation_policies, nil without.
	policies map[string]*gatehouse.EscalationPolicy
}

// serviceIncludes reads include[] for services, loading the policies of
// services when they are to be expanded: one query for all.
func (r *request) serviceIncludes(services []*gatehouse.Service) (serviceIncludes, error) {
	want := r.includes()
	inc := serviceIncludes{teams: want["teams"], integrations: want["integrations"]}
	if want["escalation_policies"] && len(services) > 0 {
		ids := make([]string, 0, len(services))
		seen := map[string]bool{}
		for _, s := range services {
			if !seen[s.EscalationPolicy.ID] {
				seen[s.EscalationPolicy.ID] = true
				ids = append(ids, s.EscalationPolicy.ID)
			}
		}
		policies, err := r.scope().EscalationPoliciesByID(r.ctx, ids)
		if err != nil {
			return inc, err
		}
		inc.policies = policies
	}
	return inc, nil
}

func (r *request) serviceBody(s *gatehouse.Service, inc serviceIncludes) serviceBody {
	b := serviceBody{
		ID: s.ID, Type: "service", Summary: s.Name, Self: r.self("service", s.ID), HTMLURL: r.htmlURL("service", s.ID),
		Name: s.Name, Description: s.Description, Status: s.Status,
		EscalationPolicy:       r.ref("escalation_policy", s.EscalationPolicy.ID, s.EscalationPolicy.Summary),
		AcknowledgementTimeout: s.AcknowledgementTimeout, AutoResolveTimeout: s.AutoResolveTimeout,
		AlertCreation:           s.AlertCreation,
		AlertGroupingParameters: s.AlertGrouping, AutoPauseNotificationsParameters: s.AutoPause, IncidentUrgencyRule: s.UrgencyRule,
		ScheduledActions: []struct{}{}, Addons: []struct{}{},
		Teams:        make([]any, len(s.Teams)),
		Integrations: make([]any, len(s.Integrations)),
		CreatedAt:    s.CreatedAt.Format(time.RFC3339),
	}
	// The deprecated fields alert_grouping_parameters replaced, for the
	// clients that still read them.
	if g := s.AlertGrouping; g.Type != nil && *g.Type != "content_based" {
		b.AlertGrouping = g.Type
		if *g.Type == "time" {
			b.AlertGroupingTimeout = g.Config.Timeout
		}
	}
	if p := inc.policies[s.EscalationPolicy.ID]; p != nil {
		b.EscalationPolicy = r.policyBody(p, policyIncludes{})
	}
	for i, t := range s.Teams {
		if inc.teams {
			b.Teams[i] = r.teamBody(t)
		} else {
			b.Teams[i] = r.ref("team", t.ID, t.Name)
		}
	}
	for i, in := range s.Integrations {
		if inc.integrations {
			b.Integrations[i] = r.integrationBody(in)
		} else {
			b.Integrations[i] = r.integrationRef(in)
		}
	}
	if !s.LastIncidentAt.IsZero() {
		at := s.LastIncidentAt.Format(time.RFC3339)
		b.LastIncidentTimestamp = &at
	}
	return b
}

// serviceInput is a Service in a request body: only the fields a client
// sets. Read-only fields (id, teams, integrations, created_at…) and the
// unknown are ignored, so a client may send back what it read.
type serviceInput struct {
	Name                   opt[string]            `json:"name"`
	Description            opt[string]            `json:"description"`
	Status                 opt[string]            `json:"status"`
	EscalationPolicy       opt[refInput]          `json:"escalation_policy"`
	AcknowledgementTimeout opt[int]               `json:"acknowledgement_timeout"`
	AutoResolveTimeout     opt[int]               `json:"auto_resolve_timeout"`
	AlertCreation          opt[string]            `json:"alert_creation"`
	AlertGrouping          opt[string]            `json:"alert_grouping"`
	AlertGroupingTimeout   opt[int]               `json:"alert_grouping_timeout"`
	SupportHours           opt[json.RawMessage]   `json:"support_hours"`
	ScheduledActions       opt[[]json.RawMessage] `json:"scheduled_actions"`

	AlertGroupingParameters          opt[gatehouse.AlertGroupingParameters] `json:"alert_grouping_parameters"`
	AutoPauseNotificationsParameters opt[gatehouse.AutoPauseParameters]     `json:"auto_pause_notifications_parameters"`
	IncidentUrgencyRule              opt[gatehouse.IncidentUrgencyRule]     `json:"incident_urgency_rule"`
}

// problems are what the store cannot check: what Gatehouse does not have
// yet, and references of the wrong type.
func (in *serviceInput) problems() error {
	var problems []string
	if p := in.EscalationPolicy; p.Set && !p.Null && p.Value.Type != "" && p.Value.Type != "escalation_policy_reference" && p.Value.Type != "escalation_policy" {
		problems = append(problems, fmt.Sprintf("service.escalation_policy.type must be escalation_policy_reference, not %q", p.Value.Type))
	}
	if in.SupportHours.Set && !in.SupportHours.Null {
		problems = append(problems, "service.support_hours: Gatehouse does not have support hours yet; send null")
	}
	for _, a := range in.ScheduledActions.Value {
		if string(a) != "null" {
			problems = append(problems, "service.scheduled_actions: Gatehouse does not have support hours, which scheduled actions need, yet; send []")
			break
		}
	}
	if len(problems) > 0 {
		return gatehouse.InvalidInput(problems...)
	}
	return nil
}

// apply sets on s the fields the client gave. A null timeout turns it off,
// as 0 does.
func (in *serviceInput) apply(s *gatehouse.Service) {
	setString(&s.Name, in.Name)
	setString(&s.Description, in.Description)
	if in.Status.Set && !in.Status.Null {
		s.Status = in.Status.Value
	}
	if p := in.EscalationPolicy; p.Set && !p.Null && p.Value.ID != "" {
		s.EscalationPolicy = gatehouse.Ref{ID: p.Value.ID}
	}
	setTimeout(&s.AcknowledgementTimeout, in.AcknowledgementTimeout)
	setTimeout(&s.AutoResolveTimeout, in.AutoResolveTimeout)
	if in.AlertCreation.Set && !in.AlertCreation.Null {
		s.AlertCreation = in.AlertCreation.Value
	}
	switch {
	case in.AlertGroupingParameters.Set:
		s.AlertGrouping = in.AlertGroupingParameters.Value
	case in.AlertGrouping.Set && !in.AlertGrouping.Null:
		// The deprecated way, for clients that still use it; null says
		// nothing (PagerDuty's Terraform provider always sends it).
		typ := in.AlertGrouping.Value
		s.AlertGrouping = gatehouse.AlertGroupingParameters{Type: &typ}
		if in.AlertGroupingTimeout.Set && !in.AlertGroupingTimeout.Null {
			s.AlertGrouping.Config = &gatehouse.AlertGroupingConfig{Timeout: &in.AlertGroupingTimeout.Value}
		}
	}
	if in.AutoPauseNotificationsParameters.Set {
		s.AutoPause = in.AutoPauseNotificationsParameters.Value
	}
	if in.IncidentUrgencyRule.Set {
		s.UrgencyRule = in.IncidentUrgencyRule.Value
	}
}

func setString(dst *string, o opt[string]) {
	if o.Set {
		*dst = o.Value // "" when null
	}
}

func setTimeout(dst **int, o opt[int]) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	default:
		v := o.Value
		*dst = &v
	}
}

func listServices(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	q := sqlstore.ServiceQuery{Query: r.query("query"), Name: r.query("name"), TeamIDs: r.values("team_ids"), Page: p}
	switch sortBy := r.query("sort_by"); sortBy {
	case "", "name", "name:asc":
	case "name:desc":
		q.Descending = true
	default:
		return 0, nil, gatehouse.InvalidInput(fmt.Sprintf("sort_by %q is not one of name, name:asc, name:desc", sortBy))
	}
	services, err := r.scope().Services(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	inc, err := r.serviceIncludes(services.Items)
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]serviceBody, len(services.Items))
	for i, s := range services.Items {
		bodies[i] = r.serviceBody(s, inc)
	}
	return http.StatusOK, list{key: "services", items: bodies, page: p, more: services.More, total: services.Total}, nil
}

func getService(r *request) (int, any, error) {
	s, err := r.scope().Service(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return r.serviceAnswer(http.StatusOK, s)
}

// serviceAnswer is {"service": …} with what include[] asks for.
func (r *request) serviceAnswer(status int, s *gatehouse.Service) (int, any, error) {
	inc, err := r.serviceIncludes([]*gatehouse.Service{s})
	if err != nil {
		return 0, nil, err
	}
	return status, map[string]serviceBody{"service": r.serviceBody(s, inc)}, nil
}

func createService(r *request) (int, any, error) {
	in, err := decode[serviceInput](r, "service")
	if err != nil {
		return 0, nil, err
	}
	if err := in.problems(); err != nil {
		return 0, nil, err
	}
	s := &gatehouse.Service{}
	in.apply(s)
	if err := r.scope().CreateService(r.ctx, s); err != nil {
		return 0, nil, err
	}
	return r.serviceAnswer(http.StatusCreated, s)
}

func updateService(r *request) (int, any, error) {
	in, err := decode[serviceInput](r, "service")
	if err != nil {
		return 0, nil, err
	}
	if err := in.problems(); err != nil {
		return 0, nil, err
	}
	s, err := r.scope().UpdateService(r.ctx, r.http.PathValue("id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return r.serviceAnswer(http.StatusOK, s)
}

func deleteService(r *request) (int, any, error) {
	return http.StatusNoContent, nil, r.scope().DeleteService(r.ctx, r.http.PathValue("id"))
}

// serviceExists is the check of GET /services/{id}/audit/records: the
// service must be one the request's principal sees.
func serviceExists(r *request, id string) error {
	_, err := r.scope().Service(r.ctx, id)
	return err
}
