package gatehouse

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIntegrationNormalizeAndValidate(t *testing.T) {
	tests := []struct {
		name     string
		in       Integration
		want     Integration
		problems []string
	}{
		{"events v2", Integration{Type: IntegrationEventsV2},
			Integration{Type: IntegrationEventsV2, Name: "Events API V2"}, nil},
		{"name and type kept exactly", Integration{Name: " my alerts ", Type: IntegrationGenericEvents},
			Integration{Name: " my alerts ", Type: IntegrationGenericEvents}, nil},
		{"vendor gives its type and name", Integration{VendorID: "PAM4FGS"},
			Integration{VendorID: "PAM4FGS", Type: IntegrationGenericEvents, Name: "Datadog"}, nil},
		{"Terraform's placeholder type with a vendor", Integration{Name: "prom", Type: "service_integration", VendorID: "PVNDPRM"},
			Integration{Name: "prom", Type: IntegrationEventsV2, VendorID: "PVNDPRM"}, nil},
		{"a type given beats the vendor's", Integration{Type: IntegrationEventsV2, VendorID: "PAM4FGS"},
			Integration{Type: IntegrationEventsV2, VendorID: "PAM4FGS", Name: "Datadog"}, nil},
		{"no type", Integration{Name: "x"}, Integration{Name: "x"},
			[]string{"Type must be given, or a vendor: events_api_v2_inbound_integration or generic_events_api_inbound_integration"}},
		{"placeholder without a vendor", Integration{Name: "x", Type: "service_integration"}, Integration{Name: "x", Type: "service_integration"},
			[]string{"Type must be given, or a vendor: events_api_v2_inbound_integration or generic_events_api_inbound_integration"}},
		{"email integration", Integration{Type: "generic_email_inbound_integration"}, Integration{Type: "generic_email_inbound_integration"},
			[]string{`Type "generic_email_inbound_integration" is not one Gatehouse takes events for: events_api_v2_inbound_integration or generic_events_api_inbound_integration`}},
		{"blank name", Integration{Name: " ", Type: IntegrationEventsV2}, Integration{Name: " ", Type: IntegrationEventsV2},
			[]string{"Name must not be empty"}},
		{"unknown vendor", Integration{Name: "x", Type: IntegrationEventsV2, VendorID: "PNOPE00"}, Integration{Name: "x", Type: IntegrationEventsV2, VendorID: "PNOPE00"},
			[]string{"Vendor PNOPE00 not found: GET /vendors lists them"}},
		{"long name", Integration{Name: strings.Repeat("é", 256), Type: IntegrationEventsV2}, Integration{Name: strings.Repeat("é", 256), Type: IntegrationEventsV2},
			[]string{"Name must be at most 255 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			got.Normalize()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize() (-want +got):\n%s", diff)
			}
			err := got.Validate()
			var problems []string
			if err != nil {
				problems = err.(*Error).Errors
			}
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("Validate() problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewIntegrationKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewIntegrationKey()
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(k) || seen[k] {
			t.Fatalf("NewIntegrationKey() = %q: want 32 fresh lower-case hex characters", k)
		}
		seen[k] = true
	}
}

func TestVendorsAndPriorities(t *testing.T) {
	id := regexp.MustCompile(`^P[A-Z0-9]{6}$`)
	ids := map[string]bool{}
	for i, v := range Vendors {
		if !id.MatchString(v.ID) || ids[v.ID] || !contains(IntegrationTypes, v.IntegrationType) || v.Name == "" {
			t.Errorf("vendor %+v: want a unique PagerDuty-style ID, a name and an integration type Gatehouse takes", v)
		}
		if i > 0 && Vendors[i-1].Name >= v.Name {
			t.Errorf("vendors are not sorted by name: %q before %q", Vendors[i-1].Name, v.Name)
		}
		ids[v.ID] = true
	}
	for _, name := range []string{"Events API V2", "Events API V1", "Prometheus", "Alertmanager", "Grafana", "Datadog", "Nagios", "Amazon CloudWatch"} {
		if len(VendorsMatching(name)) == 0 {
			t.Errorf("no vendor named %q", name)
		}
	}
	var names []string
	for _, v := range VendorsMatching("events api") {
		names = append(names, v.Name)
	}
	if diff := cmp.Diff([]string{"Events API V1", "Events API V2"}, names); diff != "" {
		t.Errorf("VendorsMatching(events api) (-want +got):\n%s", diff)
	}
	if got := VendorsMatching("CLOUDWATCH"); len(got) != 1 || got[0].ID != "PZQ6AUS" {
		t.Errorf("VendorsMatching(CLOUDWATCH) = %+v, want Amazon CloudWatch", got)
	}
	for i, p := range Priorities {
		if !id.MatchString(p.ID) || ids[p.ID] || p.Name != "P"+string(rune('1'+i)) {
			t.Errorf("priority %d = %+v: want P%d with a unique PagerDuty-style ID", i, p, i+1)
		}
		ids[p.ID] = true
	}
}
