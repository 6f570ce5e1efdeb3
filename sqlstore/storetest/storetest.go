// Package storetest gives tests fresh databases on every engine Gatehouse
// supports: a temporary SQLite file always, and a new PostgreSQL database
// when GATEHOUSE_TEST_POSTGRES_URL names a server.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// PostgresURLVar names the environment variable that points the tests at a
// PostgreSQL server, such as postgres://postgres@127.0.0.1:5432/postgres.
const PostgresURLVar = "GATEHOUSE_TEST_POSTGRES_URL"

// Engines are the names of the engines, as subtest names.
var Engines = []string{"sqlite", "postgres"}

// Each runs fn as one subtest per engine, each with a fresh, empty,
// unmigrated database. The postgres subtest skips when PostgresURLVar is
// unset.
func Each(t *testing.T, fn func(t *testing.T, cfg sqlstore.Config)) {
	t.Helper()
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			fn(t, Config(t, engine))
		})
	}
}

// EachStore is Each with a migrated, open store.
func EachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	Each(t, func(t *testing.T, cfg sqlstore.Config) {
		fn(t, Open(t, cfg))
	})
}

// Config returns the configuration of a fresh database on engine, removed
// when the test ends. For postgres it skips the test if PostgresURLVar is
// unset.
func Config(t testing.TB, engine string) sqlstore.Config {
	t.Helper()
	switch engine {
	case "sqlite":
		return sqlstore.Config{DataDir: t.TempDir()}
	case "postgres":
		return sqlstore.Config{DatabaseURL: freshPostgres(t)}
	}
	t.Fatalf("unknown engine %q", engine)
	return sqlstore.Config{}
}

// Open opens and migrates the database cfg names, closing it when the test
// ends.
func Open(t testing.TB, cfg sqlstore.Config) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// OpenSQLite is Open on a fresh SQLite database, for tests that need a store
// but test nothing engine-specific.
func OpenSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return Open(t, Config(t, "sqlite"))
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func freshPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLVar)
	if base == "" {
		t.Skipf("%s is not set", PostgresURLVar)
	}
	admin.once.Do(func() {
		admin.db, admin.err = sql.Open("pgx", base)
		if admin.err == nil {
			admin.err = admin.db.Ping()
		}
	})
	if admin.err != nil {
		t.Fatalf("connect to %s: %v", PostgresURLVar, admin.err)
	}
	name := "gatehouse_test_" + strings.ToLower(gatehouse.RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789"))
	if _, err := admin.db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLVar, err)
	}
	u.Path = "/" + name
	return u.String()
}

// MustCreateAccount creates an account on plan with an owner, for tests.
func MustCreateAccount(t testing.TB, s *sqlstore.Store, subdomain string, plan gatehouse.Plan) (*gatehouse.Account, *gatehouse.User) {
	t.Helper()
	a := &gatehouse.Account{Subdomain: subdomain, Name: subdomain, Plan: plan}
	owner := &gatehouse.User{Email: "owner@" + subdomain + ".example.com", Name: "Owner", Role: gatehouse.RoleOwner}
	if err := s.CreateAccount(context.Background(), a, owner); err != nil {
		t.Fatalf("CreateAccount(%s): %v", subdomain, err)
	}
	return a, owner
}

// MustCreateUser creates a user with role in the account, for tests.
func MustCreateUser(t testing.TB, s *sqlstore.Store, a *gatehouse.Account, name string, role gatehouse.Role) *gatehouse.User {
	t.Helper()
	u := &gatehouse.User{AccountID: a.ID, Email: fmt.Sprintf("%s@%s.example.com", name, a.Subdomain), Name: name, Role: role}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s, %s): %v", name, role, err)
	}
	return u
}

// MustAddTeamMember makes u a member of team with role, for tests.
func MustAddTeamMember(t testing.TB, s *sqlstore.Store, team *gatehouse.Team, u *gatehouse.User, role string) {
	t.Helper()
	a, err := s.AccountByID(context.Background(), team.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Scope(a.ID, sqlstore.CLI(a)).SetTeamMember(context.Background(), team.ID, u.ID, role); err != nil {
		t.Fatalf("SetTeamMember(%s, %s): %v", team.Name, u.Name, err)
	}
}

// MustCreatePolicy creates in account a an escalation policy named name with
// one rule that notifies target after 30 minutes, belonging to team when it
// is not nil, for tests.
func MustCreatePolicy(t testing.TB, s *sqlstore.Store, a *gatehouse.Account, name string, target *gatehouse.User, team *gatehouse.Team) *gatehouse.EscalationPolicy {
	t.Helper()
	p := &gatehouse.EscalationPolicy{Name: name, Rules: []gatehouse.EscalationRule{
		{DelayInMinutes: 30, Targets: []gatehouse.EscalationTarget{{Type: gatehouse.TargetUser, ID: target.ID}}},
	}}
	if team != nil {
		p.Teams = []*gatehouse.Team{team}
	}
	if err := s.Scope(a.ID, sqlstore.CLI(a)).CreateEscalationPolicy(context.Background(), p); err != nil {
		t.Fatalf("CreateEscalationPolicy(%s): %v", name, err)
	}
	return p
}
