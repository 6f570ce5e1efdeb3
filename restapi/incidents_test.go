package restapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// incidentFixture is the services' fixture with a service on the Ops
// policy, its Events API integration, and a stakeholder's token.
type incidentFixture struct {
	*serviceFixture
	svc         *gatehouse.Service
	integration *gatehouse.Integration
	stakeholder string
}

func newIncidentFixture(t *testing.T) *incidentFixture {
	t.Helper()
	f := &incidentFixture{serviceFixture: newServiceFixture(t)}
	ctx := context.Background()
	sc := f.store.Scope(f.acme.ID, sqlstore.CLI(f.acme))
	f.svc = &gatehouse.Service{Name: "Checkout", EscalationPolicy: gatehouse.Ref{ID: f.opsPolicy}}
	if err := sc.CreateService(ctx, f.svc); err != nil {
		t.Fatal(err)
	}
	f.integration = &gatehouse.Integration{Name: "Prometheus", Type: "events_api_v2_inbound_integration"}
	if err := sc.CreateIntegration(ctx, f.svc.ID, f.integration); err != nil {
		t.Fatal(err)
	}
	f.stakeholder, _ = mustKey(t, f.store, f.acme, storetest.MustCreateUser(t, f.store, f.acme, "stan", gatehouse.RoleReadOnlyUser), false)
	return f
}

// event sends an alert event through the fixture's integration and applies
// it, as the Events API does.
func (f *incidentFixture) event(t *testing.T, action gatehouse.EventAction, dedupKey string) {
	t.Helper()
	ctx := context.Background()
	e := &gatehouse.Event{
		Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV2, AccountID: f.acme.ID, ServiceID: f.svc.ID, IntegrationID: f.integration.ID,
		ReceivedAt: time.Now(), Action: action, DedupKey: dedupKey,
		Summary: "Disk full on db01", Source: "db01", Severity: gatehouse.SeverityCritical, Component: "postgres",
		CustomDetails: json.RawMessage(`{"free":"1%"}`), Links: []gatehouse.Link{{Href: "https://grafana.example/d/1", Text: "Graph"}},
	}
	if err := f.store.AppendEvents(ctx, []*gatehouse.Event{e}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := f.store.ApplyEvents(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

type incidentJSON struct {
	ID, Type, Summary, Self, Title, Status, Urgency string
	HTMLURL                                         string  `json:"html_url"`
	IncidentNumber                                  int     `json:"incident_number"`
	IncidentKey                                     string  `json:"incident_key"`
	AssignedVia                                     string  `json:"assigned_via"`
	ResolvedAt                                      *string `json:"resolved_at"`
	Service                                         map[string]any
	EscalationPolicy                                map[string]any `json:"escalation_policy"`
	LastStatusChangeBy                              map[string]any `json:"last_status_change_by"`
	FirstTriggerLogEntry                            map[string]any `json:"first_trigger_log_entry"`
	Teams                                           []map[string]any
	Assignments                                     []struct {
		At       string
		Assignee map[string]any
	}
	Acknowledgements []struct {
		At           string
		Acknowledger map[string]any
	}
	AlertCounts struct{ All, Triggered, Resolved int } `json:"alert_counts"`
	Priority    any
}

func TestIncidentsAPI(t *testing.T) {
	t.Parallel()
	f := newIncidentFixture(t)
	u := f.URL
	owner := f.owner.Email

	// An account-level key names the user it acts as.
	body := `{"incident":{"type":"incident","title":"The server is on fire.","service":{"id":"` + f.svc.ID + `","type":"service_reference"},
		"priority":null,"urgency":"low","incident_key":"baf7cf21b1da41b4b0221008339ff357",
		"body":{"type":"incident_body","details":"A disk is getting full on this machine."}}}`
	wantError(t, f.send(t, "POST", "/incidents", token(f.key), body), 400, gatehouse.CodeFromHeaderMissing,
		`You must specify a user's email address in the "From" header to perform this action`)
	errs := wantError(t, f.sendFrom(t, "POST", "/incidents", token(f.key), "nobody@acme.example.com", body), 400, gatehouse.CodeInvalidInput, "")
	if len(errs) != 1 || !strings.Contains(errs[0], `"nobody@acme.example.com"`) {
		t.Errorf("an unknown From: errors %q, want one naming the address", errs)
	}
	created := decodeBody[struct{ Incident incidentJSON }](t, f.sendFrom(t, "POST", "/incidents", token(f.key), owner, body), 201).Incident
	id := created.ID
	if created.Type != "incident" || created.Summary != "[#1] The server is on fire." || created.Self != u+"/incidents/"+id ||
		created.HTMLURL != u+"/app/incidents/"+id || created.IncidentNumber != 1 || created.Status != "triggered" || created.Urgency != "low" ||
		created.IncidentKey != "baf7cf21b1da41b4b0221008339ff357" || created.AssignedVia != "escalation_policy" || created.ResolvedAt != nil ||
		created.Priority != nil || created.AlertCounts.All != 0 {
		t.Errorf("POST /incidents = %+v", created)
	}
	wantRef := func(kind, id, summary string) map[string]any {
		return map[string]any{"id": id, "type": kind + "_reference", "summary": summary, "self": u + kinds[kind].api + id, "html_url": u + kinds[kind].web + id}
	}
	if diff := cmp.Diff(wantRef("service", f.svc.ID, "Checkout"), created.Service); diff != "" {
		t.Errorf("service (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRef("escalation_policy", f.opsPolicy, "Ops policy"), created.EscalationPolicy); diff != "" {
		t.Errorf("escalation_policy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]map[string]any{wantRef("team", f.ops.ID, "Ops")}, created.Teams); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRef("user", f.owner.ID, "Owner"), created.LastStatusChangeBy); diff != "" {
		t.Errorf("last_status_change_by (-want +got):\n%s", diff)
	}
	if len(created.Assignments) != 1 || created.Assignments[0].Assignee["id"] != f.owner.ID || created.Assignments[0].At == "" {
		t.Errorf("assignments = %+v, want the owner, the Ops policy's target", created.Assignments)
	}
	if tr := created.FirstTriggerLogEntry; tr["type"] != "trigger_log_entry_reference" || tr["summary"] != "Triggered through the API" {
		t.Errorf("first_trigger_log_entry = %v", tr)
	}
	wantError(t, f.sendFrom(t, "POST", "/incidents", token(f.key), owner, body), 400, gatehouse.CodeInvalidInput, "")

	// By ID or number, the same incident.
	got := decodeBody[struct{ Incident incidentJSON }](t, f.do(t, "GET", "/incidents/1", token(f.observer)), 200).Incident
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("GET /incidents/1 (-POST +GET):\n%s", diff)
	}

	// A user token acts as its user; its From header says nothing.
	acked := decodeBody[struct{ Incident incidentJSON }](t, f.sendFrom(t, "PUT", "/incidents/"+id, token(f.responder), "someone@else.example",
		`{"incident":{"type":"incident_reference","status":"acknowledged"}}`), 200).Incident
	if acked.Status != "acknowledged" || len(acked.Acknowledgements) != 1 || acked.Acknowledgements[0].Acknowledger["summary"] != "rhea" {
		t.Errorf("acknowledged by rhea = %+v", acked)
	}

	// Notes.
	note := decodeBody[struct{ Note map[string]any }](t, f.sendFrom(t, "POST", "/incidents/"+id+"/notes", token(f.key), owner,
		`{"note":{"content":"Firefighters are on the scene."}}`), 200).Note
	if note["content"] != "Firefighters are on the scene." || note["user"].(map[string]any)["id"] != f.owner.ID ||
		note["channel"].(map[string]any)["summary"] != "The PagerDuty website or APIs" {
		t.Errorf("POST note = %v", note)
	}
	notes := decodeBody[struct{ Notes []map[string]any }](t, f.do(t, "GET", "/incidents/"+id+"/notes", token(f.stakeholder)), 200).Notes
	if len(notes) != 1 || notes[0]["id"] != note["id"] {
		t.Errorf("GET notes = %v", notes)
	}

	// Bulk: reassign and resolve, all or nothing.
	second := decodeBody[struct{ Incident incidentJSON }](t, f.send(t, "POST", "/incidents", token(f.manager),
		`{"incident":{"type":"incident","title":"Second","service":{"id":"`+f.svc.ID+`"},"assignments":[{"assignee":{"id":"`+f.owner.ID+`","type":"user_reference"}}]}}`), 201).Incident
	if second.AssignedVia != "direct_assignment" || second.Urgency != "high" || second.LastStatusChangeBy["summary"] != "manny" {
		t.Errorf("second incident = %+v", second)
	}
	bulk := decodeBody[struct {
		Incidents []incidentJSON
		Limit     int
		More      bool
	}](t, f.sendFrom(t, "PUT", "/incidents", token(f.key), owner, `{"incidents":[
		{"id":"`+id+`","type":"incident_reference","status":"resolved","resolution":"Put out"},
		{"id":"2","type":"incident","title":"Second, renamed","urgency":"low"}]}`), 200)
	if len(bulk.Incidents) != 2 || bulk.Incidents[0].Status != "resolved" || bulk.Incidents[0].ResolvedAt == nil ||
		bulk.Incidents[1].Title != "Second, renamed" || bulk.Incidents[1].Urgency != "low" || bulk.More {
		t.Errorf("PUT /incidents = %+v", bulk)
	}
	errs = wantError(t, f.sendFrom(t, "PUT", "/incidents", token(f.key), owner, `{"incidents":[
		{"id":"2","type":"incident","status":"acknowledged"},{"id":"`+id+`","type":"incident","status":"acknowledged"}]}`), 400, gatehouse.CodeInvalidInput, "")
	if !cmp.Equal(errs, []string{"Incident " + id + ": Incident Already Resolved"}) {
		t.Errorf("a bulk update with a resolved incident: errors %q", errs)
	}
	if got := decodeBody[struct{ Incident incidentJSON }](t, f.do(t, "GET", "/incidents/2", token(f.key)), 200).Incident; got.Status != "triggered" {
		t.Errorf("after the failed bulk update, incident 2 is %s", got.Status)
	}
	many := `{"incidents":[` + strings.Repeat(`{"id":"2","type":"incident"},`, 250) + `{"id":"2","type":"incident"}]}`
	wantError(t, f.sendFrom(t, "PUT", "/incidents", token(f.key), owner, many), 413, gatehouse.CodeTooLarge, "Request Entity Too Large")

	// Log entries, newest first.
	entries := decodeBody[struct {
		LogEntries []map[string]any `json:"log_entries"`
	}](t, f.do(t, "GET", "/incidents/"+id+"/log_entries?include[]=channels", token(f.key)), 200).LogEntries
	var types []string
	for _, le := range entries {
		types = append(types, le["type"].(string))
	}
	if want := []string{"resolve_log_entry", "annotate_log_entry", "acknowledge_log_entry", "assign_log_entry", "trigger_log_entry"}; !cmp.Equal(types, want) {
		t.Errorf("log entry types = %v, want %v", types, want)
	}
	if e := entries[0]; e["summary"] != "Resolved by Owner" || e["note"] != "Put out" || e["agent"].(map[string]any)["type"] != "user_reference" {
		t.Errorf("the resolve's entry = %v", e)
	}
	trigger := entries[len(entries)-1]
	if trigger["channel"].(map[string]any)["details"] != "A disk is getting full on this machine." ||
		trigger["event_details"].(map[string]any)["description"] != "The server is on fire." || trigger["id"] != created.FirstTriggerLogEntry["id"] {
		t.Errorf("the trigger's entry = %v", trigger)
	}
	one := decodeBody[struct {
		LogEntry map[string]any `json:"log_entry"`
	}](t, f.do(t, "GET", "/log_entries/"+trigger["id"].(string)+"?include[]=incidents", token(f.key)), 200).LogEntry
	if inc := one["incident"].(map[string]any); inc["type"] != "incident" || inc["id"] != id {
		t.Errorf("GET /log_entries/{id}?include[]=incidents: incident %v", inc)
	}
	account := decodeBody[struct {
		LogEntries []map[string]any `json:"log_entries"`
		Total      int
	}](t, f.do(t, "GET", "/log_entries?total=true&is_overview=true", token(f.key)), 200)
	if account.Total != 7 {
		t.Errorf("GET /log_entries?is_overview=true: total %d, want 7 (all but the policy's assignment)", account.Total)
	}

	// Lists.
	numbers := func(path string) []int {
		t.Helper()
		var out []int
		for _, inc := range decodeBody[struct{ Incidents []incidentJSON }](t, f.do(t, "GET", path, token(f.key)), 200).Incidents {
			out = append(out, inc.IncidentNumber)
		}
		return out
	}
	for path, want := range map[string][]int{
		"/incidents": {1, 2},
		"/incidents?statuses[]=triggered&statuses[]=acknowledged":          {2},
		"/incidents?urgencies[]=low&sort_by=incident_number:desc":          {2, 1},
		"/incidents?service_ids[]=" + f.svc.ID + "&team_ids[]=" + f.ops.ID: {1, 2},
		"/incidents?user_ids[]=" + f.owner.ID:                              {2},
		"/incidents?incident_key=baf7cf21b1da41b4b0221008339ff357":         {1},
		"/incidents?since=2000-01-01T00:00:00Z&until=2000-02-01":           nil,
		"/incidents?date_range=all&since=2000-01-01":                       {1, 2},
		"/incidents?include[]=services&include[]=priorities&limit=1":       {1},
	} {
		if got := numbers(path); !cmp.Equal(got, want) {
			t.Errorf("GET %s = %v, want %v", path, got, want)
		}
	}
	expanded := decodeBody[struct{ Incidents []map[string]any }](t, f.do(t, "GET",
		"/incidents?include[]=services&include[]=assignees&include[]=teams&include[]=escalation_policies&include[]=first_trigger_log_entries&statuses[]=triggered", token(f.key)), 200).Incidents[0]
	for field, typ := range map[string]string{"service": "service", "escalation_policy": "escalation_policy", "first_trigger_log_entry": "trigger_log_entry"} {
		if got := expanded[field].(map[string]any)["type"]; got != typ {
			t.Errorf("include[] expanded %s to a %v, want a %s", field, got, typ)
		}
	}
	if a := expanded["assignments"].([]any)[0].(map[string]any)["assignee"].(map[string]any); a["type"] != "user" || a["email"] != owner {
		t.Errorf("include[]=assignees: assignee %v", a)
	}
	if tm := expanded["teams"].([]any)[0].(map[string]any); tm["type"] != "team" {
		t.Errorf("include[]=teams: team %v", tm)
	}

	// Refusals.
	for _, tt := range []struct {
		name, method, path, auth, from, body string
		status, code                         int
		problem                              string
	}{
		{"observer acknowledges", "PUT", "/incidents/2", token(f.observer), "", `{"incident":{"status":"acknowledged"}}`, 403, 2010, ""},
		{"stakeholder adds a note", "POST", "/incidents/2/notes", token(f.stakeholder), "", `{"note":{"content":"x"}}`, 403, 2010, ""},
		{"read-only key", "PUT", "/incidents/2", token(f.readOnly), owner, `{"incident":{"status":"acknowledged"}}`, 403, 2010, ""},
		{"another account's incident", "GET", "/incidents/" + id, token(f.otherKey), "", "", 404, 2100, ""},
		{"another account's incident, by number", "PUT", "/incidents/1", token(f.otherKey), "owner@other.example.com", `{"incident":{"status":"acknowledged"}}`, 404, 2100, ""},
		{"restricted, her team's service", "POST", "/incidents", token(f.restricted), "", `{"incident":{"title":"x","service":{"id":"` + f.svc.ID + `"}}}`, 201, 0, ""},
		{"unknown status", "PUT", "/incidents/2", token(f.key), owner, `{"incident":{"status":"snoozed"}}`, 400, 2001, `Status "snoozed" is not one of acknowledged, resolved`},
		{"wrong types", "POST", "/incidents", token(f.key), owner, `{"incident":{"title":7,"service":{"id":"P1"}}}`, 400, 2001, "incident.title must be a string, not a number"},
		{"priority", "POST", "/incidents", token(f.key), owner, `{"incident":{"title":"x","service":{"id":"` + f.svc.ID + `"},"priority":{"id":"P1","type":"priority_reference"}}}`,
			400, 2001, "incident.priority: Gatehouse does not set priorities on incidents yet; send null or leave it out"},
		{"another account's service", "POST", "/incidents", token(f.otherKey), "owner@other.example.com", `{"incident":{"title":"x","service":{"id":"` + f.svc.ID + `"}}}`,
			400, 2001, "Service " + f.svc.ID + " not found in this account"},
		{"assignee of the wrong type", "PUT", "/incidents/2", token(f.key), owner, `{"incident":{"assignments":[{"assignee":{"id":"P1","type":"team_reference"}}]}}`,
			400, 2001, `incident.assignments[0].assignee.type must be user_reference, not "team_reference"`},
		{"unknown statuses[]", "GET", "/incidents?statuses[]=open", token(f.key), "", "", 400, 2001, `statuses[] "open" is not one of triggered, acknowledged, resolved`},
		{"unknown sort", "GET", "/incidents?sort_by=title", token(f.key), "", "", 400, 2001, `sort_by "title" is not one of incident_number, created_at, resolved_at, urgency, each with :asc or :desc`},
		{"window too long", "GET", "/incidents?since=2000-01-01&until=2001-01-01", token(f.key), "", "", 400, 2001,
			"The range from since to until must be at most 6 months; use date_range=all for every incident"},
		{"bad since", "GET", "/incidents?since=yesterday", token(f.key), "", "", 400, 2001, `since "yesterday" is not a date and time in ISO 8601, such as 2025-07-17T08:42:58Z`},
		{"bad time zone", "GET", "/incidents/1?time_zone=Mars/Olympus", token(f.key), "", "", 400, 2001, ""},
		{"empty note", "POST", "/incidents/2/notes", token(f.key), owner, `{"note":{"content":""}}`, 400, 2001, "Content must not be empty"},
		{"bulk without a list", "PUT", "/incidents", token(f.key), owner, `{"incident":{"id":"2"}}`, 400, 2001, `The body must be {"incidents": [...]}, a list of incidents`},
		{"unknown log entry", "GET", "/log_entries/QNOPE", token(f.key), "", "", 404, 2100, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.sendFrom(t, tt.method, tt.path, tt.auth, tt.from, tt.body)
			if tt.code == 0 {
				if r.Status != tt.status {
					t.Errorf("status %d %s, want %d", r.Status, r.Body, tt.status)
				}
				return
			}
			errs := wantError(t, r, tt.status, tt.code, "")
			if tt.problem != "" && !cmp.Equal(errs, []string{tt.problem}) {
				t.Errorf("errors = %q, want [%q]", errs, tt.problem)
			}
		})
	}
}

// TestRestrictedIncidents: a Restricted Access user sees and acts on the
// incidents of their teams' services only.
func TestRestrictedIncidents(t *testing.T) {
	t.Parallel()
	f := newIncidentFixture(t)
	sc := f.store.Scope(f.acme.ID, sqlstore.CLI(f.acme))
	bare := &gatehouse.Service{Name: "Bare", EscalationPolicy: gatehouse.Ref{ID: f.barePolicy}}
	if err := sc.CreateService(context.Background(), bare); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{f.svc.ID, bare.ID} {
		decodeBody[struct{ Incident incidentJSON }](t, f.sendFrom(t, "POST", "/incidents", token(f.key), f.owner.Email,
			`{"incident":{"title":"On `+svc+`","service":{"id":"`+svc+`"}}}`), 201)
	}
	list := decodeBody[struct{ Incidents []incidentJSON }](t, f.do(t, "GET", "/incidents", token(f.restricted)), 200).Incidents
	if len(list) != 1 || list[0].IncidentNumber != 1 {
		t.Errorf("rita lists %+v, want incident 1 of her team's service only", list)
	}
	wantError(t, f.do(t, "GET", "/incidents/2", token(f.restricted)), 404, gatehouse.CodeNotFound, "")
	wantError(t, f.send(t, "PUT", "/incidents/2", token(f.restricted), `{"incident":{"status":"acknowledged"}}`), 404, gatehouse.CodeNotFound, "")
	if r := f.send(t, "PUT", "/incidents/1", token(f.restricted), `{"incident":{"status":"acknowledged"}}`); r.Status != 200 {
		t.Errorf("rita acknowledges her team's incident: %d %s", r.Status, r.Body)
	}
	errs := wantError(t, f.send(t, "POST", "/incidents", token(f.restricted), `{"incident":{"title":"x","service":{"id":"`+bare.ID+`"}}}`), 400, gatehouse.CodeInvalidInput, "")
	if !cmp.Equal(errs, []string{"Service " + bare.ID + " not found in this account"}) {
		t.Errorf("rita opens an incident on another team's service: %q", errs)
	}
}

func TestIncidentAlertsAPI(t *testing.T) {
	t.Parallel()
	f := newIncidentFixture(t)
	f.event(t, gatehouse.EventTrigger, "disk")
	f.event(t, gatehouse.EventTrigger, "disk")
	f.event(t, gatehouse.EventTrigger, "cpu")
	incs := decodeBody[struct{ Incidents []incidentJSON }](t, f.do(t, "GET", "/incidents", token(f.key)), 200).Incidents
	if len(incs) != 2 || incs[0].AlertCounts.All != 1 || incs[0].AlertCounts.Triggered != 1 || incs[0].Title != "Disk full on db01" || incs[0].Urgency != "high" {
		t.Fatalf("incidents = %+v", incs)
	}
	id := incs[0].ID
	if lsc := incs[0].LastStatusChangeBy; lsc["type"] != "service_reference" || lsc["id"] != f.svc.ID {
		t.Errorf("last_status_change_by = %v, want the service", lsc)
	}

	alerts := decodeBody[struct {
		Alerts []map[string]any
		Limit  int
	}](t, f.do(t, "GET", "/incidents/"+id+"/alerts?include[]=services", token(f.observer)), 200)
	if len(alerts.Alerts) != 1 || alerts.Limit != 25 {
		t.Fatalf("GET alerts = %+v", alerts)
	}
	a := alerts.Alerts[0]
	alertID := a["id"].(string)
	integration := a["integration"].(map[string]any)
	body := a["body"].(map[string]any)
	if a["type"] != "alert" || a["status"] != "triggered" || a["alert_key"] != "disk" || a["severity"] != "critical" || a["suppressed"] != false ||
		a["self"] != f.URL+"/incidents/"+id+"/alerts/"+alertID || a["service"].(map[string]any)["type"] != "service" ||
		integration["type"] != "events_api_v2_inbound_integration_reference" || integration["summary"] != "Prometheus" ||
		integration["self"] != f.URL+"/services/"+f.svc.ID+"/integrations/"+f.integration.ID ||
		body["type"] != "alert_body" || body["details"].(map[string]any)["free"] != "1%" || len(body["contexts"].([]any)) != 1 ||
		body["cef_details"].(map[string]any)["source_component"] != "postgres" {
		t.Errorf("alert = %v", a)
	}
	got := decodeBody[struct{ Alert map[string]any }](t, f.do(t, "GET", "/incidents/1/alerts/"+alertID, token(f.key)), 200).Alert
	if got["id"] != alertID || got["incident"].(map[string]any)["summary"] != "[#1] Disk full on db01" {
		t.Errorf("GET alert = %v", got)
	}
	wantError(t, f.do(t, "GET", "/incidents/2/alerts/"+alertID, token(f.key)), 404, gatehouse.CodeNotFound, "")
	wantError(t, f.send(t, "PUT", "/incidents/"+id+"/alerts/"+alertID, token(f.key), `{"alert":{"status":"resolved"}}`), 400, gatehouse.CodeFromHeaderMissing, "")
	wantError(t, f.send(t, "PUT", "/incidents/"+id+"/alerts/"+alertID, token(f.observer), `{"alert":{"status":"resolved"}}`), 403, gatehouse.CodeForbidden, "")

	resolved := decodeBody[struct{ Alert map[string]any }](t, f.send(t, "PUT", "/incidents/"+id+"/alerts/"+alertID, token(f.responder),
		`{"alert":{"type":"alert","status":"resolved","incident":{"id":"`+id+`","type":"incident_reference"}}}`), 200).Alert
	if resolved["status"] != "resolved" {
		t.Errorf("PUT alert = %v", resolved)
	}
	inc := decodeBody[struct{ Incident incidentJSON }](t, f.do(t, "GET", "/incidents/"+id, token(f.key)), 200).Incident
	if inc.Status != "resolved" || inc.LastStatusChangeBy["summary"] != "rhea" || inc.AlertCounts.Resolved != 1 {
		t.Errorf("the incident of the resolved alert = %+v", inc)
	}

	// The other incident's alerts, in bulk.
	cpu := decodeBody[struct{ Alerts []map[string]any }](t, f.do(t, "GET", "/incidents/2/alerts?statuses[]=triggered&alert_key=cpu", token(f.key)), 200).Alerts
	if len(cpu) != 1 {
		t.Fatalf("cpu's triggered alerts = %v", cpu)
	}
	bulk := decodeBody[struct{ Alerts []map[string]any }](t, f.sendFrom(t, "PUT", "/incidents/2/alerts", token(f.key), f.owner.Email,
		`{"alerts":[{"id":"`+cpu[0]["id"].(string)+`","type":"alert","status":"resolved"}]}`), 200).Alerts
	if len(bulk) != 1 || bulk[0]["status"] != "resolved" {
		t.Errorf("PUT alerts = %v", bulk)
	}
	errs := wantError(t, f.sendFrom(t, "PUT", "/incidents/2/alerts", token(f.key), f.owner.Email, `{"alerts":[{"status":"resolved"}]}`), 400, gatehouse.CodeInvalidInput, "")
	if !cmp.Equal(errs, []string{"alerts[0].id must be given"}) {
		t.Errorf("an alert without id: %q", errs)
	}

	// The event side goes on: the key is free, a trigger opens anew.
	f.event(t, gatehouse.EventTrigger, "disk")
	incs = decodeBody[struct{ Incidents []incidentJSON }](t, f.do(t, "GET", "/incidents?statuses[]=triggered", token(f.key)), 200).Incidents
	if len(incs) != 1 || incs[0].IncidentNumber != 3 {
		t.Errorf("triggered incidents after a new trigger = %+v", incs)
	}
	entries := decodeBody[struct {
		LogEntries []map[string]any `json:"log_entries"`
	}](t, f.do(t, "GET", "/incidents/3/log_entries", token(f.key)), 200).LogEntries
	if len(entries) != 2 || entries[1]["agent"].(map[string]any)["type"] != "events_api_v2_inbound_integration_reference" ||
		entries[1]["summary"] != "Triggered through the API" || entries[0]["summary"] != "Assigned to Owner" {
		t.Errorf("the event's log entries = %v", entries)
	}
}

func TestChangeEventsAPI(t *testing.T) {
	t.Parallel()
	f := newIncidentFixture(t)
	ctx := context.Background()
	for i, at := range []time.Time{time.Date(2025, 7, 17, 8, 42, 58, 0, time.UTC), time.Date(2025, 7, 18, 8, 0, 0, 0, time.UTC)} {
		e := &gatehouse.Event{Kind: gatehouse.EventChange, API: gatehouse.EventsAPIV2, AccountID: f.acme.ID, ServiceID: f.svc.ID,
			IntegrationID: f.integration.ID, ReceivedAt: time.Now(), Summary: "Build " + string(rune('1'+i)), Source: "ci", Timestamp: at,
			CustomDetails: json.RawMessage(`{"build":"passed"}`), Links: []gatehouse.Link{{Href: "https://ci.example/1", Text: "Build"}}}
		if err := f.store.AppendEvents(ctx, []*gatehouse.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.ApplyEvents(ctx, 10); err != nil {
		t.Fatal(err)
	}
	list := decodeBody[struct {
		ChangeEvents []map[string]any `json:"change_events"`
		Total        int
	}](t, f.do(t, "GET", "/change_events?total=true", token(f.observer)), 200)
	if list.Total != 2 || list.ChangeEvents[0]["summary"] != "Build 2" {
		t.Fatalf("GET /change_events = %+v", list)
	}
	c := list.ChangeEvents[1]
	id := c["id"].(string)
	want := map[string]any{
		"id": id, "type": "change_event", "summary": "Build 1", "self": f.URL + "/change_events/" + id, "html_url": f.URL + "/app/change_events/" + id,
		"timestamp": "2025-07-17T08:42:58Z", "source": "ci",
		"services": []any{map[string]any{"id": f.svc.ID, "type": "service_reference", "summary": "Checkout",
			"self": f.URL + "/services/" + f.svc.ID, "html_url": f.URL + "/app/services/" + f.svc.ID}},
		"integration": map[string]any{"id": f.integration.ID, "type": "events_api_v2_inbound_integration_reference", "summary": "Prometheus",
			"self": f.URL + "/services/" + f.svc.ID + "/integrations/" + f.integration.ID, "html_url": f.URL + "/app/services/" + f.svc.ID + "/integrations/" + f.integration.ID},
		"custom_details": map[string]any{"build": "passed"},
		"links":          []any{map[string]any{"href": "https://ci.example/1", "text": "Build"}},
		"images":         []any{},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("change event (-want +got):\n%s", diff)
	}
	if got := decodeBody[struct {
		ChangeEvent map[string]any `json:"change_event"`
	}](t, f.do(t, "GET", "/change_events/"+id, token(f.key)), 200).ChangeEvent; !cmp.Equal(got, c) {
		t.Errorf("GET /change_events/{id} = %v, want %v", got, c)
	}
	for path, want := range map[string]int{
		"/services/" + f.svc.ID + "/change_events":                  2,
		"/change_events?since=2025-07-18T00:00:00Z":                 1,
		"/change_events?until=2025-07-18T00:00:00Z":                 1,
		"/change_events?integration_ids[]=" + f.integration.ID:      2,
		"/change_events?team_ids[]=" + f.ops.ID:                     2,
		"/services/" + f.svc.ID + "/change_events?team_ids[]=PNONE": 0,
	} {
		got := decodeBody[struct {
			ChangeEvents []map[string]any `json:"change_events"`
		}](t, f.do(t, "GET", path, token(f.key)), 200).ChangeEvents
		if len(got) != want {
			t.Errorf("GET %s: %d change events, want %d", path, len(got), want)
		}
	}
	errs := wantError(t, f.do(t, "GET", "/change_events?since=2025-07-18T00:00:00%2B02:00", token(f.key)), 400, gatehouse.CodeInvalidInput, "")
	if !cmp.Equal(errs, []string{`since "2025-07-18T00:00:00+02:00" must be in UTC, such as 2025-07-17T08:42:58Z`}) {
		t.Errorf("a non-UTC since: %q", errs)
	}
	wantError(t, f.do(t, "GET", "/change_events/"+id, token(f.otherKey)), 404, gatehouse.CodeNotFound, "")
	wantError(t, f.do(t, "GET", "/services/"+f.svc.ID+"/change_events", token(f.otherKey)), 404, gatehouse.CodeNotFound, "")
	// Rita's team is Ops: she sees the Ops service's changes.
	if got := decodeBody[struct {
		ChangeEvents []map[string]any `json:"change_events"`
	}](t, f.do(t, "GET", "/change_events", token(f.restricted)), 200).ChangeEvents; len(got) != 2 {
		t.Errorf("rita sees %d change events, want 2", len(got))
	}
}
