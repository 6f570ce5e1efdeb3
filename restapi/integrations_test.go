package restapi

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
)

var integrationKeyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

type integrationJSON struct {
	ID, Type, Summary, Self, Name string
	HTMLURL                       string `json:"html_url"`
	IntegrationKey                string `json:"integration_key"`
	CreatedAt                     string `json:"created_at"`
	Service                       reference
	Vendor                        *reference
}

func TestIntegrationsAPI(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	sid := f.create(t, `{"service":{"name":"Checkout","escalation_policy":{"id":"`+f.opsPolicy+`"}}}`)
	u := f.URL
	base := "/services/" + sid + "/integrations"
	serviceRef := reference{ID: sid, Type: "service_reference", Summary: "Checkout", Self: u + "/services/" + sid, HTMLURL: u + "/app/services/" + sid}

	// Name and type come back exactly as sent, with a fresh key.
	created := decodeBody[struct{ Integration integrationJSON }](t, f.send(t, "POST", base, token(f.manager),
		`{"integration":{"type":"events_api_v2_inbound_integration","name":" Alerts ","integration_key":"chosen-by-the-client","id":"PIGNORE"}}`), 201).Integration
	id := created.ID
	want := integrationJSON{ID: id, Type: "events_api_v2_inbound_integration", Summary: " Alerts ", Name: " Alerts ",
		Self: u + base + "/" + id, HTMLURL: u + "/app/services/" + sid + "/integrations/" + id,
		IntegrationKey: created.IntegrationKey, CreatedAt: created.CreatedAt, Service: serviceRef}
	if diff := cmp.Diff(want, created); diff != "" || !integrationKeyPattern.MatchString(created.IntegrationKey) {
		t.Errorf("POST integration (-want +got):\n%s\nkey %q", diff, created.IntegrationKey)
	}
	if got := decodeBody[struct{ Integration integrationJSON }](t, f.do(t, "GET", base+"/"+id, token(f.restricted)), 200).Integration; got != want {
		t.Errorf("GET integration = %+v, want %+v", got, want)
	}

	// PagerDuty's Terraform provider: a vendor, its placeholder type, a
	// service reference of type "service".
	prom := decodeBody[struct{ Integration integrationJSON }](t, f.send(t, "POST", base, token(f.key),
		`{"integration":{"name":"prom","type":"service_integration","service":{"type":"service","id":"`+sid+`"},"vendor":{"id":"PVNDPRM","type":"vendor"}}}`), 201).Integration
	wantVendor := &reference{ID: "PVNDPRM", Type: "vendor_reference", Summary: "Prometheus", Self: u + "/vendors/PVNDPRM", HTMLURL: u + "/app/vendors/PVNDPRM"}
	if prom.Type != gatehouse.IntegrationEventsV2 || prom.Name != "prom" || !cmp.Equal(prom.Vendor, wantVendor) || prom.IntegrationKey == created.IntegrationKey {
		t.Errorf("integration with a vendor = %+v", prom)
	}
	v1 := decodeBody[struct{ Integration integrationJSON }](t, f.send(t, "POST", base, token(f.key),
		`{"integration":{"type":"generic_events_api_inbound_integration"}}`), 201).Integration
	if v1.Name != "Events API V1" || !integrationKeyPattern.MatchString(v1.IntegrationKey) {
		t.Errorf("generic events integration = %+v", v1)
	}
	withVendor := decodeBody[struct {
		Integration struct {
			Vendor  map[string]any
			Service map[string]any
		}
	}](t, f.do(t, "GET", base+"/"+prom.ID+"?include[]=vendors&include[]=services", token(f.key)), 200).Integration
	if withVendor.Vendor["generic_service_type"] != gatehouse.IntegrationEventsV2 || withVendor.Vendor["type"] != "vendor" ||
		withVendor.Service["type"] != "service" || len(withVendor.Service["integrations"].([]any)) != 3 {
		t.Errorf("include[]=vendors,services = %+v", withVendor)
	}

	// Regenerate with "integration_key": null; a key sent is ignored; the
	// body may come bare, as go-pagerduty sends it.
	regenerated := decodeBody[struct{ Integration integrationJSON }](t, f.send(t, "PUT", base+"/"+id, token(f.key), `{"integration":{"integration_key":null}}`), 200).Integration
	if !integrationKeyPattern.MatchString(regenerated.IntegrationKey) || regenerated.IntegrationKey == created.IntegrationKey || regenerated.Name != " Alerts " {
		t.Errorf("PUT integration_key null = %+v, want a fresh key", regenerated)
	}
	renamed := decodeBody[struct{ Integration integrationJSON }](t, f.send(t, "PUT", base+"/"+id, token(f.key),
		`{"id":"`+id+`","type":"events_api_v2_inbound_integration","name":"Renamed","integration_key":"0123456789abcdef0123456789abcdef"}`), 200).Integration
	if renamed.Name != "Renamed" || renamed.IntegrationKey != regenerated.IntegrationKey {
		t.Errorf("bare PUT = %+v, want the name changed and the key kept", renamed)
	}

	// The service lists its integrations, oldest first.
	svc := decodeBody[struct {
		Service struct{ Integrations []reference }
	}](t, f.do(t, "GET", "/services/"+sid, token(f.key)), 200).Service
	var ids []string
	for _, in := range svc.Integrations {
		ids = append(ids, in.ID)
	}
	if !cmp.Equal(ids, []string{id, prom.ID, v1.ID}) || svc.Integrations[0].Summary != "Renamed" {
		t.Errorf("the service's integrations = %+v", svc.Integrations)
	}

	for _, tt := range []struct {
		name, method, path, key, body string
		status, code                  int
		problems                      []string
	}{
		{"email integration", "POST", base, f.key, `{"integration":{"type":"generic_email_inbound_integration","name":"Email"}}`, 400, 2001,
			[]string{`Type "generic_email_inbound_integration" is not one Gatehouse takes events for: events_api_v2_inbound_integration or generic_events_api_inbound_integration`}},
		{"no type", "POST", base, f.key, `{"integration":{"name":"x"}}`, 400, 2001,
			[]string{"Type must be given, or a vendor: events_api_v2_inbound_integration or generic_events_api_inbound_integration"}},
		{"unknown vendor", "POST", base, f.key, `{"integration":{"vendor":{"id":"PNOPE00"}}}`, 400, 2001,
			[]string{"Vendor PNOPE00 not found: GET /vendors lists them", "Type must be given, or a vendor: events_api_v2_inbound_integration or generic_events_api_inbound_integration"}},
		{"wrong types", "POST", base, f.key, `{"integration":{"name":["x"],"type":1,"integration_key":2}}`, 400, 2001,
			[]string{"integration.name must be a string, not an array", "integration.type must be a string, not a number", "integration.integration_key must be a string, not a number"}},
		{"oversize name", "PUT", base + "/" + id, f.key, `{"integration":{"name":"` + strings.Repeat("x", 256) + `"}}`, 400, 2001, []string{"Name must be at most 255 characters"}},
		{"malformed", "PUT", base + "/" + id, f.key, `[1]`, 400, 2001, []string{"The request body must be a JSON object"}},
		{"responder", "POST", base, f.responder, `{"integration":{"type":"events_api_v2_inbound_integration"}}`, 403, 2010, nil},
		{"observer", "PUT", base + "/" + id, f.observer, `{"integration":{"integration_key":null}}`, 403, 2010, nil},
		{"Restricted Access", "DELETE", base + "/" + id, f.restricted, ``, 403, 2010, nil},
		{"read-only key", "POST", base, f.readOnly, `{"integration":{"type":"events_api_v2_inbound_integration"}}`, 403, 2010, nil},
		{"unknown service", "POST", "/services/PNOPE00/integrations", f.key, `{"integration":{"type":"events_api_v2_inbound_integration"}}`, 404, 2100, nil},
		{"another service's integration", "GET", "/services/PNOPE00/integrations/" + id, f.key, ``, 404, 2100, nil},
		{"another account", "GET", base + "/" + id, f.otherKey, ``, 404, 2100, nil},
		{"another account, create", "POST", base, f.otherKey, `{"integration":{"type":"events_api_v2_inbound_integration"}}`, 404, 2100, nil},
		{"another account, regenerate", "PUT", base + "/" + id, f.otherKey, `{"integration":{"integration_key":null}}`, 404, 2100, nil},
		{"another account, delete", "DELETE", base + "/" + id, f.otherKey, ``, 404, 2100, nil},
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
	if got := decodeBody[struct{ Integration integrationJSON }](t, f.do(t, "GET", base+"/"+id, token(f.key)), 200).Integration; got.IntegrationKey != regenerated.IntegrationKey {
		t.Errorf("the refusals changed the key")
	}

	// The service's audit trail tells what happened to it and to its
	// integrations, never a key.
	trail := f.do(t, "GET", "/services/"+sid+"/audit/records?actions[]=update", token(f.key))
	records := decodeBody[struct {
		Records []struct {
			Action       string
			RootResource reference `json:"root_resource"`
			Details      struct {
				Fields     []gatehouse.AuditField
				References []struct {
					Name  string
					Added []reference
				}
			}
		}
	}](t, trail, 200).Records
	if len(records) != 5 { // 3 integrations made, a key drawn anew, a name changed
		t.Fatalf("GET /services/{id}/audit/records?actions[]=update = %d records, want 5: %s", len(records), trail.Body)
	}
	if r := records[4]; r.RootResource.ID != sid || len(r.Details.References) != 1 || r.Details.References[0].Added[0].ID != id {
		t.Errorf("the record of the first integration = %+v", r)
	}
	for _, key := range []string{created.IntegrationKey, regenerated.IntegrationKey} {
		if strings.Contains(trail.Body, key) {
			t.Errorf("the audit trail holds an integration key: %s", trail.Body)
		}
	}
	wantError(t, f.do(t, "GET", "/services/"+sid+"/audit/records", token(f.otherKey)), 404, gatehouse.CodeNotFound, "")

	if r := f.do(t, "DELETE", base+"/"+id, token(f.manager)); r.Status != 204 || r.Body != "" {
		t.Errorf("DELETE integration = %d %q", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", base+"/"+id, token(f.key)), 404, gatehouse.CodeNotFound, "")
	// Deleting the service deletes its integrations.
	if r := f.do(t, "DELETE", "/services/"+sid, token(f.key)); r.Status != 204 {
		t.Fatalf("DELETE service = %d %s", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", base+"/"+prom.ID, token(f.key)), 404, gatehouse.CodeNotFound, "")
}

func TestVendorsAndPrioritiesAPI(t *testing.T) {
	t.Parallel()
	f := newServiceFixture(t)
	u := f.URL
	type vendor struct {
		ID, Type, Summary, Self, Name, Description string
		HTMLURL                                    string `json:"html_url"`
		WebsiteURL                                 string `json:"website_url"`
		GenericServiceType                         string `json:"generic_service_type"`
	}
	type vendors struct {
		Vendors       []vendor
		Limit, Offset int
		More          bool
		Total         *int
	}
	all := decodeBody[vendors](t, f.do(t, "GET", "/vendors?total=true", token(f.observer)), 200)
	if len(all.Vendors) != len(gatehouse.Vendors) || all.More || all.Total == nil || *all.Total != len(gatehouse.Vendors) {
		t.Errorf("GET /vendors = %+v", all)
	}
	// PagerDuty's Terraform provider finds a vendor by part of its name.
	cw := decodeBody[vendors](t, f.do(t, "GET", "/vendors?query=cloudwatch", token(f.key)), 200)
	want := vendor{ID: "PZQ6AUS", Type: "vendor", Summary: "Amazon CloudWatch", Self: u + "/vendors/PZQ6AUS", HTMLURL: u + "/app/vendors/PZQ6AUS",
		Name: "Amazon CloudWatch", Description: gatehouse.Vendors[1].Description, WebsiteURL: "https://aws.amazon.com/cloudwatch", GenericServiceType: gatehouse.IntegrationEventsV2}
	if len(cw.Vendors) != 1 || cw.Vendors[0] != want || cw.Total != nil {
		t.Errorf("GET /vendors?query=cloudwatch = %+v, want %+v", cw, want)
	}
	last := decodeBody[vendors](t, f.do(t, "GET", "/vendors?limit=3&offset=6", token(f.key)), 200)
	if len(last.Vendors) != 2 || last.More || last.Limit != 3 || last.Offset != 6 {
		t.Errorf("GET /vendors?limit=3&offset=6 = %+v", last)
	}
	if got := decodeBody[struct{ Vendor vendor }](t, f.do(t, "GET", "/vendors/PZQ6AUS", token(f.key)), 200).Vendor; got != want {
		t.Errorf("GET /vendors/PZQ6AUS = %+v", got)
	}
	wantError(t, f.do(t, "GET", "/vendors/PNOPE00", token(f.key)), 404, gatehouse.CodeNotFound, "")

	type priority struct{ ID, Type, Summary, Self, Name, Description string }
	ps := decodeBody[struct {
		Priorities []priority
		More       bool
	}](t, f.do(t, "GET", "/priorities", token(f.restricted)), 200)
	var names []string
	for _, p := range ps.Priorities {
		names = append(names, p.Name)
		if p.Type != "priority" || p.Summary != p.Name || p.Self != u+"/priorities/"+p.ID {
			t.Errorf("priority %+v", p)
		}
	}
	if !cmp.Equal(names, []string{"P1", "P2", "P3", "P4", "P5"}) || ps.More || ps.Priorities[0].ID != "PPRIOR1" {
		t.Errorf("GET /priorities = %+v", ps)
	}
	wantError(t, f.do(t, "GET", "/priorities?limit=x", token(f.key)), 400, gatehouse.CodeInvalidInput, "")
}
