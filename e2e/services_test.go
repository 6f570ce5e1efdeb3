package e2e

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// policy creates an escalation policy of the default account that
// notifies its owner, belonging to the team with teamID unless it is "".
func (s *server) policy(t *testing.T, c *pagerduty.Client, name, teamID string) string {
	t.Helper()
	owner := s.userByEmail(t, s.OwnerEmail)
	p := pagerduty.EscalationPolicy{Name: name, EscalationRules: []pagerduty.EscalationRule{
		{Delay: 30, Targets: []pagerduty.APIObject{{ID: owner.ID, Type: "user_reference"}}},
	}}
	if teamID != "" {
		p.Teams = []pagerduty.APIReference{{ID: teamID, Type: "team_reference"}}
	}
	created, err := c.CreateEscalationPolicyWithContext(t.Context(), p)
	if err != nil {
		t.Fatalf("CreateEscalationPolicyWithContext(%s): %v", name, err)
	}
	return created.ID
}

var integrationKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestClientServices(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()
	team, err := c.CreateTeamWithContext(ctx, &pagerduty.Team{Name: "Ops"})
	if err != nil {
		t.Fatalf("CreateTeamWithContext: %v", err)
	}
	policyID := s.policy(t, c, "Ops policy", team.ID)

	created, err := c.CreateServiceWithContext(ctx, pagerduty.Service{
		Name: "Checkout", Description: "Takes the money",
		EscalationPolicy:                 pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: policyID, Type: "escalation_policy_reference"}},
		AutoResolveTimeout:               new(uint(14400)),
		AcknowledgementTimeout:           new(uint(600)),
		AlertCreation:                    "create_alerts_and_incidents",
		IncidentUrgencyRule:              &pagerduty.IncidentUrgencyRule{Type: "constant", Urgency: "low"},
		AlertGroupingParameters:          &pagerduty.AlertGroupingParameters{Type: "time", Config: &pagerduty.AlertGroupParamsConfig{Timeout: new(uint(2))}},
		AutoPauseNotificationsParameters: &pagerduty.AutoPauseNotificationsParameters{Enabled: true, Timeout: 300},
	})
	if err != nil {
		t.Fatalf("CreateServiceWithContext: %v", err)
	}
	want := &pagerduty.Service{
		APIObject: pagerduty.APIObject{ID: created.ID, Type: "service", Summary: "Checkout", Self: s.URL + "/services/" + created.ID, HTMLURL: s.URL + "/app/services/" + created.ID},
		Name:      "Checkout", Description: "Takes the money", Status: "active",
		AutoResolveTimeout: new(uint(14400)), AcknowledgementTimeout: new(uint(600)),
		AlertCreation: "create_alerts_and_incidents", AlertGrouping: "time", AlertGroupingTimeout: new(uint(2)),
		EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: policyID, Type: "escalation_policy_reference", Summary: "Ops policy",
			Self: s.URL + "/escalation_policies/" + policyID, HTMLURL: s.URL + "/app/escalation_policies/" + policyID}},
		Teams:                            []pagerduty.Team{{APIObject: pagerduty.APIObject{ID: team.ID, Type: "team_reference", Summary: "Ops", Self: s.URL + "/teams/" + team.ID, HTMLURL: s.URL + "/app/teams/" + team.ID}}},
		IncidentUrgencyRule:              &pagerduty.IncidentUrgencyRule{Type: "constant", Urgency: "low"},
		AlertGroupingParameters:          &pagerduty.AlertGroupingParameters{Type: "time", Config: &pagerduty.AlertGroupParamsConfig{Timeout: new(uint(2))}},
		AutoPauseNotificationsParameters: &pagerduty.AutoPauseNotificationsParameters{Enabled: true, Timeout: 300},
	}
	opts := cmp.Options{cmpopts.IgnoreFields(pagerduty.Service{}, "CreateAt"), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(want, created, opts); diff != "" {
		t.Errorf("CreateServiceWithContext (-want +got):\n%s", diff)
	}
	if created.CreateAt == "" {
		t.Error("created_at is empty")
	}

	// Integrations: the key comes back.
	v2, err := c.CreateIntegrationWithContext(ctx, created.ID, pagerduty.Integration{Name: "Alerts", APIObject: pagerduty.APIObject{Type: "events_api_v2_inbound_integration"}})
	if err != nil {
		t.Fatalf("CreateIntegrationWithContext: %v", err)
	}
	if !integrationKeyPattern.MatchString(v2.IntegrationKey) || v2.Name != "Alerts" || v2.Type != "events_api_v2_inbound_integration" || v2.Service.ID != created.ID {
		t.Errorf("CreateIntegrationWithContext = %+v", v2)
	}
	datadog, err := c.CreateIntegrationWithContext(ctx, created.ID, pagerduty.Integration{Vendor: &pagerduty.APIObject{ID: "PAM4FGS", Type: "vendor_reference"}})
	if err != nil {
		t.Fatalf("CreateIntegrationWithContext(vendor): %v", err)
	}
	if datadog.Type != "generic_events_api_inbound_integration" || datadog.Name != "Datadog" || datadog.Vendor.ID != "PAM4FGS" || !integrationKeyPattern.MatchString(datadog.IntegrationKey) {
		t.Errorf("CreateIntegrationWithContext(vendor) = %+v", datadog)
	}
	got, err := c.GetIntegrationWithContext(ctx, created.ID, v2.ID, pagerduty.GetIntegrationOptions{})
	if err != nil || !cmp.Equal(got, v2) {
		t.Errorf("GetIntegrationWithContext = %+v, %v; want %+v", got, err, v2)
	}
	// go-pagerduty sends the update unwrapped.
	renamed, err := c.UpdateIntegrationWithContext(ctx, created.ID, pagerduty.Integration{APIObject: pagerduty.APIObject{ID: v2.ID}, Name: "Checkout alerts"})
	if err != nil || renamed.Name != "Checkout alerts" || renamed.IntegrationKey != v2.IntegrationKey {
		t.Errorf("UpdateIntegrationWithContext = %+v, %v; want the name changed, the key kept", renamed, err)
	}

	// A client sends back what it read, changed.
	read, err := c.GetServiceWithContext(ctx, created.ID, &pagerduty.GetServiceOptions{})
	if err != nil {
		t.Fatalf("GetServiceWithContext: %v", err)
	}
	if len(read.Integrations) != 2 || read.Integrations[0].ID != v2.ID || read.Integrations[0].Type != "events_api_v2_inbound_integration_reference" {
		t.Errorf("the service's integrations = %+v", read.Integrations)
	}
	// go-pagerduty cannot send null; 0 turns the timeout off too.
	read.Name, read.AcknowledgementTimeout = "Checkout v2", new(uint(0))
	updated, err := c.UpdateServiceWithContext(ctx, *read)
	if err != nil {
		t.Fatalf("UpdateServiceWithContext: %v", err)
	}
	want.Name, want.Summary, want.Integrations, want.AcknowledgementTimeout = "Checkout v2", "Checkout v2", read.Integrations, nil
	if diff := cmp.Diff(want, updated, opts); diff != "" {
		t.Errorf("UpdateServiceWithContext (-want +got):\n%s", diff)
	}

	// include[] expands the references, in the client's types.
	full, err := c.GetServiceWithContext(ctx, created.ID, &pagerduty.GetServiceOptions{Includes: []string{"integrations", "teams", "escalation_policies"}})
	if err != nil {
		t.Fatalf("GetServiceWithContext(include[]): %v", err)
	}
	if len(full.Integrations) != 2 || full.Integrations[0].IntegrationKey != v2.IntegrationKey || full.Integrations[1].Vendor.ID != "PAM4FGS" ||
		full.Teams[0].Type != "team" || full.EscalationPolicy.Type != "escalation_policy" || full.EscalationPolicy.Name != "Ops policy" {
		t.Errorf("GetServiceWithContext(include[]) = %+v", full)
	}
	listed, err := c.ListServicesWithContext(ctx, pagerduty.ListServiceOptions{Includes: []string{"integrations"}})
	if err != nil || len(listed.Services) != 1 || len(listed.Services[0].Integrations) != 2 || listed.Services[0].Integrations[1].IntegrationKey != datadog.IntegrationKey {
		t.Errorf("ListServicesWithContext(include[]=integrations) = %+v, %v", listed, err)
	}

	for _, name := range []string{"api", "search"} {
		if _, err := c.CreateServiceWithContext(ctx, pagerduty.Service{Name: name, EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: s.policy(t, c, name+" policy", "")}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		o    pagerduty.ListServiceOptions
		want []string
	}{
		{pagerduty.ListServiceOptions{}, []string{"Checkout v2", "api", "search"}},
		{pagerduty.ListServiceOptions{SortBy: "name:desc", Total: true}, []string{"search", "api", "Checkout v2"}},
		{pagerduty.ListServiceOptions{Query: "CHECK"}, []string{"Checkout v2"}},
		{pagerduty.ListServiceOptions{TeamIDs: []string{team.ID}}, []string{"Checkout v2"}},
	} {
		l, err := c.ListServicesWithContext(ctx, tt.o)
		if err != nil {
			t.Fatalf("ListServicesWithContext(%+v): %v", tt.o, err)
		}
		var names []string
		for _, svc := range l.Services {
			names = append(names, svc.Name)
		}
		if diff := cmp.Diff(tt.want, names); diff != "" {
			t.Errorf("ListServicesWithContext(%+v) (-want +got):\n%s", tt.o, diff)
		}
	}
	all, err := c.ListServicesPaginated(ctx, pagerduty.ListServiceOptions{Limit: 1})
	if err != nil || len(all) != 3 {
		t.Errorf("ListServicesPaginated(limit 1) = %d services, %v; want 3", len(all), err)
	}

	if err := c.DeleteIntegrationWithContext(ctx, created.ID, v2.ID); err != nil {
		t.Errorf("DeleteIntegrationWithContext: %v", err)
	}
	_, err = c.GetIntegrationWithContext(ctx, created.ID, v2.ID, pagerduty.GetIntegrationOptions{})
	if apiErr := checkAPIError(t, err, 404, 2100); !apiErr.NotFound() {
		t.Errorf("GetIntegrationWithContext after delete: NotFound() = false")
	}
	if err := c.DeleteServiceWithContext(ctx, created.ID); err != nil {
		t.Fatalf("DeleteServiceWithContext: %v", err)
	}
	_, err = c.GetServiceWithContext(ctx, created.ID, &pagerduty.GetServiceOptions{})
	if apiErr := checkAPIError(t, err, 404, 2100); !apiErr.NotFound() {
		t.Errorf("GetServiceWithContext after delete: NotFound() = false")
	}
	// Its integrations went with it.
	_, err = c.GetIntegrationWithContext(ctx, created.ID, datadog.ID, pagerduty.GetIntegrationOptions{})
	checkAPIError(t, err, 404, 2100)
}

func TestClientServicesRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	policyID := s.policy(t, newClient(t, s, s.Key), "Policy", "")
	svc, err := newClient(t, s, s.Key).CreateServiceWithContext(t.Context(), pagerduty.Service{Name: "Checkout",
		EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: policyID}}})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := newClient(t, s, s.generalKey(t, "default", "--read-only").Key)
	s.createUser(t, "responder@example.com", "Responder", "limited_user")
	responder := newClient(t, s, s.userToken(t, "responder@example.com"))
	other := newClient(t, s, s.createAccount(t, "business"))
	ctx := t.Context()

	_, err = readOnly.CreateServiceWithContext(ctx, pagerduty.Service{Name: "x", EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: policyID}}})
	checkAPIError(t, err, 403, 2010)
	if _, err := readOnly.GetServiceWithContext(ctx, svc.ID, &pagerduty.GetServiceOptions{}); err != nil {
		t.Errorf("a read-only key reading a service: %v", err)
	}
	_, err = responder.CreateIntegrationWithContext(ctx, svc.ID, pagerduty.Integration{APIObject: pagerduty.APIObject{Type: "events_api_v2_inbound_integration"}})
	checkAPIError(t, err, 403, 2010)
	_, err = other.GetServiceWithContext(ctx, svc.ID, &pagerduty.GetServiceOptions{})
	if apiErr := checkAPIError(t, err, 404, 2100); !apiErr.NotFound() {
		t.Error("another account's service: NotFound() = false")
	}
	_, err = other.CreateServiceWithContext(ctx, pagerduty.Service{Name: "x", EscalationPolicy: pagerduty.EscalationPolicy{APIObject: pagerduty.APIObject{ID: policyID}}})
	checkAPIError(t, err, 400, 2001)
}

func TestClientVendorsAndPriorities(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()
	l, err := c.ListVendorsWithContext(ctx, pagerduty.ListVendorOptions{Total: true})
	if err != nil {
		t.Fatalf("ListVendorsWithContext: %v", err)
	}
	names := map[string]string{}
	for _, v := range l.Vendors {
		names[v.Name] = v.GenericServiceType
	}
	for name, typ := range map[string]string{
		"Events API V2": "events_api_v2_inbound_integration", "Events API V1": "generic_events_api_inbound_integration",
		"Prometheus": "events_api_v2_inbound_integration", "Alertmanager": "events_api_v2_inbound_integration",
		"Grafana": "events_api_v2_inbound_integration", "Datadog": "generic_events_api_inbound_integration",
		"Nagios": "generic_events_api_inbound_integration", "Amazon CloudWatch": "events_api_v2_inbound_integration",
	} {
		if names[name] != typ {
			t.Errorf("vendor %q has type %q, want %q", name, names[name], typ)
		}
	}
	if l.Total != uint(len(l.Vendors)) {
		t.Errorf("ListVendorsWithContext total %d, %d vendors", l.Total, len(l.Vendors))
	}
	v, err := c.GetVendorWithContext(ctx, "PZQ6AUS")
	if err != nil || v.Name != "Amazon CloudWatch" || v.Type != "vendor" {
		t.Errorf("GetVendorWithContext(PZQ6AUS) = %+v, %v", v, err)
	}
	_, err = c.GetVendorWithContext(ctx, "PNOPE00")
	checkAPIError(t, err, 404, 2100)

	p, err := c.ListPrioritiesWithContext(ctx, pagerduty.ListPrioritiesOptions{})
	if err != nil {
		t.Fatalf("ListPrioritiesWithContext: %v", err)
	}
	var got []string
	for _, pr := range p.Priorities {
		got = append(got, pr.Name)
	}
	if diff := cmp.Diff([]string{"P1", "P2", "P3", "P4", "P5"}, got); diff != "" {
		t.Errorf("ListPrioritiesWithContext (-want +got):\n%s", diff)
	}
}

// TestSpecConformanceServices checks requests as PagerDuty documents them,
// and the answers, against its description: services, their integrations,
// vendors, priorities and a service's audit trail.
func TestSpecConformanceServices(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	s := startServer(t)
	c := newSpecClient(t, doc, s)
	client := newClient(t, s, s.Key)
	team, err := client.CreateTeamWithContext(t.Context(), &pagerduty.Team{Name: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	policyID := s.policy(t, client, "Ops policy", team.ID)

	// PagerDuty's own example, without the support hours Gatehouse does not
	// have yet.
	x := c.doWithReferences(t, "POST", "/services", s.Key, []byte(`{"service":{"type":"service","name":"My Web App","description":"My cool web application that does things.",
		"auto_resolve_timeout":14400,"acknowledgement_timeout":600,"status":"active","escalation_policy":{"id":"`+policyID+`","type":"escalation_policy_reference"},
		"incident_urgency_rule":{"type":"constant","urgency":"high"},"alert_creation":"create_alerts_and_incidents",
		"alert_grouping_parameters":{"type":"time","config":{"timeout":2}},"auto_pause_notifications_parameters":{"enabled":true,"timeout":300}}}`))
	if x.status != 201 {
		t.Fatalf("POST /services → %d %s, want 201", x.status, x.body)
	}
	x.conforms(t)
	var created struct{ Service struct{ ID string } }
	if err := json.Unmarshal(x.body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.Service.ID
	x = c.doWithReferences(t, "POST", "/services/"+id+"/integrations", s.Key, []byte(`{"integration":{"type":"events_api_v2_inbound_integration","name":"Events V2"}}`))
	if x.status != 201 {
		t.Fatalf("POST /services/{id}/integrations → %d %s, want 201", x.status, x.body)
	}
	x.conforms(t)
	var integration struct{ Integration struct{ ID string } }
	if err := json.Unmarshal(x.body, &integration); err != nil {
		t.Fatal(err)
	}
	iid := integration.Integration.ID

	for _, tt := range []struct {
		method, path, body string
		wantStatus         int
	}{
		{"GET", "/services", "", 200},
		{"GET", "/services?query=web&team_ids[]=" + team.ID + "&sort_by=name:desc&total=true&include[]=integrations&include[]=teams&include[]=escalation_policies", "", 200},
		{"GET", "/services/" + id + "?include[]=integrations&include[]=auto_pause_notifications_parameters", "", 200},
		{"GET", "/services/PNOPE00", "", 404},
		{"PUT", "/services/" + id, `{"service":{"type":"service","name":"My Web App 2","escalation_policy":{"id":"` + policyID + `","type":"escalation_policy_reference"},"acknowledgement_timeout":null}}`, 200},
		{"POST", "/services", `{"service":{"type":"service","name":"x","escalation_policy":{"id":"PNOPE00","type":"escalation_policy_reference"}}}`, 400},
		{"POST", "/services/" + id + "/integrations", `{"integration":{"type":"generic_events_api_inbound_integration","name":"Events V1","vendor":{"id":"PVNDNAG","type":"vendor_reference"}}}`, 201},
		{"GET", "/services/" + id + "/integrations/" + iid + "?include[]=services&include[]=vendors", "", 200},
		{"PUT", "/services/" + id + "/integrations/" + iid, `{"integration":{"type":"events_api_v2_inbound_integration","name":"Renamed"}}`, 200},
		{"POST", "/services/" + id + "/integrations", `{"integration":{"type":"generic_email_inbound_integration","name":"Email"}}`, 400},
		{"GET", "/vendors?limit=3&offset=1&total=true", "", 200},
		{"GET", "/priorities", "", 200},
		{"GET", "/services/" + id + "/audit/records", "", 200},
		{"DELETE", "/services/" + id, "", 204},
	} {
		x := c.doWithReferences(t, tt.method, tt.path, s.Key, []byte(tt.body))
		if x.status != tt.wantStatus {
			t.Errorf("%s %s → %d %s, want %d", tt.method, tt.path, x.status, x.body, tt.wantStatus)
			continue
		}
		x.conforms(t)
	}
}
