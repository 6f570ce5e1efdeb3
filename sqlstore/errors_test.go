package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// clientError is what the HTTP edge shows of err: its code, message and
// lines.
func clientError(t *testing.T, err error) *gatehouse.Error {
	t.Helper()
	e, ok := errors.AsType[*gatehouse.Error](err)
	if !ok {
		t.Fatalf("error = %v, want a *gatehouse.Error in it", err)
	}
	return e
}

// driverWords are what drivers say that a client must never read.
var driverWords = []string{"constraint", "SQLSTATE", "violates", "sqlite", "pq:", "pgx", "duplicate key"}

// TestConstraintsBecomeCodes: a write that a constraint refuses (because a
// concurrent writer got there first, past the store's own checks) fails with
// a code and words of ours on both engines.
func TestConstraintsBecomeCodes(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		key := sha256.Sum256([]byte("u+existing0000000000"))
		mustCreateKey(t, s, userToken(owner, "u+existing0000000000", "laptop"))
		const keyInsert = "INSERT INTO api_keys (id, account_id, kind, user_id, description, read_only, api_version, hash, last4, created_at, created_by_type, created_by_id, created_by_summary) VALUES (?, ?, ?, ?, 'd', ?, 2, ?, '0000', 0, 'cli', '', 'CLI')"
		other := sha256.Sum256([]byte("another"))
		tests := []struct {
			name     string
			query    string
			args     []any
			code     int
			problems []string // any of these: SQLite says less than PostgreSQL
		}{
			{"taken subdomain", "INSERT INTO accounts (id, subdomain, name, plan, ability_overrides, created_at) VALUES ('PTAKEN1', 'acme', 'A', 'basic', '{}', 0)", nil,
				gatehouse.CodeInvalidInput, []string{"Subdomain is already taken"}},
			{"taken email", "INSERT INTO users (id, account_id, email, name, role, time_zone, password_hash, created_at) VALUES ('PTAKEN2', ?, ?, 'O', 'user', 'Etc/UTC', '', 0)", []any{a.ID, owner.Email},
				gatehouse.CodeInvalidInput, []string{"Email has already been taken"}},
			{"key in use", keyInsert, []any{"PTAKEN3", a.ID, "general", nil, false, key[:]},
				gatehouse.CodeInvalidInput, []string{"This key is already in use"}},
			{"account gone", "INSERT INTO users (id, account_id, email, name, role, time_zone, password_hash, created_at) VALUES ('PGONE01', 'PNOPE00', 'x@example.com', 'X', 'user', 'Etc/UTC', '', 0)", nil,
				gatehouse.CodeNotFound, []string{"Account not found", "Account or user not found"}},
			{"user gone", keyInsert, []any{"PGONE02", a.ID, "user_token", "PNOPE00", false, other[:]},
				gatehouse.CodeNotFound, []string{"User not found", "Account or user not found"}},
			{"check", keyInsert, []any{"PCHECK1", a.ID, "bogus", nil, false, other[:]},
				gatehouse.CodeInvalidInput, []string{"A value given is not allowed"}},
			{"not null", "INSERT INTO accounts (id, subdomain, name, plan, ability_overrides, created_at) VALUES ('PNULL01', 'x', NULL, 'basic', '{}', 0)", nil,
				gatehouse.CodeInvalidInput, []string{"A value given is not allowed"}},
		}
		for _, tt := range tests {
			err := sqlstore.ExecInTx(ctx, s, tt.query, tt.args...)
			e := clientError(t, err)
			if e.Code != tt.code || len(e.Errors) != 1 || !slices.Contains(tt.problems, e.Errors[0]) {
				t.Errorf("%s: error = code %d %q %q, want code %d and one of %q", tt.name, e.Code, e.Message, e.Errors, tt.code, tt.problems)
			}
			for _, word := range driverWords {
				if shown := e.Message + strings.Join(e.Errors, ""); strings.Contains(strings.ToLower(shown), strings.ToLower(word)) {
					t.Errorf("%s: a client would read %q", tt.name, shown)
				}
			}
		}
		if st := s.Stats(); st.Internal != 0 || st.Retries != 0 {
			t.Errorf("Stats() = %+v, want no internal errors and no retries", st)
		}
	})
}

// TestTakenIDRetried: a random ID that is taken is made anew by running the
// transaction again, a bounded number of times, after which the write fails
// with a 409 that blames no one.
func TestTakenIDRetried(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sqlstore.SetMaxAttempts(s, 3)
		err := sqlstore.ExecInTx(ctx, s, "INSERT INTO accounts (id, subdomain, name, plan, ability_overrides, created_at) VALUES (?, 'other', 'O', 'basic', '{}', 0)", a.ID)
		if e := clientError(t, err); e.Code != gatehouse.CodeConflict {
			t.Errorf("error = %v, want code %d", err, gatehouse.CodeConflict)
		}
		if st := s.Stats(); st.Retries != 2 || st.Conflict != 1 || st.Internal != 0 {
			t.Errorf("Stats() = %+v, want 2 retries and 1 conflict", st)
		}
	})
}

// TestConflictOutOfRetries: on PostgreSQL, a write that keeps losing to a
// concurrent one fails with a 409 once out of attempts, and succeeds when
// it may run again.
func TestConflictOutOfRetries(t *testing.T) {
	t.Parallel()
	for _, attempts := range []int{1, 3} {
		s := storetest.Open(t, storetest.Config(t, "postgres"))
		ctx := context.Background()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sqlstore.SetMaxAttempts(s, attempts)
		// Another writer holds the account's row while SetAbilities reads it
		// and waits to update it; when that writer commits, the update can
		// no longer serialize.
		other, err := sqlstore.WriteDB(s).BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.ExecContext(ctx, "UPDATE accounts SET name = 'Renamed' WHERE id = $1", a.ID); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityTeams: false}, gatehouse.CLIActor)
			done <- err
		}()
		waitForLockWait(t, sqlstore.WriteDB(s))
		if err := other.Commit(); err != nil {
			t.Fatal(err)
		}
		err = <-done
		switch attempts {
		case 1:
			e := clientError(t, err)
			if e.Code != gatehouse.CodeConflict || e.Errors[0] != "Other changes to the same data were being made at the same time; try again" {
				t.Errorf("with 1 attempt: SetAbilities error = %v, want a 409 asking to try again", err)
			}
		default:
			if err != nil {
				t.Errorf("with %d attempts: SetAbilities = %v, want success on a second run", attempts, err)
			}
			if got, _ := s.AccountBySubdomain(ctx, "acme"); got.Name != "Renamed" || got.Has(gatehouse.AbilityTeams) {
				t.Errorf("after both writes, account = %+v, want both", got)
			}
		}
	}
}

// waitForLockWait waits until a PostgreSQL session waits for a lock.
func waitForLockWait(t *testing.T, db *sql.DB) {
	t.Helper()
	for range 500 {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no session waited for a lock within 5s")
}

// TestCanceledCall: a call whose caller hung up returns an error that says
// so, neither a fault of the database nor an internal error.
func TestCanceledCall(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, readErr := s.AccountBySubdomain(ctx, "acme")
		writeErr := s.CreateUser(ctx, &gatehouse.User{AccountID: a.ID, Email: "ada@example.com", Name: "Ada", Role: gatehouse.RoleUser})
		for _, err := range []error{readErr, writeErr} {
			if !errors.Is(err, context.Canceled) || gatehouse.ErrorCode(err) == gatehouse.CodeUnavailable {
				t.Errorf("error = %v, want context.Canceled and not code %d", err, gatehouse.CodeUnavailable)
			}
		}
		if st := s.Stats(); st.Canceled != 2 || st.Internal != 0 || st.Unavailable != 0 {
			t.Errorf("Stats() = %+v, want 2 canceled calls and nothing else", st)
		}
	})
}

// TestSchemaConstraintsTranslated: every unique constraint and foreign key
// of the PostgreSQL schema has its words in the store's table, so that a
// new migration cannot add one that reaches a client untranslated.
func TestSchemaConstraintsTranslated(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, storetest.Config(t, "postgres"))
	rows, err := sqlstore.WriteDB(s).Query(`SELECT conname, contype FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
		WHERE contype IN ('p', 'u', 'f') AND t.relnamespace = 'public'::regnamespace AND t.relname <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	known := append(sqlstore.UniqueConstraintNames(), sqlstore.ForeignKeyNames()...)
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(known, name) {
			t.Errorf("constraint %s (%s) is not in the store's table of constraints (errors.go)", name, kind)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTextPostgreSQLCannotTake: a value that is not UTF-8 or holds a NUL
// character, which PostgreSQL refuses and SQLite never matches, is the
// client's error or not found on both engines, never an internal one.
func TestTextPostgreSQLCannotTake(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		a, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := s.Scope(a.ID, sqlstore.CLI(a))
		for _, bad := range []string{"P\x00X", "P\xffX"} {
			calls := map[string]error{}
			_, calls["find user"] = sc.User(ctx, bad)
			_, calls["find team"] = sc.Team(ctx, bad)
			_, calls["list users"] = sc.Users(ctx, sqlstore.UserQuery{Query: bad, TeamIDs: []string{bad}, Page: sqlstore.Page{Limit: 25, Total: true}})
			_, calls["list policies"] = sc.EscalationPolicies(ctx, sqlstore.PolicyQuery{UserIDs: []string{bad}, Page: sqlstore.Page{Limit: 25}})
			_, calls["find credential"] = s.CredentialByHash(ctx, sha256.Sum256([]byte(bad)))
			calls["add team member"] = sc.SetTeamMember(ctx, bad, owner.ID, "responder")
			calls["policy target"] = sc.CreateEscalationPolicy(ctx, &gatehouse.EscalationPolicy{Name: "P", Rules: []gatehouse.EscalationRule{
				{DelayInMinutes: 5, Targets: []gatehouse.EscalationTarget{{Type: gatehouse.TargetUser, ID: bad}}}}})
			for name, err := range calls {
				switch code := gatehouse.ErrorCode(err); {
				case err == nil, code == gatehouse.CodeNotFound, code == gatehouse.CodeInvalidInput:
				default:
					t.Errorf("%s(%q): error = %v (code %d), want none, 2100 or 2001", name, bad, err, code)
				}
			}
		}
		if st := s.Stats(); st.Internal != 0 {
			t.Errorf("Stats() = %+v, want no internal errors", st)
		}
	})
}
