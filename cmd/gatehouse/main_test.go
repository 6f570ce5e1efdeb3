package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func TestMain(m *testing.M) {
	passwordParams = password.Cheap
	os.Exit(m.Run())
}

// noEnv is an environment with no GATEHOUSE_* variables.
func noEnv(string) string { return "" }

// dbArgs are the flags that point a command at cfg's database.
func dbArgs(cfg sqlstore.Config) []string {
	if cfg.DatabaseURL != "" {
		return []string{"--database-url", cfg.DatabaseURL}
	}
	return []string{"--data-dir", cfg.DataDir}
}

// runCLI runs the command as main would, with nothing on its standard
// input, and returns what it printed and its exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIWithInput(t, "", args...)
}

// runCLIWithInput is runCLI with input on the command's standard input.
func runCLIWithInput(t *testing.T, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, noEnv, strings.NewReader(input), &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// syncBuffer is a bytes.Buffer that a server goroutine writes while the test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running "gatehouse serve".
type server struct {
	URL            string
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	done           chan error
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer runs "gatehouse serve" on a free port and waits until it
// listens. The server is stopped when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), noEnv, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() { s.shutdown(t) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningLine.FindStringSubmatch(s.stderr.String()); m != nil {
			s.URL = "http://" + m[1]
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve ended before listening: %v\nstderr:\n%s", err, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen within 30s; stderr:\n%s", s.stderr)
	return nil
}

// shutdown stops the server as SIGTERM would and returns what run returned.
func (s *server) shutdown(t *testing.T) error {
	t.Helper()
	if s.stop == nil {
		return nil
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of its context ending")
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func getWithKey(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Token token="+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeFirstAndSecondStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		first := startServer(t, append(dbArgs(cfg), "--owner-email", "boss@example.com")...)
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := get(t, first.URL+path); code != http.StatusOK || body != "ok\n" {
				t.Errorf("GET %s = %d %q, want 200 \"ok\\n\"", path, code, body)
			}
		}
		// The CLI works on the same database while the server runs.
		if _, stderr, code := runCLI(t, append([]string{"users", "create", "--account", "default", "--email", "ops@example.com", "--name", "Ops", "--role", "user"}, dbArgs(cfg)...)...); code != 0 {
			t.Errorf("users create while serving: exit %d, %s", code, stderr)
		}
		if err := first.shutdown(t); err != nil {
			t.Fatalf("serve returned %v after a graceful shutdown, want nil", err)
		}
		out := first.stdout.String()
		pass := regexp.MustCompile(`Owner password:\s+(\S+)`).FindStringSubmatch(out)
		if !strings.Contains(out, "Owner email:     boss@example.com") || pass == nil || len(pass[1]) != 20 {
			t.Fatalf("first start printed:\n%s\nwant the owner's email and a 20-character password", out)
		}
		key := regexp.MustCompile(`REST API key:\s+(\S+)`).FindStringSubmatch(out)
		if key == nil || len(key[1]) != 20 || !strings.HasPrefix(key[1], "a+") {
			t.Fatalf("first start printed:\n%s\nwant a general access key", out)
		}
		if !strings.Contains(first.stderr.String(), "msg=stopped") {
			t.Errorf("stderr of a graceful shutdown lacks msg=stopped:\n%s", first.stderr)
		}

		second := startServer(t, dbArgs(cfg)...)
		if code, _ := get(t, second.URL+"/readyz"); code != http.StatusOK {
			t.Errorf("second start: GET /readyz = %d", code)
		}
		if code, body := getWithKey(t, second.URL+"/abilities", key[1]); code != http.StatusOK || !strings.Contains(body, `"rest_api"`) {
			t.Errorf("GET /abilities with the first key = %d %s", code, body)
		}
		// An unclean path is a PagerDuty 404, not a redirect.
		if code, body := getWithKey(t, second.URL+"//abilities", key[1]); code != http.StatusNotFound || !strings.Contains(body, `"code":2100`) {
			t.Errorf("GET //abilities = %d %s, want 404 code 2100", code, body)
		}
		second.shutdown(t)
		if out := second.stdout.String(); out != "" {
			t.Errorf("second start printed %q, want nothing", out)
		}
		stdout, _, _ := runCLI(t, append([]string{"users", "list", "--account", "default", "--json"}, dbArgs(cfg)...)...)
		var list struct{ Users []userJSON }
		if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list.Users) != 2 || list.Users[0].Email != "boss@example.com" || list.Users[0].Role != "owner" {
			t.Errorf("after two starts, users list = %s (%v), want the owner and ops", stdout, err)
		}
	})
}

func TestServeRefusesTakenAddress(t *testing.T) {
	t.Parallel()
	first := startServer(t, "--data-dir", t.TempDir())
	addr := strings.TrimPrefix(first.URL, "http://")
	_, stderr, code := runCLI(t, "serve", "--addr", addr, "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "listen") {
		t.Errorf("serve on a taken address: exit %d, stderr %q; want 1 and a listen error", code, stderr)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for range 2 {
		out, stderr, code := runCLI(t, "migrate", "--data-dir", dir)
		if code != 0 || out != "Database is up to date.\n" {
			t.Fatalf("migrate: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
	}
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Errorf("version: exit %d, stdout %q", code, out)
	}
}

func TestAccountsAndUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		db := dbArgs(cfg)
		out, stderr, code := runCLI(t, append([]string{"accounts", "create", "--subdomain", "acme", "--name", "Acme Inc", "--plan", "professional", "--json"}, db...)...)
		if code != 0 {
			t.Fatalf("accounts create: exit %d, stderr %q", code, stderr)
		}
		var created struct {
			Account accountJSON
			Owner   userJSON
		}
		if err := json.Unmarshal([]byte(out), &created); err != nil {
			t.Fatalf("accounts create --json printed %q: %v", out, err)
		}
		if created.Account.Plan != "professional" || created.Owner.Email != "owner@acme.example.com" || len(created.Owner.Password) != 20 {
			t.Errorf("accounts create --json = %+v", created)
		}

		out, stderr, code = runCLI(t, append([]string{"users", "create", "--account", "acme", "--email", "ada@example.com", "--name", "Ada", "--role", "admin"}, db...)...)
		if code != 0 || !regexp.MustCompile(`Password \(shown only now\): \S{20}\n`).MatchString(out) {
			t.Fatalf("users create: exit %d, stdout %q, stderr %q", code, out, stderr)
		}

		out, _, code = runCLI(t, append([]string{"users", "list", "--account", "acme"}, db...)...)
		if code != 0 || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "admin (Global Admin)") || !strings.Contains(out, "owner (Account Owner)") {
			t.Errorf("users list: exit %d, stdout:\n%s", code, out)
		}
		out, _, code = runCLI(t, append([]string{"accounts", "list"}, db...)...)
		if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "Acme Inc") {
			t.Errorf("accounts list: exit %d, stdout:\n%s", code, out)
		}
		if strings.Contains(out, created.Owner.Password) {
			t.Error("accounts list shows the owner's password")
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := []string{"--data-dir", dir}
	if _, stderr, code := runCLI(t, append([]string{"accounts", "create", "--subdomain", "acme", "--name", "Acme", "--plan", "business"}, db...)...); code != 0 {
		t.Fatalf("accounts create: %s", stderr)
	}
	if _, stderr, code := runCLI(t, append([]string{"users", "create", "--account", "acme", "--email", "ada@example.com", "--name", "Ada", "--role", "user"}, db...)...); code != 0 {
		t.Fatalf("users create: %s", stderr)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "gatehouse: no command given"},
		{"unknown command", []string{"frobnicate"}, 2, `gatehouse: unknown command "frobnicate"`},
		{"unknown subcommand", []string{"users", "remove"}, 2, `gatehouse: users: unknown subcommand "remove": create, delete, list, set-role`},
		{"missing subcommand", []string{"keys"}, 2, "gatehouse: keys: missing subcommand: create, delete, disable, enable, import, list"},
		{"version with arguments", []string{"version", "x"}, 2, `gatehouse: version: unexpected argument "x"`},
		{"set-role to owner", append([]string{"users", "set-role", "--account", "acme", "--email", "ada@example.com", "--role", "owner"}, db...), 1, "gatehouse: The account owner's role cannot be given or taken"},
		{"set-role unknown role", append([]string{"users", "set-role", "--account", "acme", "--email", "ada@example.com", "--role", "boss"}, db...), 1, `gatehouse: Role "boss" is not one of owner, admin, user, limited_user, observer, restricted_access, read_only_user, read_only_limited_user`},
		{"set-role unknown user", append([]string{"users", "set-role", "--account", "acme", "--email", "nobody@example.com", "--role", "user"}, db...), 1, `gatehouse: User "nobody@example.com" not found`},
		{"delete the owner", append([]string{"users", "delete", "--account", "acme", "--email", "owner@acme.example.com"}, db...), 1, "gatehouse: The account owner cannot be removed"},
		{"unknown flag", []string{"accounts", "list", "--colour"}, 2, "gatehouse: accounts list: flag provided but not defined: -colour"},
		{"missing flags", []string{"accounts", "create", "--name", "X"}, 2, "gatehouse: accounts create: missing --subdomain, --plan"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, 2, `gatehouse: --log-format must be text or json, not "xml"`},
		{"bad database url", []string{"migrate", "--database-url", "mysql://x"}, 2, "gatehouse: --database-url must start with postgres:// or postgresql://"},
		{"unknown plan", append([]string{"accounts", "create", "--subdomain", "b", "--name", "B", "--plan", "gold"}, db...), 1, `gatehouse: Plan "gold" is not one of lite, basic, free, professional, business, enterprise`},
		{"duplicate subdomain", append([]string{"accounts", "create", "--subdomain", "acme", "--name", "B", "--plan", "basic"}, db...), 1, `gatehouse: Subdomain "acme" is already taken`},
		{"bad subdomain", append([]string{"accounts", "create", "--subdomain", "-x-", "--name", "B", "--plan", "basic"}, db...), 1, `gatehouse: Subdomain "-x-" must be 1 to 63 lower-case letters, digits and inner hyphens`},
		{"unknown role", append([]string{"users", "create", "--account", "acme", "--email", "b@example.com", "--name", "B", "--role", "god"}, db...), 1, `gatehouse: Role "god" is not one of owner, admin, user, limited_user, observer, restricted_access, read_only_user, read_only_limited_user`},
		{"owner role", append([]string{"users", "create", "--account", "acme", "--email", "b@example.com", "--name", "B", "--role", "owner"}, db...), 1, "gatehouse: An account has one owner, created with the account; choose another role"},
		{"duplicate email", append([]string{"users", "create", "--account", "acme", "--email", "ADA@example.com", "--name", "B", "--role", "user"}, db...), 1, "gatehouse: Email has already been taken"},
		{"malformed email", append([]string{"users", "create", "--account", "acme", "--email", "ada-at-example", "--name", "B", "--role", "user"}, db...), 1, `gatehouse: Email "ada-at-example" is not a valid address`},
		{"unknown account", append([]string{"users", "list", "--account", "nope"}, db...), 1, `gatehouse: Account "nope" not found`},
		{"set-plan unknown plan", append([]string{"accounts", "set-plan", "--account", "acme", "--plan", "gold"}, db...), 1, `gatehouse: Plan "gold" is not one of lite, basic, free, professional, business, enterprise`},
		{"set-plan without plan", append([]string{"accounts", "set-plan", "--account", "acme"}, db...), 2, "gatehouse: accounts set-plan: missing --plan"},
		{"set-plan unknown account", append([]string{"accounts", "set-plan", "--account", "nope", "--plan", "lite"}, db...), 1, `gatehouse: Account "nope" not found`},
		{"grant unknown ability", append([]string{"accounts", "abilities", "--account", "acme", "--grant", "flying"}, db...), 1, `gatehouse: Ability "flying" is not one of advanced_permissions, read_only_users, rest_api, teams`},
		{"grant and revoke", append([]string{"accounts", "abilities", "--account", "acme", "--grant", "teams", "--revoke", "teams"}, db...), 2, `gatehouse: accounts abilities: "teams" is both granted and revoked`},
		{"abilities with argument", append([]string{"accounts", "abilities", "--account", "acme", "teams"}, db...), 2, `gatehouse: accounts abilities: unexpected argument "teams"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.code || !strings.HasPrefix(stderr, tt.want+"\n") {
				t.Errorf("gatehouse %s: exit %d, stderr %q; want exit %d, stderr starting %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestEnvironmentAndFlagPrecedence(t *testing.T) {
	t.Parallel()
	envDir, flagDir := t.TempDir(), t.TempDir()
	getenv := func(name string) string {
		if name == "GATEHOUSE_DATA_DIR" {
			return envDir
		}
		return ""
	}
	var out bytes.Buffer
	args := []string{"accounts", "create", "--subdomain", "envacct", "--name", "E", "--plan", "basic"}
	if err := run(context.Background(), args, getenv, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(envDir + "/gatehouse.db"); err != nil {
		t.Errorf("GATEHOUSE_DATA_DIR was not used: %v", err)
	}
	if err := run(context.Background(), []string{"accounts", "list", "--data-dir", flagDir}, getenv, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(flagDir + "/gatehouse.db"); err != nil {
		t.Errorf("--data-dir did not win over GATEHOUSE_DATA_DIR: %v", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"serve", "-h"}, {"users", "create", "-h"}, {"keys", "-h"}, {"accounts", "--help"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &errOut)
		if code := exitCode(err, io.Discard); code != 0 || out.Len()+errOut.Len() == 0 || !strings.Contains(out.String()+errOut.String(), "Usage") {
			t.Errorf("gatehouse %v: exit %d, output %q", args, code, out.String()+errOut.String())
		}
	}
}
