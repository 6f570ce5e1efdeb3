package restapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTerraformProviderFlows replays what PagerDuty's Terraform provider
// (through its heimweh/go-pagerduty client) sends for pagerduty_vendor,
// pagerduty_service and pagerduty_service_integration, and checks what it
// reads back.
func TestTerraformProviderFlows(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)

	// data "pagerduty_vendor": a list with query=name, then an exact
	// case-insensitive match on the names, else a partial one.
	vendors := decodeBody[struct {
		Vendors []struct {
			ID, Name           string
			GenericServiceType string `json:"generic_service_type"`
		}
	}](t, f.do(t, "GET", "/vendors?query=datadog", token(f.key)), 200).Vendors
	if len(vendors) != 1 || vendors[0].Name != "Datadog" || vendors[0].ID != "PAM4FGS" || vendors[0].GenericServiceType != "generic_events_api_inbound_integration" {
		t.Errorf("vendors named datadog = %+v", vendors)
	}

	// resource "pagerduty_service" with the provider's defaults: both
	// timeouts, alert_grouping always (null), no alert_grouping_parameters.
	type service struct {
		ID                     string
		Name, Description      string
		Status                 string
		AlertCreation          string `json:"alert_creation"`
		HTMLURL                string `json:"html_url"`
		AcknowledgementTimeout *int   `json:"acknowledgement_timeout"`
		AutoResolveTimeout     *int   `json:"auto_resolve_timeout"`
		AlertGrouping          *string
		EscalationPolicy       struct{ ID string } `json:"escalation_policy"`
		AlertGroupingParams    map[string]any      `json:"alert_grouping_parameters"`
		AutoPause              map[string]any      `json:"auto_pause_notifications_parameters"`
		IncidentUrgencyRule    map[string]any      `json:"incident_urgency_rule"`
		LastIncidentTimestamp  *string             `json:"last_incident_timestamp"`
	}
	created := decodeBody[struct{ Service service }](t, f.send(t, "POST", "/services", token(f.key),
		`{"service":{"acknowledgement_timeout":1800,"alert_creation":"create_incidents","alert_grouping":null,"auto_resolve_timeout":14400,
		"description":"Managed by Terraform","escalation_policy":{"id":"`+f.opsPolicy+`","type":"escalation_policy_reference"},"name":"foo",
		"incident_urgency_rule":{"type":"constant","urgency":"high"},"auto_pause_notifications_parameters":{"enabled":false,"timeout":0}}}`), 201).Service
	id := created.ID
	// It reads the service back at once (fetchService).
	read := decodeBody[struct{ Service service }](t, f.do(t, "GET", "/services/"+id+"?include%5B%5D=auto_pause_notifications_parameters", token(f.key)), 200).Service
	want := service{ID: id, Name: "foo", Description: "Managed by Terraform", Status: "active", AlertCreation: "create_incidents", HTMLURL: f.URL + "/app/services/" + id,
		AcknowledgementTimeout: new(1800), AutoResolveTimeout: new(14400), EscalationPolicy: struct{ ID string }{f.opsPolicy},
		AlertGroupingParams: map[string]any{"type": nil}, AutoPause: map[string]any{"enabled": false},
		IncidentUrgencyRule: map[string]any{"type": "constant", "urgency": "high"}}
	if diff := cmp.Diff(want, read); diff != "" || !cmp.Equal(created, read) {
		t.Errorf("the service as the provider reads it (-want +got):\n%s", diff)
	}

	// An update sends the whole configuration again: "null" in its state is
	// null on the wire.
	updated := decodeBody[struct{ Service service }](t, f.send(t, "PUT", "/services/"+id, token(f.key),
		`{"service":{"acknowledgement_timeout":null,"alert_creation":"create_alerts_and_incidents","alert_grouping":null,"auto_resolve_timeout":14400,
		"alert_grouping_parameters":{"type":"content_based","config":{"aggregate":"all","fields":["source"]}},
		"description":"Managed by Terraform","escalation_policy":{"id":"`+f.barePolicy+`","type":"escalation_policy_reference"},"name":"foo",
		"incident_urgency_rule":{"type":"constant","urgency":"low"},"auto_pause_notifications_parameters":{"enabled":true,"timeout":300}}}`), 200).Service
	want.AcknowledgementTimeout, want.AlertCreation, want.EscalationPolicy.ID = nil, "create_alerts_and_incidents", f.barePolicy
	want.AlertGroupingParams = map[string]any{"type": "content_based", "config": map[string]any{"aggregate": "all", "fields": []any{"source"}}}
	want.IncidentUrgencyRule["urgency"], want.AutoPause = "low", map[string]any{"enabled": true, "timeout": 300.0}
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("the service after the provider's update (-want +got):\n%s", diff)
	}
	// Support hours: refused with the reason, not dropped.
	problems := wantError(t, f.send(t, "PUT", "/services/"+id, token(f.key),
		`{"service":{"name":"foo","incident_urgency_rule":{"type":"use_support_hours","during_support_hours":{"type":"constant","urgency":"high"},"outside_support_hours":{"type":"constant","urgency":"low"}},
		"scheduled_actions":[null],"support_hours":{"type":"fixed_time_per_day","time_zone":"America/Lima","start_time":"09:00:00","end_time":"17:00:00","days_of_week":[1,2,3,4,5]}}}`), 400, 2001, "")
	if !cmp.Equal(problems, []string{"service.support_hours: Gatehouse does not have support hours yet; send null"}) {
		t.Errorf("support hours refused with %q", problems)
	}

	// resource "pagerduty_service_integration" with a vendor: the provider
	// sends the type "service_integration", then polls the integration.
	in := decodeBody[struct{ Integration struct{ ID string } }](t, f.send(t, "POST", "/services/"+id+"/integrations", token(f.key),
		`{"integration":{"name":"Datadog","service":{"id":"`+id+`","type":"service"},"type":"service_integration","vendor":{"id":"PAM4FGS","type":"vendor"}}}`), 201).Integration
	type integration struct {
		Name, Type     string
		IntegrationKey string `json:"integration_key"`
		HTMLURL        string `json:"html_url"`
		Service        struct{ ID string }
		Vendor         struct{ ID string }
	}
	polled := decodeBody[struct{ Integration integration }](t, f.do(t, "GET", "/services/"+id+"/integrations/"+in.ID, token(f.key)), 200).Integration
	if polled.Name != "Datadog" || polled.Type != "generic_events_api_inbound_integration" || polled.Service.ID != id || polled.Vendor.ID != "PAM4FGS" ||
		!integrationKeyPattern.MatchString(polled.IntegrationKey) || polled.HTMLURL == "" {
		t.Errorf("the integration as the provider reads it = %+v", polled)
	}
	// Its update sends back the key it holds, which stays.
	renamed := decodeBody[struct{ Integration integration }](t, f.send(t, "PUT", "/services/"+id+"/integrations/"+in.ID, token(f.key),
		`{"integration":{"integration_key":"`+polled.IntegrationKey+`","name":"Datadog prod","service":{"id":"`+id+`","type":"service"},"type":"generic_events_api_inbound_integration","vendor":{"id":"PAM4FGS","type":"vendor"}}}`), 200).Integration
	if renamed.Name != "Datadog prod" || renamed.IntegrationKey != polled.IntegrationKey || renamed.Type != polled.Type {
		t.Errorf("the integration after the provider's update = %+v", renamed)
	}

	// Destroy: the integration, then the service; a later read is a 404,
	// which the provider takes as gone.
	for _, path := range []string{"/services/" + id + "/integrations/" + in.ID, "/services/" + id} {
		if r := f.do(t, "DELETE", path, token(f.key)); r.Status != 204 {
			t.Errorf("DELETE %s = %d %s", path, r.Status, r.Body)
		}
		wantError(t, f.do(t, "GET", path, token(f.key)), 404, 2100, "Not Found")
	}
}
