package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func serviceNames(l sqlstore.List[*gatehouse.Service]) []string {
	var names []string
	for _, s := range l.Items {
		names = append(names, s.Name)
	}
	return names
}

func teamNamesOf(s *gatehouse.Service) []string {
	var names []string
	for _, t := range s.Teams {
		names = append(names, t.Name)
	}
	return names
}

func mustTeam(t *testing.T, sc *sqlstore.Scope, name string) *gatehouse.Team {
	t.Helper()
	team := &gatehouse.Team{Name: name}
	if err := sc.CreateTeam(context.Background(), team); err != nil {
		t.Fatalf("CreateTeam(%s): %v", name, err)
	}
	return team
}

func mustService(t *testing.T, sc *sqlstore.Scope, name, policyID string) *gatehouse.Service {
	t.Helper()
	s := &gatehouse.Service{Name: name, EscalationPolicy: gatehouse.Ref{ID: policyID}}
	if err := sc.CreateService(context.Background(), s); err != nil {
		t.Fatalf("CreateService(%s): %v", name, err)
	}
	return s
}

// changesOf returns the subjects of the changes of kind after the change
// with ID after.
func changesOf(t *testing.T, s *sqlstore.Store, after int64, kind gatehouse.ChangeKind) []string {
	t.Helper()
	changes, err := s.ChangesAfter(context.Background(), after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range changes {
		if c.Kind == kind {
			ids = append(ids, c.SubjectID)
		}
	}
	return ids
}

func lastChange(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	id, err := s.LastChangeID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestServices(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, otherOwner := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		ops, dbas := mustTeam(t, sc, "Ops"), mustTeam(t, sc, "DBAs")
		opsPolicy := storetest.MustCreatePolicy(t, s, acme, "Ops policy", owner, ops).ID
		dbaPolicy := storetest.MustCreatePolicy(t, s, acme, "DBA policy", owner, dbas).ID
		barePolicy := storetest.MustCreatePolicy(t, s, acme, "Bare policy", owner, nil).ID
		theirPolicy := storetest.MustCreatePolicy(t, s, other, "Their policy", otherOwner, nil).ID
		last := lastChange(t, s)

		checkout := &gatehouse.Service{Name: " Checkout ", Description: "Takes the money", EscalationPolicy: gatehouse.Ref{ID: opsPolicy},
			AutoResolveTimeout: new(14400), AcknowledgementTimeout: new(0), Status: "critical"}
		if err := sc.CreateService(ctx, checkout); err != nil {
			t.Fatal(err)
		}
		if checkout.Name != "Checkout" || checkout.Status != "active" || checkout.AcknowledgementTimeout != nil || *checkout.AutoResolveTimeout != 14400 ||
			checkout.EscalationPolicy != (gatehouse.Ref{Type: "escalation_policy_reference", ID: opsPolicy, Summary: "Ops policy"}) ||
			!cmp.Equal(teamNamesOf(checkout), []string{"Ops"}) || len(checkout.Integrations) != 0 || len(checkout.ID) != 7 {
			t.Errorf("created service = %+v", checkout)
		}
		got, err := sc.Service(ctx, checkout.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(checkout, got); diff != "" {
			t.Errorf("Service after CreateService (-created +read):\n%s", diff)
		}
		for _, name := range []string{"search", "Billing", "api"} {
			mustService(t, sc, name, barePolicy)
		}
		mustService(t, sc, "Édition", dbaPolicy)

		wantProblem(t, sc.CreateService(ctx, &gatehouse.Service{Name: "Checkout", EscalationPolicy: gatehouse.Ref{ID: barePolicy}}), gatehouse.CodeInvalidInput, "Name has already been taken")
		wantProblem(t, sc.CreateService(ctx, &gatehouse.Service{Name: "x", EscalationPolicy: gatehouse.Ref{ID: theirPolicy}}), gatehouse.CodeInvalidInput,
			"Escalation policy "+theirPolicy+" not found in this account")
		// Every problem at once, those the database finds with the others.
		err = sc.CreateService(ctx, &gatehouse.Service{Name: "Checkout", Description: strings.Repeat("x", 1025), EscalationPolicy: gatehouse.Ref{ID: "PNOPE00"}})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Description must be at most 1024 characters")
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Escalation policy PNOPE00 not found in this account")
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Name has already been taken")
		wantProblem(t, sc.CreateService(ctx, &gatehouse.Service{Name: "y"}), gatehouse.CodeInvalidInput, "Escalation policy must be given")
		// Names are unique per account.
		mustService(t, s.Scope(other.ID, sqlstore.CLI(other)), "Checkout", theirPolicy)

		list := func(q sqlstore.ServiceQuery) sqlstore.List[*gatehouse.Service] {
			t.Helper()
			if q.Page.Limit == 0 {
				q.Page.Limit = 25
			}
			l, err := sc.Services(ctx, q)
			if err != nil {
				t.Fatalf("Services(%+v): %v", q, err)
			}
			return l
		}
		for _, tt := range []struct {
			q    sqlstore.ServiceQuery
			want []string
		}{
			{sqlstore.ServiceQuery{}, []string{"Billing", "Checkout", "api", "search", "Édition"}},
			{sqlstore.ServiceQuery{Descending: true}, []string{"Édition", "search", "api", "Checkout", "Billing"}},
			{sqlstore.ServiceQuery{Query: "I"}, []string{"Billing", "api", "Édition"}},
			{sqlstore.ServiceQuery{Query: "%"}, nil},
			{sqlstore.ServiceQuery{Name: "api"}, []string{"api"}},
			{sqlstore.ServiceQuery{Name: "API"}, nil},
			{sqlstore.ServiceQuery{TeamIDs: []string{dbas.ID}}, []string{"Édition"}},
			{sqlstore.ServiceQuery{TeamIDs: []string{dbas.ID, ops.ID}}, []string{"Checkout", "Édition"}},
			{sqlstore.ServiceQuery{TeamIDs: []string{"PNOPE00"}}, nil},
		} {
			if diff := cmp.Diff(tt.want, serviceNames(list(tt.q))); diff != "" {
				t.Errorf("Services(%+v) (-want +got):\n%s", tt.q, diff)
			}
		}
		page := list(sqlstore.ServiceQuery{Page: sqlstore.Page{Limit: 2, Offset: 1, Total: true}})
		if !cmp.Equal(serviceNames(page), []string{"Checkout", "api"}) || !page.More || page.Total != 5 {
			t.Errorf("Services(limit 2, offset 1) = %v, more %t, total %d", serviceNames(page), page.More, page.Total)
		}
		if diff := cmp.Diff(checkout, list(sqlstore.ServiceQuery{Name: "Checkout"}).Items[0]); diff != "" {
			t.Errorf("listed service (-want +got):\n%s", diff)
		}

		// An update changes what it sets, and records what it changed.
		grouping := gatehouse.AlertGroupingParameters{Type: new("time"), Config: &gatehouse.AlertGroupingConfig{Timeout: new(5)}}
		updated, err := sc.UpdateService(ctx, checkout.ID, func(s *gatehouse.Service) {
			s.Description, s.EscalationPolicy.ID, s.AlertGrouping = "Takes money", barePolicy, grouping
		})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Description != "Takes money" || updated.EscalationPolicy.Summary != "Bare policy" || len(updated.Teams) != 0 || !cmp.Equal(updated.AlertGrouping, grouping) {
			t.Errorf("UpdateService = %+v", updated)
		}
		if got, err := sc.Service(ctx, checkout.ID); err != nil || !cmp.Equal(got, updated) {
			t.Errorf("Service after update = %+v, %v; want %+v", got, err, updated)
		}
		_, err = sc.UpdateService(ctx, checkout.ID, func(s *gatehouse.Service) { s.Name = "api" })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Name has already been taken")
		_, err = sc.UpdateService(ctx, checkout.ID, func(s *gatehouse.Service) { s.EscalationPolicy.ID = theirPolicy })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Escalation policy "+theirPolicy+" not found in this account")
		// Setting what is there changes nothing, and records nothing.
		if _, err := sc.UpdateService(ctx, checkout.ID, func(s *gatehouse.Service) { s.Status = "warning" }); err != nil {
			t.Fatal(err)
		}

		// Another account's service is not found, whatever the action.
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		_, err = theirs.Service(ctx, checkout.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = theirs.UpdateService(ctx, checkout.ID, func(s *gatehouse.Service) { s.Name = "stolen" })
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, theirs.DeleteService(ctx, checkout.ID), gatehouse.CodeNotFound)
		if got, err := theirs.EscalationPoliciesByID(ctx, []string{opsPolicy}); err != nil || len(got) != 0 {
			t.Errorf("another account's EscalationPoliciesByID = %v, %v; want none", got, err)
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "service_reference", RootID: checkout.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 2 || records[0].Action != "update" || records[1].Action != "create" {
			t.Fatalf("audit records of the service = %+v, want its create and one update", records)
		}
		var changed []string
		for _, f := range records[0].Fields {
			changed = append(changed, f.Name)
		}
		if diff := cmp.Diff([]string{"description", "escalation_policy", "alert_grouping_parameters"}, changed); diff != "" {
			t.Errorf("fields of the update (-want +got):\n%s", diff)
		}
		if f := records[0].Fields[2]; *f.Value != `{"type":"time","config":{"timeout":5}}` || *f.BeforeValue != `{"type":null}` {
			t.Errorf("alert grouping field = %s from %s", *f.Value, *f.BeforeValue)
		}
		n := 0
		for _, id := range changesOf(t, s, last, gatehouse.ChangeService) {
			if id == checkout.ID {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d changes of the service in the feed, want 2: its create and its update", n)
		}

		if err := sc.DeleteService(ctx, checkout.ID); err != nil {
			t.Fatal(err)
		}
		_, err = sc.Service(ctx, checkout.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, sc.DeleteService(ctx, checkout.ID), gatehouse.CodeNotFound)
	})
}

func TestServiceIntegrationsGoWithTheService(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		svc := mustService(t, sc, "Checkout", storetest.MustCreatePolicy(t, s, acme, "Policy", owner, nil).ID)
		var made []string
		for _, typ := range []string{gatehouse.IntegrationGenericEvents, gatehouse.IntegrationEventsV2} {
			in := &gatehouse.Integration{Type: typ}
			if err := sc.CreateIntegration(ctx, svc.ID, in); err != nil {
				t.Fatal(err)
			}
			made = append(made, in.ID)
		}
		got, err := sc.Service(ctx, svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, in := range got.Integrations {
			listed = append(listed, in.ID)
		}
		if diff := cmp.Diff(made, listed); diff != "" {
			t.Errorf("integrations of the service, oldest first (-want +got):\n%s", diff)
		}

		// Disabling the service tells the caches of its routing keys.
		last := lastChange(t, s)
		if _, err := sc.UpdateService(ctx, svc.ID, func(s *gatehouse.Service) { s.Status = "disabled" }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(made, changesOf(t, s, last, gatehouse.ChangeIntegration)); diff != "" {
			t.Errorf("integration changes when the service is disabled (-want +got):\n%s", diff)
		}

		last = lastChange(t, s)
		if err := sc.DeleteService(ctx, svc.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range made {
			_, err := sc.Integration(ctx, svc.ID, id)
			wantCode(t, err, gatehouse.CodeNotFound)
		}
		if diff := cmp.Diff(made, changesOf(t, s, last, gatehouse.ChangeIntegration)); diff != "" {
			t.Errorf("integration changes when the service is deleted (-want +got):\n%s", diff)
		}
		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "service_reference", RootID: svc.ID, Actions: []string{"delete"}})
		if err != nil || len(records) != 1 || len(records[0].References) != 1 || len(records[0].References[0].Removed) != 2 {
			t.Errorf("audit record of the deletion = %+v, %v; want the two integrations removed", records, err)
		}
	})
}

func TestServicesOfRestrictedAccessUsers(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		cli := s.Scope(acme.ID, sqlstore.CLI(acme))
		ops, dbas := mustTeam(t, cli, "Ops"), mustTeam(t, cli, "DBAs")
		mine := mustService(t, cli, "Mine", storetest.MustCreatePolicy(t, s, acme, "Ops policy", owner, ops).ID)
		notMine := mustService(t, cli, "Not mine", storetest.MustCreatePolicy(t, s, acme, "DBA policy", owner, dbas).ID)
		mustService(t, cli, "Nobody's", storetest.MustCreatePolicy(t, s, acme, "Bare policy", owner, nil).ID)
		in := &gatehouse.Integration{Type: gatehouse.IntegrationEventsV2}
		if err := cli.CreateIntegration(ctx, notMine.ID, in); err != nil {
			t.Fatal(err)
		}
		for _, role := range []gatehouse.Role{gatehouse.RoleRestrictedAccess, gatehouse.RoleReadOnlyLimitedUser} {
			u := storetest.MustCreateUser(t, s, acme, string(role), role)
			if role == gatehouse.RoleRestrictedAccess {
				storetest.MustAddTeamMember(t, s, ops, u, "responder")
			}
			sc := asUser(s, acme, u)
			l, err := sc.Services(ctx, sqlstore.ServiceQuery{Page: sqlstore.Page{Limit: 25, Total: true}})
			want := []string{"Mine"}
			if role == gatehouse.RoleReadOnlyLimitedUser {
				want = nil // in no team
			}
			if err != nil || !cmp.Equal(serviceNames(l), want) || l.Total != len(want) {
				t.Errorf("Services seen by %s = %v (total %d), %v; want %v", role, serviceNames(l), l.Total, err, want)
			}
			_, err = sc.Service(ctx, notMine.ID)
			wantCode(t, err, gatehouse.CodeNotFound)
			_, err = sc.Integration(ctx, notMine.ID, in.ID)
			wantCode(t, err, gatehouse.CodeNotFound)
		}
		if _, err := cli.Service(ctx, mine.ID); err != nil {
			t.Errorf("the command line sees every service: %v", err)
		}
	})
}

func TestEscalationPoliciesByID(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		ops := mustTeam(t, sc, "Ops")
		policy := storetest.MustCreatePolicy(t, s, acme, "Policy", owner, ops)
		bare := storetest.MustCreatePolicy(t, s, acme, "Bare", owner, nil)
		svc := mustService(t, sc, "Checkout", policy.ID)
		got, err := sc.EscalationPoliciesByID(ctx, []string{policy.ID, bare.ID, "PNOPE00"})
		if err != nil {
			t.Fatal(err)
		}
		// The policies as the policies' own read gives them.
		for _, want := range []*gatehouse.EscalationPolicy{policy, bare} {
			read, err := sc.EscalationPolicy(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(read, got[want.ID]); diff != "" {
				t.Errorf("EscalationPoliciesByID[%s] (-EscalationPolicy +got):\n%s", want.Name, diff)
			}
		}
		if len(got) != 2 || len(got[policy.ID].Services) != 1 || got[policy.ID].Services[0].ID != svc.ID {
			t.Errorf("EscalationPoliciesByID = %v, want the two policies, the first used by the service", got)
		}
	})
}
