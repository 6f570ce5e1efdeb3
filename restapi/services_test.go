package restapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// serviceFixture is an account with teams, escalation policies and keys
// of every kind, served over HTTP.
type serviceFixture struct {
	*fixture
	acme                         *gatehouse.Account
	ops                          *gatehouse.Team
	opsPolicy, barePolicy        string // policies of acme: of team Ops, of no team
	theirPolicy                  string // another account's
	key, readOnly, otherKey      string
	manager, responder, observer string // user tokens
	restricted                   string // a Restricted Access user of team Ops
	owner                        *gatehouse.User
}

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()
	s := storetest.OpenSQLite(t)
	f := &serviceFixture{fixture: newFixture(t, s)}
	f.acme, f.owner = storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, otherOwner := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	f.key, _ = mustKey(t, s, f.acme, nil, false)
	f.readOnly, _ = mustKey(t, s, f.acme, nil, true)
	f.otherKey, _ = mustKey(t, s, other, nil, false)
	f.manager, _ = mustKey(t, s, f.acme, storetest.MustCreateUser(t, s, f.acme, "manny", gatehouse.RoleUser), false)
	f.responder, _ = mustKey(t, s, f.acme, storetest.MustCreateUser(t, s, f.acme, "rhea", gatehouse.RoleLimitedUser), false)
	f.observer, _ = mustKey(t, s, f.acme, storetest.MustCreateUser(t, s, f.acme, "olga", gatehouse.RoleObserver), false)
	f.ops = &gatehouse.Team{Name: "Ops"}
	if err := s.Scope(f.acme.ID, sqlstore.CLI(f.acme)).CreateTeam(context.Background(), f.ops); err != nil {
		t.Fatal(err)
	}
	rita := storetest.MustCreateUser(t, s, f.acme, "rita", gatehouse.RoleRestrictedAccess)
	storetest.MustAddTeamMember(t, s, f.ops, rita, "responder")
	f.restricted, _ = mustKey(t, s, f.acme, rita, false)
	f.opsPolicy = storetest.MustCreatePolicy(t, s, f.acme, "Ops policy", f.owner, f.ops).ID
	f.barePolicy = storetest.MustCreatePolicy(t, s, f.acme, "Bare policy", f.owner, nil).ID
	f.theirPolicy = storetest.MustCreatePolicy(t, s, other, "Their policy", otherOwner, nil).ID
	return f
}

// create POSTs a service and returns its ID, failing the test on another
// answer than 201.
func (f *serviceFixture) create(t *testing.T, body string) string {
	t.Helper()
	return decodeBody[struct{ Service struct{ ID string } }](t, f.send(t, "POST", "/services", token(f.key), body), 201).Service.ID
}

// jsonObject decodes a JSON object, to compare bodies whatever their order.
func jsonObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func TestServicesAPI(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)

	// PagerDuty's own example, as its description gives it, but for the
	// support hours Gatehouse does not have yet.
	r := f.send(t, "POST", "/services", token(f.key), `{"service":{"type":"service","name":"My Web App","description":"My cool web application that does things.",
		"auto_resolve_timeout":14400,"acknowledgement_timeout":600,"status":"active",
		"escalation_policy":{"id":"`+f.opsPolicy+`","type":"escalation_policy_reference"},
		"incident_urgency_rule":{"type":"constant","urgency":"high"},
		"alert_creation":"create_alerts_and_incidents","alert_grouping_parameters":{"type":"time","config":{"timeout":2}},
		"auto_pause_notifications_parameters":{"enabled":true,"timeout":300}}}`)
	created := jsonObject(t, r.Body)["service"].(map[string]any)
	if r.Status != 201 {
		t.Fatalf("POST /services = %d %s", r.Status, r.Body)
	}
	id := created["id"].(string)
	u := f.URL
	want := map[string]any{
		"id": id, "type": "service", "summary": "My Web App", "self": u + "/services/" + id, "html_url": u + "/app/services/" + id,
		"name": "My Web App", "description": "My cool web application that does things.", "status": "active",
		"escalation_policy": map[string]any{"id": f.opsPolicy, "type": "escalation_policy_reference", "summary": "Ops policy",
			"self": u + "/escalation_policies/" + f.opsPolicy, "html_url": u + "/app/escalation_policies/" + f.opsPolicy},
		"acknowledgement_timeout": 600.0, "auto_resolve_timeout": 14400.0,
		"alert_creation": "create_alerts_and_incidents", "alert_grouping": "time", "alert_grouping_timeout": 2.0,
		"alert_grouping_parameters":           map[string]any{"type": "time", "config": map[string]any{"timeout": 2.0}},
		"auto_pause_notifications_parameters": map[string]any{"enabled": true, "timeout": 300.0},
		"incident_urgency_rule":               map[string]any{"type": "constant", "urgency": "high"},
		"support_hours":                       nil, "scheduled_actions": []any{}, "addons": []any{},
		"teams":                   []any{map[string]any{"id": f.ops.ID, "type": "team_reference", "summary": "Ops", "self": u + "/teams/" + f.ops.ID, "html_url": u + "/app/teams/" + f.ops.ID}},
		"integrations":            []any{},
		"last_incident_timestamp": nil, "created_at": created["created_at"],
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("POST /services (-want +got):\n%s", diff)
	}
	if got := jsonObject(t, f.do(t, "GET", "/services/"+id, token(f.key)).Body)["service"]; !cmp.Equal(got, created) {
		t.Errorf("GET /services/{id} = %v, want what POST answered", got)
	}

	// Defaults: no timeouts unless given (PagerDuty's description), no
	// grouping, no pause, high urgency.
	bare := decodeBody[struct{ Service map[string]any }](t, f.send(t, "POST", "/services", token(f.manager),
		`{"service":{"name":"Bare","escalation_policy":{"id":"`+f.barePolicy+`"}}}`), 201).Service
	for field, want := range map[string]any{
		"acknowledgement_timeout": nil, "auto_resolve_timeout": nil, "status": "active", "alert_creation": "create_alerts_and_incidents",
		"alert_grouping_parameters": map[string]any{"type": nil}, "auto_pause_notifications_parameters": map[string]any{"enabled": false},
		"incident_urgency_rule": map[string]any{"type": "constant", "urgency": "high"}, "teams": []any{}, "description": "",
	} {
		if !cmp.Equal(bare[field], want) {
			t.Errorf("new service's %s = %#v, want %#v", field, bare[field], want)
		}
	}
	if _, ok := bare["alert_grouping"]; ok {
		t.Errorf("a service without grouping has the deprecated alert_grouping: %v", bare)
	}

	// Lists: query, name, team_ids[], sort_by, pagination.
	for _, name := range []string{"api", "Checkout", "search"} {
		f.create(t, `{"service":{"name":"`+name+`","escalation_policy":{"id":"`+f.barePolicy+`"}}}`)
	}
	names := func(path string) ([]string, map[string]any) {
		t.Helper()
		body := jsonObject(t, string(decodeBody[json.RawMessage](t, f.do(t, "GET", path, token(f.key)), 200)))
		var names []string
		for _, s := range body["services"].([]any) {
			names = append(names, s.(map[string]any)["name"].(string))
		}
		delete(body, "services")
		return names, body
	}
	for path, want := range map[string][]string{
		"/services":                             {"Bare", "Checkout", "My Web App", "api", "search"},
		"/services?sort_by=name:desc":           {"search", "api", "My Web App", "Checkout", "Bare"},
		"/services?sort_by=name:asc&query=A":    {"Bare", "My Web App", "api", "search"},
		"/services?name=api":                    {"api"},
		"/services?team_ids[]=" + f.ops.ID:      {"My Web App"},
		"/services?team_ids%5B%5D=" + f.ops.ID:  {"My Web App"},
		"/services?include[]=unknown&query=che": {"Checkout"},
	} {
		got, _ := names(path)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", path, diff)
		}
	}
	got, page := names("/services?limit=2&offset=1&total=true")
	if !cmp.Equal(got, []string{"Checkout", "My Web App"}) || !cmp.Equal(page, map[string]any{"limit": 2.0, "offset": 1.0, "more": true, "total": 5.0}) {
		t.Errorf("GET /services?limit=2&offset=1&total=true = %v %v", got, page)
	}

	// Restricted Access sees the services of its teams' policies only.
	if got := namesAs(t, f, "/services", f.restricted); !cmp.Equal(got, []string{"My Web App"}) {
		t.Errorf("GET /services as Restricted Access = %v, want the Ops team's only", got)
	}
	wantError(t, f.do(t, "GET", "/services/"+f.create(t, `{"service":{"name":"Hidden","escalation_policy":{"id":"`+f.barePolicy+`"}}}`), token(f.restricted)),
		404, gatehouse.CodeNotFound, "")

	// An update changes what it is given and keeps the rest; null turns a
	// timeout off.
	updated := decodeBody[struct{ Service map[string]any }](t, f.send(t, "PUT", "/services/"+id, token(f.key),
		`{"service":{"description":"Sells things","acknowledgement_timeout":null,"status":"disabled","alert_grouping_parameters":{"type":null}}}`), 200).Service
	want["description"], want["acknowledgement_timeout"], want["status"] = "Sells things", nil, "disabled"
	want["alert_grouping_parameters"] = map[string]any{"type": nil}
	delete(want, "alert_grouping")
	delete(want, "alert_grouping_timeout")
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("PUT /services/{id} (-want +got):\n%s", diff)
	}

	// The deprecated alert_grouping and alert_grouping_timeout still work,
	// and alert_grouping: null (PagerDuty's Terraform provider always sends
	// it) says nothing.
	grouped := decodeBody[struct{ Service map[string]any }](t, f.send(t, "PUT", "/services/"+id, token(f.key),
		`{"service":{"alert_grouping":"time","alert_grouping_timeout":10}}`), 200).Service
	if !cmp.Equal(grouped["alert_grouping_parameters"], map[string]any{"type": "time", "config": map[string]any{"timeout": 10.0}}) {
		t.Errorf("alert_grouping time = %v", grouped["alert_grouping_parameters"])
	}
	kept := decodeBody[struct{ Service map[string]any }](t, f.send(t, "PUT", "/services/"+id, token(f.key), `{"service":{"alert_grouping":null}}`), 200).Service
	if !cmp.Equal(kept["alert_grouping_parameters"], grouped["alert_grouping_parameters"]) {
		t.Errorf("alert_grouping: null changed the grouping to %v", kept["alert_grouping_parameters"])
	}

	if r := f.do(t, "DELETE", "/services/"+id, token(f.key)); r.Status != 204 || r.Body != "" {
		t.Errorf("DELETE /services/{id} = %d %q", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", "/services/"+id, token(f.key)), 404, gatehouse.CodeNotFound, "")
}

func namesAs(t *testing.T, f *serviceFixture, path, key string) []string {
	t.Helper()
	body := decodeBody[struct{ Services []struct{ Name string } }](t, f.do(t, "GET", path, token(key)), 200)
	var names []string
	for _, s := range body.Services {
		names = append(names, s.Name)
	}
	return names
}

// TestServiceRoundTrip: a client may PUT back exactly what GET gave, with or
// without include[], and nothing changes, as the Terraform provider and
// go-pagerduty's users do.
func TestServiceRoundTrip(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	id := f.create(t, `{"service":{"name":"Checkout","description":"x","escalation_policy":{"id":"`+f.opsPolicy+`"},
		"auto_resolve_timeout":14400,"alert_creation":"create_incidents",
		"alert_grouping_parameters":{"type":"content_based","config":{"aggregate":"any","fields":["source"],"time_window":600}},
		"auto_pause_notifications_parameters":{"enabled":true},"incident_urgency_rule":{"type":"constant","urgency":"severity_based"}}}`)
	for _, body := range []string{`{"integration":{"type":"events_api_v2_inbound_integration"}}`, `{"integration":{"vendor":{"id":"PAM4FGS","type":"vendor_reference"}}}`} {
		if r := f.send(t, "POST", "/services/"+id+"/integrations", token(f.key), body); r.Status != 201 {
			t.Fatalf("POST integration = %d %s", r.Status, r.Body)
		}
	}
	before := f.do(t, "GET", "/services/"+id, token(f.key)).Body
	for _, include := range []string{"", "?include[]=integrations&include[]=teams&include[]=escalation_policies&include[]=auto_pause_notifications_parameters"} {
		read := decodeBody[struct{ Service json.RawMessage }](t, f.do(t, "GET", "/services/"+id+include, token(f.key)), 200).Service
		put := f.send(t, "PUT", "/services/"+id+include, token(f.key), `{"service":`+string(read)+`}`)
		if diff := cmp.Diff(jsonObject(t, `{"service":`+string(read)+`}`), jsonObject(t, string(decodeBody[json.RawMessage](t, put, 200)))); diff != "" {
			t.Errorf("PUT of what GET%s gave (-GET +PUT):\n%s", include, diff)
		}
	}
	if after := f.do(t, "GET", "/services/"+id, token(f.key)).Body; after != before {
		t.Errorf("the round trips changed the service:\n%s\nto\n%s", before, after)
	}
	records, _, err := f.store.AuditRecords(context.Background(), f.acme.ID, sqlstore.AuditQuery{RootType: "service_reference", RootID: id, Actions: []string{"update"}})
	if err != nil || len(records) != 2 { // the two integrations
		t.Errorf("update records = %d, %v; want only the two integrations'", len(records), err)
	}
}

func TestServiceIncludes(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	id := f.create(t, `{"service":{"name":"Checkout","escalation_policy":{"id":"`+f.opsPolicy+`"}}}`)
	in := decodeBody[struct{ Integration map[string]any }](t, f.send(t, "POST", "/services/"+id+"/integrations", token(f.key),
		`{"integration":{"type":"events_api_v2_inbound_integration","name":"Alerts"}}`), 201).Integration
	u := f.URL

	svc := decodeBody[struct{ Service map[string]any }](t, f.do(t, "GET", "/services/"+id, token(f.key)), 200).Service
	inID := in["id"].(string)
	ref := map[string]any{"id": inID, "type": "events_api_v2_inbound_integration_reference", "summary": "Alerts",
		"self": u + "/services/" + id + "/integrations/" + inID, "html_url": u + "/app/services/" + id + "/integrations/" + inID}
	if diff := cmp.Diff([]any{ref}, svc["integrations"]); diff != "" {
		t.Errorf("integrations without include[] (-want +got):\n%s", diff)
	}

	lst := decodeBody[struct{ Services []map[string]any }](t, f.do(t, "GET", "/services?include[]=integrations&include[]=teams&include[]=escalation_policies", token(f.key)), 200)
	svc = lst.Services[0]
	if diff := cmp.Diff([]any{in}, svc["integrations"]); diff != "" {
		t.Errorf("include[]=integrations (-the created integration +listed):\n%s", diff)
	}
	if teams := svc["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["type"] != "team" || teams[0].(map[string]any)["default_role"] != "manager" {
		t.Errorf("include[]=teams = %v, want the whole Ops team", teams)
	}
	// The policy as its own GET gives it (which now lists the service).
	wantPolicy := decodeBody[struct {
		EscalationPolicy map[string]any `json:"escalation_policy"`
	}](t, f.do(t, "GET", "/escalation_policies/"+f.opsPolicy, token(f.key)), 200).EscalationPolicy
	if diff := cmp.Diff(wantPolicy, svc["escalation_policy"]); diff != "" {
		t.Errorf("include[]=escalation_policies (-GET /escalation_policies/{id} +got):\n%s", diff)
	}
	if rules := wantPolicy["escalation_rules"].([]any); len(rules) != 1 {
		t.Errorf("the policy's rules = %v", rules)
	}
}

func TestServiceRefusals(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	id := f.create(t, `{"service":{"name":"Taken","escalation_policy":{"id":"`+f.barePolicy+`"}}}`)
	ep := `"escalation_policy":{"id":"` + f.barePolicy + `"}`
	for _, tt := range []struct {
		name, method, path, key, body string
		status, code                  int
		problems                      []string
	}{
		{"no body", "POST", "/services", f.key, ``, 400, 2001, []string{"The request body is empty; it must be a JSON object"}},
		{"a bare body is the service", "POST", "/services", f.key, `{"name":"x"}`, 400, 2001, []string{"Escalation policy must be given"}},
		{"null service", "POST", "/services", f.key, `{"service":null}`, 400, 2001, []string{"service must be an object, not null"}},
		{"wrong types", "POST", "/services", f.key, `{"service":{"name":7,"auto_resolve_timeout":"4h","escalation_policy":{"id":5},"alert_grouping_parameters":{"config":{"fields":"source"}}}}`, 400, 2001,
			[]string{"service.name must be a string, not a number", "service.escalation_policy.id must be a string, not a number",
				"service.auto_resolve_timeout must be an integer, not a string", "service.alert_grouping_parameters.config.fields must be an array, not a string"}},
		{"fraction of a second", "POST", "/services", f.key, `{"service":{"name":"x",` + ep + `,"acknowledgement_timeout":1.5}}`, 400, 2001,
			[]string{"service.acknowledgement_timeout must be an integer, not a number 1.5"}},
		{"missing fields", "POST", "/services", f.key, `{"service":{"description":"x"}}`, 400, 2001, []string{"Name must not be empty", "Escalation policy must be given"}},
		{"oversize name", "POST", "/services", f.key, `{"service":{"name":"` + strings.Repeat("x", 256) + `",` + ep + `}}`, 400, 2001, []string{"Name must be at most 255 characters"}},
		{"name taken", "POST", "/services", f.key, `{"service":{"name":"Taken",` + ep + `}}`, 400, 2001, []string{"Name has already been taken"}},
		{"another account's policy", "POST", "/services", f.key, `{"service":{"name":"x","escalation_policy":{"id":"` + f.theirPolicy + `"}}}`, 400, 2001,
			[]string{"Escalation policy " + f.theirPolicy + " not found in this account"}},
		{"a reference of another type", "POST", "/services", f.key, `{"service":{"name":"x","escalation_policy":{"id":"` + f.barePolicy + `","type":"user_reference"}}}`, 400, 2001,
			[]string{`service.escalation_policy.type must be escalation_policy_reference, not "user_reference"`}},
		{"unknown enums", "POST", "/services", f.key, `{"service":{"name":"x",` + ep + `,"status":"paused","alert_creation":"never","incident_urgency_rule":{"type":"constant","urgency":"medium"}}}`, 400, 2001,
			[]string{`Status "paused" is not one of active, warning, critical, maintenance, disabled`, `Alert creation "never" is not one of create_incidents, create_alerts_and_incidents`,
				`Incident urgency "medium" is not one of high, low, severity_based`}},
		{"support hours", "POST", "/services", f.key, `{"service":{"name":"x",` + ep + `,"support_hours":{"type":"fixed_time_per_day"},"scheduled_actions":[{"type":"urgency_change"}]}}`, 400, 2001,
			[]string{"service.support_hours: Gatehouse does not have support hours yet; send null",
				"service.scheduled_actions: Gatehouse does not have support hours, which scheduled actions need, yet; send []"}},
		{"negative timeout", "PUT", "/services/" + id, f.key, `{"service":{"auto_resolve_timeout":-1}}`, 400, 2001, []string{"Auto resolve timeout must be between 0 and 2147483647 seconds"}},
		{"unknown sort", "GET", "/services?sort_by=created_at", f.key, ``, 400, 2001, []string{`sort_by "created_at" is not one of name, name:asc, name:desc`}},
		{"far page", "GET", "/services?offset=9990&limit=20", f.key, ``, 400, 2001, []string{"Offset+limit must be at most 10000; use filters to narrow the list"}},
		{"read-only key", "POST", "/services", f.readOnly, `{"service":{"name":"x",` + ep + `}}`, 403, 2010, nil},
		{"responder", "PUT", "/services/" + id, f.responder, `{"service":{"name":"x"}}`, 403, 2010, nil},
		{"observer", "DELETE", "/services/" + id, f.observer, ``, 403, 2010, nil},
		{"Restricted Access", "POST", "/services", f.restricted, `{"service":{"name":"x",` + ep + `}}`, 403, 2010, nil},
		{"another account's service", "GET", "/services/" + id, f.otherKey, ``, 404, 2100, nil},
		{"another account's service, update", "PUT", "/services/" + id, f.otherKey, `{"service":{"name":"mine"}}`, 404, 2100, nil},
		{"another account's service, delete", "DELETE", "/services/" + id, f.otherKey, ``, 404, 2100, nil},
		{"unknown service", "PUT", "/services/PNOPE00", f.key, `{"service":{"name":"x"}}`, 404, 2100, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problems := wantError(t, f.send(t, tt.method, tt.path, token(tt.key), tt.body), tt.status, tt.code, "")
			if tt.problems != nil {
				if diff := cmp.Diff(tt.problems, problems); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
			}
		})
	}
	// Nothing of those reached the service.
	got := decodeBody[struct{ Service struct{ Name, Status string } }](t, f.do(t, "GET", "/services/"+id, token(f.key)), 200).Service
	if got.Name != "Taken" || got.Status != "active" {
		t.Errorf("service after the refusals = %+v", got)
	}
}

// TestListsKeepHTMLCharacters: < > & are written as they are in lists as in
// single objects, as PagerDuty does.
func TestListsKeepHTMLCharacters(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	f.create(t, `{"service":{"name":"Q&A <beta>","escalation_policy":{"id":"`+f.barePolicy+`"}}}`)
	for _, path := range []string{"/services", "/services?query=%26"} {
		if body := f.do(t, "GET", path, token(f.key)).Body; !strings.Contains(body, `"name":"Q&A <beta>"`) {
			t.Errorf("GET %s = %s, want the name as it is", path, body)
		}
	}
}
