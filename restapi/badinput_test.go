package restapi

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// badBody is one wrong request to a write route: its body (and its path,
// when it is not the route's usual one) and the line of the 400 that says
// what is wrong. w is the caller's account; other is another account, whose
// objects are not the caller's to name.
type badBody struct {
	name string
	make func(w, other *world) (path, body, line string)
}

// body is a badBody on the route's usual path.
func body(name, b, line string) badBody {
	return badBody{name, func(*world, *world) (string, string, string) { return "", b, line }}
}

// writeInput is what a write route reads of its body: nothing (noBody: a
// body sent is ignored), or a JSON object, for which bad lists wrong ones.
type writeInput struct {
	noBody bool
	bad    []badBody
}

// long is a string of n letters.
func long(n int) string { return strings.Repeat("x", n) }

// writeInputs says, for every write route, what is wrong input to it: wrong
// types, missing required fields, oversize strings, a reference to another
// account's object, an unknown enum value. Every write route needs an entry:
// TestBadInput fails for one without. Add the entry with the route.
var writeInputs = map[string]writeInput{
	"POST /users": {bad: []badBody{
		body("misspelt wrapper", `{"users":{"name":"X"}}`, `The request body must be {"user": {…}}`),
		body("wrong types", `{"user":{"name":7,"email":"x@acme.example.com","role":["admin"]}}`, "user.name must be a string, not a number"),
		body("missing email", `{"user":{"name":"X"}}`, `Email "" is not a valid address`),
		body("missing name", `{"user":{"email":"nameless@acme.example.com"}}`, "Name must not be empty"),
		body("oversize name", `{"user":{"name":"`+long(101)+`","email":"x@acme.example.com"}}`, "Name must be at most 100 characters"),
		body("oversize email", `{"user":{"name":"X","email":"`+long(90)+`@acme.example.com"}}`, "Email must be at most 100 characters"),
		body("unknown role", `{"user":{"name":"X","email":"x@acme.example.com","role":"boss"}}`, `Role "boss" is not one of`),
		body("unknown time zone", `{"user":{"name":"X","email":"x@acme.example.com","time_zone":"Mars/Olympus_Mons"}}`, `Time zone "Mars/Olympus_Mons" is not a time zone`),
		{"email taken", func(w, _ *world) (string, string, string) {
			return "", `{"user":{"name":"X","email":"` + w.subject.Email + `"}}`, "Email has already been taken"
		}},
	}},
	"PUT /users/{id}": {bad: []badBody{
		body("misspelt wrapper", `{"users":{"name":"X"}}`, `The request body must be {"user": {…}}`),
		body("wrong types", `{"user":{"job_title":5,"time_zone":{}}}`, "user.job_title must be a string, not a number"),
		body("blank name", `{"user":{"name":"  "}}`, "Name must not be empty"),
		body("oversize description", `{"user":{"description":"`+long(1025)+`"}}`, "Description must be at most 1024 characters"),
		body("unknown role", `{"user":{"role":"superuser"}}`, `Role "superuser" is not one of`),
		{"email taken", func(w, _ *world) (string, string, string) {
			return "", `{"user":{"email":"` + w.subject.Email + `"}}`, "Email has already been taken"
		}},
	}},
	"DELETE /users/{id}": {noBody: true},

	"POST /users/{id}/contact_methods": {bad: []badBody{
		body("misspelt wrapper", `{"contact_methods":{"name":"X"}}`, `The request body must be {"contact_method": {…}}`),
		body("wrong types", `{"contact_method":{"type":"sms_contact_method","label":"x","address":"5550100","country_code":"1"}}`,
			"contact_method.country_code must be an integer, not a string"),
		body("missing address", `{"contact_method":{"type":"email_contact_method","label":"x"}}`, `Address "" is not a valid email address`),
		body("missing label", `{"contact_method":{"type":"email_contact_method","address":"label@acme.example.com"}}`, "Label must not be empty"),
		body("oversize label", `{"contact_method":{"type":"email_contact_method","label":"`+long(101)+`","address":"x@acme.example.com"}}`, "Label must be at most 100 characters"),
		body("unknown type", `{"contact_method":{"type":"pager_contact_method","label":"x","address":"5550100"}}`, `Type "pager_contact_method" is not one of`),
		body("bad phone number", `{"contact_method":{"type":"phone_contact_method","label":"x","address":"call me","country_code":1}}`, `Phone number "call me" must start with a digit`),
	}},
	"PUT /users/{id}/contact_methods/{contact_method_id}": {bad: []badBody{
		body("misspelt wrapper", `{"contact_methods":{"name":"X"}}`, `The request body must be {"contact_method": {…}}`),
		body("wrong types", `{"contact_method":{"label":7}}`, "contact_method.label must be a string, not a number"),
		body("blank label", `{"contact_method":{"label":""}}`, "Label must not be empty"),
		body("oversize address", `{"contact_method":{"address":"`+long(90)+`@acme.example.com"}}`, "Address must be at most 100 characters"),
		body("type changed", `{"contact_method":{"type":"sms_contact_method"}}`, "Type cannot change from email_contact_method to sms_contact_method"),
	}},
	"DELETE /users/{id}/contact_methods/{contact_method_id}": {noBody: true},

	"POST /users/{id}/notification_rules": {bad: []badBody{
		body("misspelt wrapper", `{"notification_rules":{"name":"X"}}`, `The request body must be {"notification_rule": {…}}`),
		body("wrong types", `{"notification_rule":{"start_delay_in_minutes":"5","urgency":"low","contact_method":"PABCDEF"}}`,
			"notification_rule.start_delay_in_minutes must be an integer, not a string"),
		body("missing contact method", `{"notification_rule":{"start_delay_in_minutes":0,"urgency":"high"}}`, "Contact method must name one of the user's contact methods"),
		body("negative delay", `{"notification_rule":{"start_delay_in_minutes":-1,"urgency":"high","contact_method":{"id":"PABCDEF"}}}`, "Start delay in minutes must be from 0 to 2147483647"),
		body("unknown urgency", `{"notification_rule":{"start_delay_in_minutes":0,"urgency":"medium","contact_method":{"id":"PABCDEF"}}}`, `Urgency "medium" is not one of high, low`),
		{"another account's contact method", func(w, other *world) (string, string, string) {
			return "", newRuleJSON(other.subjectMethod.ID), `Contact method "` + other.subjectMethod.ID + `" is not one of this user's contact methods`
		}},
	}},
	"PUT /users/{id}/notification_rules/{notification_rule_id}": {bad: []badBody{
		body("misspelt wrapper", `{"notification_rules":{"name":"X"}}`, `The request body must be {"notification_rule": {…}}`),
		body("wrong types", `{"notification_rule":{"contact_method":"PABCDEF"}}`, "notification_rule.contact_method must be an object, not a string"),
		body("unknown urgency", `{"notification_rule":{"urgency":"urgent"}}`, `Urgency "urgent" is not one of high, low`),
		{"another account's contact method", func(w, other *world) (string, string, string) {
			return "", `{"notification_rule":{"contact_method":{"id":"` + other.subjectMethod.ID + `"}}}`,
				`Contact method "` + other.subjectMethod.ID + `" is not one of this user's contact methods`
		}},
	}},
	"DELETE /users/{id}/notification_rules/{notification_rule_id}": {noBody: true},

	"POST /teams": {bad: []badBody{
		body("misspelt wrapper", `{"teams":{"name":"X"}}`, `The request body must be {"team": {…}}`),
		body("wrong types", `{"team":{"name":["Ops"]}}`, "team.name must be a string, not an array"),
		body("missing name", `{"team":{"description":"x"}}`, "Name must not be empty"),
		body("oversize name", `{"team":{"name":"`+long(101)+`"}}`, "Name must be at most 100 characters"),
		body("unknown default role", `{"team":{"name":"x","default_role":"observer"}}`, `Default role "observer" is not one of manager, none`),
		{"name taken", func(w, _ *world) (string, string, string) {
			return "", `{"team":{"name":"` + w.team.Name + `"}}`, "Name has already been taken"
		}},
	}},
	"PUT /teams/{id}": {bad: []badBody{
		body("misspelt wrapper", `{"teams":{"name":"X"}}`, `The request body must be {"team": {…}}`),
		body("wrong types", `{"team":{"description":7}}`, "team.description must be a string, not a number"),
		body("blank name", `{"team":{"name":" "}}`, "Name must not be empty"),
		body("oversize description", `{"team":{"description":"`+long(1025)+`"}}`, "Description must be at most 1024 characters"),
		body("unknown default role", `{"team":{"default_role":"public"}}`, `Default role "public" is not one of manager, none`),
	}},
	"DELETE /teams/{id}": {noBody: true},
	"PUT /teams/{id}/escalation_policies/{escalation_policy_id}":    {noBody: true},
	"DELETE /teams/{id}/escalation_policies/{escalation_policy_id}": {noBody: true},
	"PUT /teams/{id}/users/{user_id}": {bad: []badBody{
		body("wrong types", `{"role":7}`, "body.role must be a string, not a number"),
		body("unknown role", `{"role":"boss"}`, `Role "boss" is not one of observer, responder, manager`),
		{"a stakeholder", func(w, _ *world) (string, string, string) {
			u := w.users[gatehouse.RoleReadOnlyUser]
			return "/teams/" + w.otherTeam.ID + "/users/" + u.ID, `{"role":"observer"}`, "stakeholders cannot be members of a team"
		}},
	}},
	"DELETE /teams/{id}/users/{user_id}": {noBody: true},

	"POST /escalation_policies": {bad: []badBody{
		body("misspelt wrapper", `{"escalation_policys":{"name":"X"}}`, `The request body must be {"escalation_policy": {…}}`),
		body("wrong types", `{"escalation_policy":{"name":"x","num_loops":"2","escalation_rules":[]}}`, "escalation_policy.num_loops must be an integer, not a string"),
		body("missing name", `{"escalation_policy":{"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[]}]}}`, "Name must not be empty"),
		body("missing rules", `{"escalation_policy":{"name":"x"}}`, "An escalation policy must have at least one escalation rule"),
		{"oversize name", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newPolicyJSON(w), `"name":"`, `"name":"`+long(256), 1), "Name must be at most 255 characters"
		}},
		{"unknown handoff notifications", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newPolicyJSON(w), `"name"`, `"on_call_handoff_notifications":"never","name"`, 1),
				`On call handoff notifications "never" is not one of if_has_services, always`
		}},
		{"unknown target type", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newPolicyJSON(w), `"user_reference"`, `"team_reference"`, 1), `type "team_reference" is not one of user_reference, user`
		}},
		{"another account's user", func(w, other *world) (string, string, string) {
			return "", strings.Replace(newPolicyJSON(w), w.subject.ID, other.subject.ID, 1), "Escalation rule 1, target 1: user " + other.subject.ID + " not found"
		}},
		{"another account's team", func(w, other *world) (string, string, string) {
			return "", strings.Replace(newPolicyJSON(w), `"name"`, `"teams":[{"id":"`+other.team.ID+`","type":"team_reference"}],"name"`, 1),
				"Team " + other.team.ID + " not found"
		}},
	}},
	"PUT /escalation_policies/{id}": {bad: []badBody{
		body("misspelt wrapper", `{"escalation_policys":{"name":"X"}}`, `The request body must be {"escalation_policy": {…}}`),
		body("wrong types", `{"escalation_policy":{"escalation_rules":{"targets":[]}}}`, "escalation_policy.escalation_rules must be an array, not an object"),
		body("too many loops", `{"escalation_policy":{"num_loops":10}}`, "Num loops must be between 0 and 9, not 10"),
		body("no delay", `{"escalation_policy":{"escalation_rules":[{"targets":[{"id":"PNOPE00","type":"user_reference"}]}]}}`,
			"Escalation rule 1: the escalation delay must be between 1 and 10080 minutes, not 0"),
		{"another account's user", func(_, other *world) (string, string, string) {
			return "", `{"escalation_policy":{"escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[{"id":"` + other.subject.ID + `","type":"user_reference"}]}]}}`,
				"Escalation rule 1, target 1: user " + other.subject.ID + " not found"
		}},
		{"another account's team", func(_, other *world) (string, string, string) {
			return "", `{"escalation_policy":{"teams":[{"id":"` + other.team.ID + `","type":"team_reference"}]}}`, "Team " + other.team.ID + " not found"
		}},
	}},
	"DELETE /escalation_policies/{id}": {noBody: true},

	"POST /services": {bad: []badBody{
		body("misspelt wrapper", `{"services":{"name":"X"}}`, `The request body must be {"service": {…}}`),
		body("wrong types", `{"service":{"name":"x","escalation_policy":{"id":5},"auto_resolve_timeout":"4h"}}`, "service.escalation_policy.id must be a string, not a number"),
		body("missing policy", `{"service":{"name":"x"}}`, "Escalation policy must be given"),
		{"missing name", func(w, _ *world) (string, string, string) {
			return "", `{"service":{"escalation_policy":{"id":"` + w.policy.ID + `"}}}`, "Name must not be empty"
		}},
		{"oversize name", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newServiceJSON(w), `"name":"`, `"name":"`+long(256), 1), "Name must be at most 255 characters"
		}},
		{"unknown status", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newServiceJSON(w), `"name"`, `"status":"paused","name"`, 1), `Status "paused" is not one of`
		}},
		{"unknown urgency", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newServiceJSON(w), `"name"`, `"incident_urgency_rule":{"type":"constant","urgency":"medium"},"name"`, 1),
				`Incident urgency "medium" is not one of high, low, severity_based`
		}},
		{"another account's policy", func(w, other *world) (string, string, string) {
			return "", strings.Replace(newServiceJSON(w), w.policy.ID, other.policy.ID, 1), "Escalation policy " + other.policy.ID + " not found"
		}},
	}},
	"PUT /services/{id}": {bad: []badBody{
		body("misspelt wrapper", `{"services":{"name":"X"}}`, `The request body must be {"service": {…}}`),
		body("wrong types", `{"service":{"acknowledgement_timeout":1.5}}`, "service.acknowledgement_timeout must be an integer, not a number 1.5"),
		body("blank name", `{"service":{"name":""}}`, "Name must not be empty"),
		body("oversize description", `{"service":{"description":"`+long(1025)+`"}}`, "Description must be at most 1024 characters"),
		body("unknown alert creation", `{"service":{"alert_creation":"never"}}`, `Alert creation "never" is not one of create_incidents, create_alerts_and_incidents`),
		body("negative timeout", `{"service":{"auto_resolve_timeout":-1}}`, "Auto resolve timeout must be between 0 and 2147483647 seconds"),
		{"another account's policy", func(_, other *world) (string, string, string) {
			return "", `{"service":{"escalation_policy":{"id":"` + other.policy.ID + `","type":"escalation_policy_reference"}}}`, "Escalation policy " + other.policy.ID + " not found"
		}},
	}},
	"DELETE /services/{id}": {noBody: true},
	"POST /services/{id}/integrations": {bad: []badBody{
		body("misspelt wrapper", `{"integrations":{"name":"X"}}`, `The request body must be {"integration": {…}}`),
		body("wrong types", `{"integration":{"name":["x"],"type":1}}`, "integration.name must be a string, not an array"),
		body("missing type", `{"integration":{"name":"x"}}`, "Type must be given, or a vendor"),
		body("oversize name", `{"integration":{"name":"`+long(256)+`","type":"events_api_v2_inbound_integration"}}`, "Name must be at most 255 characters"),
		body("unknown type", `{"integration":{"type":"generic_email_inbound_integration"}}`, `Type "generic_email_inbound_integration" is not one Gatehouse takes events for`),
		body("unknown vendor", `{"integration":{"vendor":{"id":"PNOPE00","type":"vendor_reference"}}}`, "Vendor PNOPE00 not found"),
	}},
	"PUT /services/{id}/integrations/{integration_id}": {bad: []badBody{
		body("misspelt wrapper", `{"integrations":{"name":"X"}}`, `The request body must be {"integration": {…}}`),
		body("wrong types", `{"integration":{"integration_key":2}}`, "integration.integration_key must be a string, not a number"),
		body("oversize name", `{"integration":{"name":"`+long(256)+`"}}`, "Name must be at most 255 characters"),
		body("unknown type", `{"integration":{"type":"email"}}`, `Type "email" is not one Gatehouse takes events for`),
	}},
	"DELETE /services/{id}/integrations/{integration_id}": {noBody: true},

	"POST /incidents": {bad: []badBody{
		body("misspelt wrapper", `{"incidents":{"name":"X"}}`, `The request body must be {"incident": {…}}`),
		body("wrong types", `{"incident":{"type":"incident","title":["x"],"service":"PNOPE00"}}`, "incident.title must be a string, not an array"),
		body("missing title and service", `{"incident":{"type":"incident"}}`, "Title must not be empty"),
		{"oversize title", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newIncidentJSON(w, w.service), `"title":"`, `"title":"`+long(1025), 1), "Title must be at most 1024 characters"
		}},
		{"unknown urgency", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newIncidentJSON(w, w.service), `"title"`, `"urgency":"medium","title"`, 1), `Urgency "medium" is not one of high, low`
		}},
		{"another account's service", func(w, other *world) (string, string, string) {
			return "", newIncidentJSON(w, other.service), "Service " + other.service.ID + " not found in this account"
		}},
		{"another account's assignee", func(w, other *world) (string, string, string) {
			return "", strings.Replace(newIncidentJSON(w, w.service), `"title"`, `"assignments":[{"assignee":{"id":"`+other.subject.ID+`","type":"user_reference"}}],"title"`, 1),
				"User " + other.subject.ID + " not found in this account"
		}},
		{"an open incident's key", func(w, _ *world) (string, string, string) {
			return "", strings.Replace(newIncidentJSON(w, w.service), `"title"`, `"incident_key":"`+w.incident.IncidentKey+`","title"`, 1),
				"Open incident with matching dedup key already exists on this service"
		}},
	}},
	"PUT /incidents": {bad: []badBody{
		body("wrong types", `{"incidents":[{"id":"1","type":"incident","status":7}]}`, "incidents[0].status must be a string, not a number"),
		body("not a list", `{"incidents":{"id":"1"}}`, `The body must be {"incidents": [...]}, a list of incidents`),
		body("missing id", `{"incidents":[{"type":"incident","status":"resolved"}]}`, "Incident 1 of the list has no id"),
		body("unknown status", `{"incidents":[{"id":"1","type":"incident","status":"snoozed"}]}`, `Incident 1: Status "snoozed" is not one of acknowledged, resolved`),
		{"another account's assignee", func(w, other *world) (string, string, string) {
			return "", `{"incidents":[{"id":"` + w.incident.ID + `","type":"incident","assignments":[{"assignee":{"id":"` + other.subject.ID + `","type":"user_reference"}}]}]}`,
				"User " + other.subject.ID + " not found in this account"
		}},
	}},
	"PUT /incidents/{id}": {bad: []badBody{
		body("misspelt wrapper", `{"incidents":{"name":"X"}}`, `The request body must be {"incident": {…}}`),
		body("wrong types", `{"incident":{"type":"incident","escalation_level":"2"}}`, "incident.escalation_level must be an integer, not a string"),
		body("unknown status", `{"incident":{"type":"incident","status":"triggered"}}`, `Status "triggered" is not one of acknowledged, resolved`),
		body("oversize title", `{"incident":{"type":"incident","title":"`+long(1025)+`"}}`, "Title must be at most 1024 characters"),
		body("escalation level beyond the rules", `{"incident":{"type":"incident","escalation_level":9}}`, "Escalation level 9 is beyond the rules"),
		{"another account's policy", func(_, other *world) (string, string, string) {
			return "", `{"incident":{"type":"incident","escalation_policy":{"id":"` + other.policy.ID + `","type":"escalation_policy_reference"}}}`,
				"Escalation policy " + other.policy.ID + " not found in this account"
		}},
	}},
	"PUT /incidents/{id}/alerts": {bad: []badBody{
		body("wrong types", `{"alerts":[{"id":5,"status":"resolved"}]}`, "alerts[0].id must be a string, not a number"),
		body("missing id", `{"alerts":[{"status":"resolved"}]}`, "alerts[0].id must be given"),
		body("not a list", `{"alert":{"status":"resolved"}}`, `The body must be {"alerts": [...]}, a list of alerts`),
	}},
	"PUT /incidents/{id}/alerts/{alert_id}": {bad: []badBody{
		body("misspelt wrapper", `{"alerts":{"name":"X"}}`, `The request body must be {"alert": {…}}`),
		body("wrong types", `{"alert":{"status":["resolved"]}}`, "alert.status must be a string, not an array"),
		body("unknown status", `{"alert":{"status":"triggered"}}`, `Status "triggered" is not one of resolved`),
		{"another incident", func(w, _ *world) (string, string, string) {
			return "", `{"alert":{"status":"resolved","incident":{"id":"` + w.otherIncident.ID + `","type":"incident_reference"}}}`,
				"moving alerts to another incident is not supported"
		}},
	}},
	"POST /incidents/{id}/notes": {bad: []badBody{
		body("misspelt wrapper", `{"notes":{"name":"X"}}`, `The request body must be {"note": {…}}`),
		body("wrong types", `{"note":{"content":5}}`, "note.content must be a string, not a number"),
		body("missing content", `{"note":{}}`, "Content must not be empty"),
		body("oversize content", `{"note":{"content":"`+long(25001)+`"}}`, "Content must be at most 25000 characters"),
	}},
}

// badJSON are wrong bodies every route that reads one answers alike.
var badJSON = []struct {
	name, body, line string
}{
	{"malformed", `{"name": "x"`, "The request body is not valid JSON"},
	{"not an object", `["x"]`, "The request body must be a JSON object"},
	{"null", `null`, "The request body must be a JSON object, not null"},
	{"invalid UTF-8", "{\"name\": \"\xff\"}", "The request body is not valid UTF-8"},
	{"oversize", `{"pad":"` + strings.Repeat("x", maxBodyBytes) + `"}`, "The request body must be at most 1048576 bytes"},
}

// TestBadInput: every write route answers wrong input with 400 (code 2001)
// and a line in errors that says what is wrong, never a 500; and a route
// that reads no body ignores one.
func TestBadInput(t *testing.T) {
	t.Parallel()
	// On both engines: PostgreSQL refuses some text SQLite takes.
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		f := newFixture(t, s)
		w := newWorld(t, f, "acme", gatehouse.PlanBusiness)
		other := newWorld(t, f, "globex", gatehouse.PlanBusiness)
		key := w.cred(fullKey)
		for _, rt := range routes {
			method, _ := splitPattern(rt.Pattern)
			if method == "GET" {
				continue
			}
			t.Run(rt.Pattern, func(t *testing.T) {
				t.Parallel()
				w.wait(t)
				in, ok := writeInputs[rt.Pattern]
				if !ok || (!in.noBody && len(in.bad) == 0) {
					t.Fatalf("%s: no entry in writeInputs; add the wrong input it must refuse, or noBody", rt.Pattern)
				}
				if len(routeCases[rt.Pattern]) == 0 {
					t.Fatalf("%s: no entry in routeCases", rt.Pattern)
				}
				usual := routeCases[rt.Pattern][0]
				if in.noBody {
					// A body is ignored, whatever it holds.
					req := usual.build(t, w, key)
					req.body = `{"garbage": [`
					if r := w.do(t, req, key); r.Status/100 != 2 {
						t.Errorf("%s %s with a body it does not read: %d %s, want a success", req.method, req.path, r.Status, r.Body)
					}
					return
				}
				for _, b := range in.bad {
					req := usual.build(t, w, key)
					path, bad, line := b.make(w, other)
					if path != "" {
						req.path = path
					}
					req.body = bad
					wantLine(t, b.name, req, w.do(t, req, key), line)
				}
				for _, b := range badJSON {
					req := usual.build(t, w, key)
					req.body = b.body
					wantLine(t, b.name, req, w.do(t, req, key), b.line)
				}
			})
		}
		for pattern := range writeInputs {
			if len(routeCases[pattern]) == 0 {
				t.Errorf("writeInputs has %s, which no route serves", pattern)
			}
		}
	})
}

// wantLine checks that r is a 400 (code 2001) with line in its errors.
func wantLine(t *testing.T, name string, req call, r response, line string) {
	t.Helper()
	if r.Status != 400 {
		body := r.Body
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		t.Errorf("%s: %s %s: %d %s, want 400", name, req.method, req.path, r.Status, body)
		return
	}
	errs := wantError(t, r, 400, gatehouse.CodeInvalidInput, "")
	for _, e := range errs {
		if strings.Contains(e, line) {
			return
		}
	}
	t.Errorf("%s: %s %s: errors %q, want a line with %q", name, req.method, req.path, errs, line)
}
