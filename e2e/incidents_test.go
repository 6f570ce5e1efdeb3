package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-cmp/cmp"
)

// restService creates, through the REST API, a service on a policy that
// notifies the owner, with an Events API v2 integration, and returns the
// service and the integration's key.
func (s *server) restService(t *testing.T, c *pagerduty.Client, name string) (*pagerduty.Service, string) {
	t.Helper()
	ctx := t.Context()
	svc, err := c.CreateServiceWithContext(ctx, pagerduty.Service{
		Name:             name,
		EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: s.policy(t, c, name+" policy", ""), Type: "escalation_policy_reference"}},
	})
	if err != nil {
		t.Fatalf("CreateServiceWithContext(%s): %v", name, err)
	}
	in, err := c.CreateIntegrationWithContext(ctx, svc.ID, pagerduty.Integration{
		Name: "Prometheus", APIObject: pagerduty.APIObject{Type: "events_api_v2_inbound_integration"},
	})
	if err != nil {
		t.Fatalf("CreateIntegrationWithContext: %v", err)
	}
	return svc, in.IntegrationKey
}

// incidentsWhen lists the incidents with go-pagerduty until ok holds, as
// the server applies the events it took, and returns them.
func incidentsWhen(t *testing.T, c *pagerduty.Client, what string, ok func([]pagerduty.Incident) bool) []pagerduty.Incident {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.ListIncidentsWithContext(t.Context(), pagerduty.ListIncidentsOptions{SortBy: "incident_number:asc"})
		if err != nil {
			t.Fatalf("ListIncidentsWithContext: %v", err)
		}
		if ok(resp.Incidents) {
			return resp.Incidents
		}
		if time.Now().After(deadline) {
			var got []string
			for _, inc := range resp.Incidents {
				got = append(got, fmt.Sprintf("#%d %s %+v", inc.IncidentNumber, inc.Status, inc.AlertCounts))
			}
			t.Fatalf("GET /incidents never showed %s; it shows %v", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// incidentStates sums incidents up as "#number status triggered/resolved
// alerts".
func incidentStates(incs []pagerduty.Incident) string {
	var s []string
	for _, inc := range incs {
		s = append(s, fmt.Sprintf("#%d %s %d/%d", inc.IncidentNumber, inc.Status, inc.AlertCounts.Triggered, inc.AlertCounts.Resolved))
	}
	return strings.Join(s, ", ")
}

// TestEventsDedupThroughREST posts events to the real server's Events door
// (trigger twice, acknowledge, resolve, trigger again) and watches the
// incidents they make through GET /incidents.
func TestEventsDedupThroughREST(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	_, routingKey := s.restService(t, c, "Checkout")
	events := eventsClient(s.URL)
	send := func(action string) {
		t.Helper()
		_, err := events.ManageEventWithContext(t.Context(), &pagerduty.V2Event{RoutingKey: routingKey, Action: action, DedupKey: "disk-db01",
			Payload: &pagerduty.V2Payload{Summary: "Disk full on db01", Source: "db01", Severity: "warning"}})
		if err != nil {
			t.Fatalf("ManageEventWithContext(%s): %v", action, err)
		}
	}
	for _, step := range []struct {
		actions []string
		want    string
	}{
		{[]string{"trigger", "trigger"}, "#1 triggered 1/0"},
		{[]string{"acknowledge"}, "#1 acknowledged 1/0"},
		{[]string{"resolve"}, "#1 resolved 0/1"},
		{[]string{"trigger"}, "#1 resolved 0/1, #2 triggered 1/0"},
	} {
		for _, a := range step.actions {
			send(a)
		}
		incidentsWhen(t, c, step.want, func(incs []pagerduty.Incident) bool { return incidentStates(incs) == step.want })
	}
	first, err := c.GetIncidentWithContext(t.Context(), "1")
	if err != nil {
		t.Fatal(err)
	}
	if first.IncidentKey != "disk-db01" || first.Title != "Disk full on db01" || first.LastStatusChangeBy.Type != "service_reference" || first.ResolvedAt == "" {
		t.Errorf("incident 1 = %+v", first)
	}
	alerts, err := c.ListIncidentAlertsWithContext(t.Context(), first.ID, pagerduty.ListIncidentAlertsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].Status != "resolved" || alerts.Alerts[0].AlertKey != "disk-db01" || alerts.Alerts[0].Severity != "warning" {
		t.Errorf("incident 1's alerts = %+v", alerts.Alerts)
	}
	entries, err := c.ListIncidentLogEntriesWithContext(t.Context(), first.ID, pagerduty.ListIncidentLogEntriesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, le := range entries.LogEntries {
		types = append(types, le.Type)
	}
	if want := []string{"resolve_log_entry", "acknowledge_log_entry", "assign_log_entry", "trigger_log_entry"}; !cmp.Equal(types, want) {
		t.Errorf("incident 1's log, newest first = %v, want %v", types, want)
	}

	// The client resolves incident 2's alert (on a path with a trailing
	// slash), which resolves the incident.
	second, err := c.GetIncidentWithContext(t.Context(), "2")
	if err != nil {
		t.Fatal(err)
	}
	open, err := c.ListIncidentAlertsWithContext(t.Context(), second.ID, pagerduty.ListIncidentAlertsOptions{})
	if err != nil || len(open.Alerts) != 1 {
		t.Fatalf("incident 2's alerts = %+v, %v", open, err)
	}
	resolved, err := c.ManageIncidentAlerts(t.Context(), second.ID, defaultOwner, &pagerduty.IncidentAlertList{Alerts: []pagerduty.IncidentAlert{
		{APIObject: pagerduty.APIObject{ID: open.Alerts[0].ID, Type: "alert"}, Status: "resolved"}}})
	if err != nil || len(resolved.Alerts) != 1 || resolved.Alerts[0].Status != "resolved" {
		t.Fatalf("ManageIncidentAlerts = %+v, %v", resolved, err)
	}
	incidentsWhen(t, c, "both resolved", func(incs []pagerduty.Incident) bool {
		return incidentStates(incs) == "#1 resolved 0/1, #2 resolved 0/1"
	})
}

// TestClientIncidents runs go-pagerduty's incident calls against the real
// server: open an incident by hand, list and get it, acknowledge, reassign
// and resolve it, write notes, read its log.
func TestClientIncidents(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()
	svc, routingKey := s.restService(t, c, "Checkout")
	owner := s.userByEmail(t, s.OwnerEmail)
	ada := s.createUser(t, "ada@example.com", "Ada", "limited_user")

	created, err := c.CreateIncidentWithContext(ctx, s.OwnerEmail, &pagerduty.CreateIncidentOptions{
		Title: "The server is on fire.", Service: &pagerduty.APIReference{ID: svc.ID, Type: "service_reference"},
		Urgency: "high", IncidentKey: "fire", Body: &pagerduty.APIDetails{Type: "incident_body", Details: "A disk is getting full."},
	})
	if err != nil {
		t.Fatalf("CreateIncidentWithContext: %v", err)
	}
	if created.IncidentNumber != 1 || created.Status != "triggered" || created.Service.ID != svc.ID || created.AssignedVia != "escalation_policy" ||
		len(created.Assignments) != 1 || created.Assignments[0].Assignee.ID != owner.ID || created.Urgency != "high" || created.IncidentKey != "fire" ||
		created.FirstTriggerLogEntry.Type != "trigger_log_entry_reference" || created.Summary != "[#1] The server is on fire." {
		t.Errorf("CreateIncidentWithContext = %+v", created)
	}
	// A duplicate key is refused; so is a write without From.
	_, err = c.CreateIncidentWithContext(ctx, s.OwnerEmail, &pagerduty.CreateIncidentOptions{
		Title: "Again", Service: &pagerduty.APIReference{ID: svc.ID, Type: "service_reference"}, IncidentKey: "fire"})
	if e := checkAPIError(t, err, http.StatusBadRequest, 2001); !cmp.Equal(e.APIError.ErrorObject.Errors, []string{"Open incident with matching dedup key already exists on this service"}) {
		t.Errorf("duplicate incident key: %v", e.APIError.ErrorObject.Errors)
	}
	_, err = c.ManageIncidentsWithContext(ctx, "", []pagerduty.ManageIncidentsOptions{{ID: created.ID, Status: "acknowledged"}})
	if e := checkAPIError(t, err, http.StatusBadRequest, 2016); e.APIError.ErrorObject.Message != `You must specify a user's email address in the "From" header to perform this action` {
		t.Errorf("no From: message %q", e.APIError.ErrorObject.Message)
	}

	got, err := c.GetIncidentWithContext(ctx, created.ID)
	if err != nil {
		t.Fatalf("GetIncidentWithContext: %v", err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("GetIncidentWithContext (-created +got):\n%s", diff)
	}
	_, err = c.GetIncidentWithContext(ctx, "PNOPE00")
	notFound(t, err)

	// Acknowledge, reassign to Ada (which triggers it again), resolve.
	managed, err := c.ManageIncidentsWithContext(ctx, s.OwnerEmail, []pagerduty.ManageIncidentsOptions{{ID: created.ID, Status: "acknowledged"}})
	if err != nil || len(managed.Incidents) != 1 || managed.Incidents[0].Status != "acknowledged" || len(managed.Incidents[0].Acknowledgements) != 1 {
		t.Fatalf("ManageIncidentsWithContext(acknowledge) = %+v, %v", managed, err)
	}
	managed, err = c.ManageIncidentsWithContext(ctx, s.OwnerEmail, []pagerduty.ManageIncidentsOptions{{ID: created.ID,
		Assignments: []pagerduty.Assignee{{Assignee: pagerduty.APIObject{ID: ada.ID, Type: "user_reference"}}}}})
	if err != nil || managed.Incidents[0].Status != "triggered" || managed.Incidents[0].AssignedVia != "direct_assignment" ||
		len(managed.Incidents[0].Assignments) != 1 || managed.Incidents[0].Assignments[0].Assignee.Summary != "Ada" {
		t.Fatalf("ManageIncidentsWithContext(reassign) = %+v, %v", managed, err)
	}
	// Ada's own token acts as Ada.
	adaClient := newClient(t, s, s.userToken(t, ada.Email))
	note, err := adaClient.CreateIncidentNoteWithContext(ctx, created.ID, pagerduty.IncidentNote{Content: "On it."})
	if err != nil || note.Content != "On it." || note.User.ID != ada.ID || note.ID == "" {
		t.Fatalf("CreateIncidentNoteWithContext as Ada = %+v, %v", note, err)
	}
	// With a general key, go-pagerduty sends the note's user's summary as
	// From.
	if _, err := c.CreateIncidentNoteWithContext(ctx, created.ID, pagerduty.IncidentNote{Content: "Thanks.", User: pagerduty.APIObject{Summary: s.OwnerEmail}}); err != nil {
		t.Fatalf("CreateIncidentNoteWithContext as the owner: %v", err)
	}
	notes, err := c.ListIncidentNotesWithContext(ctx, created.ID)
	if err != nil || len(notes) != 2 || notes[0].User.Summary != "Ada" || notes[1].Content != "Thanks." {
		t.Errorf("ListIncidentNotesWithContext = %+v, %v", notes, err)
	}
	managed, err = adaClient.ManageIncidentsWithContext(ctx, "", []pagerduty.ManageIncidentsOptions{{ID: created.ID, Status: "resolved", Resolution: "Disk cleaned"}})
	if err != nil || managed.Incidents[0].Status != "resolved" || managed.Incidents[0].ResolvedAt == "" || managed.Incidents[0].LastStatusChangeBy.ID != ada.ID {
		t.Fatalf("ManageIncidentsWithContext(resolve) as Ada = %+v, %v", managed, err)
	}
	_, err = c.ManageIncidentsWithContext(ctx, s.OwnerEmail, []pagerduty.ManageIncidentsOptions{{ID: created.ID, Status: "acknowledged"}})
	if e := checkAPIError(t, err, http.StatusBadRequest, 2001); !cmp.Equal(e.APIError.ErrorObject.Errors, []string{"Incident " + created.ID + ": Incident Already Resolved"}) {
		t.Errorf("acknowledging a resolved incident: %v", e.APIError.ErrorObject.Errors)
	}

	// The log, newest first; one entry; the account's log.
	entries, err := c.ListIncidentLogEntriesWithContext(ctx, created.ID, pagerduty.ListIncidentLogEntriesOptions{Includes: []string{"channels"}})
	if err != nil {
		t.Fatalf("ListIncidentLogEntriesWithContext: %v", err)
	}
	var summaries []string
	for _, le := range entries.LogEntries {
		summaries = append(summaries, le.Type+": "+le.Summary)
	}
	want := []string{
		"resolve_log_entry: Resolved by Ada", "annotate_log_entry: Note added", "annotate_log_entry: Note added",
		"assign_log_entry: Assigned to Ada", "acknowledge_log_entry: Acknowledged by " + owner.Name,
		"assign_log_entry: Assigned to " + owner.Name, "trigger_log_entry: Triggered through the API",
	}
	if diff := cmp.Diff(want, summaries); diff != "" {
		t.Errorf("the incident's log (-want +got):\n%s", diff)
	}
	trigger := entries.LogEntries[len(entries.LogEntries)-1]
	if trigger.Channel.Type != "api" || trigger.Channel.Raw["details"] != "A disk is getting full." || trigger.Agent.ID != owner.ID ||
		trigger.EventDetails["description"] != "The server is on fire." || trigger.Incident.ID != created.ID || trigger.Service.ID != svc.ID {
		t.Errorf("the trigger's entry = %+v", trigger)
	}
	one, err := c.GetLogEntryWithContext(ctx, trigger.ID, pagerduty.GetLogEntryOptions{Includes: []string{"incidents"}})
	if err != nil || one.ID != trigger.ID || one.Incident.Title != "The server is on fire." {
		t.Errorf("GetLogEntryWithContext = %+v, %v", one, err)
	}
	if _, err := eventsClient(s.URL).ManageEventWithContext(ctx, &pagerduty.V2Event{RoutingKey: routingKey, Action: "trigger",
		Payload: &pagerduty.V2Payload{Summary: "CPU hot", Source: "web01", Severity: "error"}}); err != nil {
		t.Fatal(err)
	}
	incidentsWhen(t, c, "the event's incident", func(incs []pagerduty.Incident) bool { return len(incs) == 2 })
	// The overview leaves out the assignments escalation policies made: the
	// incident's first, and the event's incident's.
	all, err := c.ListLogEntriesWithContext(ctx, pagerduty.ListLogEntriesOptions{Total: true, IsOverview: true})
	if err != nil || all.Total != uint(len(want)-1+1) || all.LogEntries[0].Type != "trigger_log_entry" || all.LogEntries[0].Agent.Type != "events_api_v2_inbound_integration_reference" {
		t.Errorf("ListLogEntriesWithContext = total %d, first %+v (%v)", all.Total, all.LogEntries[0], err)
	}

	// Filters, as go-pagerduty sends them.
	list, err := c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{Statuses: []string{"triggered"}, ServiceIDs: []string{svc.ID},
		Urgencies: []string{"high"}, Includes: []string{"services"}, Total: true})
	if err != nil || list.Total != 1 || list.Incidents[0].Title != "CPU hot" || list.Incidents[0].Service.Type != "service" {
		t.Errorf("ListIncidentsWithContext(triggered) = %+v, %v", list, err)
	}
	list, err = c.ListIncidentsWithContext(ctx, pagerduty.ListIncidentsOptions{DateRange: "all", UserIDs: []string{owner.ID}})
	if err != nil || len(list.Incidents) != 1 || list.Incidents[0].IncidentNumber != 2 {
		t.Errorf("ListIncidentsWithContext(assigned to the owner) = %+v, %v", list, err)
	}

	// An observer reads but does not act; a read-only key reads.
	s.createUser(t, "olga@example.com", "Olga", "observer")
	observer := newClient(t, s, s.userToken(t, "olga@example.com"))
	if _, err := observer.GetIncidentWithContext(ctx, "2"); err != nil {
		t.Errorf("an observer reads: %v", err)
	}
	_, err = observer.ManageIncidentsWithContext(ctx, "", []pagerduty.ManageIncidentsOptions{{ID: "2", Status: "acknowledged"}})
	checkAPIError(t, err, http.StatusForbidden, 2010)
	readOnly := newClient(t, s, s.generalKey(t, "default", "--read-only").Key)
	_, err = readOnly.CreateIncidentNoteWithContext(ctx, "2", pagerduty.IncidentNote{Content: "x", User: pagerduty.APIObject{Summary: s.OwnerEmail}})
	checkAPIError(t, err, http.StatusForbidden, 2010)
}

// TestSpecConformanceIncidents checks against PagerDuty's description the
// incident operations go-pagerduty does not make (or makes differently):
// one incident's update, its alerts one by one and in bulk, and change
// events.
func TestSpecConformanceIncidents(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	s := startServer(t)
	c := newClient(t, s, s.Key)
	svc, routingKey := s.restService(t, c, "Checkout")
	events := eventsClient(s.URL)
	for _, key := range []string{"disk", "cpu"} {
		if _, err := events.ManageEventWithContext(t.Context(), &pagerduty.V2Event{RoutingKey: routingKey, Action: "trigger", DedupKey: key,
			Payload: &pagerduty.V2Payload{Summary: key + " alarm", Source: "db01", Severity: "critical", Details: map[string]any{"value": 99}},
			Links:   []any{map[string]any{"href": "https://grafana.example/" + key, "text": "Graph"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := events.CreateChangeEventWithContext(t.Context(), pagerduty.ChangeEvent{RoutingKey: routingKey,
		Payload: pagerduty.ChangeEventPayload{Summary: "Deployed v2", Source: "ci", Timestamp: "2025-07-17T08:42:58Z",
			CustomDetails: map[string]any{"build": "220"}},
		Links: []pagerduty.ChangeEventLink{{Href: "https://ci.example/220", Text: "Build 220"}}}); err != nil {
		t.Fatal(err)
	}
	incidentsWhen(t, c, "two incidents", func(incs []pagerduty.Incident) bool { return len(incs) == 2 })
	sc := newSpecClient(t, doc, s)
	do := func(method, path, body string, wantStatus int, v any) {
		t.Helper()
		x := sc.doFrom(t, method, path, s.Key, s.OwnerEmail, []byte(body))
		if x.status != wantStatus {
			t.Fatalf("%s %s → %d %s, want %d", method, path, x.status, x.body, wantStatus)
		}
		x.conforms(t)
		if v != nil {
			if err := json.Unmarshal(x.body, v); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	do("PUT", "/incidents/1", `{"incident":{"type":"incident_reference","status":"acknowledged","title":"Disk alarm","urgency":"low"}}`, 200, nil)
	do("PUT", "/incidents/1", `{"incident":{"type":"incident_reference","escalation_level":1}}`, 200, nil)
	do("GET", "/incidents/1?include[]=acknowledgers", "", 200, nil)
	var alerts struct{ Alerts []struct{ ID string } }
	do("GET", "/incidents/1/alerts?statuses[]=triggered&sort_by=created_at:desc", "", 200, &alerts)
	if len(alerts.Alerts) != 1 {
		t.Fatalf("incident 1's alerts = %+v", alerts)
	}
	do("GET", "/incidents/1/alerts/"+alerts.Alerts[0].ID, "", 200, nil)
	do("PUT", "/incidents/1/alerts/"+alerts.Alerts[0].ID, `{"alert":{"type":"alert","status":"resolved"}}`, 200, nil)
	do("GET", "/incidents/2/alerts", "", 200, &alerts)
	do("PUT", "/incidents/2/alerts", `{"alerts":[{"id":"`+alerts.Alerts[0].ID+`","type":"alert","status":"resolved"}]}`, 200, nil)
	do("GET", "/incidents?statuses[]=resolved&total=true", "", 200, nil)
	do("POST", "/incidents", `{"incident":{"type":"incident","title":"By hand","service":{"id":"`+svc.ID+`","type":"service_reference"},
		"urgency":"high","body":{"type":"incident_body","details":"What I saw."}}}`, 201, nil)
	do("POST", "/incidents/3/notes", `{"note":{"content":"Looking."}}`, 200, nil)
	do("GET", "/incidents/3/notes", "", 200, nil)
	do("GET", "/incidents/3/log_entries?is_overview=true&time_zone=Europe/Paris", "", 200, nil)
	do("GET", "/log_entries?since=2020-01-01T00:00:00Z", "", 200, nil)
	do("PUT", "/incidents", `{"incidents":[{"id":"3","type":"incident_reference","status":"resolved"}]}`, 200, nil)
	do("GET", "/incidents/PNOPE00", "", 404, nil)
	do("POST", "/incidents", `{"incident":{"type":"incident","title":"x","service":{"id":"PNOPE00","type":"service_reference"}}}`, 400, nil)

	var changes struct {
		ChangeEvents []struct{ ID string } `json:"change_events"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(changes.ChangeEvents) == 0 {
		do("GET", "/change_events", "", 200, &changes)
		if time.Now().After(deadline) {
			t.Fatal("the change event never showed")
		}
	}
	do("GET", "/change_events/"+changes.ChangeEvents[0].ID, "", 200, nil)
	do("GET", "/services/"+svc.ID+"/change_events?since=2025-07-01T00:00:00Z", "", 200, nil)
	do("GET", "/change_events/PNOPE00", "", 404, nil)
}

// TestIncidentsFromHeader: what an account-level key's writes to incidents
// need, in raw HTTP: a From header naming a user of the account.
func TestIncidentsFromHeader(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	svc, _ := s.restService(t, c, "Checkout")
	body := `{"incident":{"type":"incident","title":"x","service":{"id":"` + svc.ID + `","type":"service_reference"}}}`
	post := func(from string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL+"/incidents", strings.NewReader(body))
		req.Header.Set("Authorization", "Token token="+s.Key)
		req.Header.Set("Content-Type", "application/json")
		if from != "" {
			req.Header.Set("From", from)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, b := post(""); status != 400 ||
		b != `{"error":{"message":"You must specify a user's email address in the \"From\" header to perform this action","code":2016}}` {
		t.Errorf("without From: %d %s", status, b)
	}
	if status, b := post("stranger@example.com"); status != 400 || !strings.Contains(b, "stranger@example.com") {
		t.Errorf("with a stranger's address: %d %s", status, b)
	}
	if status, b := post(s.OwnerEmail); status != 201 {
		t.Errorf("with the owner's address: %d %s", status, b)
	}

}
