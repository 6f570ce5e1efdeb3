package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// fields splits text output into lines of whitespace-separated fields, so
// that a table compares without its padding.
func fields(out string) [][]string {
	var rows [][]string
	for line := range strings.Lines(out) {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestAccountPlanAndAbilitiesWhileServing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		db := dbArgs(cfg)
		srv := startServer(t, db...)
		cli := func(args ...string) string {
			t.Helper()
			out, stderr, code := runCLI(t, append(args, db...)...)
			if code != 0 {
				t.Fatalf("gatehouse %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
			}
			return out
		}
		key := strings.TrimSpace(cli("keys", "create", "--account", "default", "--description", "CI"))
		cli("users", "create", "--account", "default", "--email", "ada@example.com", "--name", "Ada", "--role", "user")
		cli("users", "create", "--account", "default", "--email", "eve@example.com", "--name", "Eve", "--role", "observer")
		tok := strings.TrimSpace(cli("keys", "create", "--account", "default", "--user", "ada@example.com", "--description", "laptop"))
		abilities, me := srv.URL+"/abilities", srv.URL+"/users/me"
		waitForStatus(t, abilities, key, 200)
		waitForStatus(t, me, tok, 200)

		steps := []struct {
			args []string
			want string // the output, its table compared without padding
		}{
			{[]string{"accounts", "abilities", "--account", "default"}, `
ABILITY PLAN business ACCOUNT
advanced_permissions yes yes
read_only_users yes yes
rest_api yes yes
teams yes yes
`},
			{[]string{"accounts", "set-plan", "--account", "default", "--plan", "lite"}, `
default is now on the lite plan (was business).
ABILITY PLAN lite ACCOUNT
advanced_permissions no no
read_only_users no no
rest_api no no
teams no no
Note: without rest_api, every REST API request with the account's keys is refused (402)
Note: these users keep roles the account could no longer give, as on PagerDuty: eve@example.com (observer, which needs advanced_permissions)
`},
			{[]string{"accounts", "set-plan", "--account", "default", "--plan", "professional"}, `
default is now on the professional plan (was lite).
ABILITY PLAN professional ACCOUNT
advanced_permissions no no
read_only_users yes yes
rest_api yes yes
teams yes yes
Note: without advanced_permissions, the account's 1 API user tokens are refused (402); they work again if it returns
Note: these users keep roles the account could no longer give, as on PagerDuty: eve@example.com (observer, which needs advanced_permissions)
`},
			{[]string{"accounts", "abilities", "--account", "default", "--grant", "advanced_permissions", "--revoke", "teams"}, `
Abilities of default changed.
ABILITY PLAN professional ACCOUNT
advanced_permissions no yes (granted)
read_only_users yes yes
rest_api yes yes
teams yes no (revoked)
`},
			{[]string{"accounts", "abilities", "--account", "default", "--revoke", "rest_api"}, `
Abilities of default changed.
ABILITY PLAN professional ACCOUNT
advanced_permissions no yes (granted)
read_only_users yes yes
rest_api yes no (revoked)
teams yes no (revoked)
Note: without rest_api, every REST API request with the account's keys is refused (402)
`},
			// Granting what the plan gives makes the account follow its plan.
			{[]string{"accounts", "abilities", "--account", "default", "--grant", "rest_api", "--grant", "teams"}, `
Abilities of default changed.
ABILITY PLAN professional ACCOUNT
advanced_permissions no yes (granted)
read_only_users yes yes
rest_api yes yes
teams yes yes
`},
			{[]string{"accounts", "set-plan", "--account", "default", "--plan", "professional"}, `
default is already on the professional plan.
ABILITY PLAN professional ACCOUNT
advanced_permissions no yes (granted)
read_only_users yes yes
rest_api yes yes
teams yes yes
`},
		}
		// What a running server answers the account's key and user token
		// after each step: changes reach it as key changes do.
		answers := [][2]int{{200, 200}, {402, 402}, {200, 402}, {200, 200}, {402, 402}, {200, 200}, {200, 200}}
		for i, step := range steps {
			out := cli(step.args...)
			if diff := cmp.Diff(fields(strings.TrimPrefix(step.want, "\n")), fields(out)); diff != "" {
				t.Errorf("gatehouse %s (-want +got):\n%s\noutput:\n%s", strings.Join(step.args, " "), diff, out)
			}
			waitForStatus(t, abilities, key, answers[i][0])
			waitForStatus(t, me, tok, answers[i][1])
		}

		out := cli("accounts", "abilities", "--account", "default", "--json")
		var got struct {
			Account accountJSON `json:"account"`
			Notes   []string    `json:"notes"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("accounts abilities --json printed %s: %v", out, err)
		}
		wantAbilities := []string{"advanced_permissions", "read_only_users", "rest_api", "teams"}
		if got.Account.Plan != "professional" || !slices.Equal(got.Account.Abilities, wantAbilities) ||
			!cmp.Equal(got.Account.AbilityOverrides, map[string]bool{"advanced_permissions": true}) || got.Notes == nil || len(got.Notes) != 0 {
			t.Errorf("accounts abilities --json = %s", out)
		}

		// Each change is in the account's audit trail, made by the CLI.
		s := storetest.Open(t, cfg)
		a, err := s.AccountBySubdomain(context.Background(), "default")
		if err != nil {
			t.Fatal(err)
		}
		records, _, err := s.AuditRecords(context.Background(), a.ID, sqlstore.AuditQuery{Limit: 6})
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, r := range records {
			if r.RootResource.Type == "account_reference" && r.Actor == gatehouse.CLIActor {
				for _, f := range r.Fields {
					details = append(details, fmt.Sprintf("%s: %s → %s", f.Name, *f.BeforeValue, *f.Value))
				}
			}
		}
		wantDetails := []string{
			"abilities (rest_api as the plan presets, teams as the plan presets): advanced_permissions, read_only_users → advanced_permissions, read_only_users, rest_api, teams",
			"abilities (withdrew rest_api): advanced_permissions, read_only_users, rest_api → advanced_permissions, read_only_users",
			"abilities (granted advanced_permissions, withdrew teams): read_only_users, rest_api, teams → advanced_permissions, read_only_users, rest_api",
			"plan: lite → professional",
			"plan: business → lite",
		}
		if diff := cmp.Diff(wantDetails, details); diff != "" {
			t.Errorf("audit trail of the account, newest first (-want +got):\n%s", diff)
		}
	})
}

func TestKeysImportFromStandardInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		db := dbArgs(cfg)
		if _, stderr, code := runCLI(t, append([]string{"accounts", "create", "--subdomain", "acme", "--name", "Acme", "--plan", "business"}, db...)...); code != 0 {
			t.Fatalf("accounts create: %s", stderr)
		}
		const key = "y_hgyKEgwHWwTb5y8Gno"
		importArgs := append([]string{"keys", "import", "--account", "acme", "--description", "from PagerDuty", "-"}, db...)
		out, stderr, code := runCLIWithInput(t, key+"\n", importArgs...)
		if code != 0 || !strings.HasPrefix(out, "Imported key …8Gno as P") {
			t.Fatalf("keys import - with the key on standard input: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		if strings.Contains(out+stderr, key) {
			t.Errorf("keys import printed the key: %q %q", out, stderr)
		}
		s := storetest.Open(t, cfg)
		cred, err := s.CredentialByHash(context.Background(), access.HashKey(key))
		if err != nil || cred.Key.Description != "from PagerDuty" {
			t.Fatalf("the key read from standard input is not stored: %+v, %v", cred, err)
		}

		for _, tt := range []struct{ name, input, want string }{
			{"the same key again", key, "gatehouse: This key is already in use\n"},
			{"nothing", "", "gatehouse: read key from standard input: EOF\n"},
			{"a short key", "abc\n", "gatehouse: A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -\n"},
		} {
			if _, stderr, code := runCLIWithInput(t, tt.input, importArgs...); code != 1 || stderr != tt.want {
				t.Errorf("keys import - with %s on standard input: exit %d, stderr %q; want 1, %q", tt.name, code, stderr, tt.want)
			}
		}
	})
}

// TestDatabaseDown: a command whose database does not answer says so, and
// why, at once.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	_, stderr, code := runCLI(t, "accounts", "list", "--database-url", "postgres://postgres@127.0.0.1:1/gatehouse?sslmode=disable")
	if code != 1 || !strings.HasPrefix(stderr, "gatehouse: The database did not answer; try again in a few seconds: ") || !strings.Contains(stderr, "connect") {
		t.Errorf("accounts list with no database: exit %d, stderr %q; want 1 and the reason", code, stderr)
	}
}
