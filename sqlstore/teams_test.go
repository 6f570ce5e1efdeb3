package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// asUser is the scope of a user acting through a user token.
func asUser(s *sqlstore.Store, a *gatehouse.Account, u *gatehouse.User) *sqlstore.Scope {
	p := access.KeyPrincipal(&gatehouse.APIKey{ID: "PTOKEN1", Kind: gatehouse.KeyUserToken, UserID: u.ID}, a, u)
	return s.Scope(a.ID, sqlstore.Actor{Principal: p, Ref: gatehouse.UserActor(u),
		Method: gatehouse.AuditMethod{Type: gatehouse.MethodAPIToken, TruncatedToken: "abcd"}, RequestID: "req-1", RemoteAddress: "192.0.2.1"})
}

func teamNames(l sqlstore.List[*gatehouse.Team]) []string {
	var names []string
	for _, t := range l.Items {
		names = append(names, t.Name)
	}
	return names
}

func TestTeams(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		last, err := s.LastChangeID(ctx)
		if err != nil {
			t.Fatal(err)
		}

		var created []*gatehouse.Team
		for _, name := range []string{"Ops", "  Database Reliability ", "dbas", "Édition", "édition"} {
			team := &gatehouse.Team{Name: name, Description: "Looks after\nthings"}
			if err := sc.CreateTeam(ctx, team); err != nil {
				t.Fatalf("CreateTeam(%q): %v", name, err)
			}
			created = append(created, team)
		}
		if got := created[1]; got.Name != "Database Reliability" || got.DefaultRole != "manager" || got.AccountID != acme.ID || len(got.ID) != 7 {
			t.Errorf("created team = %+v, want a trimmed name, the default role, the account and an ID", got)
		}
		wantProblem(t, sc.CreateTeam(ctx, &gatehouse.Team{Name: "Ops"}), gatehouse.CodeInvalidInput, "Name has already been taken")
		wantProblem(t, sc.CreateTeam(ctx, &gatehouse.Team{Name: strings.Repeat("x", 101)}), gatehouse.CodeInvalidInput, "Name must be at most 100 characters")
		wantProblem(t, sc.CreateTeam(ctx, &gatehouse.Team{Name: "x", DefaultRole: "owner"}), gatehouse.CodeInvalidInput, `Default role "owner" is not one of manager, none`)
		// Names are unique per account.
		if err := s.Scope(other.ID, sqlstore.CLI(other)).CreateTeam(ctx, &gatehouse.Team{Name: "Ops"}); err != nil {
			t.Errorf("another account's team named Ops: %v", err)
		}

		list := func(q sqlstore.TeamQuery) sqlstore.List[*gatehouse.Team] {
			t.Helper()
			if q.Page.Limit == 0 {
				q.Page.Limit = 25
			}
			l, err := sc.Teams(ctx, q)
			if err != nil {
				t.Fatalf("Teams(%+v): %v", q, err)
			}
			return l
		}
		if diff := cmp.Diff([]string{"Database Reliability", "Ops", "dbas", "Édition", "édition"}, teamNames(list(sqlstore.TeamQuery{}))); diff != "" {
			t.Errorf("Teams (-want +got):\n%s", diff)
		}
		// The query ignores the case of ASCII letters, and only theirs, on
		// both engines; % and _ are plain characters.
		for q, want := range map[string][]string{"DB": {"dbas"}, "d": {"Database Reliability", "dbas", "Édition", "édition"}, "éd": {"édition"}, "%": nil, "_": nil} {
			if diff := cmp.Diff(want, teamNames(list(sqlstore.TeamQuery{Query: q}))); diff != "" {
				t.Errorf("Teams(query %q) (-want +got):\n%s", q, diff)
			}
		}
		page := list(sqlstore.TeamQuery{Page: sqlstore.Page{Limit: 2, Offset: 1, Total: true}})
		if diff := cmp.Diff([]string{"Ops", "dbas"}, teamNames(page)); diff != "" || !page.More || page.Total != 5 {
			t.Errorf("Teams(limit 2, offset 1) = %v, more %t, total %d; want Ops, dbas, more, total 5 (%s)", teamNames(page), page.More, page.Total, diff)
		}
		if page := list(sqlstore.TeamQuery{Page: sqlstore.Page{Limit: 2, Offset: 3}}); page.More || len(page.Items) != 2 || page.Total != 0 {
			t.Errorf("last page = %v, more %t, total %d", teamNames(page), page.More, page.Total)
		}

		ops := created[0]
		updated, err := sc.UpdateTeam(ctx, ops.ID, func(team *gatehouse.Team) { team.Description = "On call" })
		if err != nil || updated.Description != "On call" || updated.Name != "Ops" {
			t.Fatalf("UpdateTeam(description) = %+v, %v", updated, err)
		}
		if got, err := sc.Team(ctx, ops.ID); err != nil || got.Description != "On call" {
			t.Errorf("Team after update = %+v, %v", got, err)
		}
		_, err = sc.UpdateTeam(ctx, ops.ID, func(team *gatehouse.Team) { team.Name = "dbas" })
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Name has already been taken")
		// Renaming a team to its own name is no conflict.
		if _, err := sc.UpdateTeam(ctx, ops.ID, func(team *gatehouse.Team) { team.Name = " Ops " }); err != nil {
			t.Errorf("UpdateTeam to its own name: %v", err)
		}

		// Another account's team is not found, whatever the action.
		theirs := s.Scope(other.ID, sqlstore.CLI(other))
		_, err = theirs.Team(ctx, ops.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = theirs.UpdateTeam(ctx, ops.ID, func(team *gatehouse.Team) { team.Name = "stolen" })
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, theirs.DeleteTeam(ctx, ops.ID), gatehouse.CodeNotFound)

		if err := sc.DeleteTeam(ctx, ops.ID); err != nil {
			t.Fatal(err)
		}
		_, err = sc.Team(ctx, ops.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, sc.DeleteTeam(ctx, ops.ID), gatehouse.CodeNotFound)

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "team_reference", RootID: ops.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range records {
			actions = append(actions, r.Action)
			if r.Actor != gatehouse.UserActor(owner) || r.RequestID != "req-1" || r.RemoteAddress != "192.0.2.1" || r.Method.TruncatedToken != "abcd" {
				t.Errorf("audit record %+v does not name its actor and request", r)
			}
		}
		if diff := cmp.Diff([]string{"delete", "update", "create"}, actions); diff != "" {
			t.Errorf("audit actions of the team (-want +got):\n%s", diff)
		}
		str := func(s string) *string { return &s }
		if diff := cmp.Diff([]gatehouse.AuditField{{Name: "description", Value: str("On call"), BeforeValue: str("Looks after\nthings")}}, records[1].Fields); diff != "" {
			t.Errorf("fields of the update (-want +got):\n%s", diff)
		}
		changes, err := s.ChangesAfter(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		teamChanges := 0
		for _, c := range changes {
			if c.Kind == gatehouse.ChangeTeam {
				teamChanges++
			}
		}
		if teamChanges != 8 { // 5 created, 1 of the other account, 1 updated, 1 deleted
			t.Errorf("%d team changes in the feed, want 8", teamChanges)
		}
	})
}

func TestTeamsOfRestrictedAccessUsers(t *testing.T) {
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
		l, err := asUser(s, acme, rita).Teams(ctx, sqlstore.TeamQuery{Page: sqlstore.Page{Limit: 25}})
		if err != nil || !cmp.Equal(teamNames(l), []string{"Ops"}) {
			t.Errorf("Teams seen by Restricted Access = %v, %v, want her team only", teamNames(l), err)
		}
		_, err = asUser(s, acme, rita).Team(ctx, dbas.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

// TestRemoveTeamMemberTargetOfTeamPolicy: a member whom an escalation policy
// of the team targets cannot leave the team, with PagerDuty's words, which
// its Terraform provider matches; a policy of another team, or one taken
// off the team, does not hold them.
func TestRemoveTeamMemberTargetOfTeamPolicy(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := s.Scope(acme.ID, sqlstore.CLI(acme))
		ops, dbas := &gatehouse.Team{Name: "Ops"}, &gatehouse.Team{Name: "DBAs"}
		for _, team := range []*gatehouse.Team{ops, dbas} {
			if err := sc.CreateTeam(ctx, team); err != nil {
				t.Fatal(err)
			}
		}
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		for _, team := range []*gatehouse.Team{ops, dbas} {
			storetest.MustAddTeamMember(t, s, team, ada, "responder")
			storetest.MustAddTeamMember(t, s, team, bob, "responder")
		}
		opsPolicy := &gatehouse.EscalationPolicy{Name: "Ops Policy", Rules: []gatehouse.EscalationRule{rule(5, bob), rule(10, ada)}, Teams: []*gatehouse.Team{ops}}
		dbaPolicy := &gatehouse.EscalationPolicy{Name: "DBA Policy", Rules: []gatehouse.EscalationRule{rule(5, ada)}, Teams: []*gatehouse.Team{dbas}}
		for _, p := range []*gatehouse.EscalationPolicy{opsPolicy, dbaPolicy} {
			if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
		}

		err := sc.RemoveTeamMember(ctx, ops.ID, ada.ID)
		wantProblem(t, err, gatehouse.CodeInvalidInput, "User cannot be removed as they belong to an escalation policy on this team")
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Escalation policy "Ops Policy" (`+opsPolicy.ID+`) of team "Ops" has ada as a target: take them out of its rules, or the policy out of the team, first`)
		if e, _ := errors.AsType[*gatehouse.Error](err); e != nil && len(e.Errors) != 2 {
			t.Errorf("errors = %q, want PagerDuty's line and the team's one policy", e.Errors)
		}
		members, err := sc.TeamMembers(ctx, ops.ID, sqlstore.Page{Limit: 25})
		if err != nil || len(members.Items) != 2 {
			t.Errorf("members of Ops after the refusal = %+v, %v, want both still", members.Items, err)
		}

		// Bob is a target of nothing on DBAs; Ada of nothing once the policy
		// is off Ops.
		if err := sc.RemoveTeamMember(ctx, dbas.ID, bob.ID); err != nil {
			t.Errorf("RemoveTeamMember(DBAs, bob), whom only Ops's policy targets: %v", err)
		}
		if err := sc.RemoveTeamEscalationPolicy(ctx, ops.ID, opsPolicy.ID); err != nil {
			t.Fatal(err)
		}
		if err := sc.RemoveTeamMember(ctx, ops.ID, ada.ID); err != nil {
			t.Errorf("RemoveTeamMember(Ops, ada) once the policy is off the team: %v", err)
		}
		wantCode(t, sc.RemoveTeamMember(ctx, ops.ID, ada.ID), gatehouse.CodeNotFound)
	})
}
