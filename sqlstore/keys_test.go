package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// clock is a fake clock for a store; tests move it by hand.
type clock struct{ now time.Time }

func setClock(s *sqlstore.Store) *clock {
	c := &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)}
	s.Now = func() time.Time { return c.now }
	return c
}

func (c *clock) advance(d time.Duration) time.Time {
	c.now = c.now.Add(d)
	return c.now
}

// generalKey returns a general key of a made from the 20-character key.
func generalKey(a *gatehouse.Account, key, description string, by gatehouse.Actor) *gatehouse.APIKey {
	return &gatehouse.APIKey{
		AccountID:   a.ID,
		Kind:        gatehouse.KeyGeneral,
		Description: description,
		Hash:        sha256.Sum256([]byte(key)),
		Last4:       key[len(key)-4:],
		CreatedBy:   by,
	}
}

// userToken returns a token of u made from the 20-character key.
func userToken(u *gatehouse.User, key, description string) *gatehouse.APIKey {
	return &gatehouse.APIKey{
		AccountID:   u.AccountID,
		Kind:        gatehouse.KeyUserToken,
		UserID:      u.ID,
		Description: description,
		Hash:        sha256.Sum256([]byte(key)),
		Last4:       key[len(key)-4:],
		CreatedBy:   gatehouse.UserActor(u),
	}
}

func mustCreateKey(t *testing.T, s *sqlstore.Store, k *gatehouse.APIKey) *gatehouse.APIKey {
	t.Helper()
	if err := s.CreateKey(context.Background(), k); err != nil {
		t.Fatalf("CreateKey(%q): %v", k.Description, err)
	}
	return k
}

func mustKey(t *testing.T, s *sqlstore.Store, accountID, id string) *gatehouse.APIKey {
	t.Helper()
	k, err := s.KeyByID(context.Background(), accountID, id)
	if err != nil {
		t.Fatalf("KeyByID(%s): %v", id, err)
	}
	return k
}

// wantProblem checks that err has code and names problem, in its list of
// errors or as its message.
func wantProblem(t *testing.T, err error, code int, problem string) {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) || e.Code != code || !slices.Contains(e.Errors, problem) && e.Message != problem {
		t.Errorf("error = %v, want code %d with %q", err, code, problem)
	}
}

func TestCreateAndFindKeys(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)

		t0 := c.advance(time.Minute)
		general := generalKey(acme, "a+generalkey0000Ab3x", "  CI pipeline \n", gatehouse.UserActor(owner))
		general.ReadOnly = true
		mustCreateKey(t, s, general)
		want := &gatehouse.APIKey{
			ID:          general.ID,
			AccountID:   acme.ID,
			Kind:        gatehouse.KeyGeneral,
			Description: "CI pipeline",
			ReadOnly:    true,
			APIVersion:  gatehouse.APIVersion,
			Hash:        sha256.Sum256([]byte("a+generalkey0000Ab3x")),
			Last4:       "Ab3x",
			CreatedAt:   t0,
			CreatedBy:   gatehouse.Actor{Type: "user_reference", ID: owner.ID, Summary: "Owner"},
		}
		if len(general.ID) != 7 || general.ID[0] != 'P' {
			t.Errorf("CreateKey gave ID %q", general.ID)
		}
		if diff := cmp.Diff(want, general); diff != "" {
			t.Errorf("CreateKey set (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, mustKey(t, s, acme.ID, general.ID)); diff != "" {
			t.Errorf("KeyByID(general) (-want +got):\n%s", diff)
		}

		t1 := c.advance(time.Minute)
		token := mustCreateKey(t, s, userToken(ada, "u+tokenkey000000Zz_-", "my laptop"))
		wantToken := &gatehouse.APIKey{
			ID:          token.ID,
			AccountID:   acme.ID,
			Kind:        gatehouse.KeyUserToken,
			UserID:      ada.ID,
			Description: "my laptop",
			APIVersion:  gatehouse.APIVersion,
			Hash:        sha256.Sum256([]byte("u+tokenkey000000Zz_-")),
			Last4:       "Zz_-",
			CreatedAt:   t1,
			CreatedBy:   gatehouse.UserActor(ada),
		}
		if diff := cmp.Diff(wantToken, mustKey(t, s, acme.ID, token.ID)); diff != "" {
			t.Errorf("KeyByID(token) (-want +got):\n%s", diff)
		}

		cred, err := s.CredentialByHash(ctx, sha256.Sum256([]byte("a+generalkey0000Ab3x")))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&sqlstore.Credential{Key: want, Account: acme}, cred); diff != "" {
			t.Errorf("CredentialByHash(general) (-want +got):\n%s", diff)
		}
		cred, err = s.CredentialByHash(ctx, sha256.Sum256([]byte("u+tokenkey000000Zz_-")))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&sqlstore.Credential{Key: wantToken, Account: acme, User: ada}, cred); diff != "" {
			t.Errorf("CredentialByHash(token) (-want +got):\n%s", diff)
		}
		_, err = s.CredentialByHash(ctx, sha256.Sum256([]byte("a+unknownkey0000000x")))
		wantCode(t, err, gatehouse.CodeNotFound)

		// Lists are ordered by creation time, then ID.
		second := mustCreateKey(t, s, generalKey(acme, "a+second000000000002", "second", gatehouse.CLIActor))
		third := mustCreateKey(t, s, generalKey(acme, "a+third0000000000003", "third", gatehouse.CLIActor))
		c.now = t0.Add(-time.Hour)
		oldest := mustCreateKey(t, s, generalKey(acme, "a+oldest000000000004", "oldest", gatehouse.CLIActor))
		sameTime := []string{second.ID, third.ID}
		slices.Sort(sameTime)
		keys, err := s.Keys(ctx, acme.ID, gatehouse.KeyGeneral)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{oldest.ID, general.ID, sameTime[0], sameTime[1]}, keyIDs(keys)); diff != "" {
			t.Errorf("Keys(general) IDs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, keys[1]); diff != "" {
			t.Errorf("Keys(general)[1] (-want +got):\n%s", diff)
		}
		tokens, err := s.Keys(ctx, acme.ID, gatehouse.KeyUserToken)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*gatehouse.APIKey{wantToken}, tokens); diff != "" {
			t.Errorf("Keys(user_token) (-want +got):\n%s", diff)
		}
		_, err = s.Keys(ctx, acme.ID, "oauth")
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Key kind "oauth" is not one of general, user_token`)
	})
}

func keyIDs(keys []*gatehouse.APIKey) []string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func TestCreateKeyRejects(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		stranger := storetest.MustCreateUser(t, s, other, "bob", gatehouse.RoleUser)
		mustCreateKey(t, s, generalKey(acme, "a+takenkey0000000000", "taken", gatehouse.UserActor(owner)))

		general := func(edit func(k *gatehouse.APIKey)) *gatehouse.APIKey {
			k := generalKey(acme, "a+freshkey0000000000", "fresh", gatehouse.UserActor(owner))
			edit(k)
			return k
		}
		token := func(edit func(k *gatehouse.APIKey)) *gatehouse.APIKey {
			k := userToken(ada, "u+freshkey0000000000", "fresh")
			edit(k)
			return k
		}
		tests := []struct {
			name    string
			key     *gatehouse.APIKey
			code    int
			problem string
		}{
			{"blank description", general(func(k *gatehouse.APIKey) { k.Description = " \t " }), 2001, "Description must not be empty"},
			{"invalid UTF-8", general(func(k *gatehouse.APIKey) { k.Description = "bad\xff" }), 2001, "Description must be valid UTF-8"},
			{"control character", general(func(k *gatehouse.APIKey) { k.Description = "two\nlines" }), 2001, "Description must not contain control characters"},
			{"long description", general(func(k *gatehouse.APIKey) { k.Description = strings.Repeat("é", 256) }), 2001, "Description must be at most 255 characters"},
			{"unknown kind", general(func(k *gatehouse.APIKey) { k.Kind = "oauth" }), 2001, `Key kind "oauth" is not one of general, user_token`},
			{"general key with a user", general(func(k *gatehouse.APIKey) { k.UserID = ada.ID }), 2001, "A general access key has no user"},
			{"user token without a user", token(func(k *gatehouse.APIKey) { k.UserID = "" }), 2001, "A user token needs a user"},
			{"read-only user token", token(func(k *gatehouse.APIKey) { k.ReadOnly = true }), 2001, "A user token cannot be read-only"},
			{"key in use", general(func(k *gatehouse.APIKey) { k.Hash = sha256.Sum256([]byte("a+takenkey0000000000")) }), 2001, "This key is already in use"},
			{"key in use in another account", general(func(k *gatehouse.APIKey) {
				k.AccountID, k.Hash = other.ID, sha256.Sum256([]byte("a+takenkey0000000000"))
			}), 2001, "This key is already in use"},
			{"unknown account", general(func(k *gatehouse.APIKey) { k.AccountID = "PNOPE00" }), 2100, "Account PNOPE00 not found"},
			{"unknown user", token(func(k *gatehouse.APIKey) { k.UserID = "PNOPE00" }), 2100, "User PNOPE00 not found"},
			{"user of another account", token(func(k *gatehouse.APIKey) { k.UserID = stranger.ID }), 2100, "User " + stranger.ID + " not found"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantProblem(t, s.CreateKey(ctx, tt.key), tt.code, tt.problem)
			})
		}

		for _, id := range []string{acme.ID, other.ID} {
			for _, kind := range []gatehouse.KeyKind{gatehouse.KeyGeneral, gatehouse.KeyUserToken} {
				keys, _ := s.Keys(ctx, id, kind)
				if want := map[bool]int{true: 1}[id == acme.ID && kind == gatehouse.KeyGeneral]; len(keys) != want {
					t.Errorf("after refused creates, Keys(%s, %s) has %d keys, want %d", id, kind, len(keys), want)
				}
			}
		}
		records, _, _ := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 100})
		if len(records) != 1 {
			t.Errorf("after refused creates, %d audit records, want 1", len(records))
		}

		// 255 characters are enough, however many bytes they take.
		mustCreateKey(t, s, general(func(k *gatehouse.APIKey) { k.Description = strings.Repeat("é", 255) }))
	})
}

func TestKeyOfAnotherAccount(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, intruder := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		k := mustCreateKey(t, s, generalKey(acme, "a+acmekey00000000000", "acme", gatehouse.UserActor(owner)))
		by := gatehouse.UserActor(intruder)

		for _, id := range []string{k.ID, "PNOPE00"} {
			_, err := s.KeyByID(ctx, other.ID, id)
			wantCode(t, err, gatehouse.CodeNotFound)
			wantCode(t, s.DisableKey(ctx, other.ID, id, by), gatehouse.CodeNotFound)
			wantCode(t, s.EnableKey(ctx, other.ID, id, by), gatehouse.CodeNotFound)
			wantCode(t, s.DeleteKey(ctx, other.ID, id, by), gatehouse.CodeNotFound)
		}
		if diff := cmp.Diff(k, mustKey(t, s, acme.ID, k.ID)); diff != "" {
			t.Errorf("key after another account's attempts (-want +got):\n%s", diff)
		}
		for _, id := range []string{acme.ID, other.ID} {
			records, _, _ := s.AuditRecords(ctx, id, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 100})
			if want := map[bool]int{true: 1}[id == acme.ID]; len(records) != want {
				t.Errorf("AuditRecords(%s) has %d records, want %d", id, len(records), want)
			}
		}
	})
}

func TestDisableAndEnableKey(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		admin := storetest.MustCreateUser(t, s, acme, "admin", gatehouse.RoleAdmin)
		created := mustCreateKey(t, s, generalKey(acme, "a+generalkey0000Ab3x", "CI", gatehouse.UserActor(owner)))
		hash := created.Hash
		credentialKey := func() *gatehouse.APIKey {
			t.Helper()
			cred, err := s.CredentialByHash(ctx, hash)
			if err != nil {
				t.Fatalf("CredentialByHash: %v", err)
			}
			return cred.Key
		}

		disabledAt := c.advance(time.Hour)
		if err := s.DisableKey(ctx, acme.ID, created.ID, gatehouse.UserActor(admin)); err != nil {
			t.Fatal(err)
		}
		want := *created
		want.DisabledAt, want.DisabledBy = disabledAt, gatehouse.UserActor(admin)
		if diff := cmp.Diff(&want, credentialKey()); diff != "" {
			t.Errorf("CredentialByHash after DisableKey (-want +got):\n%s", diff)
		}
		if !credentialKey().Disabled() {
			t.Errorf("Disabled() = false after DisableKey")
		}
		// Disabling again changes nothing, not even who disabled the key.
		c.advance(time.Hour)
		if err := s.DisableKey(ctx, acme.ID, created.ID, gatehouse.CLIActor); err != nil {
			t.Fatalf("DisableKey of a disabled key: %v", err)
		}
		if diff := cmp.Diff(&want, credentialKey()); diff != "" {
			t.Errorf("CredentialByHash after a second DisableKey (-want +got):\n%s", diff)
		}

		c.advance(time.Hour)
		for range 2 {
			if err := s.EnableKey(ctx, acme.ID, created.ID, gatehouse.CLIActor); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(created, credentialKey()); diff != "" {
				t.Errorf("CredentialByHash after EnableKey (-want +got):\n%s", diff)
			}
		}

		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		token := mustCreateKey(t, s, userToken(ada, "u+tokenkey000000Zz_-", "laptop"))
		wantProblem(t, s.DisableKey(ctx, acme.ID, token.ID, gatehouse.UserActor(owner)), gatehouse.CodeInvalidInput, "Only general access keys can be disabled")
		wantProblem(t, s.EnableKey(ctx, acme.ID, token.ID, gatehouse.UserActor(owner)), gatehouse.CodeInvalidInput, "Only general access keys can be enabled")

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"create", "enable", "disable", "create"}, auditActions(records)); diff != "" {
			t.Errorf("audit actions (-want +got):\n%s", diff)
		}
	})
}

func auditActions(records []*gatehouse.AuditRecord) []string {
	var actions []string
	for _, r := range records {
		actions = append(actions, r.Action)
	}
	return actions
}

func TestDeleteKey(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		general := mustCreateKey(t, s, generalKey(acme, "a+generalkey0000Ab3x", "CI", gatehouse.UserActor(owner)))
		token := mustCreateKey(t, s, userToken(ada, "u+tokenkey000000Zz_-", "laptop"))
		kept := mustCreateKey(t, s, generalKey(acme, "a+keptkey00000000000", "kept", gatehouse.UserActor(owner)))
		// A disabled key can be deleted too.
		if err := s.DisableKey(ctx, acme.ID, general.ID, gatehouse.UserActor(owner)); err != nil {
			t.Fatal(err)
		}

		for _, k := range []*gatehouse.APIKey{general, token} {
			if err := s.DeleteKey(ctx, acme.ID, k.ID, gatehouse.UserActor(owner)); err != nil {
				t.Fatalf("DeleteKey(%s): %v", k.Kind, err)
			}
			_, err := s.CredentialByHash(ctx, k.Hash)
			wantCode(t, err, gatehouse.CodeNotFound)
			_, err = s.KeyByID(ctx, acme.ID, k.ID)
			wantCode(t, err, gatehouse.CodeNotFound)
			wantCode(t, s.DeleteKey(ctx, acme.ID, k.ID, gatehouse.UserActor(owner)), gatehouse.CodeNotFound)
		}
		if _, err := s.CredentialByHash(ctx, kept.Hash); err != nil {
			t.Errorf("CredentialByHash(kept key): %v", err)
		}
		// The hash of a deleted key is free again.
		mustCreateKey(t, s, generalKey(acme, "a+generalkey0000Ab3x", "CI again", gatehouse.UserActor(owner)))
	})
}

func TestDeleteUserDeletesTokens(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
		adaTokens := []*gatehouse.APIKey{
			mustCreateKey(t, s, userToken(ada, "u+adatoken0000001111", "one")),
			mustCreateKey(t, s, userToken(ada, "u+adatoken0000002222", "two")),
		}
		bobToken := mustCreateKey(t, s, userToken(bob, "u+bobtoken0000003333", "bob's"))
		general := mustCreateKey(t, s, generalKey(acme, "a+generalkey0000Ab3x", "CI", gatehouse.UserActor(ada)))
		last, _ := s.LastChangeID(ctx)

		at := c.advance(time.Minute)
		if err := s.DeleteUser(ctx, acme.ID, ada.ID, gatehouse.UserActor(owner)); err != nil {
			t.Fatal(err)
		}
		for _, k := range adaTokens {
			_, err := s.CredentialByHash(ctx, k.Hash)
			wantCode(t, err, gatehouse.CodeNotFound)
		}
		if tokens, err := s.Keys(ctx, acme.ID, gatehouse.KeyUserToken); err != nil || len(tokens) != 1 || tokens[0].ID != bobToken.ID {
			t.Errorf("Keys(user_token) after removing ada = %v, %v, want bob's token only", tokens, err)
		}
		// Keys the user created but does not own stay, as do others' tokens.
		for _, k := range []*gatehouse.APIKey{general, bobToken} {
			cred, err := s.CredentialByHash(ctx, k.Hash)
			if err != nil {
				t.Fatalf("CredentialByHash(%s): %v", k.Description, err)
			}
			if diff := cmp.Diff(k, cred.Key); diff != "" {
				t.Errorf("CredentialByHash(%s) (-want +got):\n%s", k.Description, diff)
			}
		}

		records, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(adaTokens)
		slices.SortFunc(sorted, func(a, b *gatehouse.APIKey) int { return strings.Compare(b.ID, a.ID) })
		var want []*gatehouse.AuditRecord
		for _, k := range sorted {
			want = append(want, &gatehouse.AuditRecord{
				AccountID: acme.ID, ExecutionTime: at, Actor: gatehouse.UserActor(owner),
				Method:       gatehouse.AuditMethod{Type: gatehouse.MethodAPIToken},
				RootResource: gatehouse.Ref{Type: "api_key_reference", ID: k.ID, Summary: "…" + k.Last4},
				Action:       "delete",
				Fields:       []gatehouse.AuditField{gatehouse.Created("kind", "user_token"), gatehouse.Created("last4", k.Last4)},
			})
		}
		if diff := cmp.Diff(want, records, cmpopts.IgnoreFields(gatehouse.AuditRecord{}, "ID")); diff != "" {
			t.Errorf("audit records after DeleteUser (-want +got):\n%s", diff)
		}

		changes, err := s.ChangesAfter(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		wantChanges := []changeRow{{gatehouse.ChangeKey, sorted[1].ID}, {gatehouse.ChangeKey, sorted[0].ID}, {gatehouse.ChangeUser, ada.ID}}
		if diff := cmp.Diff(wantChanges, changeRows(changes)); diff != "" {
			t.Errorf("changes of DeleteUser (-want +got):\n%s", diff)
		}
	})
}

type changeRow struct {
	Kind    gatehouse.ChangeKind
	Subject string
}

func changeRows(changes []gatehouse.Change) []changeRow {
	var rows []changeRow
	for _, c := range changes {
		rows = append(rows, changeRow{c.Kind, c.SubjectID})
	}
	return rows
}

func TestTouchKeys(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		one := mustCreateKey(t, s, generalKey(acme, "a+keyone000000000001", "one", gatehouse.UserActor(owner)))
		two := mustCreateKey(t, s, generalKey(acme, "a+keytwo000000000002", "two", gatehouse.UserActor(owner)))
		three := mustCreateKey(t, s, generalKey(acme, "a+keythree0000000003", "three", gatehouse.UserActor(owner)))
		base := time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC)

		if err := s.TouchKeys(ctx, nil); err != nil {
			t.Fatalf("TouchKeys(nil): %v", err)
		}
		type use struct {
			At   time.Time
			From string
		}
		steps := []struct {
			name  string
			touch []sqlstore.KeyUse
			want  map[string]use
		}{
			{
				"first use, and an unknown key",
				[]sqlstore.KeyUse{{one.ID, base, "192.0.2.1"}, {two.ID, base.Add(time.Minute), "2001:db8::1"}, {"PNOPE00", base, ""}},
				map[string]use{one.ID: {base, "192.0.2.1"}, two.ID: {base.Add(time.Minute), "2001:db8::1"}},
			},
			{
				"never backwards",
				[]sqlstore.KeyUse{{one.ID, base.Add(-time.Hour), "192.0.2.9"}, {two.ID, base.Add(2 * time.Minute), "192.0.2.2"}},
				map[string]use{one.ID: {base, "192.0.2.1"}, two.ID: {base.Add(2 * time.Minute), "192.0.2.2"}},
			},
			{
				"the same time again",
				[]sqlstore.KeyUse{{one.ID, base, "192.0.2.9"}},
				map[string]use{one.ID: {base, "192.0.2.1"}, two.ID: {base.Add(2 * time.Minute), "192.0.2.2"}},
			},
		}
		for _, step := range steps {
			if err := s.TouchKeys(ctx, step.touch); err != nil {
				t.Fatalf("%s: TouchKeys: %v", step.name, err)
			}
			for _, k := range []*gatehouse.APIKey{one, two, three} {
				got := mustKey(t, s, acme.ID, k.ID)
				if want := step.want[k.ID]; !got.LastUsedAt.Equal(want.At) || got.LastUsedFrom != want.From {
					t.Errorf("%s: last use of %s = %v from %q, want %v from %q", step.name, k.Description, got.LastUsedAt, got.LastUsedFrom, want.At, want.From)
				}
			}
		}
	})
}

// TestTouchManyKeys: a flush larger than one statement's batch records
// every key.
func TestTouchManyKeys(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		k := mustCreateKey(t, s, generalKey(acme, "a+keyone000000000001", "one", gatehouse.UserActor(owner)))
		at := time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC)
		var uses []sqlstore.KeyUse
		for i := range 1200 {
			uses = append(uses, sqlstore.KeyUse{KeyID: fmt.Sprintf("PNO%04d", i), At: at})
		}
		uses = append(uses, sqlstore.KeyUse{KeyID: k.ID, At: at, From: "192.0.2.7"})
		if err := s.TouchKeys(ctx, uses); err != nil {
			t.Fatal(err)
		}
		if got := mustKey(t, s, acme.ID, k.ID); !got.LastUsedAt.Equal(at) || got.LastUsedFrom != "192.0.2.7" {
			t.Errorf("last use = %v from %q, want %v from 192.0.2.7", got.LastUsedAt, got.LastUsedFrom, at)
		}
	})
}

func TestAuditRecords(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		other, otherOwner := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
		ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
		byOwner, byAda, byCLI := gatehouse.UserActor(owner), gatehouse.UserActor(ada), gatehouse.CLIActor

		general := generalKey(acme, "a+generalkey0000Ab3x", "CI", byOwner)
		token := userToken(ada, "u+tokenkey000000Zz_-", "laptop")
		steps := []func() error{
			func() error { return s.CreateKey(ctx, general) },
			func() error { return s.DisableKey(ctx, acme.ID, general.ID, byCLI) },
			func() error { return s.EnableKey(ctx, acme.ID, general.ID, byOwner) },
			func() error { return s.CreateKey(ctx, token) },
			func() error { return s.DeleteKey(ctx, acme.ID, token.ID, byAda) },
			func() error { return s.DeleteKey(ctx, acme.ID, general.ID, byOwner) },
			// Another account's trail is its own.
			func() error {
				return s.CreateKey(ctx, generalKey(other, "a+otherkey0000000000", "other", gatehouse.UserActor(otherOwner)))
			},
		}
		var times []time.Time
		for i, step := range steps {
			times = append(times, c.advance(time.Minute))
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i+1, err)
			}
		}

		type entry struct {
			Action, Kind, RootID, Summary string
			Actor                         gatehouse.Actor
			At                            time.Time
		}
		want := []entry{
			{"delete", "api_key", general.ID, "…Ab3x", byOwner, times[5]},
			{"delete", "user_token", token.ID, "…Zz_-", byAda, times[4]},
			{"create", "user_token", token.ID, "…Zz_-", byAda, times[3]},
			{"enable", "api_key", general.ID, "…Ab3x", byOwner, times[2]},
			{"disable", "api_key", general.ID, "…Ab3x", byCLI, times[1]},
			{"create", "api_key", general.ID, "…Ab3x", byOwner, times[0]},
		}
		entries := func(records []*gatehouse.AuditRecord) []entry {
			var got []entry
			for _, r := range records {
				got = append(got, entry{r.Action, *r.Fields[0].Value, r.RootResource.ID, r.RootResource.Summary, r.Actor, r.ExecutionTime})
				if r.AccountID != acme.ID || len(r.ID) != 7 || r.ID[0] != 'P' {
					t.Errorf("audit record %+v: wrong account or ID", r)
				}
			}
			return got
		}

		records, next, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 0})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, entries(records)); diff != "" {
			t.Errorf("AuditRecords (-want +got):\n%s", diff)
		}
		if next != "" {
			t.Errorf("AuditRecords of everything: next cursor %q, want none", next)
		}

		var paged []*gatehouse.AuditRecord
		cursor, pages := "", 0
		for {
			page, next, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatalf("page %d: %v", pages+1, err)
			}
			if len(page) != 2 {
				t.Errorf("page %d has %d records, want 2", pages+1, len(page))
			}
			paged, pages = append(paged, page...), pages+1
			if next == "" {
				break
			}
			if pages > len(want) {
				t.Fatalf("more than %d pages", len(want))
			}
			cursor = next
		}
		if pages != 3 {
			t.Errorf("limit 2 gave %d pages, want 3", pages)
		}
		if diff := cmp.Diff(records, paged); diff != "" {
			t.Errorf("records paged by 2 (-want +got):\n%s", diff)
		}

		for _, tt := range []struct {
			limit, want int
		}{{-5, 1}, {1, 1}, {5, 5}, {1000, 6}} {
			got, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: tt.limit})
			if err != nil || len(got) != tt.want {
				t.Errorf("AuditRecords(limit %d) = %d records, %v, want %d", tt.limit, len(got), err, tt.want)
			}
		}

		_, first, _ := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 1})
		for _, cursor := range []string{"!!!", "abc", first + "=", "MA", "LTE"} {
			_, _, err := s.AuditRecords(ctx, acme.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Cursor: cursor, Limit: 2})
			wantProblem(t, err, gatehouse.CodeInvalidInput, "Invalid cursor")
		}

		records, _, err = s.AuditRecords(ctx, other.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 0})
		if err != nil || len(records) != 1 || records[0].Actor != gatehouse.UserActor(otherOwner) {
			t.Errorf("AuditRecords(other) = %v, %v, want its one record", entries(records), err)
		}
	})
}

func TestKeyChangeFeed(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		by := gatehouse.UserActor(owner)
		last, _ := s.LastChangeID(ctx)

		k := mustCreateKey(t, s, generalKey(acme, "a+generalkey0000Ab3x", "CI", by))
		steps := []struct {
			name string
			err  error
		}{
			{"disable", s.DisableKey(ctx, acme.ID, k.ID, by)},
			{"disable again", s.DisableKey(ctx, acme.ID, k.ID, by)},
			{"enable", s.EnableKey(ctx, acme.ID, k.ID, by)},
			{"enable again", s.EnableKey(ctx, acme.ID, k.ID, by)},
			{"touch", s.TouchKeys(ctx, []sqlstore.KeyUse{{KeyID: k.ID, At: time.Now()}})},
			{"delete", s.DeleteKey(ctx, acme.ID, k.ID, by)},
		}
		for _, step := range steps {
			if step.err != nil {
				t.Fatalf("%s: %v", step.name, step.err)
			}
		}
		// Refused changes record nothing.
		wantCode(t, s.DeleteKey(ctx, acme.ID, k.ID, by), gatehouse.CodeNotFound)
		wantCode(t, s.CreateKey(ctx, generalKey(acme, "a+generalkey0000Ab3x", "", by)), gatehouse.CodeInvalidInput)

		changes, err := s.ChangesAfter(ctx, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		key := changeRow{gatehouse.ChangeKey, k.ID}
		if diff := cmp.Diff([]changeRow{key, key, key, key}, changeRows(changes)); diff != "" {
			t.Errorf("changes of create, disable, enable, delete (-want +got):\n%s", diff)
		}
		for _, c := range changes {
			if c.AccountID != acme.ID {
				t.Errorf("change %+v: account %s, want %s", c, c.AccountID, acme.ID)
			}
			// The key's hash, so that caches can drop exactly its entry.
			if c.Hash != k.Hash {
				t.Errorf("change %+v: hash %x, want the key's %x", c, c.Hash, k.Hash)
			}
		}
	})
}

func TestBootstrapWithKey(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		c := setClock(s)
		newAccount := func() (*gatehouse.Account, *gatehouse.User) {
			return &gatehouse.Account{Subdomain: "default", Name: "Default", Plan: gatehouse.PlanBusiness},
				&gatehouse.User{Email: "owner@example.com", Name: "Owner", Role: gatehouse.RoleOwner}
		}
		newKey := func(key, description string) *gatehouse.APIKey {
			return &gatehouse.APIKey{
				Description: description,
				Hash:        sha256.Sum256([]byte(key)),
				Last4:       key[len(key)-4:],
				CreatedBy:   gatehouse.CLIActor,
			}
		}

		a, owner := newAccount()
		_, err := s.Bootstrap(ctx, a, owner, newKey("a+bootstrap000000001", " "))
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Description must not be empty")
		if list, _ := s.Accounts(ctx); len(list) != 0 {
			t.Fatalf("Bootstrap with an invalid key created %d accounts", len(list))
		}

		key := newKey("a+bootstrap000000001", "bootstrap")
		created, err := s.Bootstrap(ctx, a, owner, key)
		if err != nil || !created {
			t.Fatalf("Bootstrap = %v, %v, want true, nil", created, err)
		}
		want := &gatehouse.APIKey{
			ID:          key.ID,
			AccountID:   a.ID,
			Kind:        gatehouse.KeyGeneral,
			Description: "bootstrap",
			APIVersion:  gatehouse.APIVersion,
			Hash:        sha256.Sum256([]byte("a+bootstrap000000001")),
			Last4:       "0001",
			CreatedAt:   c.now,
			CreatedBy:   gatehouse.CLIActor,
		}
		if key.ID == "" {
			t.Fatal("Bootstrap gave the key no ID")
		}
		cred, err := s.CredentialByHash(ctx, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&sqlstore.Credential{Key: want, Account: a}, cred); diff != "" {
			t.Errorf("CredentialByHash(bootstrap key) (-want +got):\n%s", diff)
		}

		a2, owner2 := newAccount()
		again := newKey("a+bootstrap000000002", "again")
		created, err = s.Bootstrap(ctx, a2, owner2, again)
		if err != nil || created {
			t.Fatalf("second Bootstrap = %v, %v, want false, nil", created, err)
		}
		if again.ID != "" {
			t.Errorf("second Bootstrap gave its key ID %q", again.ID)
		}
		_, err = s.CredentialByHash(ctx, again.Hash)
		wantCode(t, err, gatehouse.CodeNotFound)
		keys, _ := s.Keys(ctx, a.ID, gatehouse.KeyGeneral)
		if diff := cmp.Diff([]*gatehouse.APIKey{want}, keys); diff != "" {
			t.Errorf("Keys after two bootstraps (-want +got):\n%s", diff)
		}
		records, _, _ := s.AuditRecords(ctx, a.ID, sqlstore.AuditQuery{RootTypes: keyRoots, Limit: 0})
		if len(records) != 1 || records[0].Action != "create" || records[0].RootResource.ID != key.ID || records[0].Actor != gatehouse.CLIActor {
			t.Errorf("audit records after bootstrap = %+v, want one create by the CLI", records)
		}
	})
}

// TestCredentialLeavesPasswordOut: the user of a token comes without the
// password hash, which caches would otherwise keep in memory.
func TestCredentialLeavesPasswordOut(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ada := &gatehouse.User{AccountID: acme.ID, Email: "ada@acme.example.com", Name: "Ada", Role: gatehouse.RoleUser, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
		if err := s.CreateUser(ctx, ada); err != nil {
			t.Fatal(err)
		}
		mustCreateKey(t, s, userToken(ada, "u+tokenkey000000Zz_-", "my laptop"))
		cred, err := s.CredentialByHash(ctx, sha256.Sum256([]byte("u+tokenkey000000Zz_-")))
		if err != nil {
			t.Fatal(err)
		}
		if cred.User == nil || cred.User.ID != ada.ID || cred.User.PasswordHash != "" {
			t.Errorf("CredentialByHash's user = %+v, want %s without its password hash", cred.User, ada.ID)
		}
	})
}

// keyRoots selects the audit records of keys, leaving out those of the
// users the tests make.
var keyRoots = []string{"api_key_reference"}
