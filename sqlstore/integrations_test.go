package sqlstore_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

var integrationKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestIntegrations(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		svc := mustService(t, sc, "Checkout", storetest.MustCreatePolicy(t, s, acme, "Policy", owner, nil).ID)
		last := lastChange(t, s)

		v2 := &gatehouse.Integration{Name: "Alerts ", Type: gatehouse.IntegrationEventsV2}
		if err := sc.CreateIntegration(ctx, svc.ID, v2); err != nil {
			t.Fatal(err)
		}
		if !integrationKey.MatchString(v2.Key) || v2.Name != "Alerts " || v2.Service != (gatehouse.Ref{Type: "service_reference", ID: svc.ID, Summary: "Checkout"}) || v2.AccountID != acme.ID || len(v2.ID) != 7 {
			t.Errorf("created integration = %+v", v2)
		}
		datadog := &gatehouse.Integration{Type: "service_integration", VendorID: "PAM4FGS"}
		if err := sc.CreateIntegration(ctx, svc.ID, datadog); err != nil {
			t.Fatal(err)
		}
		if datadog.Type != gatehouse.IntegrationGenericEvents || datadog.Name != "Datadog" || datadog.Key == v2.Key {
			t.Errorf("integration with a vendor = %+v", datadog)
		}
		if got, err := sc.Integration(ctx, svc.ID, v2.ID); err != nil || !cmp.Equal(got, v2) {
			t.Errorf("Integration = %+v, %v; want %+v", got, err, v2)
		}

		wantProblem(t, sc.CreateIntegration(ctx, svc.ID, &gatehouse.Integration{Type: "generic_email_inbound_integration"}), gatehouse.CodeInvalidInput,
			`Type "generic_email_inbound_integration" is not one Gatehouse takes events for: events_api_v2_inbound_integration or generic_events_api_inbound_integration`)
		wantProblem(t, sc.CreateIntegration(ctx, svc.ID, &gatehouse.Integration{VendorID: "PNOPE00"}), gatehouse.CodeInvalidInput, "Vendor PNOPE00 not found: GET /vendors lists them")
		wantCode(t, sc.CreateIntegration(ctx, "PNOPE00", &gatehouse.Integration{Type: gatehouse.IntegrationEventsV2}), gatehouse.CodeNotFound)

		// A key the change sets is ignored; a key it empties is drawn anew.
		renamed, err := sc.UpdateIntegration(ctx, svc.ID, v2.ID, func(in *gatehouse.Integration) {
			in.Name, in.Key = "Checkout alerts", "0123456789abcdef0123456789abcdef"
		})
		if err != nil || renamed.Name != "Checkout alerts" || renamed.Key != v2.Key {
			t.Errorf("UpdateIntegration(name, key) = %+v, %v; want the name changed and the key kept", renamed, err)
		}
		regenerated, err := sc.UpdateIntegration(ctx, svc.ID, v2.ID, func(in *gatehouse.Integration) { in.Key = "" })
		if err != nil || !integrationKey.MatchString(regenerated.Key) || regenerated.Key == v2.Key || regenerated.Name != "Checkout alerts" {
			t.Errorf("UpdateIntegration(no key) = %+v, %v; want a fresh key", regenerated, err)
		}
		if got, _ := sc.Integration(ctx, svc.ID, v2.ID); got.Key != regenerated.Key {
			t.Errorf("stored key %s, want the regenerated %s", got.Key, regenerated.Key)
		}
		_, err = sc.UpdateIntegration(ctx, svc.ID, v2.ID, func(in *gatehouse.Integration) { in.Type = "nagios_inbound_integration" })
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Type "nagios_inbound_integration" is not one Gatehouse takes events for: events_api_v2_inbound_integration or generic_events_api_inbound_integration`)
		// The integration must be the service's.
		other2 := mustService(t, sc, "Search", storetest.MustCreatePolicy(t, s, acme, "Policy 2", owner, nil).ID)
		_, err = sc.UpdateIntegration(ctx, other2.ID, v2.ID, func(in *gatehouse.Integration) { in.Name = "x" })
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = sc.Integration(ctx, other2.ID, v2.ID)
		wantCode(t, err, gatehouse.CodeNotFound)

		// Another account finds nothing.
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		_, err = theirs.Integration(ctx, svc.ID, v2.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = theirs.UpdateIntegration(ctx, svc.ID, v2.ID, func(in *gatehouse.Integration) { in.Key = "" })
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, theirs.DeleteIntegration(ctx, svc.ID, v2.ID), gatehouse.CodeNotFound)
		wantCode(t, theirs.CreateIntegration(ctx, svc.ID, &gatehouse.Integration{Type: gatehouse.IntegrationEventsV2}), gatehouse.CodeNotFound)

		if err := sc.DeleteIntegration(ctx, svc.ID, v2.ID); err != nil {
			t.Fatal(err)
		}
		_, err = sc.Integration(ctx, svc.ID, v2.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, sc.DeleteIntegration(ctx, svc.ID, v2.ID), gatehouse.CodeNotFound)

		// Every change reached the feed, for the Events API's caches.
		want := []string{v2.ID, datadog.ID, v2.ID, v2.ID, v2.ID}
		if diff := cmp.Diff(want, changesOf(t, s, last, gatehouse.ChangeIntegration)); diff != "" {
			t.Errorf("integration changes in the feed (-want +got):\n%s", diff)
		}
		// The service's audit trail tells each change, and never a key.
		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "service_reference", RootID: svc.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 6 { // create service, 2 integrations, 2 updates, delete
			t.Fatalf("%d audit records of the service, want 6", len(records))
		}
		for _, r := range records {
			for _, f := range r.Fields {
				for _, v := range []*string{f.Value, f.BeforeValue} {
					if v != nil && (strings.Contains(*v, v2.Key[:8]) || strings.Contains(*v, regenerated.Key[:8])) {
						t.Errorf("audit field %s = %q holds a key", f.Name, *v)
					}
				}
			}
		}
		regen := records[1].Fields
		if len(regen) != 1 || regen[0].Name != "integrations."+v2.ID+".integration_key" || *regen[0].Value != "…"+regenerated.Key[28:] {
			t.Errorf("fields of the regeneration = %+v", regen)
		}
		deleted := records[0]
		if len(deleted.References) != 1 || deleted.References[0].Name != "integrations" ||
			!cmp.Equal(deleted.References[0].Removed, []gatehouse.Ref{{Type: "events_api_v2_inbound_integration_reference", ID: v2.ID, Summary: "Checkout alerts"}}) {
			t.Errorf("audit record of the deletion = %+v", deleted)
		}
	})
}
