package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// waitForStatus polls url with key until it answers want, for at most the
// second within which a change made by the CLI must reach a running server.
func waitForStatus(t *testing.T, url, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		code, body := getWithKey(t, url, key)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s still answers %d %s after 1s, want %d", url, code, body, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeysLifecycleWhileServing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		db := dbArgs(cfg)
		srv := startServer(t, db...)
		cli := func(args ...string) (string, string, int) {
			t.Helper()
			return runCLI(t, append(args, db...)...)
		}

		key, stderr, code := cli("keys", "create", "--account", "default", "--description", "CI pipeline")
		key = strings.TrimSuffix(key, "\n")
		if code != 0 || len(key) != 20 || !strings.HasPrefix(key, "a+") || stderr != "" {
			t.Fatalf("keys create: exit %d, stdout %q, stderr %q; want the key alone on stdout", code, key, stderr)
		}
		waitForStatus(t, srv.URL+"/abilities", key, 200)

		ro, _, _ := cli("keys", "create", "--account", "default", "--description", "dashboards", "--read-only")
		ro = strings.TrimSpace(ro)
		req, _ := http.NewRequest("POST", srv.URL+"/abilities", nil)
		req.Header.Set("Authorization", "Token token="+ro)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("POST with the read-only key: %v %v, want 403", resp, err)
		}

		out, _, code := cli("keys", "list", "--account", "default", "--json")
		var list struct {
			General []keyJSON `json:"general_access_keys"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
			t.Fatalf("keys list --json: exit %d, %v, %s", code, err, out)
		}
		if strings.Contains(out, key) || strings.Contains(out, ro) {
			t.Fatal("keys list shows a key in full")
		}
		var id string
		for _, k := range list.General {
			if k.Last4 == key[16:] {
				id = k.ID
				if k.Description != "CI pipeline" || k.Access != "full" || k.APIVersion != 2 || k.CreatedBy != "gatehouse CLI" || k.DisabledAt != nil {
					t.Errorf("keys list entry = %+v", k)
				}
			}
		}
		if id == "" || len(list.General) != 3 {
			t.Fatalf("keys list --json = %s, want the first start's key and the two new ones", out)
		}
		text, _, _ := cli("keys", "list", "--account", "default")
		if !strings.Contains(text, "…"+key[16:]) || !strings.Contains(text, "read-only") || strings.Contains(text, key) {
			t.Errorf("keys list:\n%s", text)
		}

		if out, stderr, code := cli("keys", "disable", "--account", "default", id); code != 0 {
			t.Fatalf("keys disable: %d %s %s", code, out, stderr)
		}
		waitForStatus(t, srv.URL+"/abilities", key, 401)
		text, _, _ = cli("keys", "list", "--account", "default")
		if !regexp.MustCompile(`by gatehouse CLI at \d{4}-`).MatchString(text) {
			t.Errorf("keys list does not show who disabled the key and when:\n%s", text)
		}
		cli("keys", "enable", "--account", "default", id)
		waitForStatus(t, srv.URL+"/abilities", key, 200)
		cli("keys", "delete", "--account", "default", id)
		waitForStatus(t, srv.URL+"/abilities", key, 401)
		if _, stderr, code := cli("keys", "enable", "--account", "default", id); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("enabling a deleted key: exit %d, %q", code, stderr)
		}

		// Imported keys work as given.
		imported := "y_hgyKEgwHWwTb5y8Gno"
		if out, stderr, code := cli("keys", "import", "--account", "default", "--description", "from PagerDuty", imported); code != 0 || !strings.Contains(out, "Imported key …8Gno") {
			t.Fatalf("keys import: %d %q %q", code, out, stderr)
		}
		waitForStatus(t, srv.URL+"/abilities", imported, 200)

		// A user token acts as its user.
		cli("users", "create", "--account", "default", "--email", "ada@example.com", "--name", "Ada", "--role", "limited_user")
		tok, stderr, code := cli("keys", "create", "--account", "default", "--user", "ada@example.com", "--description", "my laptop")
		tok = strings.TrimSpace(tok)
		if code != 0 || !strings.HasPrefix(tok, "u+") {
			t.Fatalf("keys create --user: %d %q %q", code, tok, stderr)
		}
		waitForStatus(t, srv.URL+"/users/me", tok, 200)
		if _, body := getWithKey(t, srv.URL+"/users/me", tok); !strings.Contains(body, `"email":"ada@example.com"`) {
			t.Errorf("GET /users/me with ada's token = %s", body)
		}
		text, _, _ = cli("keys", "list", "--account", "default")
		if !strings.Contains(text, "ada@example.com") || !strings.Contains(text, "never") {
			t.Errorf("keys list lacks ada's token:\n%s", text)
		}

		// A role change and a removal from the CLI reach the running server.
		if out, stderr, code := cli("users", "set-role", "--account", "default", "--email", "ada@example.com", "--role", "read_only_limited_user"); code != 0 || out != "ada@example.com is now read_only_limited_user (Limited Stakeholder).\n" {
			t.Fatalf("users set-role: %d %q %q", code, out, stderr)
		}
		waitForStatus(t, srv.URL+"/users/me", tok, 403)
		cli("users", "set-role", "--account", "default", "--email", "ada@example.com", "--role", "observer")
		waitForStatus(t, srv.URL+"/users/me", tok, 200)
		if _, body := getWithKey(t, srv.URL+"/users/me", tok); !strings.Contains(body, `"role":"observer"`) {
			t.Errorf("after set-role observer, /users/me = %s", body)
		}
		if out, stderr, code := cli("users", "delete", "--account", "default", "--email", "ada@example.com"); code != 0 || !strings.Contains(out, "Removed ada@example.com") {
			t.Fatalf("users delete: %d %q %q", code, out, stderr)
		}
		waitForStatus(t, srv.URL+"/users/me", tok, 401)
		text, _, _ = cli("keys", "list", "--account", "default")
		if strings.Contains(text, "ada@example.com") {
			t.Errorf("a removed user's token is still listed:\n%s", text)
		}
	})
}

func TestKeysBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := []string{"--data-dir", dir}
	setup := [][]string{
		{"accounts", "create", "--subdomain", "biz", "--name", "Biz", "--plan", "business"},
		{"accounts", "create", "--subdomain", "pro", "--name", "Pro", "--plan", "professional"},
		{"accounts", "create", "--subdomain", "tiny", "--name", "Tiny", "--plan", "lite"},
		{"users", "create", "--account", "biz", "--email", "limited@example.com", "--name", "L", "--role", "read_only_limited_user"},
		{"users", "create", "--account", "biz", "--email", "ada@example.com", "--name", "Ada", "--role", "user"},
		{"users", "create", "--account", "pro", "--email", "ada@example.com", "--name", "Ada", "--role", "user"},
	}
	for _, args := range setup {
		if _, stderr, code := runCLI(t, append(args, db...)...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	tok, _, _ := runCLI(t, append([]string{"keys", "create", "--account", "biz", "--user", "ada@example.com", "--description", "d", "--json"}, db...)...)
	var created struct {
		APIKey keyJSON `json:"api_key"`
	}
	json.Unmarshal([]byte(tok), &created)
	runCLI(t, append([]string{"keys", "import", "--account", "biz", "--description", "d", "y_hgyKEgwHWwTb5y8Gno"}, db...)...)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no description", []string{"keys", "create", "--account", "biz"}, 2, "gatehouse: keys create: missing --description"},
		{"blank description", []string{"keys", "create", "--account", "biz", "--description", "   "}, 1, "gatehouse: Description must not be empty"},
		{"lite plan", []string{"keys", "create", "--account", "tiny", "--description", "d"}, 1, "gatehouse: The REST API is not available on the lite plan"},
		{"token without advanced permissions", []string{"keys", "create", "--account", "pro", "--user", "ada@example.com", "--description", "d"}, 1, "gatehouse: API user tokens need Advanced Permissions, which the professional plan does not have"},
		{"token for a limited stakeholder", []string{"keys", "create", "--account", "biz", "--user", "limited@example.com", "--description", "d"}, 1, "gatehouse: Limited Stakeholders (read_only_limited_user) cannot have API user tokens"},
		{"token of unknown user", []string{"keys", "create", "--account", "biz", "--user", "nobody@example.com", "--description", "d"}, 1, `gatehouse: User "nobody@example.com" not found`},
		{"read-only token", []string{"keys", "create", "--account", "biz", "--user", "ada@example.com", "--description", "d", "--read-only"}, 2, "gatehouse: --read-only is for general keys: a user token can do what its user's role allows"},
		{"import 19 characters", []string{"keys", "import", "--account", "biz", "--description", "d", "y_hgyKEgwHWwTb5y8Gn"}, 1, "gatehouse: A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"},
		{"import twice", []string{"keys", "import", "--account", "biz", "--description", "d", "y_hgyKEgwHWwTb5y8Gno"}, 1, "gatehouse: This key is already in use"},
		{"import a key that reads as a flag", []string{"keys", "import", "--account", "biz", "--description", "d", "-bcdefghijklmnopqrst"}, 2, "gatehouse: keys import: flag provided but not defined: -<key …qrst>"},
		{"import without key", []string{"keys", "import", "--account", "biz", "--description", "d"}, 2, "gatehouse: keys import: give the key to import as the one argument, or - to read it from standard input"},
		{"disable a token", []string{"keys", "disable", "--account", "biz", created.APIKey.ID}, 1, "gatehouse: Only general access keys can be disabled; a user token can only be deleted"},
		{"disable unknown", []string{"keys", "disable", "--account", "biz", "PNOPE00"}, 1, "gatehouse: API key PNOPE00 not found"},
		{"disable without id", []string{"keys", "disable", "--account", "biz"}, 2, "gatehouse: keys disable: give the key's ID (from keys list) as the one argument"},
		{"key of another account", []string{"keys", "delete", "--account", "pro", created.APIKey.ID}, 1, "gatehouse: API key " + created.APIKey.ID + " not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append(tt.args, db...)...)
			if code != tt.code || !strings.HasPrefix(stderr, tt.want+"\n") {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr starting %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if created.APIKey.ID == "" || created.APIKey.Key == "" {
		t.Errorf("keys create --json = %s", tok)
	}
}
