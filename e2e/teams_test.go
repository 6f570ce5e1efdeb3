package e2e

import (
	"strings"
	"testing"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// memberInTeamPolicy is PagerDuty's answer to the removal of a team member
// whom an escalation policy of the team targets: its Terraform provider
// (pagerduty_team_membership) looks for these words in the client's error
// to tell its user which policies hold the member.
const memberInTeamPolicy = "User cannot be removed as they belong to an escalation policy on this team"

func TestClientTeams(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()
	ada := s.createUser(t, "ada@example.com", "Ada", "user")
	bob := s.createUser(t, "bob@example.com", "Bob", "limited_user")

	// go-pagerduty sends the team without its {"team": …} wrapper.
	created, err := c.CreateTeamWithContext(ctx, &pagerduty.Team{Name: "Ops", Description: "Keeps the lights on"})
	if err != nil {
		t.Fatalf("CreateTeamWithContext() error = %v", err)
	}
	want := &pagerduty.Team{
		APIObject: pagerduty.APIObject{ID: created.ID, Type: "team", Summary: "Ops",
			Self: s.URL + "/teams/" + created.ID, HTMLURL: s.URL + "/app/teams/" + created.ID},
		Name: "Ops", Description: "Keeps the lights on",
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateTeamWithContext() (-want +got):\n%s", diff)
	}
	got, err := c.GetTeamWithContext(ctx, created.ID)
	if err != nil {
		t.Fatalf("GetTeamWithContext() error = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetTeamWithContext() (-want +got):\n%s", diff)
	}
	// An update changes what it sends and keeps the rest.
	updated, err := c.UpdateTeamWithContext(ctx, created.ID, &pagerduty.Team{Name: "Operations"})
	if err != nil {
		t.Fatalf("UpdateTeamWithContext() error = %v", err)
	}
	want.Name, want.Summary = "Operations", "Operations"
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateTeamWithContext() (-want +got):\n%s", diff)
	}
	if _, err := c.CreateTeamWithContext(ctx, &pagerduty.Team{Name: "Databases"}); err != nil {
		t.Fatalf("CreateTeamWithContext(Databases) error = %v", err)
	}
	list, err := c.ListTeamsWithContext(ctx, pagerduty.ListTeamOptions{Query: "OPER", Total: true})
	if err != nil {
		t.Fatalf("ListTeamsWithContext(query) error = %v", err)
	}
	if len(list.Teams) != 1 || list.Teams[0].ID != created.ID || list.Total != 1 || list.More {
		t.Errorf("ListTeamsWithContext(query OPER) = %+v, want Operations alone", list)
	}
	page, err := c.ListTeamsWithContext(ctx, pagerduty.ListTeamOptions{Limit: 1})
	if err != nil || len(page.Teams) != 1 || page.Teams[0].Name != "Databases" || !page.More || page.Limit != 1 {
		t.Errorf("ListTeamsWithContext(limit 1) = %+v, %v; want Databases and more", page, err)
	}

	// Members: a role as asked, or manager when none is.
	if err := c.AddUserToTeamWithContext(ctx, pagerduty.AddUserToTeamOptions{TeamID: created.ID, UserID: ada.ID, Role: pagerduty.TeamUserRoleResponder}); err != nil {
		t.Fatalf("AddUserToTeamWithContext(Ada, responder) error = %v", err)
	}
	if err := c.AddUserToTeamWithContext(ctx, pagerduty.AddUserToTeamOptions{TeamID: created.ID, UserID: bob.ID}); err != nil {
		t.Fatalf("AddUserToTeamWithContext(Bob) error = %v", err)
	}
	members, err := c.ListTeamMembersPaginated(ctx, created.ID)
	if err != nil {
		t.Fatalf("ListTeamMembersPaginated() error = %v", err)
	}
	memberRef := func(u cliUser) pagerduty.APIObject {
		return pagerduty.APIObject{ID: u.ID, Type: "user_reference", Summary: u.Name, Self: s.URL + "/users/" + u.ID, HTMLURL: s.URL + "/app/users/" + u.ID}
	}
	wantMembers := []pagerduty.Member{{User: memberRef(ada), Role: "responder"}, {User: memberRef(bob), Role: "manager"}}
	if diff := cmp.Diff(wantMembers, members); diff != "" {
		t.Errorf("ListTeamMembersPaginated() (-want +got):\n%s", diff)
	}
	first, err := c.ListTeamMembers(ctx, created.ID, pagerduty.ListTeamMembersOptions{Limit: 1, Total: true})
	if err != nil || len(first.Members) != 1 || first.Members[0].User.ID != ada.ID || !first.More || first.Total != 2 {
		t.Errorf("ListTeamMembers(limit 1, total) = %+v, %v; want Ada, more, 2 in all", first, err)
	}

	// A member whom a policy of the team targets stays, with PagerDuty's
	// words; once the policy is off the team, they may go.
	policy, err := c.CreateEscalationPolicyWithContext(ctx, pagerduty.EscalationPolicy{
		Name:            "Ops Policy",
		EscalationRules: []pagerduty.EscalationRule{{Delay: 30, Targets: []pagerduty.APIObject{{ID: ada.ID, Type: "user_reference"}}}},
		Teams:           []pagerduty.APIReference{{ID: created.ID, Type: "team_reference"}},
	})
	if err != nil {
		t.Fatalf("CreateEscalationPolicyWithContext() error = %v", err)
	}
	err = c.RemoveUserFromTeamWithContext(ctx, created.ID, ada.ID)
	checkAPIError(t, err, 400, 2001)
	if err == nil || !strings.Contains(err.Error(), memberInTeamPolicy) {
		t.Errorf("RemoveUserFromTeamWithContext() of a target of the team's policy: error %v, want one with %q", err, memberInTeamPolicy)
	}
	if err := c.RemoveUserFromTeamWithContext(ctx, created.ID, bob.ID); err != nil {
		t.Errorf("RemoveUserFromTeamWithContext(Bob) error = %v", err)
	}
	if err := c.RemoveEscalationPolicyFromTeamWithContext(ctx, created.ID, policy.ID); err != nil {
		t.Fatalf("RemoveEscalationPolicyFromTeamWithContext() error = %v", err)
	}
	if err := c.RemoveUserFromTeamWithContext(ctx, created.ID, ada.ID); err != nil {
		t.Errorf("RemoveUserFromTeamWithContext(Ada) once the policy is off the team: %v", err)
	}
	notFound(t, c.RemoveUserFromTeamWithContext(ctx, created.ID, ada.ID))
	if members, err := c.ListTeamMembersPaginated(ctx, created.ID); err != nil || len(members) != 0 {
		t.Errorf("ListTeamMembersPaginated() after the removals = %+v, %v; want none", members, err)
	}
	if err := c.AddEscalationPolicyToTeamWithContext(ctx, created.ID, policy.ID); err != nil {
		t.Errorf("AddEscalationPolicyToTeamWithContext() error = %v", err)
	}

	if err := c.DeleteTeamWithContext(ctx, created.ID); err != nil {
		t.Fatalf("DeleteTeamWithContext() error = %v", err)
	}
	_, err = c.GetTeamWithContext(ctx, created.ID)
	notFound(t, err)
	notFound(t, c.DeleteTeamWithContext(ctx, created.ID))
	// The team's policy stays, on no team.
	p, err := c.GetEscalationPolicyWithContext(ctx, policy.ID, &pagerduty.GetEscalationPolicyOptions{})
	if err != nil || len(p.Teams) != 0 {
		t.Errorf("GetEscalationPolicyWithContext() after its team's deletion = %+v, %v; want the policy, on no team", p, err)
	}
}

// TestClientTeamsWhereRolesAllow: a Manager's token configures teams, a
// Responder's reads them and is refused the rest, as PagerDuty's client
// reports it.
func TestClientTeamsWhereRolesAllow(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := t.Context()
	manager := newClient(t, s, s.userToken(t, s.createUser(t, "manager@example.com", "Manager", "user").Email))
	responder := newClient(t, s, s.userToken(t, s.createUser(t, "responder@example.com", "Responder", "limited_user").Email))

	team, err := manager.CreateTeamWithContext(ctx, &pagerduty.Team{Name: "Ops"})
	if err != nil {
		t.Fatalf("CreateTeamWithContext() with a Manager's token: %v", err)
	}
	if _, err := responder.GetTeamWithContext(ctx, team.ID); err != nil {
		t.Errorf("GetTeamWithContext() with a Responder's token: %v", err)
	}
	_, err = responder.UpdateTeamWithContext(ctx, team.ID, &pagerduty.Team{Name: "Mine"})
	apiErr := checkAPIError(t, err, 403, 2010)
	if !strings.Contains(apiErr.Error(), "Responder (limited_user)") {
		t.Errorf("the refusal says %q, want it to name the role", apiErr.Error())
	}
	checkAPIError(t, responder.DeleteTeamWithContext(ctx, team.ID), 403, 2010)
	if err := manager.DeleteTeamWithContext(ctx, team.ID); err != nil {
		t.Errorf("DeleteTeamWithContext() with a Manager's token: %v", err)
	}
}

func TestClientAuditRecords(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()

	team, err := c.CreateTeamWithContext(ctx, &pagerduty.Team{Name: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTeamWithContext(ctx, team.ID, &pagerduty.Team{Description: "Keeps the lights on"}); err != nil {
		t.Fatal(err)
	}
	ada, err := c.CreateUserWithContext(ctx, pagerduty.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}

	// Page by page, newest first, each record as PagerDuty's client reads
	// it; the key made by the first start is in the trail too.
	var records []pagerduty.AuditRecord
	opts := pagerduty.ListAuditRecordsOptions{Limit: 2}
	for pages := 0; ; pages++ {
		if pages == 10 {
			t.Fatalf("ListAuditRecords() gave 10 pages of %d, and still a next cursor", opts.Limit)
		}
		page, err := c.ListAuditRecords(ctx, opts)
		if err != nil {
			t.Fatalf("ListAuditRecords(cursor %q) error = %v", opts.Cursor, err)
		}
		if len(page.Records) > 2 || page.Limit != 2 {
			t.Errorf("ListAuditRecords(limit 2) gave %d records, limit %d", len(page.Records), page.Limit)
		}
		records = append(records, page.Records...)
		if page.NextCursor == nil {
			break
		}
		opts.Cursor = *page.NextCursor
	}
	type seen struct{ Action, Type, ID string }
	var got []seen
	for _, r := range records {
		got = append(got, seen{r.Action, r.RootResource.Type, r.RootResource.ID})
	}
	wantFirst := []seen{
		{"create", "user_reference", ada.ID},
		{"update", "team_reference", team.ID},
		{"create", "team_reference", team.ID},
	}
	if len(got) < len(wantFirst) || !cmp.Equal(wantFirst, got[:len(wantFirst)]) {
		t.Errorf("ListAuditRecords() newest records = %+v, want %+v first", got, wantFirst)
	}
	if last := got[len(got)-1]; last.Action != "create" || last.Type != "api_key_reference" {
		t.Errorf("ListAuditRecords() oldest record = %+v, want the creation of the first start's key", last)
	}
	update := records[1]
	want := pagerduty.AuditRecord{
		Method:       pagerduty.Method{Type: "api_token", TruncatedToken: s.Key[len(s.Key)-4:]},
		RootResource: pagerduty.APIObject{ID: team.ID, Type: "team_reference", Summary: "Ops", Self: s.URL + "/teams/" + team.ID, HTMLURL: s.URL + "/app/teams/" + team.ID},
		Action:       "update",
		Details: pagerduty.Details{
			Fields: []pagerduty.Field{{Name: "description", Value: "Keeps the lights on"}},
		},
	}
	opt := cmpopts.IgnoreFields(pagerduty.AuditRecord{}, "ID", "Self", "ExecutionTime", "ExecutionContext", "Actors")
	ignoreResource := cmpopts.IgnoreFields(pagerduty.Details{}, "Resource")
	if diff := cmp.Diff(want, update, opt, ignoreResource, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the team's update as ListAuditRecords() gives it (-want +got):\n%s", diff)
	}
	if update.ExecutionContext.RequestID == "" || update.ExecutionTime == "" || len(update.Actors) != 1 {
		t.Errorf("the team's update: execution %+v at %q by %+v, want a request ID, a time and the key", update.ExecutionContext, update.ExecutionTime, update.Actors)
	}

	// Filters: actions[], and since/until.
	updates, err := c.ListAuditRecords(ctx, pagerduty.ListAuditRecordsOptions{Actions: []string{"update"}})
	if err != nil || len(updates.Records) != 1 || updates.Records[0].RootResource.ID != team.ID {
		t.Errorf("ListAuditRecords(actions update) = %+v, %v; want the team's update alone", updates.Records, err)
	}
	before, err := c.ListAuditRecords(ctx, pagerduty.ListAuditRecordsOptions{Since: "2020-01-01T00:00:00Z", Until: "2020-01-02T00:00:00Z"})
	if err != nil || len(before.Records) != 0 || before.NextCursor != nil {
		t.Errorf("ListAuditRecords(a day of 2020) = %+v, %v; want nothing", before, err)
	}

	// The whole account's trail is for Admins, the Owner and general keys.
	manager := newClient(t, s, s.userToken(t, s.createUser(t, "manager@example.com", "Manager", "user").Email))
	_, err = manager.ListAuditRecords(ctx, pagerduty.ListAuditRecordsOptions{})
	checkAPIError(t, err, 403, 2010)
	readOnly := newClient(t, s, s.generalKey(t, "default", "--read-only").Key)
	if _, err := readOnly.ListAuditRecords(ctx, pagerduty.ListAuditRecordsOptions{}); err != nil {
		t.Errorf("ListAuditRecords() with a read-only general key: %v", err)
	}
}
