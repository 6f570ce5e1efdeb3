package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// notFound fails the test unless err is the client's APIError for a 404.
func notFound(t *testing.T, err error) {
	t.Helper()
	var apiErr pagerduty.APIError
	if !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("error = %v, want the client's NotFound()", err)
	}
}

func TestClientUsers(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := newClient(t, s, s.Key)
	ctx := t.Context()

	// The Terraform provider's fields, and no From header.
	created, err := c.CreateUserWithContext(ctx, pagerduty.User{
		Name: "Earline Greenholt", Email: "Earline@Example.com", Role: "limited_user",
		Timezone: "America/Lima", JobTitle: "Director", Description: "Managed by Terraform",
	})
	if err != nil {
		t.Fatalf("CreateUserWithContext() error = %v", err)
	}
	want := &pagerduty.User{
		APIObject: pagerduty.APIObject{ID: created.ID, Type: "user", Summary: "Earline Greenholt", Self: s.URL + "/users/" + created.ID},
		Name:      "Earline Greenholt", Email: "earline@example.com", Role: "limited_user", Timezone: "America/Lima",
		JobTitle: "Director", Description: "Managed by Terraform",
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(pagerduty.APIObject{}, "HTMLURL"),
		cmpopts.IgnoreFields(pagerduty.User{}, "Color", "AvatarURL", "ContactMethods", "NotificationRules"),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(want, created, opts); diff != "" {
		t.Errorf("CreateUserWithContext() (-want +got):\n%s", diff)
	}
	// Every user is made with an email contact method and a rule using it.
	got, err := c.GetUserWithContext(ctx, created.ID, pagerduty.GetUserOptions{Includes: []string{"contact_methods", "notification_rules"}})
	if err != nil {
		t.Fatalf("GetUserWithContext() error = %v", err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("GetUserWithContext() (-want +got):\n%s", diff)
	}
	if len(got.ContactMethods) != 1 || got.ContactMethods[0].Type != "email_contact_method" || got.ContactMethods[0].Address != "earline@example.com" {
		t.Errorf("GetUserWithContext() contact methods = %+v, want the user's email", got.ContactMethods)
	}
	if len(got.NotificationRules) != 1 || got.NotificationRules[0].Urgency != "high" || got.NotificationRules[0].ContactMethod.ID != got.ContactMethods[0].ID {
		t.Errorf("GetUserWithContext() notification rules = %+v, want one high-urgency rule using the email", got.NotificationRules)
	}

	list, err := c.ListUsersWithContext(ctx, pagerduty.ListUsersOptions{Query: "GREENHOLT", Total: true})
	if err != nil {
		t.Fatalf("ListUsersWithContext() error = %v", err)
	}
	if len(list.Users) != 1 || list.Users[0].ID != created.ID || list.Total != 1 || list.More {
		t.Errorf("ListUsersWithContext(query) = %+v", list)
	}
	all, err := c.ListUsersWithContext(ctx, pagerduty.ListUsersOptions{Limit: 1, Includes: []string{"contact_methods", "teams"}})
	if err != nil || len(all.Users) != 1 || !all.More || all.Limit != 1 {
		t.Errorf("ListUsersWithContext(limit 1) = %+v, %v; want one user and more", all, err)
	}

	// Clients send back what they read, expanded objects included.
	got.JobTitle, got.Description = "CTO", ""
	updated, err := c.UpdateUserWithContext(ctx, *got)
	if err != nil {
		t.Fatalf("UpdateUserWithContext() error = %v", err)
	}
	want.JobTitle = "CTO"
	if diff := cmp.Diff(want, updated, opts); diff != "" {
		t.Errorf("UpdateUserWithContext() (-want +got):\n%s", diff)
	}

	_, err = c.CreateUserWithContext(ctx, pagerduty.User{Name: "Twin", Email: "earline@example.com"})
	apiErr := checkAPIError(t, err, 400, 2001)
	if !slices.Contains(apiErr.APIError.ErrorObject.Errors, "Email has already been taken") {
		t.Errorf("duplicate email: errors = %q, want %q", apiErr.APIError.ErrorObject.Errors, "Email has already been taken")
	}
	_, err = c.CreateUserWithContext(ctx, pagerduty.User{Name: "Boss", Email: "boss@example.com", Role: "owner"})
	checkAPIError(t, err, 400, 2001)
	readOnly := s.generalKey(t, "default", "--read-only").Key
	_, err = newClient(t, s, readOnly).CreateUserWithContext(ctx, pagerduty.User{Name: "X", Email: "x@example.com"})
	checkAPIError(t, err, 403, 2010)

	if err := c.DeleteUserWithContext(ctx, created.ID); err != nil {
		t.Fatalf("DeleteUserWithContext() error = %v", err)
	}
	_, err = c.GetUserWithContext(ctx, created.ID, pagerduty.GetUserOptions{})
	notFound(t, err)
	notFound(t, c.DeleteUserWithContext(ctx, created.ID))
}

func TestClientUserSelfService(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := t.Context()
	// A user made at the command line gets what one made through the API
	// gets.
	ada := s.createUser(t, "ada@example.com", "Ada", "limited_user")
	c := newClient(t, s, s.userToken(t, ada.Email))

	me, err := c.GetCurrentUserWithContext(ctx, pagerduty.GetCurrentUserOptions{Includes: []string{"contact_methods"}})
	if err != nil {
		t.Fatalf("GetCurrentUserWithContext() error = %v", err)
	}
	byID, err := c.GetUserWithContext(ctx, ada.ID, pagerduty.GetUserOptions{Includes: []string{"contact_methods"}})
	if err != nil {
		t.Fatalf("GetUserWithContext() error = %v", err)
	}
	if diff := cmp.Diff(byID, me); diff != "" {
		t.Errorf("GetCurrentUserWithContext() differs from GetUserWithContext() (-by id +me):\n%s", diff)
	}
	if len(me.ContactMethods) != 1 || me.ContactMethods[0].Address != "ada@example.com" || len(me.NotificationRules) != 1 {
		t.Errorf("a user made by the CLI = %+v, want an email contact method and a notification rule", me)
	}

	// Ada changes her own profile, not her role, and nobody else's.
	me.Timezone = "Europe/London"
	if updated, err := c.UpdateUserWithContext(ctx, *me); err != nil || updated.Timezone != "Europe/London" {
		t.Errorf("UpdateUserWithContext(own time zone) = %+v, %v", updated, err)
	}
	me.Role = "admin"
	_, err = c.UpdateUserWithContext(ctx, *me)
	checkAPIError(t, err, 403, 2010)
	owner := s.userByEmail(t, s.OwnerEmail)
	_, err = c.UpdateUserWithContext(ctx, pagerduty.User{APIObject: pagerduty.APIObject{ID: owner.ID}, Name: "Mallory", Email: owner.Email})
	checkAPIError(t, err, 403, 2010)
	checkAPIError(t, c.DeleteUserWithContext(ctx, owner.ID), 403, 2010)
}

func TestClientContactMethodsAndNotificationRules(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := t.Context()
	ada := s.createUser(t, "ada@example.com", "Ada", "user")
	c := newClient(t, s, s.userToken(t, ada.Email))

	sms, err := c.CreateUserContactMethodWithContext(ctx, ada.ID, pagerduty.ContactMethod{Type: "sms_contact_method", Label: "Mobile", Address: "5550100", CountryCode: 1})
	if err != nil {
		t.Fatalf("CreateUserContactMethodWithContext() error = %v", err)
	}
	wantSMS := &pagerduty.ContactMethod{ID: sms.ID, Type: "sms_contact_method", Summary: "Mobile",
		Self: s.URL + "/users/" + ada.ID + "/contact_methods/" + sms.ID, Label: "Mobile", Address: "5550100", CountryCode: 1, Enabled: true}
	ignoreURL := cmpopts.IgnoreFields(pagerduty.ContactMethod{}, "HTMLURL")
	if diff := cmp.Diff(wantSMS, sms, ignoreURL); diff != "" {
		t.Errorf("CreateUserContactMethodWithContext() (-want +got):\n%s", diff)
	}
	methods, err := c.ListUserContactMethodsWithContext(ctx, ada.ID)
	if err != nil || len(methods.ContactMethods) != 2 || methods.ContactMethods[0].Type != "email_contact_method" {
		t.Fatalf("ListUserContactMethodsWithContext() = %+v, %v; want the email and the SMS", methods, err)
	}
	got, err := c.GetUserContactMethodWithContext(ctx, ada.ID, sms.ID)
	if err != nil {
		t.Fatalf("GetUserContactMethodWithContext() error = %v", err)
	}
	got.Label = "Work mobile"
	wantSMS.Label, wantSMS.Summary = "Work mobile", "Work mobile"
	if updated, err := c.UpdateUserContactMethodWthContext(ctx, ada.ID, *got); err != nil || !cmp.Equal(wantSMS, updated, ignoreURL) {
		t.Errorf("UpdateUserContactMethodWthContext() = %+v, %v; want %+v", updated, err, wantSMS)
	}

	rule, err := c.CreateUserNotificationRuleWithContext(ctx, ada.ID, pagerduty.NotificationRule{
		Type: "assignment_notification_rule", StartDelayInMinutes: 5, Urgency: "high",
		ContactMethod: pagerduty.ContactMethod{ID: sms.ID, Type: "sms_contact_method"},
	})
	if err != nil {
		t.Fatalf("CreateUserNotificationRuleWithContext() error = %v", err)
	}
	if rule.StartDelayInMinutes != 5 || rule.Urgency != "high" || rule.ContactMethod.ID != sms.ID || rule.ContactMethod.Type != "sms_contact_method_reference" || rule.CreatedAt == "" {
		t.Errorf("CreateUserNotificationRuleWithContext() = %+v", rule)
	}
	rules, err := c.ListUserNotificationRulesWithContext(ctx, ada.ID)
	if err != nil || len(rules.NotificationRules) != 2 || rules.NotificationRules[1].ID != rule.ID {
		t.Errorf("ListUserNotificationRulesWithContext() = %+v, %v; want the default rule and the new one", rules, err)
	}
	got2, err := c.GetUserNotificationRuleWithContext(ctx, ada.ID, rule.ID)
	if err != nil {
		t.Fatalf("GetUserNotificationRuleWithContext() error = %v", err)
	}
	got2.StartDelayInMinutes = 10
	if updated, err := c.UpdateUserNotificationRuleWithContext(ctx, ada.ID, *got2); err != nil || updated.StartDelayInMinutes != 10 || updated.ContactMethod.ID != sms.ID {
		t.Errorf("UpdateUserNotificationRuleWithContext() = %+v, %v", updated, err)
	}
	_, err = c.CreateUserNotificationRuleWithContext(ctx, ada.ID, pagerduty.NotificationRule{Urgency: "urgent", ContactMethod: pagerduty.ContactMethod{ID: sms.ID}})
	checkAPIError(t, err, 400, 2001)

	if err := c.DeleteUserNotificationRuleWithContext(ctx, ada.ID, rule.ID); err != nil {
		t.Fatalf("DeleteUserNotificationRuleWithContext() error = %v", err)
	}
	_, err = c.GetUserNotificationRuleWithContext(ctx, ada.ID, rule.ID)
	notFound(t, err)
	if err := c.DeleteUserContactMethodWithContext(ctx, ada.ID, sms.ID); err != nil {
		t.Fatalf("DeleteUserContactMethodWithContext() error = %v", err)
	}
	_, err = c.GetUserContactMethodWithContext(ctx, ada.ID, sms.ID)
	notFound(t, err)

	// Another user's contact methods are not Ada's to change.
	owner := s.userByEmail(t, s.OwnerEmail)
	_, err = c.CreateUserContactMethodWithContext(ctx, owner.ID, pagerduty.ContactMethod{Type: "email_contact_method", Label: "x", Address: "x@example.com"})
	checkAPIError(t, err, 403, 2010)
}

func TestClientLicenses(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.createUser(t, "sam@example.com", "Sam", "read_only_user")
	c := newClient(t, s, s.Key)
	licenses, err := c.ListLicensesWithContext(t.Context())
	if err != nil {
		t.Fatalf("ListLicensesWithContext() error = %v", err)
	}
	var summary []string
	for _, l := range licenses.Licenses {
		summary = append(summary, fmt.Sprintf("%s %s %d", l.Name, l.RoleGroup, l.CurrentValue))
	}
	if diff := cmp.Diff([]string{"Business (Full User) FullUser 1", "Business (Stakeholder) Stakeholder 1"}, summary); diff != "" {
		t.Errorf("ListLicensesWithContext() (-want +got):\n%s", diff)
	}
	allocations, err := c.ListLicenseAllocationsWithContext(t.Context(), pagerduty.ListLicenseAllocationsOptions{Limit: 1})
	if err != nil {
		t.Fatalf("ListLicenseAllocationsWithContext() error = %v", err)
	}
	if len(allocations.LicenseAllocations) != 1 || !allocations.More || allocations.LicenseAllocations[0].License.ID == "" || allocations.LicenseAllocations[0].AllocatedAt == "" {
		t.Errorf("ListLicenseAllocationsWithContext(limit 1) = %+v", allocations)
	}
}

// TestUsersSpecConformance checks the users' exchanges against PagerDuty's
// description of them.
func TestUsersSpecConformance(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	s := startServer(t)
	c := newSpecClient(t, doc, s)
	ada := s.createUser(t, "ada@example.com", "Ada", "user")
	adaToken := s.userToken(t, ada.Email)
	s.createUser(t, "sam@example.com", "Sam", "read_only_user")

	// do makes one exchange, checks its status and its conformance, and
	// decodes its body into v when v is not nil. Requests carry the owner's
	// email in From, which the description requires of some operations
	// (POST /users) that PagerDuty's own clients make without it.
	do := func(method, path, key, body string, wantStatus int, v any) {
		t.Helper()
		x := c.doFrom(t, method, path, key, s.OwnerEmail, []byte(body))
		if x.status != wantStatus {
			t.Fatalf("%s %s → %d %s, want %d", method, path, x.status, x.body, wantStatus)
		}
		x.conforms(t)
		if v != nil {
			if err := json.Unmarshal(x.body, v); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	var created struct{ User struct{ ID string } }
	do("POST", "/users", s.Key, `{"user":{"name":"Earline","email":"earline@example.com","role":"admin","job_title":"Boss","description":"Bio"}}`, 201, &created)
	u := "/users/" + created.User.ID
	// include[] is left out: PagerDuty answers it with whole objects where
	// the description knows only references (the server tests check them).
	do("GET", "/users?total=true", s.Key, "", 200, nil)
	do("GET", "/users?query=earl", s.Key, "", 200, nil)
	do("GET", u, s.Key, "", 200, nil)
	do("GET", "/users/me", adaToken, "", 200, nil)
	do("PUT", u, s.Key, `{"user":{"name":"Earline G.","email":"earline@example.com","time_zone":"Asia/Tokyo"}}`, 200, nil)
	do("GET", u+"/license", s.Key, "", 200, nil)
	do("GET", "/licenses", s.Key, "", 200, nil)
	do("GET", "/license_allocations?limit=2", s.Key, "", 200, nil)

	var phone struct {
		ContactMethod struct{ ID string } `json:"contact_method"`
	}
	do("POST", u+"/contact_methods", s.Key, `{"contact_method":{"type":"phone_contact_method","label":"Desk","address":"5550100","country_code":1}}`, 201, &phone)
	do("POST", u+"/contact_methods", s.Key, `{"contact_method":{"type":"email_contact_method","label":"Pager","address":"pager@example.com","send_short_email":true}}`, 201, nil)
	cm := u + "/contact_methods/" + phone.ContactMethod.ID
	do("GET", u+"/contact_methods", s.Key, "", 200, nil)
	do("GET", cm, s.Key, "", 200, nil)
	do("PUT", cm, s.Key, `{"contact_method":{"type":"phone_contact_method","label":"Work","address":"5550100","country_code":1}}`, 200, nil)

	var rule struct {
		NotificationRule struct{ ID string } `json:"notification_rule"`
	}
	do("POST", u+"/notification_rules", s.Key, `{"notification_rule":{"type":"assignment_notification_rule","start_delay_in_minutes":3,"urgency":"high",
		"contact_method":{"id":"`+phone.ContactMethod.ID+`","type":"phone_contact_method"}}}`, 201, &rule)
	nr := u + "/notification_rules/" + rule.NotificationRule.ID
	do("GET", u+"/notification_rules?urgency=all", s.Key, "", 200, nil)
	do("GET", nr, s.Key, "", 200, nil)
	do("PUT", nr, s.Key, `{"notification_rule":{"type":"assignment_notification_rule","start_delay_in_minutes":4,"urgency":"high",
		"contact_method":{"id":"`+phone.ContactMethod.ID+`","type":"phone_contact_method"}}}`, 200, nil)
	do("DELETE", nr, s.Key, "", 204, nil)
	do("DELETE", cm, s.Key, "", 204, nil)

	do("POST", "/users", s.Key, `{"user":{"name":"Twin","email":"earline@example.com"}}`, 400, nil)
	do("GET", "/users/PNOPE00", s.Key, "", 404, nil)
	do("DELETE", u, s.Key, "", 204, nil)
}

// doFrom is specClient.do with a From header, which does not stop at a
// request the description refuses.
func (c *specClient) doFrom(t *testing.T, method, path, key, from string, body []byte) *exchange {
	t.Helper()
	checked := c.newRequest(t, method, path, key, body)
	checked.Header.Set("From", from)
	route, pathParams, err := c.router.FindRoute(checked)
	if err != nil {
		t.Fatalf("%s %s: no operation in PagerDuty's description: %v", method, path, err)
	}
	input := &openapi3filter.RequestValidationInput{Request: checked, PathParams: pathParams, Route: route, Options: validationOptions}
	if err := openapi3filter.ValidateRequest(t.Context(), input); err != nil {
		// The description cannot be met here: it has contact methods'
		// required "type" inherit a read-only one. What is checked is the
		// answer.
		t.Logf("%s %s: PagerDuty's description refuses the request (%.200s…); checking the answer only", method, path, err)
	}
	req := c.newRequest(t, method, path, key, body)
	req.Header.Set("From", from)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &exchange{req: req, input: input, status: resp.StatusCode, header: resp.Header, body: respBody}
}
