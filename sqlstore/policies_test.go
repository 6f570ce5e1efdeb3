package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// rule is an escalation rule of delay minutes notifying users.
func rule(delay int, users ...*gatehouse.User) gatehouse.EscalationRule {
	r := gatehouse.EscalationRule{DelayInMinutes: delay}
	for _, u := range users {
		r.Targets = append(r.Targets, gatehouse.EscalationTarget{Type: gatehouse.TargetUser, ID: u.ID})
	}
	return r
}

func policyNames(l sqlstore.List[*gatehouse.EscalationPolicy]) []string {
	var names []string
	for _, p := range l.Items {
		names = append(names, p.Name)
	}
	return names
}

// policyShape is what a client sees of a policy's rules and teams: each
// rule's ID, delay, strategy and target users' IDs and names, and the teams'
// IDs and names.
func policyShape(p *gatehouse.EscalationPolicy) []string {
	var out []string
	for _, r := range p.Rules {
		line := fmt.Sprintf("rule %s %d %s:", r.ID, r.DelayInMinutes, r.AssignmentStrategy)
		for _, t := range r.Targets {
			line += fmt.Sprintf(" %s %s %s", t.Type, t.ID, t.User.Name)
		}
		out = append(out, line)
	}
	for _, t := range p.Teams {
		out = append(out, "team "+t.ID+" "+t.Name)
	}
	for _, s := range p.Services {
		out = append(out, "service "+s.ID+" "+s.Summary)
	}
	return out
}

func TestEscalationPolicies(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleLimitedUser)
		sam := storetest.MustCreateUser(t, s, acme, "sam", gatehouse.RoleReadOnlyUser)
		eve := storetest.MustCreateUser(t, s, other, "eve", gatehouse.RoleUser)
		sc := asUser(s, acme, owner)
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		ops := &gatehouse.Team{Name: "Ops"}
		if err := sc.CreateTeam(ctx, ops); err != nil {
			t.Fatal(err)
		}
		theirTeam := &gatehouse.Team{Name: "Theirs"}
		if err := theirs.CreateTeam(ctx, theirTeam); err != nil {
			t.Fatal(err)
		}
		last, err := s.LastChangeID(ctx)
		if err != nil {
			t.Fatal(err)
		}

		first := rule(30, ada, bob)
		first.Targets[1].Type = "user" // the full object's type is taken too
		p := &gatehouse.EscalationPolicy{
			Name: "  Ops Policy ", Description: "Pages\nOps", NumLoops: 2, OnCallHandoffNotifications: "always",
			Rules: []gatehouse.EscalationRule{first, rule(10, ada)},
			Teams: []*gatehouse.Team{{ID: ops.ID}},
		}
		p.Rules[0].ID = "PCHOSEN" // a client's rule ID is not taken on create
		if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
			t.Fatalf("CreateEscalationPolicy: %v", err)
		}
		if p.Name != "Ops Policy" || p.AccountID != acme.ID || len(p.ID) != 7 || p.Rules[0].ID == "PCHOSEN" || p.Rules[0].ID == p.Rules[1].ID {
			t.Errorf("created policy = %+v, want a trimmed name, the account, an ID and new rule IDs", p)
		}
		wantShape := []string{
			"rule " + p.Rules[0].ID + " 30 assign_to_everyone: user_reference " + ada.ID + " ada user_reference " + bob.ID + " bob",
			"rule " + p.Rules[1].ID + " 10 assign_to_everyone: user_reference " + ada.ID + " ada",
			"team " + ops.ID + " Ops",
		}
		if diff := cmp.Diff(wantShape, policyShape(p)); diff != "" {
			t.Errorf("created policy's rules and teams (-want +got):\n%s", diff)
		}
		got, err := sc.EscalationPolicy(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantShape, policyShape(got)); diff != "" {
			t.Errorf("EscalationPolicy's rules and teams (-want +got):\n%s", diff)
		}
		if got.Name != p.Name || got.Description != "Pages\nOps" || got.NumLoops != 2 || got.OnCallHandoffNotifications != "always" || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Errorf("EscalationPolicy = %+v, want %+v", got, p)
		}

		// Refusals, each with its line.
		valid := func(change func(*gatehouse.EscalationPolicy)) *gatehouse.EscalationPolicy {
			p := &gatehouse.EscalationPolicy{Name: "Another", Rules: []gatehouse.EscalationRule{rule(5, ada)}}
			change(p)
			return p
		}
		for _, tt := range []struct {
			name    string
			policy  *gatehouse.EscalationPolicy
			problem string
		}{
			{"name taken", valid(func(p *gatehouse.EscalationPolicy) { p.Name = "Ops Policy" }), "Name has already been taken"},
			{"another account's user", valid(func(p *gatehouse.EscalationPolicy) { p.Rules = append(p.Rules, rule(5, eve)) }),
				"Escalation rule 2, target 1: user " + eve.ID + " not found"},
			{"unknown user", valid(func(p *gatehouse.EscalationPolicy) { p.Rules[0].Targets[0].ID = "PNOBODY" }),
				"Escalation rule 1, target 1: user PNOBODY not found"},
			{"stakeholder", valid(func(p *gatehouse.EscalationPolicy) { p.Rules = []gatehouse.EscalationRule{rule(5, ada, sam)} }),
				"Escalation rule 1, target 2: sam (" + sam.ID + ") is a stakeholder (read_only_user), and stakeholders cannot be escalation targets"},
			{"another account's team", valid(func(p *gatehouse.EscalationPolicy) { p.Teams = []*gatehouse.Team{{ID: theirTeam.ID}} }),
				"Team " + theirTeam.ID + " not found"},
			{"schedule", valid(func(p *gatehouse.EscalationPolicy) { p.Rules[0].Targets[0].Type = "schedule_reference" }),
				"Escalation rule 1, target 1: schedule " + ada.ID + " cannot be a target, as Gatehouse has no schedules yet; target users instead"},
		} {
			wantProblem(t, sc.CreateEscalationPolicy(ctx, tt.policy), gatehouse.CodeInvalidInput, tt.problem)
		}
		// Names are unique per account.
		if err := theirs.CreateEscalationPolicy(ctx, &gatehouse.EscalationPolicy{Name: "Ops Policy", Rules: []gatehouse.EscalationRule{rule(5, eve)}}); err != nil {
			t.Errorf("another account's policy named Ops Policy: %v", err)
		}

		// Lists.
		for _, name := range []string{"dbas", "Database", "Édition"} {
			if err := sc.CreateEscalationPolicy(ctx, &gatehouse.EscalationPolicy{Name: name, Rules: []gatehouse.EscalationRule{rule(5, bob)}}); err != nil {
				t.Fatal(err)
			}
		}
		list := func(q sqlstore.PolicyQuery) sqlstore.List[*gatehouse.EscalationPolicy] {
			t.Helper()
			if q.Page.Limit == 0 {
				q.Page.Limit = 25
			}
			l, err := sc.EscalationPolicies(ctx, q)
			if err != nil {
				t.Fatalf("EscalationPolicies(%+v): %v", q, err)
			}
			return l
		}
		for _, tt := range []struct {
			name string
			q    sqlstore.PolicyQuery
			want []string
		}{
			{"all", sqlstore.PolicyQuery{}, []string{"Database", "Ops Policy", "dbas", "Édition"}},
			{"descending", sqlstore.PolicyQuery{Descending: true}, []string{"Édition", "dbas", "Ops Policy", "Database"}},
			{"query", sqlstore.PolicyQuery{Query: "DB"}, []string{"dbas"}},
			{"query is no pattern", sqlstore.PolicyQuery{Query: "%"}, nil},
			{"a target", sqlstore.PolicyQuery{UserIDs: []string{ada.ID}}, []string{"Ops Policy"}},
			{"targets", sqlstore.PolicyQuery{UserIDs: []string{ada.ID, bob.ID}}, []string{"Database", "Ops Policy", "dbas", "Édition"}},
			{"another account's user", sqlstore.PolicyQuery{UserIDs: []string{eve.ID}}, nil},
			{"a team", sqlstore.PolicyQuery{TeamIDs: []string{ops.ID}}, []string{"Ops Policy"}},
			{"a team and a target", sqlstore.PolicyQuery{TeamIDs: []string{ops.ID}, UserIDs: []string{bob.ID}, Query: "policy"}, []string{"Ops Policy"}},
		} {
			if diff := cmp.Diff(tt.want, policyNames(list(tt.q))); diff != "" {
				t.Errorf("EscalationPolicies(%s) (-want +got):\n%s", tt.name, diff)
			}
		}
		page := list(sqlstore.PolicyQuery{Page: sqlstore.Page{Limit: 2, Offset: 1, Total: true}})
		if diff := cmp.Diff([]string{"Ops Policy", "dbas"}, policyNames(page)); diff != "" || !page.More || page.Total != 4 {
			t.Errorf("EscalationPolicies(limit 2, offset 1) = %v, more %t, total %d; want Ops Policy, dbas, more, total 4 (%s)", policyNames(page), page.More, page.Total, diff)
		}
		if diff := cmp.Diff(wantShape, policyShape(page.Items[0])); diff != "" {
			t.Errorf("listed policy's rules and teams (-want +got):\n%s", diff)
		}

		// Updates keep the rule IDs the client sends back, in the order
		// sent, and give new rules new IDs.
		r1, r2 := p.Rules[0].ID, p.Rules[1].ID
		updated, err := sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) {
			third := rule(15, bob)
			p.Rules = []gatehouse.EscalationRule{p.Rules[1], p.Rules[0], third}
			p.Rules[0].DelayInMinutes = 20
			p.Rules[2].ID = "" // sent without one: takes the third position's, which is none
		})
		if err != nil {
			t.Fatalf("UpdateEscalationPolicy(rules): %v", err)
		}
		r3 := updated.Rules[2].ID
		if r3 == r1 || r3 == r2 || len(r3) != 7 {
			t.Errorf("new rule's ID = %q, want a new one", r3)
		}
		wantShape = []string{
			"rule " + r2 + " 20 assign_to_everyone: user_reference " + ada.ID + " ada",
			"rule " + r1 + " 30 assign_to_everyone: user_reference " + ada.ID + " ada user_reference " + bob.ID + " bob",
			"rule " + r3 + " 15 assign_to_everyone: user_reference " + bob.ID + " bob",
			"team " + ops.ID + " Ops",
		}
		for name, p := range map[string]*gatehouse.EscalationPolicy{"returned": updated, "read": mustPolicy(t, sc, p.ID)} {
			if diff := cmp.Diff(wantShape, policyShape(p)); diff != "" {
				t.Errorf("%s policy after the update (-want +got):\n%s", name, diff)
			}
		}
		// Rules sent without IDs keep those of their positions: what
		// Terraform sends.
		updated, err = sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) {
			p.Name = "Operations"
			p.Rules = []gatehouse.EscalationRule{rule(20, ada), rule(30, ada, bob), rule(15, bob)}
			p.Rules[2].AssignmentStrategy = "round_robin"
			p.Teams = nil
		})
		if err != nil {
			t.Fatalf("UpdateEscalationPolicy(rules without IDs): %v", err)
		}
		wantShape = []string{
			"rule " + r2 + " 20 assign_to_everyone: user_reference " + ada.ID + " ada",
			"rule " + r1 + " 30 assign_to_everyone: user_reference " + ada.ID + " ada user_reference " + bob.ID + " bob",
			"rule " + r3 + " 15 round_robin: user_reference " + bob.ID + " bob",
		}
		if diff := cmp.Diff(wantShape, policyShape(mustPolicy(t, sc, p.ID))); diff != "" {
			t.Errorf("policy after an update without rule IDs (-want +got):\n%s", diff)
		}
		_, err = sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Name = "dbas" })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Name has already been taken")
		_, err = sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Rules = nil })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "An escalation policy must have at least one escalation rule")
		_, err = sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Rules[0].Targets[0].ID = eve.ID })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Escalation rule 1, target 1: user "+eve.ID+" not found")
		if _, err := sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Name = " Operations " }); err != nil {
			t.Errorf("UpdateEscalationPolicy to its own name: %v", err)
		}

		// Another account's policy is not found, whatever the action.
		_, err = theirs.EscalationPolicy(ctx, p.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = theirs.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Name = "stolen" })
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, theirs.DeleteEscalationPolicy(ctx, p.ID), gatehouse.CodeNotFound)

		// A policy that services use stays.
		api, err := sqlstore.InsertServiceForTest(ctx, s, acme.ID, "API", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		web, err := sqlstore.InsertServiceForTest(ctx, s, acme.ID, "Web", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := policyShape(mustPolicy(t, sc, p.ID)); !cmp.Equal(got[len(got)-2:], []string{"service " + api + " API", "service " + web + " Web"}) {
			t.Errorf("policy used by two services = %v, want them listed by name", got)
		}
		wantProblem(t, sc.DeleteEscalationPolicy(ctx, p.ID), gatehouse.CodeInvalidInput,
			`Escalation policy "Operations" cannot be deleted while services use it: "API" (`+api+`), "Web" (`+web+`); give them another escalation policy first`)
		mustPolicy(t, sc, p.ID)
		for _, id := range []string{api, web} {
			if err := sqlstore.DeleteServiceForTest(ctx, s, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := sc.DeleteEscalationPolicy(ctx, p.ID); err != nil {
			t.Fatalf("DeleteEscalationPolicy: %v", err)
		}
		_, err = sc.EscalationPolicy(ctx, p.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, sc.DeleteEscalationPolicy(ctx, p.ID), gatehouse.CodeNotFound)
		for _, table := range []string{"escalation_rules", "escalation_policy_teams"} {
			if n, err := sqlstore.CountRowsForTest(ctx, s, table, "policy_id = ?", p.ID); err != nil || n != 0 {
				t.Errorf("%d rows of %s left by the deleted policy (%v)", n, table, err)
			}
		}
		if n, err := sqlstore.CountRowsForTest(ctx, s, "escalation_rule_targets", "rule_id IN (?, ?, ?)", r1, r2, r3); err != nil || n != 0 {
			t.Errorf("%d targets left by the deleted policy (%v)", n, err)
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "escalation_policy_reference", RootID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range records {
			actions = append(actions, r.Action)
			if r.Actor != gatehouse.UserActor(owner) || r.RequestID != "req-1" {
				t.Errorf("audit record %+v does not name its actor and request", r)
			}
		}
		// The update to its own name changed nothing, so it is not recorded.
		if diff := cmp.Diff([]string{"delete", "update", "update", "create"}, actions); diff != "" {
			t.Errorf("audit actions of the policy (-want +got):\n%s", diff)
		}
		var names []string
		for _, f := range records[1].Fields {
			names = append(names, f.Name)
		}
		if diff := cmp.Diff([]string{"name", "escalation_rules", "teams"}, names); diff != "" {
			t.Errorf("fields of the second update (-want +got):\n%s", diff)
		}
		str := func(s string) *string { return &s }
		if diff := cmp.Diff(gatehouse.AuditField{Name: "teams", Value: str(""), BeforeValue: str(ops.ID)}, records[1].Fields[2]); diff != "" {
			t.Errorf("teams field of the second update (-want +got):\n%s", diff)
		}
		changes, err := s.ChangesAfter(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		policyChanges := 0
		for _, c := range changes {
			if c.Kind == gatehouse.ChangePolicy {
				policyChanges++
			}
		}
		if policyChanges != 8 { // 5 created (1 of the other account), 2 updated, 1 deleted
			t.Errorf("%d policy changes in the feed, want 8", policyChanges)
		}
	})
}

func mustPolicy(t *testing.T, sc *sqlstore.Scope, id string) *gatehouse.EscalationPolicy {
	t.Helper()
	p, err := sc.EscalationPolicy(context.Background(), id)
	if err != nil {
		t.Fatalf("EscalationPolicy(%s): %v", id, err)
	}
	return p
}

func TestEscalationPoliciesOfRestrictedAccessUsers(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		cli := s.Scope(acme.ID, sqlstore.CLI(acme))
		ops, dbas := &gatehouse.Team{Name: "Ops"}, &gatehouse.Team{Name: "DBAs"}
		for _, team := range []*gatehouse.Team{ops, dbas} {
			if err := cli.CreateTeam(ctx, team); err != nil {
				t.Fatal(err)
			}
		}
		rita := storetest.MustCreateUser(t, s, acme, "rita", gatehouse.RoleRestrictedAccess)
		storetest.MustAddTeamMember(t, s, ops, rita, "responder")
		policies := map[string]*gatehouse.EscalationPolicy{}
		for name, team := range map[string]*gatehouse.Team{"Ops Policy": ops, "DBA Policy": dbas, "No team": nil} {
			p := &gatehouse.EscalationPolicy{Name: name, Rules: []gatehouse.EscalationRule{rule(5, rita)}}
			if team != nil {
				p.Teams = []*gatehouse.Team{team}
			}
			if err := cli.CreateEscalationPolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
			policies[name] = p
		}
		sc := asUser(s, acme, rita)
		l, err := sc.EscalationPolicies(ctx, sqlstore.PolicyQuery{Page: sqlstore.Page{Limit: 25, Total: true}})
		if err != nil || !cmp.Equal(policyNames(l), []string{"Ops Policy"}) || l.Total != 1 {
			t.Errorf("EscalationPolicies seen by Restricted Access = %v (total %d), %v, want her team's only", policyNames(l), l.Total, err)
		}
		mustPolicy(t, sc, policies["Ops Policy"].ID)
		for _, name := range []string{"DBA Policy", "No team"} {
			_, err := sc.EscalationPolicy(ctx, policies[name].ID)
			wantCode(t, err, gatehouse.CodeNotFound)
		}
	})
}

func TestTeamEscalationPolicies(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		ops, dbas := &gatehouse.Team{Name: "Ops"}, &gatehouse.Team{Name: "DBAs"}
		for _, team := range []*gatehouse.Team{ops, dbas} {
			if err := sc.CreateTeam(ctx, team); err != nil {
				t.Fatal(err)
			}
		}
		p := &gatehouse.EscalationPolicy{Name: "Ops Policy", Rules: []gatehouse.EscalationRule{rule(5, owner)}}
		if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}

		for range 2 { // the second time is no change
			if err := sc.AddTeamEscalationPolicy(ctx, ops.ID, p.ID); err != nil {
				t.Fatalf("AddTeamEscalationPolicy: %v", err)
			}
		}
		if got := mustPolicy(t, sc, p.ID).Teams; len(got) != 1 || got[0].ID != ops.ID || got[0].Name != "Ops" {
			t.Errorf("teams of the policy = %+v, want Ops", got)
		}
		wantProblem(t, sc.AddTeamEscalationPolicy(ctx, dbas.ID, p.ID), gatehouse.CodeInvalidInput,
			`Escalation policy "Ops Policy" already belongs to team "Ops" (`+ops.ID+`), and a policy belongs to at most 1 team: remove it from that team first`)
		wantCode(t, sc.AddTeamEscalationPolicy(ctx, ops.ID, "PNOPE00"), gatehouse.CodeNotFound)
		wantCode(t, sc.AddTeamEscalationPolicy(ctx, "PNOPE00", p.ID), gatehouse.CodeNotFound)
		wantCode(t, theirs.AddTeamEscalationPolicy(ctx, ops.ID, p.ID), gatehouse.CodeNotFound)
		wantCode(t, theirs.RemoveTeamEscalationPolicy(ctx, ops.ID, p.ID), gatehouse.CodeNotFound)

		if err := sc.RemoveTeamEscalationPolicy(ctx, ops.ID, p.ID); err != nil {
			t.Fatalf("RemoveTeamEscalationPolicy: %v", err)
		}
		if got := mustPolicy(t, sc, p.ID).Teams; len(got) != 0 {
			t.Errorf("teams of the policy after its removal = %+v, want none", got)
		}
		wantCode(t, sc.RemoveTeamEscalationPolicy(ctx, ops.ID, p.ID), gatehouse.CodeNotFound)
		if err := sc.AddTeamEscalationPolicy(ctx, dbas.ID, p.ID); err != nil {
			t.Fatalf("AddTeamEscalationPolicy to another team once removed: %v", err)
		}
		// Deleting the team takes the policy out of it.
		if err := sc.DeleteTeam(ctx, dbas.ID); err != nil {
			t.Fatal(err)
		}
		if got := mustPolicy(t, sc, p.ID).Teams; len(got) != 0 {
			t.Errorf("teams of the policy after its team's deletion = %+v, want none", got)
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "team_reference", RootID: ops.ID})
		if err != nil {
			t.Fatal(err)
		}
		ref := gatehouse.Ref{Type: "escalation_policy_reference", ID: p.ID, Summary: "Ops Policy"}
		want := [][]gatehouse.AuditReference{
			{{Name: "escalation_policies", Removed: []gatehouse.Ref{ref}}},
			{{Name: "escalation_policies", Added: []gatehouse.Ref{ref}}},
			nil, // the team's creation
		}
		var got [][]gatehouse.AuditReference
		for _, r := range records {
			got = append(got, r.References)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit references of the team (-want +got):\n%s", diff)
		}
	})
}

func TestEscalationPoliciesWithoutTeams(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		basic, owner := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
		sc := asUser(s, basic, owner)
		p := &gatehouse.EscalationPolicy{Name: "Policy", Rules: []gatehouse.EscalationRule{rule(5, owner)}, Teams: []*gatehouse.Team{{ID: "PTEAM01"}}}
		wantCode(t, sc.CreateEscalationPolicy(ctx, p), gatehouse.CodeAbilityMissing)
		_, err := sc.EscalationPolicies(ctx, sqlstore.PolicyQuery{TeamIDs: []string{"PTEAM01"}, Page: sqlstore.Page{Limit: 25}})
		wantCode(t, err, gatehouse.CodeAbilityMissing)
		p.Teams = []*gatehouse.Team{}
		if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
			t.Fatalf("CreateEscalationPolicy without teams on a basic plan: %v", err)
		}
		_, err = sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) { p.Teams = []*gatehouse.Team{{ID: "PTEAM01"}} })
		wantCode(t, err, gatehouse.CodeAbilityMissing)
	})
}

func TestRemoveTargetUser(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		sc := asUser(s, acme, owner)
		shared := &gatehouse.EscalationPolicy{Name: "Shared", Rules: []gatehouse.EscalationRule{rule(30, ada, bob), rule(10, bob, ada)}}
		alone := &gatehouse.EscalationPolicy{Name: "Alone", Rules: []gatehouse.EscalationRule{rule(5, owner), rule(5, bob)}}
		for _, p := range []*gatehouse.EscalationPolicy{shared, alone} {
			if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
		}

		wantProblem(t, sc.RemoveTargetUserForTest(ctx, bob.ID), gatehouse.CodeInvalidInput,
			`bob cannot be removed: they are the only target of rule 2 of escalation policy "Alone" (`+alone.ID+`); give that rule another target or delete the policy first`)
		if got := mustPolicy(t, sc, shared.ID).Rules[0].Targets; len(got) != 2 {
			t.Errorf("targets after a refused removal = %+v, want both kept", got)
		}

		if err := sc.RemoveTargetUserForTest(ctx, ada.ID); err != nil {
			t.Fatalf("removing a user who is never a rule's only target: %v", err)
		}
		r1, r2 := shared.Rules[0].ID, shared.Rules[1].ID
		want := []string{
			"rule " + r1 + " 30 assign_to_everyone: user_reference " + bob.ID + " bob",
			"rule " + r2 + " 10 assign_to_everyone: user_reference " + bob.ID + " bob",
		}
		if diff := cmp.Diff(want, policyShape(mustPolicy(t, sc, shared.ID))); diff != "" {
			t.Errorf("policy after its target's removal (-want +got):\n%s", diff)
		}
		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "escalation_policy_reference", RootID: shared.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 2 || records[0].Action != "update" || len(records[0].Fields) != 1 || records[0].Fields[0].Name != "escalation_rules" {
			t.Errorf("audit of the policy = %+v, want its creation and an update of its rules", records)
		}
	})
}
