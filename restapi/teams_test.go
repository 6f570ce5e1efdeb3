package restapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// send makes a request with a JSON body and returns what the client sees.
func (f *fixture) send(t *testing.T, method, path, auth, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// decodeBody decodes a response's JSON body, failing the test on another
// status than want.
func decodeBody[T any](t *testing.T, r response, want int) T {
	t.Helper()
	var v T
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body %s", r.Status, want, r.Body)
	}
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	return v
}

func TestTeamsAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	basic, _ := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
	key, _ := mustKey(t, s, acme, nil, false)
	readOnly, _ := mustKey(t, s, acme, nil, true)
	otherKey, _ := mustKey(t, s, other, nil, false)
	basicKey, _ := mustKey(t, s, basic, nil, false)
	ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
	observer, _ := mustKey(t, s, acme, storetest.MustCreateUser(t, s, acme, "olga", gatehouse.RoleObserver), false)
	stakeholder := storetest.MustCreateUser(t, s, acme, "sam", gatehouse.RoleReadOnlyUser)
	f := newFixture(t, s)

	type team struct {
		ID, Type, Summary, Self, Name, Description string
		HTMLURL                                    string `json:"html_url"`
		DefaultRole                                string `json:"default_role"`
		Parent                                     *reference
	}
	created := decodeBody[struct{ Team team }](t,
		f.send(t, "POST", "/teams", token(key), `{"team":{"type":"team","name":"Ops","description":"On call","id":"PIGNORED","unknown":1}}`), 201).Team
	want := team{ID: created.ID, Type: "team", Summary: "Ops", Self: f.URL + "/teams/" + created.ID, HTMLURL: f.URL + "/app/teams/" + created.ID,
		Name: "Ops", Description: "On call", DefaultRole: "manager"}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("POST /teams (-want +got):\n%s", diff)
	}
	if got := decodeBody[struct{ Team team }](t, f.do(t, "GET", "/teams/"+created.ID, token(key)), 200).Team; got != want {
		t.Errorf("GET /teams/{id} = %+v, want %+v", got, want)
	}

	// PUT changes what it is given and keeps the rest.
	want.Name, want.Summary = "Operations", "Operations"
	if got := decodeBody[struct{ Team team }](t, f.send(t, "PUT", "/teams/"+created.ID, token(key), `{"team":{"name":"Operations"}}`), 200).Team; got != want {
		t.Errorf("PUT /teams/{id} = %+v, want %+v", got, want)
	}
	lst := decodeBody[struct {
		Teams         []team
		Limit, Offset int
		More          bool
		Total         *int
	}](t, f.do(t, "GET", "/teams?query=oper&total=true", token(key)), 200)
	if len(lst.Teams) != 1 || lst.Teams[0] != want || lst.Limit != 25 || lst.More || lst.Total == nil || *lst.Total != 1 {
		t.Errorf("GET /teams?query=oper = %+v", lst)
	}

	// Members.
	if r := f.send(t, "PUT", "/teams/"+created.ID+"/users/"+ada.ID, token(key), `{"role":"responder"}`); r.Status != 204 {
		t.Errorf("PUT member = %d %s", r.Status, r.Body)
	}
	members := decodeBody[struct {
		Members []struct {
			User struct{ ID, Type, Email string }
			Role string
		}
	}](t, f.do(t, "GET", "/teams/"+created.ID+"/members?include[]=users", token(key)), 200)
	if len(members.Members) != 1 || members.Members[0].User.ID != ada.ID || members.Members[0].User.Type != "user" ||
		members.Members[0].User.Email != ada.Email || members.Members[0].Role != "responder" {
		t.Errorf("GET members = %+v", members)
	}
	wantError(t, f.send(t, "PUT", "/teams/"+created.ID+"/users/"+stakeholder.ID, token(key), `{"role":"observer"}`), 400, gatehouse.CodeInvalidInput, "")
	if r := f.do(t, "DELETE", "/teams/"+created.ID+"/users/"+ada.ID, token(key)); r.Status != 204 {
		t.Errorf("DELETE member = %d %s", r.Status, r.Body)
	}

	// Refusals.
	for _, tt := range []struct {
		name, method, path, auth, body string
		status, code                   int
		problem                        string
	}{
		{"missing name", "POST", "/teams", token(key), `{"team":{"description":"x"}}`, 400, 2001, "Name must not be empty"},
		{"name taken", "POST", "/teams", token(key), `{"team":{"name":"Operations"}}`, 400, 2001, "Name has already been taken"},
		{"wrong types", "POST", "/teams", token(key), `{"team":{"name":7,"default_role":true}}`, 400, 2001, "team.name must be a string, not a number"},
		{"unknown default role", "POST", "/teams", token(key), `{"team":{"name":"x","default_role":"owner"}}`, 400, 2001, `Default role "owner" is not one of manager, none`},
		{"not wrapped, no name", "POST", "/teams", token(key), `{"description":"x"}`, 400, 2001, "Name must not be empty"},
		{"malformed", "POST", "/teams", token(key), `{"team":`, 400, 2001, "The request body is not valid JSON: unexpected end of JSON input"},
		{"unknown member role", "PUT", "/teams/" + created.ID + "/users/" + ada.ID, token(key), `{"role":"boss"}`, 400, 2001, `Role "boss" is not one of observer, responder, manager`},
		{"read-only key", "POST", "/teams", token(readOnly), `{"team":{"name":"x"}}`, 403, 2010, ""},
		{"observer", "POST", "/teams", token(observer), `{"team":{"name":"x"}}`, 403, 2010, ""},
		{"plan without teams", "GET", "/teams", token(basicKey), "", 402, 2014, ""},
		{"another account's team", "GET", "/teams/" + created.ID, token(otherKey), "", 404, 2100, ""},
		{"another account's team, update", "PUT", "/teams/" + created.ID, token(otherKey), `{"team":{"name":"mine"}}`, 404, 2100, ""},
		{"another account's team, delete", "DELETE", "/teams/" + created.ID, token(otherKey), "", 404, 2100, ""},
		{"unknown team", "GET", "/teams/PNOPE00", token(key), "", 404, 2100, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, f.send(t, tt.method, tt.path, tt.auth, tt.body), tt.status, tt.code, "")
			if tt.problem != "" && !strings.Contains(strings.Join(errs, "\n"), tt.problem) {
				t.Errorf("errors = %q, want %q", errs, tt.problem)
			}
		})
	}

	if r := f.do(t, "DELETE", "/teams/"+created.ID, token(key)); r.Status != 204 || r.Body != "" {
		t.Errorf("DELETE /teams/{id} = %d %q", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", "/teams/"+created.ID, token(key)), 404, gatehouse.CodeNotFound, "")
}
