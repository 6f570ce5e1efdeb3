package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func userNames(l sqlstore.List[*gatehouse.User]) []string {
	var names []string
	for _, u := range l.Items {
		names = append(names, u.Name)
	}
	return names
}

func mustUser(t *testing.T, sc *sqlstore.Scope, id string) *gatehouse.User {
	t.Helper()
	u, err := sc.User(context.Background(), id)
	if err != nil {
		t.Fatalf("User(%s): %v", id, err)
	}
	return u
}

func TestCreateUserMakesContactRuleAndLicense(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := asUser(s, acme, owner)
		at := c.advance(time.Minute)
		u := &gatehouse.User{Email: " Ada@Example.COM ", Name: "  Ada Lovelace ", Role: gatehouse.RoleLimitedUser, JobTitle: "Analyst", Description: "Counts\nthings"}
		if err := sc.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		want := &gatehouse.User{ID: u.ID, AccountID: acme.ID, Email: "ada@example.com", Name: "Ada Lovelace", Role: gatehouse.RoleLimitedUser,
			TimeZone: gatehouse.DefaultTimeZone, Color: gatehouse.DefaultColor("ada@example.com"), JobTitle: "Analyst", Description: "Counts\nthings",
			CreatedAt: at, LicenseAllocatedAt: at}
		if diff := cmp.Diff(want, mustUser(t, sc, u.ID)); diff != "" {
			t.Errorf("User after CreateUser (-want +got):\n%s", diff)
		}

		// The account's owner and a user made at the command line get the
		// same as one made through a Scope.
		cli := storetest.MustCreateUser(t, s, acme, "cli", gatehouse.RoleUser)
		for _, who := range []*gatehouse.User{u, owner, cli} {
			methods, err := sc.ContactMethods(ctx, who.ID)
			if err != nil {
				t.Fatal(err)
			}
			email := who.Email
			if who == u {
				email = "ada@example.com"
			}
			if len(methods) != 1 || methods[0].Type != gatehouse.ContactEmail || methods[0].Label != "Default" || methods[0].Address != email {
				t.Fatalf("contact methods of %s = %+v, want one email method for %s labelled Default", who.Name, methods, email)
			}
			rules, err := sc.NotificationRules(ctx, who.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rules) != 1 || rules[0].ContactMethodID != methods[0].ID || rules[0].Urgency != "high" || rules[0].StartDelayInMinutes != 0 {
				t.Errorf("notification rules of %s = %+v, want one high-urgency rule at once through %s", who.Name, rules, methods[0].ID)
			}
			if got := mustUser(t, sc, who.ID); got.LicenseAllocatedAt.IsZero() || !got.LicenseAllocatedAt.Equal(got.CreatedAt) {
				t.Errorf("license of %s allocated at %v, want at creation %v", who.Name, got.LicenseAllocatedAt, got.CreatedAt)
			}
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "user_reference", RootID: u.ID})
		if err != nil || len(records) != 1 || records[0].Action != "create" || records[0].Actor != gatehouse.UserActor(owner) {
			t.Fatalf("audit of CreateUser = %+v, %v", records, err)
		}
		var names []string
		for _, f := range records[0].Fields {
			names = append(names, f.Name)
		}
		if diff := cmp.Diff([]string{"name", "email", "role", "time_zone", "color", "description", "job_title"}, names); diff != "" {
			t.Errorf("audited fields of CreateUser (-want +got):\n%s", diff)
		}
	})
}

func TestCreateUserRules(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		business, owner := storetest.MustCreateAccount(t, s, "biz", gatehouse.PlanBusiness)
		free, freeOwner := storetest.MustCreateAccount(t, s, "free", gatehouse.PlanFree)
		admin := storetest.MustCreateUser(t, s, business, "admin", gatehouse.RoleAdmin)
		manager := storetest.MustCreateUser(t, s, business, "manager", gatehouse.RoleUser)
		user := func(email, role string) *gatehouse.User {
			return &gatehouse.User{Email: email, Name: "New", Role: gatehouse.Role(role)}
		}
		tests := []struct {
			name    string
			sc      *sqlstore.Scope
			user    *gatehouse.User
			code    int
			problem string
		}{
			{"taken email, other case", asUser(s, business, admin), user("MANAGER@biz.example.com", "user"), 2001, "Email has already been taken"},
			{"owner role", asUser(s, business, owner), user("x@example.com", "owner"), 2001, "An account has one owner, created with the account; choose another role"},
			{"observer on a plan without advanced permissions", asUser(s, free, freeOwner), user("x@example.com", "observer"), 2001,
				`Role "observer" needs the advanced_permissions ability, which plan "free" does not have`},
			{"unknown time zone", asUser(s, business, admin), &gatehouse.User{Email: "x@example.com", Name: "X", Role: "user", TimeZone: "Mars/Olympus"}, 2001,
				`Time zone "Mars/Olympus" is not a time zone such as "Europe/Paris"`},
			{"the machine's time zone", asUser(s, business, admin), &gatehouse.User{Email: "x@example.com", Name: "X", Role: "user", TimeZone: "Local"}, 2001,
				`Time zone "Local" is not a time zone such as "Europe/Paris"`},
			{"long name", asUser(s, business, admin), &gatehouse.User{Email: "x@example.com", Name: strings.Repeat("n", 101), Role: "user"}, 2001, "Name must be at most 100 characters"},
			{"long job title", asUser(s, business, admin), &gatehouse.User{Email: "x@example.com", Name: "X", Role: "user", JobTitle: strings.Repeat("j", 101)}, 2001,
				"Job title must be at most 100 characters"},
			{"long email", asUser(s, business, admin), user(strings.Repeat("e", 90)+"@example.com", "user"), 2001, "Email must be at most 100 characters"},
			{"a manager", asUser(s, business, manager), user("x@example.com", "user"), 2010, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.sc.CreateUser(ctx, tt.user)
				if tt.problem == "" {
					wantCode(t, err, tt.code)
					return
				}
				wantProblem(t, err, tt.code, tt.problem)
			})
		}
		l, err := asUser(s, business, owner).Users(ctx, sqlstore.UserQuery{Page: sqlstore.Page{Limit: 100}})
		if err != nil || len(l.Items) != 3 {
			t.Errorf("after refused creates, %d users, %v; want 3", len(l.Items), err)
		}
	})
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		storetest.MustCreateUser(t, s, other, "Zed", gatehouse.RoleUser)
		sc := asUser(s, acme, owner)
		for _, name := range []string{"ada", "Bob", "Édith", "éva"} {
			storetest.MustCreateUser(t, s, acme, name, gatehouse.RoleUser)
		}
		ops := &gatehouse.Team{Name: "Ops"}
		if err := sc.CreateTeam(ctx, ops); err != nil {
			t.Fatal(err)
		}
		bob, err := sc.UserByEmail(ctx, "BOB@acme.example.com")
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustAddTeamMember(t, s, ops, bob, "responder")

		list := func(q sqlstore.UserQuery) sqlstore.List[*gatehouse.User] {
			t.Helper()
			if q.Page.Limit == 0 {
				q.Page.Limit = 25
			}
			l, err := sc.Users(ctx, q)
			if err != nil {
				t.Fatalf("Users(%+v): %v", q, err)
			}
			return l
		}
		for _, tt := range []struct {
			q    sqlstore.UserQuery
			want []string
		}{
			{sqlstore.UserQuery{}, []string{"Bob", "Owner", "ada", "Édith", "éva"}},
			{sqlstore.UserQuery{Query: "B"}, []string{"Bob"}},
			// The query matches emails too, and folds only ASCII letters.
			{sqlstore.UserQuery{Query: "ACME.EXAMPLE"}, []string{"Bob", "Owner", "ada", "Édith", "éva"}},
			{sqlstore.UserQuery{Query: "éd"}, []string{"Édith"}},
			{sqlstore.UserQuery{Query: "%"}, nil},
			{sqlstore.UserQuery{TeamIDs: []string{ops.ID}}, []string{"Bob"}},
			{sqlstore.UserQuery{TeamIDs: []string{"PNOPE00"}}, nil},
		} {
			if diff := cmp.Diff(tt.want, userNames(list(tt.q))); diff != "" {
				t.Errorf("Users(%+v) (-want +got):\n%s", tt.q, diff)
			}
		}
		page := list(sqlstore.UserQuery{Page: sqlstore.Page{Limit: 2, Offset: 1, Total: true}})
		if diff := cmp.Diff([]string{"Owner", "ada"}, userNames(page)); diff != "" || !page.More || page.Total != 5 {
			t.Errorf("Users(limit 2, offset 1) = %v, more %t, total %d; want Owner, ada, more, total 5", userNames(page), page.More, page.Total)
		}

		rel, err := sc.UserRelations(ctx, []string{bob.ID, owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(rel.ContactMethods[bob.ID]) != 1 || len(rel.NotificationRules[owner.ID]) != 1 ||
			len(rel.Teams[bob.ID]) != 1 || rel.Teams[bob.ID][0].Name != "Ops" || len(rel.Teams[owner.ID]) != 0 {
			t.Errorf("UserRelations = %+v", rel)
		}

		counts, err := sc.UserRoleCounts(ctx)
		if err != nil || !cmp.Equal(counts, map[gatehouse.Role]int{gatehouse.RoleOwner: 1, gatehouse.RoleUser: 4}) {
			t.Errorf("UserRoleCounts = %v, %v", counts, err)
		}

		_, err = s.Scope(other.ID, sqlstore.CLI(other)).User(ctx, bob.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

func TestUsersSeenByRestrictedAccess(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ops := &gatehouse.Team{Name: "Ops"}
		if err := s.Scope(acme.ID, sqlstore.CLI(acme)).CreateTeam(ctx, ops); err != nil {
			t.Fatal(err)
		}
		rita := storetest.MustCreateUser(t, s, acme, "rita", gatehouse.RoleRestrictedAccess)
		tom := storetest.MustCreateUser(t, s, acme, "tom", gatehouse.RoleUser)
		stranger := storetest.MustCreateUser(t, s, acme, "stranger", gatehouse.RoleUser)
		storetest.MustAddTeamMember(t, s, ops, rita, "responder")
		storetest.MustAddTeamMember(t, s, ops, tom, "manager")
		sc := asUser(s, acme, rita)
		l, err := sc.Users(ctx, sqlstore.UserQuery{Page: sqlstore.Page{Limit: 25}})
		if err != nil || !cmp.Equal(userNames(l), []string{"rita", "tom"}) {
			t.Errorf("Users seen by Restricted Access = %v, %v; want herself and her team", userNames(l), err)
		}
		_, err = sc.User(ctx, stranger.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = sc.ContactMethods(ctx, stranger.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		admin := storetest.MustCreateUser(t, s, acme, "admin", gatehouse.RoleAdmin)
		manager := storetest.MustCreateUser(t, s, acme, "manager", gatehouse.RoleUser)
		responder := storetest.MustCreateUser(t, s, acme, "responder", gatehouse.RoleLimitedUser)
		created := mustUser(t, s.Scope(acme.ID, sqlstore.CLI(acme)), manager.ID)

		// A user changes their own profile, and nothing else.
		c.advance(time.Minute)
		got, err := asUser(s, acme, manager).UpdateUser(ctx, manager.ID, func(u *gatehouse.User) {
			u.Name, u.TimeZone, u.JobTitle, u.Color = " Manny ", "Europe/Paris", "Lead", ""
			u.ID, u.PasswordHash = "PSTOLEN", "stolen"
		})
		if err != nil {
			t.Fatal(err)
		}
		want := *created
		want.Name, want.TimeZone, want.JobTitle = "Manny", "Europe/Paris", "Lead"
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateUser (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(&want, mustUser(t, asUser(s, acme, owner), manager.ID)); diff != "" {
			t.Errorf("User after UpdateUser (-want +got):\n%s", diff)
		}

		role := func(r gatehouse.Role) func(*gatehouse.User) { return func(u *gatehouse.User) { u.Role = r } }
		for _, tt := range []struct {
			name    string
			sc      *sqlstore.Scope
			id      string
			change  func(*gatehouse.User)
			code    int
			problem string
		}{
			{"own role", asUser(s, acme, manager), manager.ID, role(gatehouse.RoleAdmin), 2010, ""},
			{"another's profile", asUser(s, acme, manager), responder.ID, func(u *gatehouse.User) { u.Name = "x" }, 2010, ""},
			{"admin on the owner", asUser(s, acme, admin), owner.ID, func(u *gatehouse.User) { u.Name = "x" }, 2010, ""},
			{"admin's own role", asUser(s, acme, admin), admin.ID, role(gatehouse.RoleUser), 2010, "You cannot change your own role; another Admin or the Account Owner can"},
			{"owner's role", s.Scope(acme.ID, sqlstore.CLI(acme)), owner.ID, role(gatehouse.RoleAdmin), 2001, "The account owner's role cannot be given or taken"},
			{"making an owner", asUser(s, acme, owner), admin.ID, role(gatehouse.RoleOwner), 2001, "The account owner's role cannot be given or taken"},
			{"taken email", asUser(s, acme, responder), responder.ID, func(u *gatehouse.User) { u.Email = "Admin@acme.example.com" }, 2001, "Email has already been taken"},
			{"empty name", asUser(s, acme, responder), responder.ID, func(u *gatehouse.User) { u.Name = " " }, 2001, "Name must not be empty"},
			{"unknown user", asUser(s, acme, owner), "PNOPE00", role(gatehouse.RoleAdmin), 2100, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.sc.UpdateUser(ctx, tt.id, tt.change)
				if tt.problem == "" {
					wantCode(t, err, tt.code)
					return
				}
				wantProblem(t, err, tt.code, tt.problem)
			})
		}

		// A change of role allocates the license anew; a change of profile
		// does not.
		at := c.advance(time.Hour)
		got, err = asUser(s, acme, admin).UpdateUser(ctx, responder.ID, role(gatehouse.RoleReadOnlyUser))
		if err != nil || got.Role != gatehouse.RoleReadOnlyUser || !got.LicenseAllocatedAt.Equal(at) {
			t.Fatalf("UpdateUser(role) = %+v, %v; want the role and a license allocated at %v", got, err, at)
		}
		c.advance(time.Hour)
		got, err = asUser(s, acme, admin).UpdateUser(ctx, responder.ID, func(u *gatehouse.User) { u.Description = "bio" })
		if err != nil || !got.LicenseAllocatedAt.Equal(at) {
			t.Errorf("UpdateUser(description) = %+v, %v; want the license kept", got, err)
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootType: "user_reference", RootID: manager.ID})
		if err != nil || len(records) != 2 {
			t.Fatalf("audit records of the manager = %+v, %v", records, err)
		}
		str := func(s string) *string { return &s }
		wantFields := []gatehouse.AuditField{
			{Name: "name", Value: str("Manny"), BeforeValue: str("manager")},
			{Name: "time_zone", Value: str("Europe/Paris"), BeforeValue: str("Etc/UTC")},
			{Name: "job_title", Value: str("Lead"), BeforeValue: str("")},
		}
		if diff := cmp.Diff(wantFields, records[0].Fields); diff != "" {
			t.Errorf("audited fields of the update (-want +got):\n%s", diff)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		admin := storetest.MustCreateUser(t, s, acme, "admin", gatehouse.RoleAdmin)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		sc := asUser(s, acme, admin)
		ops := &gatehouse.Team{Name: "Ops"}
		if err := sc.CreateTeam(ctx, ops); err != nil {
			t.Fatal(err)
		}
		storetest.MustAddTeamMember(t, s, ops, ada, "manager")
		token := mustCreateKey(t, s, userToken(ada, "u+adatoken0000001111", "laptop"))
		if err := sc.CreateContactMethod(ctx, ada.ID, &gatehouse.ContactMethod{Type: gatehouse.ContactSMS, Label: "Mobile", Address: "5550100", CountryCode: 1}); err != nil {
			t.Fatal(err)
		}

		// Policy "Primary": ada is the only target of its second rule.
		// Policy "Backup": ada shares its rule with bob.
		exec := func(q string, args ...any) {
			t.Helper()
			if err := s.ExecForTest(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		policy := func(id, name string, rules ...[]string) {
			exec("INSERT INTO escalation_policies (id, account_id, name, created_at) VALUES (?, ?, ?, 0)", id, acme.ID, name)
			for i, targets := range rules {
				ruleID := id[:5] + "R" + string(rune('0'+i))
				exec("INSERT INTO escalation_rules (id, account_id, policy_id, position, escalation_delay_in_minutes) VALUES (?, ?, ?, ?, 30)", ruleID, acme.ID, id, i)
				for j, userID := range targets {
					exec("INSERT INTO escalation_rule_targets (rule_id, position, target_type, user_id) VALUES (?, ?, 'user_reference', ?)", ruleID, j, userID)
				}
			}
		}
		policy("PPRIM00", "Primary", []string{bob.ID, ada.ID}, []string{ada.ID})
		policy("PBACK00", "Backup", []string{ada.ID, bob.ID})

		wantProblem(t, sc.DeleteUser(ctx, ada.ID), gatehouse.CodeInvalidInput,
			`ada cannot be removed: they are the only target of rule 2 of escalation policy "Primary" (PPRIM00); give that rule another target or delete the policy first`)
		if _, err := s.CredentialByHash(ctx, token.Hash); err != nil {
			t.Errorf("after a refused DeleteUser, the token: %v", err)
		}
		wantCode(t, asUser(s, acme, bob).DeleteUser(ctx, ada.ID), gatehouse.CodeForbidden)
		wantCode(t, s.Scope(other.ID, sqlstore.CLI(other)).DeleteUser(ctx, ada.ID), gatehouse.CodeNotFound)
		wantProblem(t, asUser(s, acme, owner).DeleteUser(ctx, owner.ID), gatehouse.CodeInvalidInput, "The account owner cannot be removed")

		exec("DELETE FROM escalation_rule_targets WHERE rule_id = 'PPRIMR1'")
		exec("INSERT INTO escalation_rule_targets (rule_id, position, target_type, user_id) VALUES ('PPRIMR1', 0, 'user_reference', ?), ('PPRIMR1', 1, 'user_reference', ?)", ada.ID, ada.ID)
		wantProblem(t, sc.DeleteUser(ctx, ada.ID), gatehouse.CodeInvalidInput,
			`ada cannot be removed: they are the only target of rule 2 of escalation policy "Primary" (PPRIM00); give that rule another target or delete the policy first`)
		exec("INSERT INTO escalation_rule_targets (rule_id, position, target_type, user_id) VALUES ('PPRIMR1', 2, 'user_reference', ?)", bob.ID)

		last, _ := s.LastChangeID(ctx)
		if err := sc.DeleteUser(ctx, ada.ID); err != nil {
			t.Fatal(err)
		}
		_, err := sc.User(ctx, ada.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		_, err = s.CredentialByHash(ctx, token.Hash)
		wantCode(t, err, gatehouse.CodeNotFound)
		members, err := sc.TeamMembers(ctx, ops.ID, sqlstore.Page{Limit: 25})
		if err != nil || len(members.Items) != 0 {
			t.Errorf("team members after DeleteUser = %+v, %v", members.Items, err)
		}
		rel, err := sc.UserRelations(ctx, []string{ada.ID})
		if err != nil || len(rel.ContactMethods) != 0 || len(rel.NotificationRules) != 0 || len(rel.Teams) != 0 {
			t.Errorf("what is left of ada = %+v, %v", rel, err)
		}

		changes, err := s.ChangesAfter(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		wantChanges := []changeRow{
			{gatehouse.ChangePolicy, "PBACK00"}, {gatehouse.ChangePolicy, "PPRIM00"},
			{gatehouse.ChangeKey, token.ID}, {gatehouse.ChangeTeam, ops.ID}, {gatehouse.ChangeUser, ada.ID},
		}
		if diff := cmp.Diff(wantChanges, changeRows(changes)); diff != "" {
			t.Errorf("changes of DeleteUser (-want +got):\n%s", diff)
		}
		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: []string{"escalation_policy_reference", "team_reference", "user_reference"}, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		type entry struct{ Action, Root, Ref string }
		var got []entry
		for _, r := range records {
			e := entry{r.Action, r.RootResource.ID, ""}
			if len(r.References) > 0 {
				e.Ref = r.References[0].Name + " -" + r.References[0].Removed[0].ID
			}
			got = append(got, e)
		}
		want := []entry{{"delete", ada.ID, ""}, {"update", ops.ID, "members -" + ada.ID},
			{"update", "PPRIM00", "escalation_rules.targets -" + ada.ID}, {"update", "PBACK00", "escalation_rules.targets -" + ada.ID}}
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b entry) bool { return a.Root < b.Root })); diff != "" {
			t.Errorf("audit records of DeleteUser (-want +got):\n%s", diff)
		}

		// The rules ada shared keep their other targets: bob, now the only
		// target of each, in both policies.
		err = sc.DeleteUser(ctx, bob.ID)
		for _, rule := range []string{`rule 1 of escalation policy "Backup" (PBACK00)`, `rule 1 of escalation policy "Primary" (PPRIM00)`, `rule 2 of escalation policy "Primary" (PPRIM00)`} {
			wantProblem(t, err, gatehouse.CodeInvalidInput,
				"bob cannot be removed: they are the only target of "+rule+"; give that rule another target or delete the policy first")
		}
	})
}

// TestCreateUserRace: writers racing for one email get one user and, each
// of the others, PagerDuty's words; alike on both engines.
func TestCreateUserRace(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		const writers = 8
		errs := make(chan error, writers)
		for range writers {
			go func() {
				errs <- asUser(s, acme, owner).CreateUser(ctx, &gatehouse.User{Email: "twin@example.com", Name: "Twin", Role: gatehouse.RoleUser})
			}()
		}
		created := 0
		for range writers {
			err := <-errs
			if err == nil {
				created++
				continue
			}
			wantProblem(t, err, gatehouse.CodeInvalidInput, "Email has already been taken")
		}
		if created != 1 {
			t.Errorf("%d of %d racing writers created the user, want 1", created, writers)
		}
		twin, err := asUser(s, acme, owner).UserByEmail(ctx, "twin@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if methods, err := asUser(s, acme, owner).ContactMethods(ctx, twin.ID); err != nil || len(methods) != 1 {
			t.Errorf("contact methods of the one created = %d, %v; want 1", len(methods), err)
		}
	})
}
