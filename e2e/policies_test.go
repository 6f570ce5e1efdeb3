package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// policyNames are the names of policies, in order.
func policyNames(policies []pagerduty.EscalationPolicy) []string {
	var names []string
	for _, p := range policies {
		names = append(names, p.Name)
	}
	return names
}

func TestClientEscalationPolicies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ada := s.createUser(t, "ada@example.com", "Ada", "user")
	bob := s.createUser(t, "bob@example.com", "Bob", "limited_user")
	c := newClient(t, s, s.Key)
	ctx := t.Context()
	team := createTeamWrapped(t, s, "Ops")
	userRef := func(u cliUser) pagerduty.APIObject {
		return pagerduty.APIObject{ID: u.ID, Type: "user_reference", Summary: u.Name, Self: s.URL + "/users/" + u.ID, HTMLURL: s.URL + "/app/users/" + u.ID}
	}

	created, err := c.CreateEscalationPolicyWithContext(ctx, pagerduty.EscalationPolicy{
		Name:                       "Ops Policy",
		Description:                "Pages the Ops team",
		NumLoops:                   2,
		OnCallHandoffNotifications: "always",
		EscalationRules: []pagerduty.EscalationRule{
			{Delay: 30, Targets: []pagerduty.APIObject{{ID: ada.ID, Type: "user_reference"}, {ID: bob.ID, Type: "user_reference"}}},
			{Delay: 10, Targets: []pagerduty.APIObject{{ID: bob.ID, Type: "user_reference"}}},
		},
		Teams: []pagerduty.APIReference{{ID: team.ID, Type: "team_reference"}},
	})
	if err != nil {
		t.Fatalf("CreateEscalationPolicyWithContext: %v", err)
	}
	if len(created.EscalationRules) != 2 || created.EscalationRules[0].ID == "" || created.EscalationRules[1].ID == "" {
		t.Fatalf("CreateEscalationPolicyWithContext() rules = %+v, want two with IDs", created.EscalationRules)
	}
	r1, r2 := created.EscalationRules[0].ID, created.EscalationRules[1].ID
	want := &pagerduty.EscalationPolicy{
		APIObject: pagerduty.APIObject{ID: created.ID, Type: "escalation_policy", Summary: "Ops Policy",
			Self: s.URL + "/escalation_policies/" + created.ID, HTMLURL: s.URL + "/app/escalation_policies/" + created.ID},
		Name:                       "Ops Policy",
		Description:                "Pages the Ops team",
		NumLoops:                   2,
		OnCallHandoffNotifications: "always",
		EscalationRules: []pagerduty.EscalationRule{
			{ID: r1, Delay: 30, Targets: []pagerduty.APIObject{userRef(ada), userRef(bob)}},
			{ID: r2, Delay: 10, Targets: []pagerduty.APIObject{userRef(bob)}},
		},
		Teams: []pagerduty.APIReference{{ID: team.ID, Type: "team_reference"}},
	}
	if diff := cmp.Diff(want, created, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("CreateEscalationPolicyWithContext() (-want +got):\n%s", diff)
	}
	got, err := c.GetEscalationPolicyWithContext(ctx, created.ID, &pagerduty.GetEscalationPolicyOptions{})
	if err != nil {
		t.Fatalf("GetEscalationPolicyWithContext: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("GetEscalationPolicyWithContext() (-want +got):\n%s", diff)
	}
	expanded, err := c.GetEscalationPolicyWithContext(ctx, created.ID, &pagerduty.GetEscalationPolicyOptions{Includes: []string{"targets"}})
	if err != nil {
		t.Fatalf("GetEscalationPolicyWithContext(include targets): %v", err)
	}
	if tg := expanded.EscalationRules[0].Targets[0]; tg.Type != "user" || tg.ID != ada.ID {
		t.Errorf("target with include[]=targets = %+v, want Ada's User object", tg)
	}

	// The client's update sends back what it read: rule IDs and all.
	got.Name = "Operations"
	got.EscalationRules = []pagerduty.EscalationRule{got.EscalationRules[1], got.EscalationRules[0]}
	got.EscalationRules[0].Delay = 15
	updated, err := c.UpdateEscalationPolicyWithContext(ctx, created.ID, *got)
	if err != nil {
		t.Fatalf("UpdateEscalationPolicyWithContext: %v", err)
	}
	want.Name, want.Summary = "Operations", "Operations"
	want.EscalationRules = []pagerduty.EscalationRule{want.EscalationRules[1], want.EscalationRules[0]}
	want.EscalationRules[0].Delay = 15
	if diff := cmp.Diff(want, updated, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("UpdateEscalationPolicyWithContext() (-want +got):\n%s", diff)
	}

	second, err := c.CreateEscalationPolicyWithContext(ctx, pagerduty.EscalationPolicy{
		Name:            "DB Policy",
		EscalationRules: []pagerduty.EscalationRule{{Delay: 5, Targets: []pagerduty.APIObject{{ID: ada.ID, Type: "user"}}}},
	})
	if err != nil {
		t.Fatalf("CreateEscalationPolicyWithContext(no team): %v", err)
	}
	for _, tt := range []struct {
		name string
		opts pagerduty.ListEscalationPoliciesOptions
		want []string
	}{
		{"all", pagerduty.ListEscalationPoliciesOptions{}, []string{"DB Policy", "Operations"}},
		{"descending", pagerduty.ListEscalationPoliciesOptions{SortBy: "name:desc"}, []string{"Operations", "DB Policy"}},
		{"query", pagerduty.ListEscalationPoliciesOptions{Query: "oper"}, []string{"Operations"}},
		{"a target", pagerduty.ListEscalationPoliciesOptions{UserIDs: []string{bob.ID}}, []string{"Operations"}},
		{"a team", pagerduty.ListEscalationPoliciesOptions{TeamIDs: []string{team.ID}}, []string{"Operations"}},
		{"a page", pagerduty.ListEscalationPoliciesOptions{Limit: 1, Offset: 1, Total: true}, []string{"Operations"}},
	} {
		l, err := c.ListEscalationPoliciesWithContext(ctx, tt.opts)
		if err != nil {
			t.Fatalf("ListEscalationPoliciesWithContext(%s): %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, policyNames(l.EscalationPolicies)); diff != "" {
			t.Errorf("ListEscalationPoliciesWithContext(%s) (-want +got):\n%s", tt.name, diff)
		}
		if tt.name == "a page" && (l.Total != 2 || l.More || l.Limit != 1 || l.Offset != 1) {
			t.Errorf("ListEscalationPoliciesWithContext(%s) = total %d, more %t, limit %d, offset %d; want 2, false, 1, 1", tt.name, l.Total, l.More, l.Limit, l.Offset)
		}
	}

	// The team's side of the link.
	if err := c.AddEscalationPolicyToTeamWithContext(ctx, team.ID, second.ID); err != nil {
		t.Fatalf("AddEscalationPolicyToTeamWithContext: %v", err)
	}
	l, err := c.ListEscalationPoliciesWithContext(ctx, pagerduty.ListEscalationPoliciesOptions{TeamIDs: []string{team.ID}})
	if err != nil || !cmp.Equal(policyNames(l.EscalationPolicies), []string{"DB Policy", "Operations"}) {
		t.Errorf("ListEscalationPoliciesWithContext(the team) after AddEscalationPolicyToTeamWithContext() = %v, %v; want both policies", policyNames(l.EscalationPolicies), err)
	}
	if err := c.RemoveEscalationPolicyFromTeamWithContext(ctx, team.ID, created.ID); err != nil {
		t.Fatalf("RemoveEscalationPolicyFromTeamWithContext: %v", err)
	}
	if p, err := c.GetEscalationPolicyWithContext(ctx, created.ID, nil); err != nil || len(p.Teams) != 0 {
		t.Errorf("GetEscalationPolicyWithContext() after its removal from the team = %+v, %v; want no teams", p, err)
	}

	// Refusals the client reports.
	_, err = c.CreateEscalationPolicyWithContext(ctx, pagerduty.EscalationPolicy{
		Name:            "Schedules",
		EscalationRules: []pagerduty.EscalationRule{{Delay: 5, Targets: []pagerduty.APIObject{{ID: "PSCHED1", Type: "schedule_reference"}}}},
	})
	apiErr := checkAPIError(t, err, 400, 2001)
	if want := "Escalation rule 1, target 1: schedule PSCHED1 cannot be a target, as Gatehouse has no schedules yet; target users instead"; !slices.Contains(apiErr.APIError.ErrorObject.Errors, want) {
		t.Errorf("errors of a schedule target = %q, want %q", apiErr.APIError.ErrorObject.Errors, want)
	}
	readOnly := newClient(t, s, s.generalKey(t, "default", "--read-only").Key)
	_, err = readOnly.CreateEscalationPolicyWithContext(ctx, pagerduty.EscalationPolicy{Name: "x"})
	checkAPIError(t, err, 403, 2010)
	if _, err := readOnly.ListEscalationPoliciesWithContext(ctx, pagerduty.ListEscalationPoliciesOptions{}); err != nil {
		t.Errorf("ListEscalationPoliciesWithContext() with a read-only key: %v", err)
	}

	for _, id := range []string{created.ID, second.ID} {
		if err := c.DeleteEscalationPolicyWithContext(ctx, id); err != nil {
			t.Fatalf("DeleteEscalationPolicyWithContext(%s): %v", id, err)
		}
	}
	_, err = c.GetEscalationPolicyWithContext(ctx, created.ID, nil)
	if apiErr := checkAPIError(t, err, 404, 2100); !apiErr.NotFound() {
		t.Errorf("GetEscalationPolicyWithContext() of a deleted policy: NotFound() = false, want true")
	}
	err = c.DeleteEscalationPolicyWithContext(ctx, created.ID)
	if apiErr := checkAPIError(t, err, 404, 2100); !apiErr.NotFound() || !strings.Contains(err.Error(), "404") {
		t.Errorf("DeleteEscalationPolicyWithContext() of a deleted policy = %v, want the client's 404", err)
	}
}

// createTeamWrapped creates a team of the default account with the body
// PagerDuty documents, {"team": {…}}, and returns its ID and name.
// (go-pagerduty v1.8.0's CreateTeam sends the team unwrapped.)
func createTeamWrapped(t *testing.T, s *server, name string) pagerduty.Team {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"team": map[string]string{"name": name}})
	req, err := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/teams", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token token="+s.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /teams: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Team pagerduty.Team }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /teams = %d, %v; want 201 and a team", resp.StatusCode, err)
	}
	return out.Team
}

func TestSpecConformanceEscalationPolicies(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	s := startServer(t)
	c := newSpecClient(t, doc, s)
	ada := s.createUser(t, "ada@example.com", "Ada", "user")
	team := createTeamWrapped(t, s, "Ops")
	rules := `"escalation_rules":[{"escalation_delay_in_minutes":30,"targets":[{"id":"` + ada.ID + `","type":"user_reference"}]}]`

	x := c.doWithReferences(t, "POST", "/escalation_policies", s.Key, []byte(`{"escalation_policy":{"type":"escalation_policy","name":"Ops Policy",`+rules+
		`,"teams":[{"id":"`+team.ID+`","type":"team_reference"}]}}`))
	if x.status != http.StatusCreated {
		t.Fatalf("POST /escalation_policies → %d %s, want 201", x.status, x.body)
	}
	x.conforms(t)
	var created struct {
		EscalationPolicy struct{ ID string } `json:"escalation_policy"`
	}
	if err := json.Unmarshal(x.body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.EscalationPolicy.ID

	for _, tt := range []struct {
		method, path, body string
		wantStatus         int
	}{
		{"GET", "/escalation_policies", "", 200},
		{"GET", "/escalation_policies?query=ops&user_ids[]=" + ada.ID + "&team_ids[]=" + team.ID + "&sort_by=name:desc&total=true&include[]=services&include[]=targets", "", 200},
		{"GET", "/escalation_policies/" + id, "", 200},
		{"GET", "/escalation_policies/" + id + "?include[]=targets", "", 200},
		{"GET", "/escalation_policies/PNOPE00", "", 404},
		{"PUT", "/escalation_policies/" + id, `{"escalation_policy":{"type":"escalation_policy","name":"Operations",` + rules + `}}`, 200},
		{"POST", "/escalation_policies", `{"escalation_policy":{"type":"escalation_policy","name":"No rules","escalation_rules":[]}}`, 400},
		{"DELETE", "/teams/" + team.ID + "/escalation_policies/" + id, "", 204},
		{"PUT", "/teams/" + team.ID + "/escalation_policies/" + id, "", 204},
		{"GET", "/escalation_policies/" + id + "/audit/records", "", 200},
		{"DELETE", "/escalation_policies/" + id, "", 204},
	} {
		x := c.doWithReferences(t, tt.method, tt.path, s.Key, []byte(tt.body))
		if x.status != tt.wantStatus {
			t.Errorf("%s %s → %d %s, want %d", tt.method, tt.path, x.status, x.body, tt.wantStatus)
			continue
		}
		x.conforms(t)
	}
}

// referenceOptions check requests that name objects by reference as
// clients send them. The description marks a reference's id and type
// read-only, as they are in responses, so every request that names a user
// or a team, its own examples included, would break it.
var referenceOptions = func() *openapi3filter.Options {
	o := *validationOptions
	o.ExcludeReadOnlyValidations = true
	return &o
}()

// doWithReferences is do for requests whose bodies name objects by
// reference; the response is checked as strictly by conforms.
func (c *specClient) doWithReferences(t *testing.T, method, path, key string, body []byte) *exchange {
	t.Helper()
	checked := c.newRequest(t, method, path, key, body)
	route, pathParams, err := c.router.FindRoute(checked)
	if err != nil {
		t.Fatalf("%s %s: no operation in PagerDuty's description: %v", method, path, err)
	}
	input := &openapi3filter.RequestValidationInput{Request: checked, PathParams: pathParams, Route: route, Options: referenceOptions}
	if err := openapi3filter.ValidateRequest(t.Context(), input); err != nil {
		t.Fatalf("%s %s: the test's request does not conform to PagerDuty's description:\n%v", method, path, err)
	}
	req := c.newRequest(t, method, path, key, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &exchange{req: req, input: input, status: resp.StatusCode, header: resp.Header, body: respBody}
}
