package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// race runs each of fns at once, as closely together as goroutines allow,
// and returns their errors in order.
func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentAbilityChanges: two ability changes of one account made at
// the same time both stay, on PostgreSQL as on SQLite's single writer.
func TestConcurrentAbilityChanges(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		const runs = 30
		lost := 0
		for run := range runs {
			a, _ := storetest.MustCreateAccount(t, s, fmt.Sprintf("acme%d", run), gatehouse.PlanBasic)
			errs := race(
				func() error {
					_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityTeams: true}, gatehouse.CLIActor)
					return err
				},
				func() error {
					_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityAdvancedPermissions: true}, gatehouse.CLIActor)
					return err
				},
			)
			for _, err := range errs {
				if err != nil {
					t.Fatalf("run %d: SetAbilities: %v", run, err)
				}
			}
			got, err := s.AccountBySubdomain(ctx, a.Subdomain)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{gatehouse.AbilityAdvancedPermissions, gatehouse.AbilityRESTAPI, gatehouse.AbilityTeams}
			if !slices.Equal(got.Abilities(), want) {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("%d of %d runs lost one of two concurrent ability changes", lost, runs)
		}
	})
}

// TestCreateTokenWhileUserDeleted: a user token made while its user is
// removed is either refused as the user's absence (404) or made and then
// deleted with its user, with an audit record of each: never an internal
// error, never a token gone without a trace.
func TestCreateTokenWhileUserDeleted(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		const runs = 60
		var internal, untraced, refused int
		var firstInternal error
		for run := range runs {
			a, owner := storetest.MustCreateAccount(t, s, fmt.Sprintf("acme%d", run), gatehouse.PlanBusiness)
			ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
			key := fmt.Sprintf("u+racetoken%09d", run)
			token := &gatehouse.APIKey{
				AccountID: a.ID, Kind: gatehouse.KeyUserToken, UserID: ada.ID, Description: "laptop",
				Hash: sha256.Sum256([]byte(key)), Last4: key[16:], CreatedBy: gatehouse.UserActor(ada),
			}
			errs := race(
				func() error { return s.CreateKey(ctx, token) },
				func() error { return s.DeleteUser(ctx, a.ID, ada.ID, gatehouse.UserActor(owner)) },
			)
			if errs[1] != nil {
				t.Fatalf("run %d: DeleteUser: %v", run, errs[1])
			}
			switch code := gatehouse.ErrorCode(errs[0]); {
			case errs[0] == nil:
			case code == gatehouse.CodeNotFound:
				refused++
				continue
			default:
				internal++
				if firstInternal == nil {
					firstInternal = errs[0]
				}
				continue
			}
			records, _, err := s.AuditRecords(ctx, a.ID, sqlstore.AuditQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range records {
				if r.RootResource.ID == token.ID {
					actions = append(actions, r.Action)
				}
			}
			if !slices.Equal(actions, []string{"delete", "create"}) {
				untraced++
			}
		}
		if internal > 0 {
			t.Errorf("%d of %d runs: CreateKey failed with an error that is not a 404, first %v", internal, runs, firstInternal)
		}
		if untraced > 0 {
			t.Errorf("%d of %d runs: a token was made, then gone without an audit record of its deletion", untraced, runs)
		}
		t.Logf("%d of %d runs refused the token with a 404; %d transactions retried", refused, runs, s.Stats().Retries)
	})
}

// TestConcurrentSameEmail: two users made at once with one email in one
// account: one is made, the other refused with a 2001 error that names the
// email, never a driver's error.
func TestConcurrentSameEmail(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		for run := range 30 {
			email := fmt.Sprintf("ada%d@example.com", run)
			user := func() error {
				return s.CreateUser(ctx, &gatehouse.User{AccountID: a.ID, Email: email, Name: "Ada", Role: gatehouse.RoleUser})
			}
			errs := race(user, user)
			var made int
			for _, err := range errs {
				switch {
				case err == nil:
					made++
				default:
					wantProblem(t, err, gatehouse.CodeInvalidInput, "Email has already been taken")
				}
			}
			if made != 1 {
				t.Fatalf("run %d: %d of two users with one email made (%v), want 1", run, made, errs)
			}
		}
	})
}
