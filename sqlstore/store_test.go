package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want code %d", code)
	}
	if got := gatehouse.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %d), want code %d", err, got, code)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		s, err := sqlstore.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
		if _, err := s.Accounts(ctx); err != nil {
			t.Fatalf("Accounts after migrating: %v", err)
		}
	})
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		errs := make(chan error, 3)
		for range 3 {
			go func() {
				s, err := sqlstore.Open(ctx, cfg)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				errs <- s.Migrate(ctx)
			}()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("Migrate on one of three nodes: %v", err)
			}
		}
	})
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		if len(acme.ID) != 7 || acme.ID[0] != 'P' || owner.AccountID != acme.ID || owner.ID == "" {
			t.Fatalf("CreateAccount gave account %q and owner %+v", acme.ID, owner)
		}
		storetest.MustCreateAccount(t, s, "beta", gatehouse.PlanLite)

		got, err := s.AccountBySubdomain(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(acme, got); diff != "" {
			t.Errorf("AccountBySubdomain(acme) (-want +got):\n%s", diff)
		}
		_, err = s.AccountBySubdomain(ctx, "nope")
		wantCode(t, err, gatehouse.CodeNotFound)

		list, err := s.Accounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var subdomains []string
		for _, a := range list {
			subdomains = append(subdomains, a.Subdomain)
		}
		if diff := cmp.Diff([]string{"acme", "beta"}, subdomains); diff != "" {
			t.Errorf("Accounts() subdomains (-want +got):\n%s", diff)
		}
	})
}

func TestCreateAccountRejects(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		owner := func() *gatehouse.User {
			return &gatehouse.User{Email: "o@example.com", Name: "O", Role: gatehouse.RoleOwner}
		}
		tests := []struct {
			name    string
			account gatehouse.Account
			owner   *gatehouse.User
			problem string
		}{
			{"taken subdomain", gatehouse.Account{Subdomain: "acme", Name: "A", Plan: "basic"}, owner(), `Subdomain "acme" is already taken`},
			{"unknown plan", gatehouse.Account{Subdomain: "x", Name: "A", Plan: "gold"}, owner(), `Plan "gold" is not one of lite, basic, free, professional, business, enterprise`},
			{"bad subdomain", gatehouse.Account{Subdomain: "Has Space", Name: "A", Plan: "basic"}, owner(), `Subdomain "Has Space" must be 1 to 63 lower-case letters, digits and inner hyphens`},
			{"empty name", gatehouse.Account{Subdomain: "x", Plan: "basic"}, owner(), "Name must not be empty"},
			{"name with NUL", gatehouse.Account{Subdomain: "x", Name: "A\x00", Plan: "basic"}, owner(), "Name must not contain control characters"},
			{"owner not owner", gatehouse.Account{Subdomain: "x", Name: "A", Plan: "basic"}, &gatehouse.User{Email: "o@example.com", Name: "O", Role: gatehouse.RoleAdmin}, `The first user of an account is its owner, not "admin"`},
			{"bad owner email", gatehouse.Account{Subdomain: "x", Name: "A", Plan: "basic"}, &gatehouse.User{Email: "nope", Name: "O", Role: gatehouse.RoleOwner}, `Email "nope" is not a valid address`},
		}
		for _, tt := range tests {
			err := s.CreateAccount(ctx, &tt.account, tt.owner)
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.CodeInvalidInput || !slices.Contains(e.Errors, tt.problem) {
				t.Errorf("%s: CreateAccount error = %v, want code 2001 with %q", tt.name, err, tt.problem)
			}
		}
		list, _ := s.Accounts(ctx)
		if len(list) != 1 {
			t.Errorf("after refused creates, %d accounts, want 1", len(list))
		}
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)

		ada := &gatehouse.User{AccountID: acme.ID, Email: " Ada@Example.COM ", Name: "Ada", Role: gatehouse.RoleAdmin, PasswordHash: "h"}
		if err := s.CreateUser(ctx, ada); err != nil {
			t.Fatal(err)
		}
		if ada.Email != "ada@example.com" || ada.TimeZone != gatehouse.DefaultTimeZone {
			t.Errorf("CreateUser stored email %q, time zone %q", ada.Email, ada.TimeZone)
		}
		got, err := s.UserByEmail(ctx, acme.ID, "ADA@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ada, got); diff != "" {
			t.Errorf("UserByEmail (-want +got):\n%s", diff)
		}
		if _, err := s.UserByID(ctx, acme.ID, ada.ID); err != nil {
			t.Errorf("UserByID: %v", err)
		}
		_, err = s.UserByID(ctx, other.ID, ada.ID)
		wantCode(t, err, gatehouse.CodeNotFound)

		// The same email may exist in another account.
		storetest.MustCreateUser(t, s, other, "ada", gatehouse.RoleUser)
		same := &gatehouse.User{AccountID: other.ID, Email: "ada@example.com", Name: "Ada", Role: gatehouse.RoleUser}
		if err := s.CreateUser(ctx, same); err != nil {
			t.Errorf("CreateUser with an email of another account: %v", err)
		}

		users, err := s.Users(ctx, acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		if diff := cmp.Diff([]string{"ada@example.com", owner.Email}, emails); diff != "" {
			t.Errorf("Users (-want +got):\n%s", diff)
		}

		if err := s.SetUserRole(ctx, acme.ID, ada.ID, gatehouse.RoleObserver); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, acme.ID, ada.ID); got.Role != gatehouse.RoleObserver {
			t.Errorf("after SetUserRole, role = %s", got.Role)
		}
		wantCode(t, s.SetUserRole(ctx, acme.ID, owner.ID, gatehouse.RoleAdmin), gatehouse.CodeInvalidInput)
		wantCode(t, s.DeleteUser(ctx, acme.ID, owner.ID, gatehouse.CLIActor), gatehouse.CodeInvalidInput)
		if err := s.DeleteUser(ctx, acme.ID, ada.ID, gatehouse.UserActor(owner)); err != nil {
			t.Fatal(err)
		}
		_, err = s.UserByID(ctx, acme.ID, ada.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
		wantCode(t, s.DeleteUser(ctx, acme.ID, ada.ID, gatehouse.UserActor(owner)), gatehouse.CodeNotFound)
	})
}

func TestCreateUserRejects(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		business, _ := storetest.MustCreateAccount(t, s, "biz", gatehouse.PlanBusiness)
		basic, _ := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
		storetest.MustCreateUser(t, s, business, "taken", gatehouse.RoleUser)
		tests := []struct {
			name    string
			user    gatehouse.User
			problem string
		}{
			{"duplicate email", gatehouse.User{AccountID: business.ID, Email: "TAKEN@biz.example.com", Name: "T", Role: "user"}, "Email has already been taken"},
			{"malformed email", gatehouse.User{AccountID: business.ID, Email: "not-an-email", Name: "T", Role: "user"}, `Email "not-an-email" is not a valid address`},
			{"name not UTF-8", gatehouse.User{AccountID: business.ID, Email: "x@example.com", Name: "bad\xff", Role: "user"}, "Name must be valid UTF-8"},
			{"email not UTF-8", gatehouse.User{AccountID: business.ID, Email: "b\xffd@example.com", Name: "T", Role: "user"}, `Email "b\xffd@example.com" is not a valid address`},
			{"unknown role", gatehouse.User{AccountID: business.ID, Email: "x@example.com", Name: "T", Role: "superuser"}, `Role "superuser" is not one of owner, admin, user, limited_user, observer, restricted_access, read_only_user, read_only_limited_user`},
			{"owner", gatehouse.User{AccountID: business.ID, Email: "x@example.com", Name: "T", Role: "owner"}, "An account has one owner, created with the account; choose another role"},
			{"observer without advanced permissions", gatehouse.User{AccountID: basic.ID, Email: "x@example.com", Name: "T", Role: "observer"}, `Role "observer" needs the advanced_permissions ability, which plan "basic" does not have`},
			{"stakeholder without read-only users", gatehouse.User{AccountID: basic.ID, Email: "x@example.com", Name: "T", Role: "read_only_user"}, `Role "read_only_user" needs the read_only_users ability, which plan "basic" does not have`},
		}
		for _, tt := range tests {
			err := s.CreateUser(ctx, &tt.user)
			var e *gatehouse.Error
			if !errors.As(err, &e) || e.Code != gatehouse.CodeInvalidInput || !slices.Contains(e.Errors, tt.problem) {
				t.Errorf("%s: CreateUser error = %v, want code 2001 with %q", tt.name, err, tt.problem)
			}
		}
		wantCode(t, s.CreateUser(ctx, &gatehouse.User{AccountID: "PNOPE00", Email: "x@example.com", Name: "X", Role: "user"}), gatehouse.CodeNotFound)
	})
}

func TestAbilities(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBasic)
		last, _ := s.LastChangeID(ctx)
		steps := []struct {
			set       map[string]bool
			abilities []string
			overrides map[string]bool
			audit     string // "" when nothing changes
		}{
			{map[string]bool{gatehouse.AbilityAdvancedPermissions: true, gatehouse.AbilityRESTAPI: false},
				[]string{gatehouse.AbilityAdvancedPermissions},
				map[string]bool{gatehouse.AbilityAdvancedPermissions: true, gatehouse.AbilityRESTAPI: false},
				"abilities (granted advanced_permissions, withdrew rest_api): rest_api → advanced_permissions"},
			// The same again changes nothing.
			{map[string]bool{gatehouse.AbilityRESTAPI: false},
				[]string{gatehouse.AbilityAdvancedPermissions},
				map[string]bool{gatehouse.AbilityAdvancedPermissions: true, gatehouse.AbilityRESTAPI: false},
				""},
			// Granting what the plan presets drops the override.
			{map[string]bool{gatehouse.AbilityRESTAPI: true},
				[]string{gatehouse.AbilityAdvancedPermissions, gatehouse.AbilityRESTAPI},
				map[string]bool{gatehouse.AbilityAdvancedPermissions: true},
				"abilities (rest_api as the plan presets): advanced_permissions → advanced_permissions, rest_api"},
		}
		var wantAudit []string
		for i, step := range steps {
			c.advance(time.Minute)
			got, err := s.SetAbilities(ctx, a.ID, step.set, gatehouse.CLIActor)
			if err != nil {
				t.Fatalf("step %d: SetAbilities: %v", i+1, err)
			}
			stored, _ := s.AccountBySubdomain(ctx, "acme")
			if diff := cmp.Diff(got, stored); diff != "" {
				t.Errorf("step %d: SetAbilities returned another account than it stored (-returned +stored):\n%s", i+1, diff)
			}
			if diff := cmp.Diff(step.abilities, stored.Abilities()); diff != "" {
				t.Errorf("step %d: Abilities() (-want +got):\n%s", i+1, diff)
			}
			if diff := cmp.Diff(step.overrides, stored.AbilityOverrides); diff != "" {
				t.Errorf("step %d: AbilityOverrides (-want +got):\n%s", i+1, diff)
			}
			if step.audit != "" {
				wantAudit = append([]string{step.audit}, wantAudit...)
			}
		}
		records, _, err := s.AuditRecords(ctx, a.ID, sqlstore.AuditQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var gotAudit []string
		for _, r := range records {
			if r.Action != "update" || r.RootResource.Type != "account_reference" || r.RootResource.ID != a.ID || r.Actor != gatehouse.CLIActor || len(r.Fields) != 1 {
				t.Errorf("audit record = %+v, want an update of the account by the CLI", r)
				continue
			}
			f := r.Fields[0]
			gotAudit = append(gotAudit, fmt.Sprintf("%s: %s → %s", f.Name, *f.BeforeValue, *f.Value))
		}
		if diff := cmp.Diff(wantAudit, gotAudit); diff != "" {
			t.Errorf("audit details, newest first (-want +got):\n%s", diff)
		}
		changes, _ := s.ChangesAfter(ctx, last, 10)
		if diff := cmp.Diff([]changeRow{{gatehouse.ChangeAccount, a.ID}, {gatehouse.ChangeAccount, a.ID}}, changeRows(changes)); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}

		_, err = s.SetAbilities(ctx, a.ID, map[string]bool{"flying": true, gatehouse.AbilityTeams: true}, gatehouse.CLIActor)
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Ability "flying" is not one of advanced_permissions, read_only_users, rest_api, teams`)
		_, err = s.SetAbilities(ctx, "PNOPE00", map[string]bool{gatehouse.AbilityTeams: true}, gatehouse.CLIActor)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

func TestSetPlan(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		observer := storetest.MustCreateUser(t, s, a, "eve", gatehouse.RoleObserver)
		if _, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityTeams: false}, gatehouse.UserActor(owner)); err != nil {
			t.Fatal(err)
		}
		last, _ := s.LastChangeID(ctx)
		got, err := s.SetPlan(ctx, a.ID, gatehouse.PlanBasic, gatehouse.UserActor(owner))
		if err != nil {
			t.Fatal(err)
		}
		// The override stays; users keep their roles.
		want := map[string]bool{gatehouse.AbilityTeams: false}
		if got.Plan != gatehouse.PlanBasic || !cmp.Equal(want, got.AbilityOverrides) {
			t.Errorf("SetPlan(basic) = plan %s, overrides %v; want basic, %v", got.Plan, got.AbilityOverrides, want)
		}
		if stored, _ := s.AccountBySubdomain(ctx, "acme"); !cmp.Equal(got, stored) {
			t.Errorf("stored account = %+v, want %+v", stored, got)
		}
		if u, _ := s.UserByID(ctx, a.ID, observer.ID); u.Role != gatehouse.RoleObserver {
			t.Errorf("after the plan change, the observer is %s", u.Role)
		}
		// The same plan again changes nothing.
		if _, err := s.SetPlan(ctx, a.ID, gatehouse.PlanBasic, gatehouse.UserActor(owner)); err != nil {
			t.Fatal(err)
		}
		changes, _ := s.ChangesAfter(ctx, last, 10)
		if diff := cmp.Diff([]changeRow{{gatehouse.ChangeAccount, a.ID}}, changeRows(changes)); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		records, _, _ := s.AuditRecords(ctx, a.ID, sqlstore.AuditQuery{Limit: 1})
		if len(records) != 1 || len(records[0].Fields) != 1 || records[0].Fields[0].Name != "plan" ||
			*records[0].Fields[0].BeforeValue != "business" || *records[0].Fields[0].Value != "basic" || records[0].Actor != gatehouse.UserActor(owner) {
			t.Errorf("last audit record = %+v, want the plan change by the owner", records)
		}

		_, err = s.SetPlan(ctx, a.ID, "gold", gatehouse.CLIActor)
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Plan "gold" is not one of lite, basic, free, professional, business, enterprise`)
		_, err = s.SetPlan(ctx, "PNOPE00", gatehouse.PlanLite, gatehouse.CLIActor)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		if has, err := s.HasAccounts(ctx); err != nil || has {
			t.Fatalf("HasAccounts() on an empty store = %v, %v, want false, nil", has, err)
		}
		for i, want := range []bool{true, false} {
			a := &gatehouse.Account{Subdomain: "default", Name: "Default", Plan: gatehouse.PlanBusiness}
			owner := &gatehouse.User{Email: "owner@example.com", Name: "Owner", Role: gatehouse.RoleOwner}
			created, err := s.Bootstrap(ctx, a, owner, nil)
			if err != nil || created != want {
				t.Fatalf("Bootstrap #%d = %v, %v, want %v, nil", i+1, created, err, want)
			}
		}
		list, _ := s.Accounts(ctx)
		if len(list) != 1 {
			t.Errorf("after two bootstraps, %d accounts, want 1", len(list))
		}
		if has, err := s.HasAccounts(ctx); err != nil || !has {
			t.Errorf("HasAccounts() after a bootstrap = %v, %v, want true, nil", has, err)
		}
	})
}

func TestChangeFeed(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		// Changes are stamped by the database's clock, not the node's.
		s.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
		before := time.Now().Add(-time.Second)
		last, err := s.LastChangeID(ctx)
		if err != nil || last != 0 {
			t.Fatalf("LastChangeID on an empty store = %d, %v", last, err)
		}
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		u := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
		if err := s.SetUserRole(ctx, a.ID, u.ID, gatehouse.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		// A refused change records nothing.
		_ = s.SetUserRole(ctx, a.ID, u.ID, "nope")

		told := recordChanges(s)
		if err := s.SetUserRole(ctx, a.ID, u.ID, gatehouse.RoleUser); err != nil {
			t.Fatal(err)
		}
		after := time.Now().Add(time.Second)

		changes, err := s.ChangesAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := told(); len(got) != 1 || len(changes) != 4 || got[0] != changes[3] {
			t.Errorf("told of %+v; want the last change read, %+v", got, changes[len(changes)-1])
		}
		changes = changes[:3]
		type row struct {
			Kind    gatehouse.ChangeKind
			Subject string
		}
		var got []row
		for i, c := range changes {
			got = append(got, row{c.Kind, c.SubjectID})
			if c.AccountID != a.ID || c.At.Before(before) || c.At.After(after) || c.Hash != [32]byte{} || (i > 0 && c.ID <= changes[i-1].ID) {
				t.Errorf("change %d = %+v", i, c)
			}
		}
		want := []row{{gatehouse.ChangeAccount, a.ID}, {gatehouse.ChangeUser, u.ID}, {gatehouse.ChangeUser, u.ID}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ChangesAfter(0) (-want +got):\n%s", diff)
		}
		rest, err := s.ChangesAfter(ctx, changes[0].ID, 1)
		if err != nil || len(rest) != 1 || rest[0].ID != changes[1].ID {
			t.Errorf("ChangesAfter(first, limit 1) = %+v, %v", rest, err)
		}
		last, _ = s.LastChangeID(ctx)
		if last != changes[2].ID+1 {
			t.Errorf("LastChangeID = %d, want %d", last, changes[2].ID+1)
		}
	})
}

// recordChanges returns what s tells its listeners of the changes it
// commits from now on.
func recordChanges(s *sqlstore.Store) func() []gatehouse.Change {
	var (
		mu   sync.Mutex
		told []gatehouse.Change
	)
	s.OnChange(func(c gatehouse.Change) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, c)
	})
	return func() []gatehouse.Change {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(told)
	}
}

func TestPruneChanges(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		time.Sleep(20 * time.Millisecond)
		u := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
		changes, _ := s.ChangesAfter(ctx, 0, 10)
		if len(changes) != 2 {
			t.Fatalf("changes = %+v, want the account's and the user's", changes)
		}
		if n, err := s.PruneChanges(ctx, time.Hour); err != nil || n != 0 {
			t.Errorf("PruneChanges(1h) = %d, %v, want 0", n, err)
		}
		oldest, now, err := s.OldestChange(ctx)
		if err != nil || oldest != changes[0].ID || now.Before(changes[1].At) || time.Since(now).Abs() > time.Minute {
			t.Errorf("OldestChange = %d, %v, %v; want %d and the database's time", oldest, now, err, changes[0].ID)
		}
		// Pruning what is older than the user's change leaves only it.
		n, err := s.PruneChanges(ctx, time.Since(changes[1].At)+5*time.Millisecond)
		if err != nil || n != 1 {
			t.Fatalf("PruneChanges = %d, %v, want 1 (the account's change)", n, err)
		}
		changes, _ = s.ChangesAfter(ctx, 0, 10)
		if len(changes) != 1 || changes[0].SubjectID != u.ID {
			t.Errorf("after pruning, changes = %+v, want only the user's", changes)
		}
		if last, _ := s.LastChangeID(ctx); last != changes[0].ID {
			t.Errorf("LastChangeID = %d, want %d", last, changes[0].ID)
		}
		if oldest, _, _ := s.OldestChange(ctx); oldest != changes[0].ID {
			t.Errorf("OldestChange = %d, want %d", oldest, changes[0].ID)
		}
		if n, err := s.PruneChanges(ctx, 0); err != nil || n != 1 {
			t.Fatalf("PruneChanges(0) = %d, %v, want 1", n, err)
		}
		if oldest, _, err := s.OldestChange(ctx); oldest != 0 || err != nil {
			t.Errorf("OldestChange of an empty feed = %d, %v, want 0", oldest, err)
		}
	})
}

// TestPruneChangesByDatabaseTime: the feed is pruned by the database's
// clock, so a node whose clock runs days ahead prunes nothing another node
// recorded a moment ago, and a node whose clock runs days behind does not
// have its changes pruned at once.
func TestPruneChangesByDatabaseTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		behind := storetest.Open(t, cfg)
		behind.Now = func() time.Time { return time.Now().Add(-72 * time.Hour) }
		ahead := storetest.Open(t, cfg)
		ahead.Now = func() time.Time { return time.Now().Add(72 * time.Hour) }
		a, _ := storetest.MustCreateAccount(t, behind, "acme", gatehouse.PlanBusiness)
		storetest.MustCreateUser(t, ahead, a, "ada", gatehouse.RoleUser)
		for _, s := range []*sqlstore.Store{ahead, behind} {
			if n, err := s.PruneChanges(ctx, 24*time.Hour); err != nil || n != 0 {
				t.Errorf("PruneChanges(24h) = %d, %v; want nothing pruned", n, err)
			}
		}
		if changes, _ := ahead.ChangesAfter(ctx, 0, 10); len(changes) != 2 {
			t.Errorf("changes = %+v, want both", changes)
		}
	})
}

// TestBootstrapConcurrently: several nodes starting at once on an empty
// database create one account between them.
func TestBootstrapConcurrently(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		nodes := []*sqlstore.Store{storetest.Open(t, cfg), storetest.Open(t, cfg), storetest.Open(t, cfg)}
		created := make(chan bool, len(nodes))
		for _, s := range nodes {
			go func() {
				a := &gatehouse.Account{Subdomain: "default", Name: "Default", Plan: gatehouse.PlanBusiness}
				owner := &gatehouse.User{Email: "owner@example.com", Name: "Owner", Role: gatehouse.RoleOwner}
				ok, err := s.Bootstrap(ctx, a, owner, nil)
				if err != nil {
					t.Errorf("Bootstrap: %v", err)
				}
				created <- ok
			}()
		}
		n := 0
		for range nodes {
			if <-created {
				n++
			}
		}
		accounts, _ := nodes[0].Accounts(ctx)
		if n != 1 || len(accounts) != 1 {
			t.Errorf("%d nodes created the account; %d accounts; want 1 and 1", n, len(accounts))
		}
	})
}
