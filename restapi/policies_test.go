package restapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// wirePolicy is an EscalationPolicy as a client decodes it.
type wirePolicy struct {
	ID, Type, Summary, Self, Name, Description string
	HTMLURL                                    string     `json:"html_url"`
	NumLoops                                   int        `json:"num_loops"`
	OnCallHandoffNotifications                 string     `json:"on_call_handoff_notifications"`
	EscalationRules                            []wireRule `json:"escalation_rules"`
	Services                                   []reference
	Teams                                      []wireObject
}

type wireRule struct {
	ID                       string
	EscalationDelayInMinutes int `json:"escalation_delay_in_minutes"`
	Targets                  []wireObject
	AssignmentStrategy       *struct{ Type string } `json:"escalation_rule_assignment_strategy"`
}

// wireObject is a reference, or the few fields of a full object a test
// looks at.
type wireObject struct {
	ID, Type, Summary, Self string
	HTMLURL                 string `json:"html_url"`
	Email, Name             string
}

func TestEscalationPoliciesAPI(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, "sqlite")
	s := storetest.Open(t, cfg)
	acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	basic, basicOwner := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
	key, _ := mustKey(t, s, acme, nil, false)
	readOnly, _ := mustKey(t, s, acme, nil, true)
	otherKey, _ := mustKey(t, s, other, nil, false)
	basicKey, _ := mustKey(t, s, basic, nil, false)
	ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
	manager, _ := mustKey(t, s, acme, ada, false)
	observer, _ := mustKey(t, s, acme, storetest.MustCreateUser(t, s, acme, "olga", gatehouse.RoleObserver), false)
	rita := storetest.MustCreateUser(t, s, acme, "rita", gatehouse.RoleRestrictedAccess)
	restricted, _ := mustKey(t, s, acme, rita, false)
	sam := storetest.MustCreateUser(t, s, acme, "sam", gatehouse.RoleReadOnlyUser)
	eve := storetest.MustCreateUser(t, s, other, "eve", gatehouse.RoleUser)
	cli := s.Scope(acme.ID, sqlstore.CLI(acme))
	ops, dbas := &gatehouse.Team{Name: "Ops"}, &gatehouse.Team{Name: "DBAs"}
	for _, team := range []*gatehouse.Team{ops, dbas} {
		if err := cli.CreateTeam(context.Background(), team); err != nil {
			t.Fatal(err)
		}
	}
	storetest.MustAddTeamMember(t, s, ops, rita, "responder")
	theirTeam := &gatehouse.Team{Name: "Theirs"}
	if err := s.Scope(other.ID, sqlstore.CLI(other)).CreateTeam(context.Background(), theirTeam); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, s)
	type one struct {
		EscalationPolicy wirePolicy `json:"escalation_policy"`
	}

	// What Terraform's provider sends on create: rules without IDs, targets
	// as references, teams by ID, no From header.
	created := decodeBody[one](t, f.send(t, "POST", "/escalation_policies", token(manager), `{"escalation_policy":{
		"name":"Ops Policy","description":"Managed by Terraform","num_loops":2,
		"teams":[{"id":"`+ops.ID+`","type":"team_reference"}],
		"escalation_rules":[
			{"escalation_delay_in_minutes":30,"targets":[{"id":"`+ada.ID+`","type":"user_reference"},{"id":"`+rita.ID+`","type":"user"}]},
			{"escalation_delay_in_minutes":10,"escalation_rule_assignment_strategy":{"type":"round_robin"},"targets":[{"id":"`+ada.ID+`","type":"user_reference"}]}
		]}}`), 201).EscalationPolicy
	if len(created.EscalationRules) != 2 {
		t.Fatalf("POST /escalation_policies rules = %+v, want 2", created.EscalationRules)
	}
	userRef := func(u *gatehouse.User) wireObject {
		return wireObject{ID: u.ID, Type: "user_reference", Summary: u.Name, Self: f.URL + "/users/" + u.ID, HTMLURL: f.URL + "/app/users/" + u.ID}
	}
	r1, r2 := created.EscalationRules[0].ID, created.EscalationRules[1].ID
	want := wirePolicy{
		ID: created.ID, Type: "escalation_policy", Summary: "Ops Policy", Self: f.URL + "/escalation_policies/" + created.ID,
		HTMLURL: f.URL + "/app/escalation_policies/" + created.ID, Name: "Ops Policy", Description: "Managed by Terraform",
		NumLoops: 2, OnCallHandoffNotifications: "if_has_services",
		EscalationRules: []wireRule{
			{ID: r1, EscalationDelayInMinutes: 30, Targets: []wireObject{userRef(ada), userRef(rita)}},
			{ID: r2, EscalationDelayInMinutes: 10, Targets: []wireObject{userRef(ada)}},
		},
		Services: []reference{},
		Teams:    []wireObject{{ID: ops.ID, Type: "team_reference", Summary: "Ops", Self: f.URL + "/teams/" + ops.ID, HTMLURL: f.URL + "/app/teams/" + ops.ID}},
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("POST /escalation_policies (-want +got):\n%s", diff)
	}
	got := decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)), 200).EscalationPolicy
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET /escalation_policies/{id} (-want +got):\n%s", diff)
	}

	// include[] expands targets and teams, and writes the strategies, as
	// Terraform's provider asks.
	expanded := decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID+
		"?include[]=targets&include[]=teams&include[]=escalation_rule_assignment_strategies&include[]=services&include[]=unknown", token(key)), 200).EscalationPolicy
	if tg := expanded.EscalationRules[0].Targets[0]; tg.Type != "user" || tg.Email != ada.Email || tg.ID != ada.ID {
		t.Errorf("target with include[]=targets = %+v, want ada's User object", tg)
	}
	if tm := expanded.Teams[0]; tm.Type != "team" || tm.Name != "Ops" {
		t.Errorf("team with include[]=teams = %+v, want the Team object", tm)
	}
	var strategies []string
	for _, r := range expanded.EscalationRules {
		if r.AssignmentStrategy != nil {
			strategies = append(strategies, r.AssignmentStrategy.Type)
		}
	}
	if diff := cmp.Diff([]string{"assign_to_everyone", "round_robin"}, strategies); diff != "" {
		t.Errorf("strategies with include[]=escalation_rule_assignment_strategies (-want +got):\n%s", diff)
	}
	if strings.Contains(f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)).Body, "escalation_rule_assignment_strategy") {
		t.Errorf("GET without include[] writes the assignment strategies")
	}

	// Terraform's and go-pagerduty's update: the whole policy read back,
	// changed, rule IDs and read-only fields included.
	var readBack map[string]map[string]any
	if err := json.Unmarshal([]byte(f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)).Body), &readBack); err != nil {
		t.Fatal(err)
	}
	p := readBack["escalation_policy"]
	rules := p["escalation_rules"].([]any)
	p["escalation_rules"] = []any{rules[1], rules[0]}
	p["name"] = "Operations"
	p["teams"] = nil
	body, _ := json.Marshal(readBack)
	updated := decodeBody[one](t, f.send(t, "PUT", "/escalation_policies/"+created.ID, token(key), string(body)), 200).EscalationPolicy
	want.Name, want.Summary, want.Teams = "Operations", "Operations", []wireObject{}
	want.EscalationRules = []wireRule{want.EscalationRules[1], want.EscalationRules[0]}
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("PUT of the policy read back (-want +got):\n%s", diff)
	}
	// What PUT does not name stays; the round robin rule sent back without
	// its strategy keeps it.
	decodeBody[one](t, f.send(t, "PUT", "/escalation_policies/"+created.ID, token(key), `{"escalation_policy":{"description":"On call"}}`), 200)
	want.Description = "On call"
	if diff := cmp.Diff(want, decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)), 200).EscalationPolicy); diff != "" {
		t.Errorf("GET after a PUT of the description (-want +got):\n%s", diff)
	}
	if s := decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID+"?include[]=escalation_rule_assignment_strategies", token(key)), 200).
		EscalationPolicy.EscalationRules[0].AssignmentStrategy; s == nil || s.Type != "round_robin" {
		t.Errorf("strategy of the rule sent back without one = %+v, want round_robin", s)
	}

	// The team's side of the link.
	for range 2 {
		if r := f.do(t, "PUT", "/teams/"+ops.ID+"/escalation_policies/"+created.ID, token(manager)); r.Status != 204 || r.Body != "" {
			t.Errorf("PUT /teams/{id}/escalation_policies/{id} = %d %q, want 204", r.Status, r.Body)
		}
	}
	if got := decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)), 200).EscalationPolicy.Teams; len(got) != 1 || got[0].ID != ops.ID {
		t.Errorf("teams after PUT /teams/{id}/escalation_policies/{id} = %+v, want Ops", got)
	}

	// Another policy, in no team, to list.
	second := decodeBody[one](t, f.send(t, "POST", "/escalation_policies", token(key), `{"escalation_policy":{"type":"escalation_policy","name":"DB Policy",
		"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[{"id":"`+ada.ID+`","type":"user_reference"}]}]}}`), 201).EscalationPolicy
	type page struct {
		EscalationPolicies []wirePolicy `json:"escalation_policies"`
		Limit, Offset      int
		More               bool
		Total              *int
	}
	names := func(path, auth string) []string {
		t.Helper()
		l := decodeBody[page](t, f.do(t, "GET", path, auth), 200)
		var out []string
		for _, p := range l.EscalationPolicies {
			out = append(out, p.Name)
		}
		return out
	}
	for path, want := range map[string][]string{
		"/escalation_policies":                             {"DB Policy", "Operations"},
		"/escalation_policies?sort_by=name:desc":           {"Operations", "DB Policy"},
		"/escalation_policies?sort_by=name:asc":            {"DB Policy", "Operations"},
		"/escalation_policies?query=oPer":                  {"Operations"},
		"/escalation_policies?user_ids[]=" + rita.ID:       {"Operations"},
		"/escalation_policies?user_ids[]=" + ada.ID:        {"DB Policy", "Operations"},
		"/escalation_policies?team_ids[]=" + ops.ID:        {"Operations"},
		"/escalation_policies?team_ids[]=" + dbas.ID:       nil,
		"/escalation_policies?user_ids[]=" + eve.ID:        nil,
		"/escalation_policies?limit=1&offset=1&total=true": {"Operations"},
	} {
		if diff := cmp.Diff(want, names(path, token(key))); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", path, diff)
		}
	}
	if l := decodeBody[page](t, f.do(t, "GET", "/escalation_policies?limit=1&total=true", token(key)), 200); l.Limit != 1 || !l.More || l.Total == nil || *l.Total != 2 {
		t.Errorf("GET /escalation_policies?limit=1&total=true = limit %d, more %t, total %v; want 1, true, 2", l.Limit, l.More, l.Total)
	}
	// A Restricted Access user sees her teams' policies only.
	if diff := cmp.Diff([]string{"Operations"}, names("/escalation_policies", token(restricted))); diff != "" {
		t.Errorf("GET /escalation_policies as Restricted Access (-want +got):\n%s", diff)
	}
	wantError(t, f.do(t, "GET", "/escalation_policies/"+second.ID, token(restricted)), 404, gatehouse.CodeNotFound, "")

	// A policy that a service uses stays.
	service := insertService(t, cfg, acme.ID, "API", created.ID)
	errs := wantError(t, f.do(t, "DELETE", "/escalation_policies/"+created.ID, token(key)), 400, gatehouse.CodeInvalidInput, "")
	if want := `Escalation policy "Operations" cannot be deleted while services use it: "API" (` + service + `); give them another escalation policy first`; !cmp.Equal(errs, []string{want}) {
		t.Errorf("DELETE of a policy in use: errors %q, want %q", errs, want)
	}
	if got := decodeBody[one](t, f.do(t, "GET", "/escalation_policies/"+created.ID, token(key)), 200).EscalationPolicy.Services; len(got) != 1 ||
		got[0] != (reference{ID: service, Type: "service_reference", Summary: "API", Self: f.URL + "/services/" + service, HTMLURL: f.URL + "/app/services/" + service}) {
		t.Errorf("services of the policy = %+v, want API's reference", got)
	}

	basicPolicy := `{"escalation_policy":{"name":"x","teams":[{"id":"PTEAM01"}],"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[{"id":"` + basicOwner.ID + `","type":"user_reference"}]}]}}`
	rule := func(targets string) string {
		return `{"escalation_policy":{"name":"New","escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[` + targets + `]}]}}`
	}
	target := func(u *gatehouse.User) string { return `{"id":"` + u.ID + `","type":"user_reference"}` }
	for _, tt := range []struct {
		name, method, path, auth, body string
		status, code                   int
		problem                        string
	}{
		{"no rules", "POST", "/escalation_policies", token(key), `{"escalation_policy":{"name":"New"}}`, 400, 2001, "An escalation policy must have at least one escalation rule"},
		{"no delay (go-pagerduty omits 0)", "POST", "/escalation_policies", token(key), `{"escalation_policy":{"name":"New","escalation_rules":[{"targets":[` + target(ada) + `]}]}}`,
			400, 2001, "Escalation rule 1: the escalation delay must be between 1 and 10080 minutes, not 0"},
		{"schedule target", "POST", "/escalation_policies", token(key), rule(`{"id":"PSCHED1","type":"schedule_reference"}`),
			400, 2001, "Escalation rule 1, target 1: schedule PSCHED1 cannot be a target, as Gatehouse has no schedules yet; target users instead"},
		{"another account's user", "POST", "/escalation_policies", token(key), rule(target(eve)), 400, 2001, "Escalation rule 1, target 1: user " + eve.ID + " not found"},
		{"stakeholder", "POST", "/escalation_policies", token(key), rule(target(sam)), 400, 2001,
			"Escalation rule 1, target 1: sam (" + sam.ID + ") is a stakeholder (read_only_user), and stakeholders cannot be escalation targets"},
		{"another account's team", "POST", "/escalation_policies", token(key),
			`{"escalation_policy":{"name":"New","teams":[{"id":"` + theirTeam.ID + `"}],"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[` + target(ada) + `]}]}}`,
			400, 2001, "Team " + theirTeam.ID + " not found"},
		{"two teams", "POST", "/escalation_policies", token(key),
			`{"escalation_policy":{"name":"New","teams":[{"id":"` + ops.ID + `"},{"id":"` + dbas.ID + `"}],"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[` + target(ada) + `]}]}}`,
			400, 2001, "An escalation policy may belong to at most 1 team, not 2"},
		{"name taken", "POST", "/escalation_policies", token(key), strings.Replace(rule(target(ada)), `"New"`, `"DB Policy"`, 1), 400, 2001, "Name has already been taken"},
		{"wrong types", "POST", "/escalation_policies", token(key), `{"escalation_policy":{"name":"New","num_loops":"2","escalation_rules":[{"escalation_delay_in_minutes":"5"}]}}`,
			400, 2001, "escalation_policy.num_loops must be an integer, not a string"},
		{"wrong type in a rule", "POST", "/escalation_policies", token(key), `{"escalation_policy":{"name":"New","escalation_rules":[{"escalation_delay_in_minutes":"5"}]}}`,
			400, 2001, "escalation_policy.escalation_rules.escalation_delay_in_minutes must be an integer, not a string"},
		{"too many loops", "POST", "/escalation_policies", token(key), strings.Replace(rule(target(ada)), `"name"`, `"num_loops":10,"name"`, 1), 400, 2001, "Num loops must be between 0 and 9, not 10"},
		{"unknown handoff", "POST", "/escalation_policies", token(key), strings.Replace(rule(target(ada)), `"name"`, `"on_call_handoff_notifications":"never","name"`, 1),
			400, 2001, `On call handoff notifications "never" is not one of if_has_services, always`},
		{"unknown strategy", "POST", "/escalation_policies", token(key),
			`{"escalation_policy":{"name":"New","escalation_rules":[{"escalation_delay_in_minutes":5,"escalation_rule_assignment_strategy":"random","targets":[` + target(ada) + `]}]}}`,
			400, 2001, `Escalation rule 1: assignment strategy "random" is not one of assign_to_everyone, round_robin`},
		{"oversize name", "POST", "/escalation_policies", token(key), strings.Replace(rule(target(ada)), `"New"`, `"`+strings.Repeat("n", 256)+`"`, 1),
			400, 2001, "Name must be at most 255 characters"},
		{"not wrapped, no rules", "POST", "/escalation_policies", token(key), `{"name":"New"}`, 400, 2001, "An escalation policy must have at least one escalation rule"},
		{"too many IDs", "GET", "/escalation_policies?user_ids[]=" + strings.Repeat("PUSER00&user_ids[]=", 100) + "PUSER00", token(key), "", 400, 2001,
			"user_ids[] may name at most 100 IDs, not 101"},
		{"unknown sort", "GET", "/escalation_policies?sort_by=id", token(key), "", 400, 2001, `sort_by "id" is not one of name, name:asc, name:desc`},
		{"read-only key", "POST", "/escalation_policies", token(readOnly), rule(target(ada)), 403, 2010, ""},
		{"observer", "POST", "/escalation_policies", token(observer), rule(target(ada)), 403, 2010, ""},
		{"restricted access", "PUT", "/escalation_policies/" + created.ID, token(restricted), `{"escalation_policy":{"name":"mine"}}`, 403, 2010, ""},
		{"observer links a team", "PUT", "/teams/" + ops.ID + "/escalation_policies/" + second.ID, token(observer), "", 403, 2010, ""},
		{"teams on a plan without", "POST", "/escalation_policies", token(basicKey), basicPolicy, 402, 2014, ""},
		{"team filter on a plan without", "GET", "/escalation_policies?team_ids[]=PTEAM01", token(basicKey), "", 402, 2014, ""},
		{"team link on a plan without", "PUT", "/teams/PTEAM01/escalation_policies/PPOLICY", token(basicKey), "", 402, 2014, ""},
		{"second team", "PUT", "/teams/" + dbas.ID + "/escalation_policies/" + created.ID, token(key), "", 400, 2001,
			`Escalation policy "Operations" already belongs to team "Ops" (` + ops.ID + `), and a policy belongs to at most 1 team: remove it from that team first`},
		{"another account's policy", "GET", "/escalation_policies/" + created.ID, token(otherKey), "", 404, 2100, ""},
		{"another account's policy, update", "PUT", "/escalation_policies/" + created.ID, token(otherKey), `{"escalation_policy":{"name":"mine"}}`, 404, 2100, ""},
		{"another account's policy, delete", "DELETE", "/escalation_policies/" + created.ID, token(otherKey), "", 404, 2100, ""},
		{"another account's policy, team link", "PUT", "/teams/" + theirTeam.ID + "/escalation_policies/" + created.ID, token(otherKey), "", 404, 2100, ""},
		{"another account's team, team link", "PUT", "/teams/" + theirTeam.ID + "/escalation_policies/" + second.ID, token(key), "", 404, 2100, ""},
		{"unknown policy", "GET", "/escalation_policies/PNOPE00", token(key), "", 404, 2100, ""},
		{"link not there", "DELETE", "/teams/" + dbas.ID + "/escalation_policies/" + created.ID, token(key), "", 404, 2100, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, f.send(t, tt.method, tt.path, tt.auth, tt.body), tt.status, tt.code, "")
			if tt.problem != "" && !strings.Contains(strings.Join(errs, "\n"), tt.problem) {
				t.Errorf("errors = %q, want %q", errs, tt.problem)
			}
		})
	}

	// The policy's audit trail: its creation and its two updates, newest
	// first; the team links are on the team's.
	type auditTrail struct {
		Records []struct {
			Action       string
			RootResource reference `json:"root_resource"`
		}
	}
	trail := decodeBody[auditTrail](t, f.do(t, "GET", "/escalation_policies/"+created.ID+"/audit/records", token(key)), 200)
	var actions []string
	for _, rec := range trail.Records {
		actions = append(actions, rec.Action)
		if rec.RootResource.ID != created.ID || rec.RootResource.Type != "escalation_policy_reference" {
			t.Errorf("audit record's root resource = %+v, want the policy", rec.RootResource)
		}
	}
	if diff := cmp.Diff([]string{"update", "update", "create"}, actions); diff != "" {
		t.Errorf("GET /escalation_policies/{id}/audit/records actions (-want +got):\n%s", diff)
	}
	wantError(t, f.do(t, "GET", "/escalation_policies/"+created.ID+"/audit/records", token(otherKey)), 404, gatehouse.CodeNotFound, "")

	if r := f.do(t, "DELETE", "/teams/"+ops.ID+"/escalation_policies/"+created.ID, token(key)); r.Status != 204 {
		t.Errorf("DELETE /teams/{id}/escalation_policies/{id} = %d %s", r.Status, r.Body)
	}
	if r := f.do(t, "DELETE", "/escalation_policies/"+second.ID, token(manager)); r.Status != 204 || r.Body != "" {
		t.Errorf("DELETE /escalation_policies/{id} = %d %q", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", "/escalation_policies/"+second.ID, token(key)), 404, gatehouse.CodeNotFound, "")
}

// insertService stores a bare service of the account using the policy in
// the SQLite database cfg names, as services' own API is not this file's
// to call, and returns its ID.
func insertService(t *testing.T, cfg sqlstore.Config, accountID, name, policyID string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "gatehouse.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := gatehouse.NewID()
	if _, err := db.Exec("INSERT INTO services (id, account_id, name, status, escalation_policy_id, alert_creation, alert_grouping_parameters, "+
		"auto_pause_notifications_parameters, incident_urgency_rule, created_at) VALUES (?, ?, ?, 'active', ?, 'create_alerts_and_incidents', '{}', '{}', '{}', 0)",
		id, accountID, name, policyID); err != nil {
		t.Fatalf("insert service: %v", err)
	}
	return id
}

// BenchmarkListEscalationPolicies is an authenticated
// GET /escalation_policies?limit=100 of 100 policies, each with three rules
// of two targets and a team, through the whole front door: compare it with
// BenchmarkServeAbilities run in the same invocation.
func BenchmarkListEscalationPolicies(b *testing.B) {
	for _, query := range []string{"", "&include[]=targets&include[]=teams"} {
		b.Run("include="+strings.TrimPrefix(query, "&"), func(b *testing.B) {
			srv, auth := benchPolicies(b, 100)
			req := httptest.NewRequest("GET", "/escalation_policies?limit=100"+query, nil)
			req.Header["Authorization"] = auth
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				srv.ServeHTTP(w, req)
			}
		})
	}
}

// benchPolicies returns a server of an account with n escalation policies,
// and the Authorization header of a key of it.
func benchPolicies(b *testing.B, n int) (*Server, []string) {
	b.Helper()
	s := storetest.OpenSQLite(b)
	a, owner := storetest.MustCreateAccount(b, s, "bench", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(b, s, a, "ada", gatehouse.RoleUser)
	sc := s.Scope(a.ID, sqlstore.CLI(a))
	team := &gatehouse.Team{Name: "Ops"}
	if err := sc.CreateTeam(context.Background(), team); err != nil {
		b.Fatal(err)
	}
	targets := []gatehouse.EscalationTarget{{Type: gatehouse.TargetUser, ID: owner.ID}, {Type: gatehouse.TargetUser, ID: ada.ID}}
	for i := range n {
		p := &gatehouse.EscalationPolicy{Name: fmt.Sprintf("Policy %03d", i), Teams: []*gatehouse.Team{{ID: team.ID}}}
		for delay := range 3 {
			p.Rules = append(p.Rules, gatehouse.EscalationRule{DelayInMinutes: 10 * (delay + 1), Targets: slices.Clone(targets)})
		}
		if err := sc.CreateEscalationPolicy(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	key, _ := mustKey(b, s, a, nil, false)
	srv := New(Config{Store: s, Limiter: ratelimit.NewMemory(), RateLimit: 1_000_000_000})
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	return srv, []string{token(key)}
}
