package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// policyBody is PagerDuty's EscalationPolicy object.
type policyBody struct {
	ID                         string      `json:"id"`
	Type                       string      `json:"type"`
	Summary                    string      `json:"summary"`
	Self                       string      `json:"self"`
	HTMLURL                    string      `json:"html_url"`
	Name                       string      `json:"name"`
	Description                string      `json:"description"`
	NumLoops                   int         `json:"num_loops"`
	OnCallHandoffNotifications string      `json:"on_call_handoff_notifications"`
	EscalationRules            []ruleBody  `json:"escalation_rules"`
	Services                   []reference `json:"services"`
	// Teams are references, or Team objects with include[]=teams.
	Teams []any `json:"teams"`
}

// ruleBody is PagerDuty's EscalationRule object.
type ruleBody struct {
	ID                       string `json:"id"`
	EscalationDelayInMinutes int    `json:"escalation_delay_in_minutes"`
	// Targets are user references, or User objects with include[]=targets.
	Targets []any `json:"targets"`
	// AssignmentStrategy is written with
	// include[]=escalation_rule_assignment_strategies, as PagerDuty does.
	AssignmentStrategy *strategyBody `json:"escalation_rule_assignment_strategy,omitempty"`
}

// strategyBody is a rule's assignment strategy as PagerDuty writes it and
// its Terraform provider reads it: {"type": "round_robin"}. (The OpenAPI
// description's EscalationRule calls it a string, but its own request
// example sends this object.)
type strategyBody struct {
	Type string `json:"type"`
}

// policyIncludes are the include[] values that change how a policy is
// written. "services" is accepted but not expanded yet: services are
// written as references.
type policyIncludes struct {
	targets, teams, strategies bool
}

func (r *request) policyIncludes() policyIncludes {
	in := r.includes()
	return policyIncludes{targets: in["targets"], teams: in["teams"], strategies: in["escalation_rule_assignment_strategies"]}
}

func (r *request) policyBody(p *gatehouse.EscalationPolicy, inc policyIncludes) policyBody {
	b := policyBody{
		ID: p.ID, Type: "escalation_policy", Summary: p.Name,
		Self: r.self("escalation_policy", p.ID), HTMLURL: r.htmlURL("escalation_policy", p.ID),
		Name: p.Name, Description: p.Description, NumLoops: p.NumLoops, OnCallHandoffNotifications: p.OnCallHandoffNotifications,
		EscalationRules: make([]ruleBody, len(p.Rules)),
		Services:        make([]reference, len(p.Services)),
		Teams:           make([]any, len(p.Teams)),
	}
	for i, rule := range p.Rules {
		rb := ruleBody{ID: rule.ID, EscalationDelayInMinutes: rule.DelayInMinutes, Targets: make([]any, len(rule.Targets))}
		for j, t := range rule.Targets {
			if inc.targets {
				rb.Targets[j] = r.userBody(t.User)
			} else {
				rb.Targets[j] = r.ref("user", t.ID, t.User.Name)
			}
		}
		if inc.strategies {
			rb.AssignmentStrategy = &strategyBody{Type: rule.AssignmentStrategy}
		}
		b.EscalationRules[i] = rb
	}
	for i, s := range p.Services {
		b.Services[i] = r.ref("service", s.ID, s.Summary)
	}
	for i, t := range p.Teams {
		if inc.teams {
			b.Teams[i] = r.teamBody(t)
		} else {
			b.Teams[i] = r.ref("team", t.ID, t.Name)
		}
	}
	return b
}

// policyInput is an EscalationPolicy in a request body: only the fields a
// client sets. Clients send back what they read (ids, summaries, URLs,
// services), which is ignored but for the rules' IDs.
type policyInput struct {
	Name                       opt[string]      `json:"name"`
	Description                opt[string]      `json:"description"`
	NumLoops                   opt[int]         `json:"num_loops"`
	OnCallHandoffNotifications opt[string]      `json:"on_call_handoff_notifications"`
	EscalationRules            opt[[]ruleInput] `json:"escalation_rules"`
	// Teams null or [] takes the policy out of its team.
	Teams opt[[]refInput] `json:"teams"`
}

type ruleInput struct {
	// ID keeps the rule's ID when the client sends it back.
	ID                       string        `json:"id"`
	EscalationDelayInMinutes int           `json:"escalation_delay_in_minutes"`
	Targets                  []refInput    `json:"targets"`
	AssignmentStrategy       strategyInput `json:"escalation_rule_assignment_strategy"`
}

// refInput is a reference in a request body: a target or a team.
type refInput struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// strategyInput is a rule's assignment strategy: {"type": "round_robin"} as
// PagerDuty's clients send it, or the bare string the OpenAPI description
// names.
type strategyInput string

func (s *strategyInput) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*s = ""
	case string:
		*s = strategyInput(v)
	default:
		var obj struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*s = strategyInput(obj.Type)
	}
	return nil
}

// apply sets on p the fields the client gave, with slices of its own, as it
// may run more than once.
func (in *policyInput) apply(p *gatehouse.EscalationPolicy) {
	if in.Name.Set {
		p.Name = in.Name.Value
	}
	if in.Description.Set {
		p.Description = in.Description.Value
	}
	if in.NumLoops.Set {
		p.NumLoops = in.NumLoops.Value
	}
	if in.OnCallHandoffNotifications.Set {
		p.OnCallHandoffNotifications = in.OnCallHandoffNotifications.Value
	}
	if in.EscalationRules.Set {
		p.Rules = make([]gatehouse.EscalationRule, len(in.EscalationRules.Value))
		for i, r := range in.EscalationRules.Value {
			rule := gatehouse.EscalationRule{
				ID: r.ID, DelayInMinutes: r.EscalationDelayInMinutes, AssignmentStrategy: string(r.AssignmentStrategy),
				Targets: make([]gatehouse.EscalationTarget, len(r.Targets)),
			}
			for j, t := range r.Targets {
				rule.Targets[j] = gatehouse.EscalationTarget{Type: t.Type, ID: t.ID}
			}
			p.Rules[i] = rule
		}
	}
	if in.Teams.Set {
		p.Teams = make([]*gatehouse.Team, len(in.Teams.Value))
		for i, t := range in.Teams.Value {
			p.Teams[i] = &gatehouse.Team{ID: t.ID}
		}
	}
}

// maxFilterIDs bounds the IDs of one filter of a list, such as user_ids[],
// and so the size of its query.
const maxFilterIDs = 100

// policySorts are the sort_by values of GET /escalation_policies, and
// whether each sorts from Z to A.
var policySorts = map[string]bool{"": false, "name": false, "name:asc": false, "name:desc": true}

func listEscalationPolicies(r *request) (int, any, error) {
	p, err := r.page()
	if err != nil {
		return 0, nil, err
	}
	sortBy := r.query("sort_by")
	descending, ok := policySorts[sortBy]
	if !ok {
		return 0, nil, gatehouse.InvalidInput(fmt.Sprintf("sort_by %q is not one of name, name:asc, name:desc", sortBy))
	}
	q := sqlstore.PolicyQuery{Query: r.query("query"), UserIDs: r.values("user_ids"), TeamIDs: r.values("team_ids"), Descending: descending, Page: p}
	for _, ids := range []struct {
		name   string
		values []string
	}{{"user_ids[]", q.UserIDs}, {"team_ids[]", q.TeamIDs}} {
		if len(ids.values) > maxFilterIDs {
			return 0, nil, gatehouse.InvalidInput(fmt.Sprintf("%s may name at most %d IDs, not %d", ids.name, maxFilterIDs, len(ids.values)))
		}
	}
	policies, err := r.scope().EscalationPolicies(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	inc := r.policyIncludes()
	bodies := make([]policyBody, len(policies.Items))
	for i, policy := range policies.Items {
		bodies[i] = r.policyBody(policy, inc)
	}
	return http.StatusOK, list{key: "escalation_policies", items: bodies, page: p, more: policies.More, total: policies.Total}, nil
}

func createEscalationPolicy(r *request) (int, any, error) {
	in, err := decode[policyInput](r, "escalation_policy")
	if err != nil {
		return 0, nil, err
	}
	p := &gatehouse.EscalationPolicy{}
	in.apply(p)
	if err := r.scope().CreateEscalationPolicy(r.ctx, p); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]policyBody{"escalation_policy": r.policyBody(p, policyIncludes{})}, nil
}

func getEscalationPolicy(r *request) (int, any, error) {
	p, err := r.scope().EscalationPolicy(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]policyBody{"escalation_policy": r.policyBody(p, r.policyIncludes())}, nil
}

func updateEscalationPolicy(r *request) (int, any, error) {
	in, err := decode[policyInput](r, "escalation_policy")
	if err != nil {
		return 0, nil, err
	}
	p, err := r.scope().UpdateEscalationPolicy(r.ctx, r.http.PathValue("id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]policyBody{"escalation_policy": r.policyBody(p, policyIncludes{})}, nil
}

func deleteEscalationPolicy(r *request) (int, any, error) {
	return http.StatusNoContent, nil, r.scope().DeleteEscalationPolicy(r.ctx, r.http.PathValue("id"))
}

func addTeamEscalationPolicy(r *request) (int, any, error) {
	err := r.scope().AddTeamEscalationPolicy(r.ctx, r.http.PathValue("id"), r.http.PathValue("escalation_policy_id"))
	return http.StatusNoContent, nil, err
}

func removeTeamEscalationPolicy(r *request) (int, any, error) {
	err := r.scope().RemoveTeamEscalationPolicy(r.ctx, r.http.PathValue("id"), r.http.PathValue("escalation_policy_id"))
	return http.StatusNoContent, nil, err
}

// escalationPolicyExists is the check of GET
// /escalation_policies/{id}/audit/records.
func escalationPolicyExists(r *request, id string) error {
	_, err := r.scope().EscalationPolicy(r.ctx, id)
	return err
}
