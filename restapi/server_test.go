package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// fixture is a REST API on a real store, served over real HTTP.
type fixture struct {
	store   *sqlstore.Store
	server  *Server
	URL     string
	limiter *ratelimit.Memory
	logs    *lockedBuffer
	stop    func()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixtureOption func(*Config)

func withRateLimit(n int) fixtureOption { return func(c *Config) { c.RateLimit = n } }

func newFixture(t *testing.T, store *sqlstore.Store, opts ...fixtureOption) *fixture {
	t.Helper()
	f := &fixture{store: store, limiter: ratelimit.NewMemory(), logs: &lockedBuffer{}}
	cfg := Config{
		Store:      store,
		Limiter:    f.limiter,
		RateLimit:  DefaultRateLimit,
		Logger:     slog.New(slog.NewTextHandler(f.logs, nil)),
		ChangePoll: 20 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.server = New(cfg)
	store.OnChange(f.server.ApplyChange)
	ts := httptest.NewServer(f.server)
	f.URL = ts.URL
	f.server.cfg.ExternalURL = ts.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.server.Run(ctx)
		close(done)
	}()
	f.stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(func() {
		ts.Close()
		f.stop()
	})
	<-f.server.Ready()
	return f
}

// response is what a client sees.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func (f *fixture) do(t *testing.T, method, path string, auth ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

func token(key string) string { return "Token token=" + key }

// mustKey creates a key in the store and returns it in full.
func mustKey(t testing.TB, s *sqlstore.Store, a *gatehouse.Account, u *gatehouse.User, readOnly bool) (string, *gatehouse.APIKey) {
	t.Helper()
	kind := gatehouse.KeyGeneral
	if u != nil {
		kind = gatehouse.KeyUserToken
	}
	secret := access.GenerateKey(kind)
	k := &gatehouse.APIKey{AccountID: a.ID, Kind: kind, Description: "test key", ReadOnly: readOnly,
		Hash: access.HashKey(secret), Last4: access.Last4(secret), CreatedBy: gatehouse.CLIActor}
	if u != nil {
		k.UserID = u.ID
	}
	if err := s.CreateKey(context.Background(), k); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return secret, k
}

// wantError checks a PagerDuty error answer and returns its errors lines.
func wantError(t *testing.T, r response, status, code int, message string) []string {
	t.Helper()
	if r.Status != status {
		t.Errorf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error struct {
			Message string
			Code    int
			Errors  []string
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("body %q is not a PagerDuty error: %v", r.Body, err)
	}
	if body.Error.Code != code || (message != "" && body.Error.Message != message) {
		t.Errorf("error = %+v, want code %d, message %q", body.Error, code, message)
	}
	return body.Error.Errors
}

func TestAuthorizationHeaders(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)
	unknown := access.GenerateKey(gatehouse.KeyGeneral)

	tests := []struct {
		name   string
		auth   []string
		status int
		why    string
	}{
		{"valid", []string{token(key)}, 200, ""},
		{"quoted", []string{`Token token="` + key + `"`}, 200, ""},
		{"missing", nil, 401, "The Authorization header is missing"},
		{"empty key", []string{"Token token="}, 401, "The Authorization header carries no credential"},
		{"19 characters", []string{token(key[:19])}, 401, "A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"},
		{"21 characters", []string{token(key + "x")}, 401, "A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"},
		{"non-ASCII", []string{token(key[:18] + "é")}, 401, "A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"},
		{"integration key", []string{token("0123456789abcdef0123456789abcdef")}, 401, "A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"},
		{"two headers", []string{token(key), token(key)}, 401, "The Authorization header must be given once"},
		{"lower-case scheme", []string{"token token=" + key}, 401, `The Authorization header must be "Token token=<API key>" or "Bearer <OAuth token>"`},
		{"no token=", []string{"Token " + key}, 401, `The Authorization header must be "Token token=<API key>" or "Bearer <OAuth token>"`},
		{"unknown key", []string{token(unknown)}, 401, "The API key is unknown, disabled or deleted"},
		{"unknown key again (cached)", []string{token(unknown)}, 401, "The API key is unknown, disabled or deleted"},
		{"bearer", []string{"Bearer sometoken"}, 401, "OAuth access tokens are not accepted by this server yet; use a REST API key"},
	}
	for _, tt := range tests {
		r := f.do(t, "GET", "/abilities", tt.auth...)
		if tt.status == 200 {
			if r.Status != 200 {
				t.Errorf("%s: status %d, body %s", tt.name, r.Status, r.Body)
			}
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, r, 401, gatehouse.CodeUnauthorized, "Authentication failed")
			if !slices.Equal(errs, []string{tt.why}) {
				t.Errorf("errors = %q, want [%q]", errs, tt.why)
			}
			if r.Header.Get("Ratelimit-Limit") != "" {
				t.Error("a refused credential drew on a rate limit")
			}
		})
	}
}

func TestAbilities(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	biz, _ := storetest.MustCreateAccount(t, s, "biz", gatehouse.PlanBusiness)
	basic, _ := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
	bizKey, _ := mustKey(t, s, biz, nil, true)
	basicKey, _ := mustKey(t, s, basic, nil, false)
	f := newFixture(t, s)

	r := f.do(t, "GET", "/abilities", token(bizKey))
	if r.Status != 200 || r.Body != `{"abilities":["advanced_permissions","read_only_users","rest_api","teams"]}` {
		t.Errorf("GET /abilities (business) = %d %s", r.Status, r.Body)
	}
	// Each key sees its own account.
	r = f.do(t, "GET", "/abilities", token(basicKey))
	if r.Status != 200 || r.Body != `{"abilities":["rest_api"]}` {
		t.Errorf("GET /abilities (basic) = %d %s", r.Status, r.Body)
	}
	if r := f.do(t, "GET", "/abilities/teams", token(bizKey)); r.Status != 204 || r.Body != "" {
		t.Errorf("GET /abilities/teams (business) = %d %q, want 204", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", "/abilities/teams", token(basicKey)), 402, gatehouse.CodeAbilityMissing, "The basic plan does not have the teams ability")
	wantError(t, f.do(t, "GET", "/abilities/flying", token(bizKey)), 404, gatehouse.CodeNotFound, "Not Found")

	// An ability withdrawn from the account is named as withdrawn, not as
	// missing from the plan.
	if _, err := s.SetAbilities(context.Background(), biz.ID, map[string]bool{gatehouse.AbilityTeams: false}, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	const withdrawn = "The teams ability has been withdrawn from this account, although the business plan has it"
	wantError(t, f.do(t, "GET", "/abilities/teams", token(bizKey)), 402, gatehouse.CodeAbilityMissing, withdrawn)
	wantError(t, f.do(t, "GET", "/teams", token(bizKey)), 402, gatehouse.CodeAbilityMissing, withdrawn)
}

func TestUsersMe(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleLimitedUser)
	tok, _ := mustKey(t, s, a, ada, false)
	general, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)

	r := f.do(t, "GET", "/users/me", token(tok))
	var got struct{ User map[string]any }
	if err := json.Unmarshal([]byte(r.Body), &got); r.Status != 200 || err != nil {
		t.Fatalf("GET /users/me = %d %s", r.Status, r.Body)
	}
	want := map[string]any{
		"id": ada.ID, "type": "user", "summary": "ada", "name": "ada", "email": "ada@acme.example.com",
		"self": f.URL + "/users/" + ada.ID, "html_url": f.URL + "/app/users/" + ada.ID,
		"role": "limited_user", "time_zone": "Etc/UTC",
	}
	for k, v := range want {
		if got.User[k] != v {
			t.Errorf("user.%s = %v, want %v", k, got.User[k], v)
		}
	}

	r = f.do(t, "GET", "/users/me", token(general))
	wantBody := `{"error":"Because this request was made using an account-level access token, we were unable to determine the user's identity. Please use a user-level token."}`
	if r.Status != 400 || r.Body != wantBody || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /users/me with a general key = %d %s, want 400 %s", r.Status, r.Body, wantBody)
	}
}

func TestReadOnlyKey(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ro, _ := mustKey(t, s, a, nil, true)
	full, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)
	for _, method := range []string{"GET", "HEAD"} {
		if r := f.do(t, method, "/abilities", token(ro)); r.Status != 200 {
			t.Errorf("read-only %s = %d", method, r.Status)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			wantError(t, f.do(t, method, "/abilities", token(ro)), 403, gatehouse.CodeForbidden, "This API key is read-only: it may only make GET requests")
			// A full key gets past the front door to the route: 404 here.
			wantError(t, f.do(t, method, "/abilities", token(full)), 404, gatehouse.CodeNotFound, "Not Found")
		})
	}
}

func TestPlanWithoutRESTAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "tiny", gatehouse.PlanLite)
	key, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)
	for _, path := range []string{"/abilities", "/users/me", "/nowhere"} {
		wantError(t, f.do(t, "GET", path, token(key)), 402, gatehouse.CodeAbilityMissing, "The REST API is not available on the lite plan")
	}
	// Granting the ability reaches the running server through the change feed.
	if _, err := s.SetAbilities(context.Background(), a.ID, map[string]bool{gatehouse.AbilityRESTAPI: true}, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the granted REST API to take effect", func() bool {
		return f.do(t, "GET", "/abilities", token(key)).Status == 200
	})
}

// TestRoutePermissions: each route's own permission is checked for user
// tokens, so a token can do only what its user's role can.
func TestRoutePermissions(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	f := newFixture(t, s)
	f.server.handle(&route{Pattern: "POST /manage", Perm: access.PermManage, Handle: func(*request) (int, any, error) {
		return http.StatusCreated, nil, nil
	}})
	general, _ := mustKey(t, s, a, nil, false)
	if r := f.do(t, "POST", "/manage", token(general)); r.Status != http.StatusCreated {
		t.Errorf("general key: %d %s", r.Status, r.Body)
	}
	for _, tt := range []struct {
		role gatehouse.Role
		want int
	}{
		{gatehouse.RoleAdmin, 201},
		{gatehouse.RoleUser, 201},
		{gatehouse.RoleLimitedUser, 403},
		{gatehouse.RoleRestrictedAccess, 403},
		{gatehouse.RoleObserver, 403},
		{gatehouse.RoleReadOnlyUser, 403},
	} {
		u := storetest.MustCreateUser(t, s, a, string(tt.role), tt.role)
		tok, _ := mustKey(t, s, a, u, false)
		r := f.do(t, "POST", "/manage", token(tok))
		if tt.want == 403 {
			wantError(t, r, 403, gatehouse.CodeForbidden, fmt.Sprintf("Your role, %s (%s), is not permitted to perform this action", tt.role.UIName(), tt.role))
		} else if r.Status != tt.want {
			t.Errorf("%s token: %d %s, want %d", tt.role, r.Status, r.Body, tt.want)
		}
	}
}

func TestUncleanPaths(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)
	// A trailing slash is taken, as PagerDuty takes it.
	for _, p := range []string{"/abilities/", "/users/me/"} {
		req, _ := http.NewRequest("GET", f.URL+p, nil)
		req.Header.Set("Authorization", token(key))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && !(p == "/users/me/" && resp.StatusCode == http.StatusBadRequest) {
			t.Errorf("GET %s = %d, want it served as without the slash", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"//abilities", "/abilities//", "/abilities/../users/me", "/./abilities"} {
		req, _ := http.NewRequest("GET", f.URL+"/x", nil)
		req.URL.Path = p
		req.Header.Set("Authorization", token(key))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantError(t, response{resp.StatusCode, resp.Header, string(body)}, 404, gatehouse.CodeNotFound, "Not Found")
	}
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s)
	wantError(t, f.do(t, "GET", "/no/such/thing", token(key)), 404, gatehouse.CodeNotFound, "Not Found")
	// The credential is checked first: an unknown path tells a stranger
	// nothing.
	wantError(t, f.do(t, "GET", "/no/such/thing"), 401, gatehouse.CodeUnauthorized, "Authentication failed")
}

// waitFor polls cond until it holds or a second has passed: the change feed
// promises that changes made elsewhere take effect within 1 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 1s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyLifecycleTakesEffect(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	ctx := context.Background()
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
	key, k := mustKey(t, s, a, nil, false)
	tok, _ := mustKey(t, s, a, ada, false)
	f := newFixture(t, s)
	ok := func(secret string) bool { return f.do(t, "GET", "/abilities", token(secret)).Status == 200 }

	if !ok(key) || !ok(tok) {
		t.Fatal("fresh keys do not work")
	}
	if err := s.DisableKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a disabled key to stop working", func() bool { return !ok(key) })
	wantError(t, f.do(t, "GET", "/abilities", token(key)), 401, gatehouse.CodeUnauthorized, "Authentication failed")
	if err := s.EnableKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an enabled key to work again", func() bool { return ok(key) })
	if err := s.DeleteKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a deleted key to stop working", func() bool { return !ok(key) })

	// A role change is seen by the user's token.
	if err := s.SetUserRole(ctx, a.ID, ada.ID, gatehouse.RoleObserver); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a role change to reach the token", func() bool {
		return strings.Contains(f.do(t, "GET", "/users/me", token(tok)).Body, `"role":"observer"`)
	})
	// A removed user's token stops working.
	if err := s.DeleteUser(ctx, a.ID, ada.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a deleted user's token to stop working", func() bool { return !ok(tok) })
	wantError(t, f.do(t, "GET", "/users/me", token(tok)), 401, gatehouse.CodeUnauthorized, "Authentication failed")
}

// TestChangesTakeEffectAtOnce: a change made through this node's store
// needs no poll of the feed.
func TestChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	ctx := context.Background()
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleAdmin)
	key, k := mustKey(t, s, a, nil, false)
	tok, _ := mustKey(t, s, a, ada, false)
	f := newFixture(t, s, func(c *Config) { c.ChangePoll = time.Hour })
	steps := []struct {
		name   string
		change func() error
		secret string
		want   int
	}{
		{"fresh key", func() error { return nil }, key, 200},
		{"disabled", func() error { return s.DisableKey(ctx, a.ID, k.ID, gatehouse.CLIActor) }, key, 401},
		{"enabled", func() error { return s.EnableKey(ctx, a.ID, k.ID, gatehouse.CLIActor) }, key, 200},
		{"deleted", func() error { return s.DeleteKey(ctx, a.ID, k.ID, gatehouse.CLIActor) }, key, 401},
		{"token of an admin", func() error { return nil }, tok, 200},
		{"user demoted to observer", func() error { return s.SetUserRole(ctx, a.ID, ada.ID, gatehouse.RoleObserver) }, tok, 200},
		{"user demoted to Limited Stakeholder", func() error {
			return s.SetUserRole(ctx, a.ID, ada.ID, gatehouse.RoleReadOnlyLimitedUser)
		}, tok, 403},
		{"user promoted again", func() error { return s.SetUserRole(ctx, a.ID, ada.ID, gatehouse.RoleUser) }, tok, 200},
		{"account lost advanced permissions", func() error {
			_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityAdvancedPermissions: false}, gatehouse.CLIActor)
			return err
		}, tok, 402},
		{"account got them back", func() error {
			_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityAdvancedPermissions: true}, gatehouse.CLIActor)
			return err
		}, tok, 200},
		{"user removed", func() error { return s.DeleteUser(ctx, a.ID, ada.ID, gatehouse.CLIActor) }, tok, 401},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		r := f.do(t, "GET", "/users/me", token(step.secret))
		if step.secret == key && r.Status == 400 {
			r.Status = 200 // a general key's /users/me answer: the key works
		}
		if r.Status != step.want {
			t.Errorf("%s: GET /users/me = %d %s, want %d", step.name, r.Status, r.Body, step.want)
		}
		if step.name == "user demoted to observer" && !strings.Contains(r.Body, `"role":"observer"`) {
			t.Errorf("after the demotion, /users/me = %s", r.Body)
		}
	}
}

// TestChangesFromAnotherNode runs two servers on one database, on both
// engines: a key disabled through one store stops working on the other node.
func TestChangesFromAnotherNode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		cli := storetest.Open(t, cfg)
		node := storetest.Open(t, cfg)
		a, _ := storetest.MustCreateAccount(t, cli, "acme", gatehouse.PlanBusiness)
		key, k := mustKey(t, cli, a, nil, false)
		f := newFixture(t, node, func(c *Config) { c.ChangePoll = 200 * time.Millisecond })
		if r := f.do(t, "GET", "/abilities", token(key)); r.Status != 200 {
			t.Fatalf("GET /abilities = %d", r.Status)
		}
		if err := cli.DisableKey(context.Background(), a.ID, k.ID, gatehouse.CLIActor); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a key disabled on another node to stop working", func() bool {
			return f.do(t, "GET", "/abilities", token(key)).Status == 401
		})
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
	key, _ := mustKey(t, s, a, nil, false)
	other, _ := mustKey(t, s, a, nil, false)
	tok1, _ := mustKey(t, s, a, ada, false)
	tok2, _ := mustKey(t, s, a, ada, false)
	f := newFixture(t, s, withRateLimit(3))
	now := time.Now()
	var mu sync.Mutex
	f.limiter.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	type headers struct{ Limit, Remaining, Reset, RetryAfter string }
	get := func(secret string) (int, headers) {
		r := f.do(t, "GET", "/abilities", token(secret))
		return r.Status, headers{r.Header.Get("Ratelimit-Limit"), r.Header.Get("Ratelimit-Remaining"), r.Header.Get("Ratelimit-Reset"), r.Header.Get("Retry-After")}
	}
	for i, want := range []headers{{"3", "2", "20", ""}, {"3", "1", "40", ""}, {"3", "0", "60", ""}} {
		status, h := get(key)
		if status != 200 || h != want {
			t.Errorf("request %d: %d %+v, want 200 %+v", i+1, status, h, want)
		}
	}
	r := f.do(t, "GET", "/abilities", token(key))
	wantError(t, r, 429, gatehouse.CodeRateLimited, "Rate Limit Exceeded")
	if got := (headers{r.Header.Get("Ratelimit-Limit"), r.Header.Get("Ratelimit-Remaining"), r.Header.Get("Ratelimit-Reset"), r.Header.Get("Retry-After")}); got != (headers{"3", "0", "60", "20"}) {
		t.Errorf("429 headers = %+v", got)
	}
	// Another key has its own allowance.
	if status, _ := get(other); status != 200 {
		t.Errorf("another key: %d, want 200", status)
	}
	// A user's tokens share one allowance.
	get(tok1)
	get(tok2)
	get(tok1)
	if status, _ := get(tok2); status != 429 {
		t.Errorf("fourth request across one user's tokens: %d, want 429", status)
	}
	// The counter resets.
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if status, h := get(key); status != 200 || h.Remaining != "2" {
		t.Errorf("after a minute: %d %+v, want 200 with 2 remaining", status, h)
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, a, nil, false)
	f := newFixture(t, s, withRateLimit(0))
	for range 5 {
		r := f.do(t, "GET", "/abilities", token(key))
		if r.Status != 200 || r.Header.Get("Ratelimit-Limit") != "" {
			t.Fatalf("with limits off: %d, ratelimit-limit %q", r.Status, r.Header.Get("Ratelimit-Limit"))
		}
	}
}

func TestLastUsedIsBatched(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	ctx := context.Background()
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleUser)
	tok, k := mustKey(t, s, a, ada, false)
	f := newFixture(t, s)
	for range 3 {
		f.do(t, "GET", "/users/me", token(tok))
	}
	if got, _ := s.KeyByID(ctx, a.ID, k.ID); !got.LastUsedAt.IsZero() {
		t.Errorf("last used was written per request: %v", got.LastUsedAt)
	}
	f.stop() // Run flushes as it ends.
	got, _ := s.KeyByID(ctx, a.ID, k.ID)
	if got.LastUsedAt.IsZero() || time.Since(got.LastUsedAt) > 2*time.Minute || got.LastUsedFrom != "127.0.0.1" {
		t.Errorf("after the flush, last used = %v from %q, want a minute ago from 127.0.0.1", got.LastUsedAt, got.LastUsedFrom)
	}
}

func TestCacheStaysBounded(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	f := newFixture(t, s, func(c *Config) { c.CacheSize = 32 })
	for range 100 {
		f.do(t, "GET", "/abilities", token(access.GenerateKey(gatehouse.KeyGeneral)))
	}
	if known, unknown := f.server.keys.Len(); known+unknown > 32 {
		t.Errorf("cache holds %d entries, bound is 32", known+unknown)
	}
}
