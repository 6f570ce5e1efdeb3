package restapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// sendFrom is send with a From header.
func (f *fixture) sendFrom(t *testing.T, method, path, auth, from, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("From", from)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

// apiUser is a User object as a client decodes it.
type apiUser struct {
	ID, Type, Summary, Self, Name, Email, Color, Role string
	HTMLURL                                           string  `json:"html_url"`
	TimeZone                                          string  `json:"time_zone"`
	AvatarURL                                         string  `json:"avatar_url"`
	Description                                       *string `json:"description"`
	JobTitle                                          string  `json:"job_title"`
	InvitationSent                                    bool    `json:"invitation_sent"`
	Teams                                             []map[string]any
	ContactMethods                                    []map[string]any `json:"contact_methods"`
	NotificationRules                                 []map[string]any `json:"notification_rules"`
}

func TestUsersAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	free, _ := storetest.MustCreateAccount(t, s, "free", gatehouse.PlanFree)
	other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, acme, nil, false)
	readOnly, _ := mustKey(t, s, acme, nil, true)
	freeKey, _ := mustKey(t, s, free, nil, false)
	otherKey, _ := mustKey(t, s, other, nil, false)
	manager := storetest.MustCreateUser(t, s, acme, "manager", gatehouse.RoleUser)
	managerKey, _ := mustKey(t, s, acme, manager, false)
	admin := storetest.MustCreateUser(t, s, acme, "admin", gatehouse.RoleAdmin)
	adminKey, _ := mustKey(t, s, acme, admin, false)
	f := newFixture(t, s)

	// Terraform's provider sends no From header, and these fields.
	r := f.send(t, "POST", "/users", token(key), `{"user":{"type":"user","name":" Earline Greenholt ","email":"Earline@Example.com",
		"time_zone":"America/Lima","role":"limited_user","job_title":"Director","description":"Managed by Terraform",
		"license":{"id":"PIGNORE","type":"license_reference"},"teams":[{"id":"PNOPE00"}],"avatar_url":"x"}}`)
	created := decodeBody[struct{ User apiUser }](t, r, 201).User
	if len(created.ContactMethods) != 1 || len(created.NotificationRules) != 1 {
		t.Fatalf("created user = %+v, want one contact method and one notification rule", created)
	}
	cm, rule := created.ContactMethods[0], created.NotificationRules[0]
	description := "Managed by Terraform"
	want := apiUser{
		ID: created.ID, Type: "user", Summary: "Earline Greenholt", Self: f.URL + "/users/" + created.ID, HTMLURL: f.URL + "/app/users/" + created.ID,
		Name: "Earline Greenholt", Email: "earline@example.com", Color: gatehouse.DefaultColor("earline@example.com"), Role: "limited_user",
		TimeZone: "America/Lima", AvatarURL: created.AvatarURL, Description: &description, JobTitle: "Director",
		Teams: []map[string]any{},
		ContactMethods: []map[string]any{{"id": cm["id"], "type": "email_contact_method_reference", "summary": "Default",
			"self": f.URL + "/users/" + created.ID + "/contact_methods/" + cm["id"].(string), "html_url": f.URL + "/app/users/" + created.ID + "/contact_methods/" + cm["id"].(string)}},
		NotificationRules: []map[string]any{{"id": rule["id"], "type": "assignment_notification_rule_reference", "summary": "0 minutes: channel " + cm["id"].(string),
			"self": f.URL + "/users/" + created.ID + "/notification_rules/" + rule["id"].(string), "html_url": f.URL + "/app/users/" + created.ID + "/notification_rules/" + rule["id"].(string)}},
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("POST /users (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(created.AvatarURL, "https://") {
		t.Errorf("avatar_url = %q", created.AvatarURL)
	}
	getBody := f.do(t, "GET", "/users/"+created.ID, token(key))
	if got := decodeBody[struct{ User apiUser }](t, getBody, 200).User; !cmp.Equal(want, got) {
		t.Errorf("GET /users/{id} (-want +got):\n%s", cmp.Diff(want, got))
	}

	// A PUT of what GET gave changes nothing; one of a field changes it.
	if got := decodeBody[struct{ User apiUser }](t, f.send(t, "PUT", "/users/"+created.ID, token(key), getBody.Body), 200).User; !cmp.Equal(want, got) {
		t.Errorf("PUT /users/{id} of the GET body (-want +got):\n%s", cmp.Diff(want, got))
	}
	want.JobTitle, want.Description, want.Role = "CTO", nil, "user"
	if got := decodeBody[struct{ User apiUser }](t, f.send(t, "PUT", "/users/"+created.ID, token(key), `{"user":{"job_title":"CTO","description":null,"role":"user"}}`), 200).User; !cmp.Equal(want, got) {
		t.Errorf("PUT /users/{id} (-want +got):\n%s", cmp.Diff(want, got))
	}

	// include[] expands what it names; values it does not know are ignored.
	team := decodeBody[struct{ Team struct{ ID string } }](t, f.send(t, "POST", "/teams", token(key), `{"team":{"name":"Ops"}}`), 201).Team
	if r := f.send(t, "PUT", "/teams/"+team.ID+"/users/"+created.ID, token(key), `{"role":"responder"}`); r.Status != 204 {
		t.Fatalf("add to team: %d %s", r.Status, r.Body)
	}
	expanded := decodeBody[struct{ User apiUser }](t, f.do(t, "GET", "/users/"+created.ID+"?include[]=contact_methods&include[]=notification_rules&include[]=teams&include[]=subdomains", token(key)), 200).User
	if c := expanded.ContactMethods[0]; c["type"] != "email_contact_method" || c["address"] != "earline@example.com" || c["label"] != "Default" || c["send_short_email"] != false {
		t.Errorf("expanded contact method = %v", c)
	}
	if n := expanded.NotificationRules[0]; n["type"] != "assignment_notification_rule" || n["urgency"] != "high" || n["start_delay_in_minutes"] != 0.0 ||
		n["contact_method"].(map[string]any)["type"] != "email_contact_method_reference" {
		t.Errorf("expanded notification rule = %v", n)
	}
	if tm := expanded.Teams[0]; tm["type"] != "team" || tm["name"] != "Ops" {
		t.Errorf("expanded team = %v", tm)
	}

	// Lists: query on name and email, team_ids[], classic pagination.
	type page struct {
		Users         []apiUser
		Limit, Offset int
		More          bool
		Total         *int
	}
	names := func(p page) []string {
		var out []string
		for _, u := range p.Users {
			out = append(out, u.Name)
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Earline Greenholt", "Owner", "admin", "manager"}},
		{"?query=EARLINE%40", []string{"Earline Greenholt"}},
		{"?query=green", []string{"Earline Greenholt"}},
		{"?team_ids[]=" + team.ID, []string{"Earline Greenholt"}},
		{"?team_ids[]=PNOPE00", nil},
	} {
		if got := names(decodeBody[page](t, f.do(t, "GET", "/users"+tt.query, token(key)), 200)); !cmp.Equal(tt.want, got) {
			t.Errorf("GET /users%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	p := decodeBody[page](t, f.do(t, "GET", "/users?limit=2&offset=1&total=true&include[]=contact_methods", token(key)), 200)
	if !cmp.Equal(names(p), []string{"Owner", "admin"}) || p.Limit != 2 || p.Offset != 1 || !p.More || p.Total == nil || *p.Total != 4 {
		t.Errorf("GET /users page = %v, limit %d, offset %d, more %t, total %v", names(p), p.Limit, p.Offset, p.More, p.Total)
	}
	if p.Users[0].ContactMethods[0]["address"] != owner.Email {
		t.Errorf("owner's expanded contact method = %v", p.Users[0].ContactMethods[0])
	}

	// Refusals.
	for _, tt := range []struct {
		name, method, path, auth, body string
		status, code                   int
		problems                       []string
	}{
		{"duplicate email", "POST", "/users", token(key), `{"user":{"name":"X","email":"MANAGER@acme.example.com"}}`, 400, 2001, []string{"Email has already been taken"}},
		{"owner", "POST", "/users", token(key), `{"user":{"name":"X","email":"x@example.com","role":"owner"}}`, 400, 2001,
			[]string{"An account has one owner, created with the account; choose another role"}},
		{"role the plan lacks", "POST", "/users", token(freeKey), `{"user":{"name":"X","email":"x@example.com","role":"restricted_access"}}`, 400, 2001,
			[]string{`Role "restricted_access" needs the advanced_permissions ability, which plan "free" does not have`}},
		{"missing fields", "POST", "/users", token(key), `{"user":{"type":"user"}}`, 400, 2001,
			[]string{`Email "" is not a valid address`, "Name must not be empty"}},
		{"wrong types", "POST", "/users", token(key), `{"user":{"name":1,"email":["x"],"role":true}}`, 400, 2001,
			[]string{"user.name must be a string, not a number", "user.email must be a string, not an array", "user.role must be a string, not a bool"}},
		{"unknown role", "POST", "/users", token(key), `{"user":{"name":"X","email":"x@example.com","role":"boss"}}`, 400, 2001,
			[]string{`Role "boss" is not one of owner, admin, user, limited_user, observer, restricted_access, read_only_user, read_only_limited_user`}},
		{"oversize name", "POST", "/users", token(key), `{"user":{"name":"` + strings.Repeat("n", 101) + `","email":"x@example.com"}}`, 400, 2001,
			[]string{"Name must be at most 100 characters"}},
		{"not wrapped, no email", "POST", "/users", token(key), `{"name":"X"}`, 400, 2001, []string{`Email "" is not a valid address`}},
		{"taken email on update", "PUT", "/users/" + created.ID, token(key), `{"user":{"email":"admin@acme.example.com"}}`, 400, 2001, []string{"Email has already been taken"}},
		{"read-only key", "POST", "/users", token(readOnly), `{"user":{"name":"X","email":"x@example.com"}}`, 403, 2010, nil},
		{"a manager adds", "POST", "/users", token(managerKey), `{"user":{"name":"X","email":"x@example.com"}}`, 403, 2010, nil},
		{"a manager changes another", "PUT", "/users/" + created.ID, token(managerKey), `{"user":{"name":"X"}}`, 403, 2010, nil},
		{"a manager changes their role", "PUT", "/users/" + manager.ID, token(managerKey), `{"user":{"role":"admin"}}`, 403, 2010, nil},
		{"a manager removes", "DELETE", "/users/" + created.ID, token(managerKey), "", 403, 2010, nil},
		{"an admin changes their own role", "PUT", "/users/" + admin.ID, token(adminKey), `{"user":{"role":"user"}}`, 403, 2010, nil},
		{"an admin changes the owner", "PUT", "/users/" + owner.ID, token(adminKey), `{"user":{"name":"X"}}`, 403, 2010, nil},
		{"an admin removes the owner", "DELETE", "/users/" + owner.ID, token(adminKey), "", 403, 2010, nil},
		{"the owner removed", "DELETE", "/users/" + owner.ID, token(key), "", 400, 2001, []string{"The account owner cannot be removed"}},
		{"the owner's role", "PUT", "/users/" + owner.ID, token(key), `{"user":{"role":"admin"}}`, 400, 2001, []string{"The account owner's role cannot be given or taken"}},
		{"another account's user", "GET", "/users/" + created.ID, token(otherKey), "", 404, 2100, nil},
		{"another account's user, update", "PUT", "/users/" + created.ID, token(otherKey), `{"user":{"name":"X"}}`, 404, 2100, nil},
		{"another account's user, delete", "DELETE", "/users/" + created.ID, token(otherKey), "", 404, 2100, nil},
		{"another account's user, license", "GET", "/users/" + created.ID + "/license", token(otherKey), "", 404, 2100, nil},
		{"unknown user", "GET", "/users/PNOPE00", token(key), "", 404, 2100, nil},
		{"bad page", "GET", "/users?offset=9990&limit=20", token(key), "", 400, 2001, []string{"Offset+limit must be at most 10000; use filters to narrow the list"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, f.send(t, tt.method, tt.path, tt.auth, tt.body), tt.status, tt.code, "")
			if tt.problems != nil && !cmp.Equal(tt.problems, errs) {
				t.Errorf("errors = %q, want %q", errs, tt.problems)
			}
		})
	}

	if r := f.do(t, "DELETE", "/users/"+created.ID, token(key)); r.Status != 204 || r.Body != "" {
		t.Errorf("DELETE /users/{id} = %d %q", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", "/users/"+created.ID, token(key)), 404, gatehouse.CodeNotFound, "")
	wantError(t, f.do(t, "GET", "/users/"+created.ID+"/contact_methods/"+cm["id"].(string), token(key)), 404, gatehouse.CodeNotFound, "")
}

func TestUsersMeIsTheFullUser(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, a, "ada", gatehouse.RoleObserver)
	tok, _ := mustKey(t, s, a, ada, false)
	f := newFixture(t, s)

	// An observer changes their own profile, and GET /users/me shows it.
	if r := f.send(t, "PUT", "/users/"+ada.ID, token(tok), `{"user":{"name":"Ada L.","time_zone":"Europe/London"}}`); r.Status != 200 {
		t.Fatalf("PUT own profile = %d %s", r.Status, r.Body)
	}
	me := decodeBody[struct{ User apiUser }](t, f.do(t, "GET", "/users/me?include[]=contact_methods", token(tok)), 200).User
	byID := decodeBody[struct{ User apiUser }](t, f.do(t, "GET", "/users/"+ada.ID+"?include[]=contact_methods", token(tok)), 200).User
	if diff := cmp.Diff(byID, me); diff != "" {
		t.Errorf("GET /users/me differs from GET /users/{id} (-id +me):\n%s", diff)
	}
	if me.Name != "Ada L." || me.TimeZone != "Europe/London" || len(me.ContactMethods) != 1 || me.ContactMethods[0]["address"] != ada.Email {
		t.Errorf("GET /users/me = %+v", me)
	}
}

func TestContactMethodsAndNotificationRulesAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleLimitedUser)
	bob := storetest.MustCreateUser(t, s, acme, "bob", gatehouse.RoleUser)
	adaKey, _ := mustKey(t, s, acme, ada, false)
	bobKey, _ := mustKey(t, s, acme, bob, false)
	key, _ := mustKey(t, s, acme, nil, false)
	otherKey, _ := mustKey(t, s, other, nil, false)
	f := newFixture(t, s)
	base := "/users/" + ada.ID

	// Ada adds a phone to herself, as go-pagerduty sends it.
	type method struct {
		ID, Type, Summary, Self, Label, Address string
		HTMLURL                                 string `json:"html_url"`
		CountryCode                             *int   `json:"country_code"`
		SendShortEmail                          *bool  `json:"send_short_email"`
		Enabled                                 bool
		Blacklisted                             *bool
	}
	phone := decodeBody[struct {
		ContactMethod method `json:"contact_method"`
	}](t, f.send(t, "POST", base+"/contact_methods", token(adaKey), `{"contact_method":{"type":"phone_contact_method","label":"Mobile","address":"5550100","country_code":44}}`), 201).ContactMethod
	one, no := 44, false
	wantPhone := method{ID: phone.ID, Type: "phone_contact_method", Summary: "Mobile", Self: f.URL + base + "/contact_methods/" + phone.ID,
		HTMLURL: f.URL + "/app" + base + "/contact_methods/" + phone.ID, Label: "Mobile", Address: "5550100", CountryCode: &one, Enabled: true, Blacklisted: &no}
	if diff := cmp.Diff(wantPhone, phone); diff != "" {
		t.Errorf("POST contact method (-want +got):\n%s", diff)
	}
	list := decodeBody[struct {
		ContactMethods []method `json:"contact_methods"`
	}](t, f.do(t, "GET", base+"/contact_methods", token(bobKey)), 200).ContactMethods
	if len(list) != 2 || list[0].Type != "email_contact_method" || !cmp.Equal(list[1], wantPhone) {
		t.Errorf("GET contact methods = %+v", list)
	}
	// A PUT of what GET gave (read-only fields included) changes nothing.
	get := f.do(t, "GET", base+"/contact_methods/"+phone.ID, token(adaKey))
	if got := decodeBody[struct {
		ContactMethod method `json:"contact_method"`
	}](t, f.send(t, "PUT", base+"/contact_methods/"+phone.ID, token(adaKey), get.Body), 200).ContactMethod; !cmp.Equal(got, wantPhone) {
		t.Errorf("PUT of the GET body = %+v", got)
	}
	wantPhone.Label, wantPhone.Summary = "Work", "Work"
	if got := decodeBody[struct {
		ContactMethod method `json:"contact_method"`
	}](t, f.send(t, "PUT", base+"/contact_methods/"+phone.ID, token(key), `{"contact_method":{"label":"Work"}}`), 200).ContactMethod; !cmp.Equal(got, wantPhone) {
		t.Errorf("PUT label = %+v", got)
	}

	// Notification rules: Terraform sends the contact method's type without
	// "_reference"; go-pagerduty sends an empty created_at and label.
	type ruleBody struct {
		ID, Type, Summary, Self, Urgency string
		StartDelayInMinutes              int            `json:"start_delay_in_minutes"`
		ContactMethod                    map[string]any `json:"contact_method"`
		CreatedAt                        string         `json:"created_at"`
	}
	rule := decodeBody[struct {
		NotificationRule ruleBody `json:"notification_rule"`
	}](t, f.send(t, "POST", base+"/notification_rules", token(adaKey), `{"notification_rule":{"type":"assignment_notification_rule","start_delay_in_minutes":5,
		"urgency":"low","created_at":"","contact_method":{"id":"`+phone.ID+`","type":"phone_contact_method","label":"","address":""}}}`), 201).NotificationRule
	if rule.Type != "assignment_notification_rule" || rule.Urgency != "low" || rule.StartDelayInMinutes != 5 || rule.Summary != "5 minutes: channel "+phone.ID ||
		rule.ContactMethod["id"] != phone.ID || rule.ContactMethod["type"] != "phone_contact_method_reference" || rule.CreatedAt == "" {
		t.Errorf("POST notification rule = %+v", rule)
	}
	rules := func(query string) []ruleBody {
		t.Helper()
		return decodeBody[struct {
			NotificationRules []ruleBody `json:"notification_rules"`
		}](t, f.do(t, "GET", base+"/notification_rules"+query, token(adaKey)), 200).NotificationRules
	}
	if got := rules(""); len(got) != 1 || got[0].Urgency != "high" {
		t.Errorf("GET rules without urgency = %+v, want the high-urgency default rule only", got)
	}
	if got := rules("?urgency=all&include[]=contact_methods"); len(got) != 2 || got[1].ID != rule.ID || got[1].ContactMethod["address"] != "5550100" {
		t.Errorf("GET rules?urgency=all&include[]=contact_methods = %+v", got)
	}
	updated := decodeBody[struct {
		NotificationRule ruleBody `json:"notification_rule"`
	}](t, f.send(t, "PUT", base+"/notification_rules/"+rule.ID, token(adaKey), `{"notification_rule":{"start_delay_in_minutes":1,"urgency":"high"}}`), 200).NotificationRule
	if updated.StartDelayInMinutes != 1 || updated.Urgency != "high" || updated.ContactMethod["id"] != phone.ID {
		t.Errorf("PUT rule = %+v", updated)
	}

	for _, tt := range []struct {
		name, method, path, auth, body string
		status, code                   int
		problems                       []string
	}{
		{"bad phone", "POST", base + "/contact_methods", token(adaKey), `{"contact_method":{"type":"sms_contact_method","label":"x","address":"5a5","country_code":1}}`, 400, 2001,
			[]string{`Phone number "5a5" may only hold the digits 0-9 and the symbols , * and #`}},
		{"country code as text", "POST", base + "/contact_methods", token(adaKey), `{"contact_method":{"type":"sms_contact_method","label":"x","address":"1","country_code":"1"}}`, 400, 2001,
			[]string{"contact_method.country_code must be an integer, not a string"}},
		{"no type", "POST", base + "/contact_methods", token(adaKey), `{"contact_method":{"label":"x","address":"x@example.com"}}`, 400, 2001,
			[]string{`Type "" is not one of email_contact_method, phone_contact_method, sms_contact_method`}},
		{"type changed", "PUT", base + "/contact_methods/" + phone.ID, token(adaKey), `{"contact_method":{"type":"sms_contact_method"}}`, 400, 2001,
			[]string{"Type cannot change from phone_contact_method to sms_contact_method: add a new contact method instead"}},
		{"rule with another user's method", "POST", "/users/" + bob.ID + "/notification_rules", token(bobKey),
			`{"notification_rule":{"start_delay_in_minutes":0,"urgency":"high","contact_method":{"id":"` + phone.ID + `"}}}`, 400, 2001,
			[]string{`Contact method "` + phone.ID + `" is not one of this user's contact methods`}},
		{"rule delay not a number", "PUT", base + "/notification_rules/" + rule.ID, token(adaKey), `{"notification_rule":{"start_delay_in_minutes":1.5}}`, 400, 2001,
			[]string{"notification_rule.start_delay_in_minutes must be an integer, not a number 1.5"}},
		{"rule delay beyond int", "PUT", base + "/notification_rules/" + rule.ID, token(adaKey), `{"notification_rule":{"start_delay_in_minutes":99999999999999999999}}`, 400, 2001, nil},
		{"bad urgency filter", "GET", base + "/notification_rules?urgency=urgent", token(adaKey), "", 400, 2001, []string{`urgency must be high, low or all, not "urgent"`}},
		{"bob on ada's methods", "POST", base + "/contact_methods", token(bobKey), `{"contact_method":{"type":"email_contact_method","label":"x","address":"x@example.com"}}`, 403, 2010, nil},
		{"bob on ada's rules", "DELETE", base + "/notification_rules/" + rule.ID, token(bobKey), "", 403, 2010, nil},
		{"another account", "GET", base + "/contact_methods", token(otherKey), "", 404, 2100, nil},
		{"another account's rule", "GET", base + "/notification_rules/" + rule.ID, token(otherKey), "", 404, 2100, nil},
		{"rule under another user", "GET", "/users/" + bob.ID + "/notification_rules/" + rule.ID, token(key), "", 404, 2100, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, f.send(t, tt.method, tt.path, tt.auth, tt.body), tt.status, tt.code, "")
			if tt.problems != nil && !cmp.Equal(tt.problems, errs) {
				t.Errorf("errors = %q, want %q", errs, tt.problems)
			}
		})
	}

	if r := f.do(t, "DELETE", base+"/notification_rules/"+rule.ID, token(adaKey)); r.Status != 204 {
		t.Errorf("DELETE rule = %d %s", r.Status, r.Body)
	}
	if r := f.do(t, "DELETE", base+"/contact_methods/"+phone.ID, token(adaKey)); r.Status != 204 {
		t.Errorf("DELETE contact method = %d %s", r.Status, r.Body)
	}
	wantError(t, f.do(t, "GET", base+"/contact_methods/"+phone.ID, token(adaKey)), 404, gatehouse.CodeNotFound, "")
}

func TestLicensesAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	sam := storetest.MustCreateUser(t, s, acme, "sam", gatehouse.RoleReadOnlyUser)
	storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
	key, _ := mustKey(t, s, acme, nil, true)
	f := newFixture(t, s)

	r := f.do(t, "GET", "/licenses", token(key))
	wantBody := `{"licenses":[` +
		`{"id":"PLBUSFU","type":"license","summary":"Business (Full User)","name":"Business (Full User)","description":"",` +
		`"valid_roles":["owner","admin","user","limited_user","observer","restricted_access"],"role_group":"FullUser","current_value":2,"allocations_available":null},` +
		`{"id":"PLBUSSH","type":"license","summary":"Business (Stakeholder)","name":"Business (Stakeholder)","description":"",` +
		`"valid_roles":["read_only_user","read_only_limited_user"],"role_group":"Stakeholder","current_value":1,"allocations_available":null}]}`
	if r.Status != 200 || r.Body != wantBody {
		t.Errorf("GET /licenses = %d %s\nwant %s", r.Status, r.Body, wantBody)
	}
	lic := decodeBody[struct{ License map[string]any }](t, f.do(t, "GET", "/users/"+sam.ID+"/license", token(key)), 200).License
	if lic["id"] != "PLBUSSH" || lic["current_value"] != nil {
		t.Errorf("GET /users/{id}/license of a stakeholder = %v", lic)
	}
	allocations := decodeBody[struct {
		LicenseAllocations []struct {
			User        reference
			License     map[string]any
			AllocatedAt string `json:"allocated_at"`
		} `json:"license_allocations"`
		Limit int
		More  bool
		Total *int
	}](t, f.do(t, "GET", "/license_allocations?limit=2&total=true", token(key)), 200)
	if len(allocations.LicenseAllocations) != 2 || !allocations.More || allocations.Limit != 2 || allocations.Total == nil || *allocations.Total != 3 {
		t.Fatalf("GET /license_allocations = %+v", allocations)
	}
	if a := allocations.LicenseAllocations[0]; a.User.ID != owner.ID || a.User.Type != "user_reference" || a.License["id"] != "PLBUSFU" || a.AllocatedAt == "" {
		t.Errorf("first allocation = %+v", a)
	}
}

func TestFromHeader(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, otherOwner := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	key, _ := mustKey(t, s, acme, nil, false)
	ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleAdmin)
	adaKey, _ := mustKey(t, s, acme, ada, false)
	_ = other
	f := newFixture(t, s)
	var from *gatehouse.User
	f.server.handle(&route{Pattern: "POST /needs-from", Perm: access.PermRead, From: true, Handle: func(r *request) (int, any, error) {
		from = r.from
		return http.StatusNoContent, nil, nil
	}})

	// From is optional where the route does not require it, but when an
	// account-level key sends it, it must name a user of the account.
	body := `{"user":{"name":"X","email":"x@example.com"}}`
	if r := f.sendFrom(t, "POST", "/users", token(key), "OWNER@acme.example.com", body); r.Status != 201 {
		t.Errorf("POST /users with a valid From = %d %s", r.Status, r.Body)
	}
	errs := wantError(t, f.sendFrom(t, "POST", "/users", token(key), otherOwner.Email, `{"user":{"name":"Y","email":"y@example.com"}}`), 400, gatehouse.CodeInvalidInput, "")
	if want := []string{`The "From" header must be the email address of a user of this account; no user has "` + otherOwner.Email + `"`}; !cmp.Equal(want, errs) {
		t.Errorf("errors = %q, want %q", errs, want)
	}
	wantError(t, f.sendFrom(t, "GET", "/users", token(key), "nobody@example.com", ""), 400, gatehouse.CodeInvalidInput, "")
	// A user token acts as its user, whatever From says.
	if r := f.sendFrom(t, "GET", "/users", token(adaKey), "nobody@example.com", ""); r.Status != 200 {
		t.Errorf("GET /users with a user token and a stranger's From = %d %s", r.Status, r.Body)
	}

	// Where the route requires it, an account-level key must send it.
	r := f.send(t, "POST", "/needs-from", token(key), "")
	wantError(t, r, 400, gatehouse.CodeFromHeaderMissing, `You must specify a user's email address in the "From" header to perform this action`)
	if r := f.sendFrom(t, "POST", "/needs-from", token(key), owner.Email, ""); r.Status != 204 || from == nil || from.ID != owner.ID {
		t.Errorf("POST /needs-from with From = %d %s, from %+v", r.Status, r.Body, from)
	}
	if r := f.send(t, "POST", "/needs-from", token(adaKey), ""); r.Status != 204 {
		t.Errorf("POST /needs-from with a user token = %d %s", r.Status, r.Body)
	}
	var e struct{ Error struct{ Errors []string } }
	json.Unmarshal([]byte(f.send(t, "POST", "/needs-from", token(key), "").Body), &e)
	if e.Error.Errors != nil {
		t.Errorf("2016 errors = %q, want none", e.Error.Errors)
	}
}
