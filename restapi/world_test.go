package restapi

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// This file is the route tables' world: an account with a user of every
// role and every kind of credential, and how each route of the table is
// called in it (routeCases). The authorization, isolation and bad-input
// tables all start from it; a route without an entry here fails them.

// The credentials of a world, by name: its general keys, and the API user
// token of a user of each role, named by the role.
const (
	fullKey     = "full key"
	readOnlyKey = "read-only key"
)

var (
	// tokenRoles are the roles whose users hold a token in a world: every
	// role, the Limited Stakeholder's refused at the door.
	tokenRoles = []gatehouse.Role{
		gatehouse.RoleOwner, gatehouse.RoleAdmin, gatehouse.RoleUser, gatehouse.RoleLimitedUser, gatehouse.RoleObserver,
		gatehouse.RoleRestrictedAccess, gatehouse.RoleReadOnlyUser, gatehouse.RoleReadOnlyLimitedUser,
	}

	// Who may do what, DESIGN §2: reads are everyone's; configuration
	// (teams, escalation policies, services) is Managers' and above; users
	// and the account are Admins' and the Owner's, but everyone changes their
	// own profile, contact methods and notification rules (access.Decide).
	// The Limited Stakeholder is in none: their tokens are refused at the
	// door.
	everyone    = []string{fullKey, readOnlyKey, "owner", "admin", "user", "limited_user", "observer", "restricted_access", "read_only_user"}
	selfService = []string{fullKey, "owner", "admin", "user", "limited_user", "observer", "restricted_access", "read_only_user"}
	managers    = []string{fullKey, "owner", "admin", "user"}
	admins      = []string{fullKey, "owner", "admin"}
	// auditors read the whole account's audit trail: PagerDuty's "admins,
	// account owners, or global API tokens".
	auditors = []string{fullKey, readOnlyKey, "owner", "admin"}
)

// credential is one credential of a world.
type credential struct {
	// name is fullKey, readOnlyKey, or the role of the token's user.
	name string
	key  string
	// user is the token's user; nil for a general key.
	user *gatehouse.User
}

// unlessHidden is may(status, everyone...) for an object outside the
// Restricted Access user's teams, which they do not see: 404.
func unlessHidden(status int) func(credential) int {
	return func(c credential) int {
		if c.name == string(gatehouse.RoleRestrictedAccess) {
			return 404
		}
		return may(status, everyone...)(c)
	}
}

// may is the status a credential gets for a call that succeeds with status
// for the credentials named in who, and is refused (403) for the others.
func may(status int, who ...string) func(credential) int {
	return func(c credential) int {
		for _, name := range who {
			if c.name == name {
				return status
			}
		}
		return 403
	}
}

// world is an account as the route tables see it.
type world struct {
	f       *fixture
	account *gatehouse.Account
	// cli makes the world's objects, whoever a test acts as.
	cli *sqlstore.Scope
	// tag is in the name, or the address, of every object of the world, so
	// that another account's answers can be searched for it.
	tag   string
	users map[gatehouse.Role]*gatehouse.User
	creds []credential
	// team has the Manager, the Responder, the Observer, the Restricted
	// Access user and the subject as members; policy is the team's, with
	// the subject as its target. So every role can read them.
	team   *gatehouse.Team
	policy *gatehouse.EscalationPolicy
	// subject is a Responder of the team: the other user whom calls on
	// another user act on.
	subject       *gatehouse.User
	subjectMethod *gatehouse.ContactMethod
	subjectRule   *gatehouse.NotificationRule
	// outsider, otherTeam and otherPolicy are outside the Restricted Access
	// user's team: hidden from them.
	outsider    *gatehouse.User
	otherTeam   *gatehouse.Team
	otherPolicy *gatehouse.EscalationPolicy
	// service uses the team's policy, so every role sees it, and has
	// integration; otherService uses otherPolicy, outside the team.
	service      *gatehouse.Service
	integration  *gatehouse.Integration
	otherService *gatehouse.Service
	// incidentWorld holds the world's incidents, alerts, log entries and
	// change events.
	incidentWorld

	// turns bounds the route subtests running at once (see wait).
	turns chan struct{}
	seq   atomic.Int64
	// ids are the IDs of every object made in the world.
	mu  sync.Mutex
	ids []string
}

// newWorld makes an account on plan named subdomain in f's store, with
// its users, credentials and objects. Its tag is the subdomain.
func newWorld(t *testing.T, f *fixture, subdomain string, plan gatehouse.Plan) *world {
	t.Helper()
	ctx := context.Background()
	s := f.store
	a, owner := storetest.MustCreateAccount(t, s, subdomain, plan)
	w := &world{f: f, account: a, cli: s.Scope(a.ID, sqlstore.CLI(a)), tag: subdomain, users: map[gatehouse.Role]*gatehouse.User{gatehouse.RoleOwner: owner},
		turns: make(chan struct{}, worldTurns)}
	w.record(a.ID, owner.ID)
	full, k := mustKey(t, s, a, nil, false)
	readOnly, ro := mustKey(t, s, a, nil, true)
	w.record(k.ID, ro.ID)
	w.creds = []credential{{name: fullKey, key: full}, {name: readOnlyKey, key: readOnly}}
	for _, role := range tokenRoles {
		u := w.users[role]
		if u == nil {
			u = storetest.MustCreateUser(t, s, a, string(role)+"-"+subdomain, role)
			w.users[role] = u
			w.record(u.ID)
		}
		tok, k := mustKey(t, s, a, u, false)
		w.record(k.ID)
		w.creds = append(w.creds, credential{name: string(role), key: tok, user: u})
	}
	w.subject = w.freshUser(t)
	w.team = w.freshTeam(t)
	for _, u := range []*gatehouse.User{w.users[gatehouse.RoleUser], w.users[gatehouse.RoleLimitedUser], w.users[gatehouse.RoleObserver],
		w.users[gatehouse.RoleRestrictedAccess], w.subject} {
		storetest.MustAddTeamMember(t, s, w.team, u, "responder")
	}
	w.policy = w.freshPolicy(t)
	if err := w.cli.AddTeamEscalationPolicy(ctx, w.team.ID, w.policy.ID); err != nil {
		t.Fatal(err)
	}
	w.subjectMethod = w.freshContactMethod(t, w.subject)
	w.subjectRule = w.freshRule(t, w.subject)
	w.outsider, w.otherTeam, w.otherPolicy = w.freshUser(t), w.freshTeam(t), w.freshPolicy(t)
	w.service, w.otherService = w.freshService(t, w.policy), w.freshService(t, w.otherPolicy)
	w.integration = w.freshIntegration(t, w.service)
	w.makeIncidents(t)
	return w
}

// worldTurns is how many route subtests of a world run at once: on
// PostgreSQL each request in flight holds a connection of a server that
// every package's tests share, and SQLite writes one at a time anyway.
const worldTurns = 4

// wait waits for a turn of the world, held until t ends.
func (w *world) wait(t *testing.T) {
	w.turns <- struct{}{}
	t.Cleanup(func() { <-w.turns })
}

// cred returns the world's credential with that name.
func (w *world) cred(name string) credential {
	for _, c := range w.creds {
		if c.name == name {
			return c
		}
	}
	panic("no credential " + name)
}

// record remembers IDs of the world's objects.
func (w *world) record(ids ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids = append(w.ids, ids...)
}

// objectIDs are the IDs of every object made in the world so far.
func (w *world) objectIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ids...)
}

// name is a new name for an object of kind, with the world's tag.
func (w *world) name(kind string) string {
	return fmt.Sprintf("%s %s %d", kind, w.tag, w.seq.Add(1))
}

// email is a new email address in the world's domain.
func (w *world) email() string {
	return fmt.Sprintf("person%d@%s.example.com", w.seq.Add(1), w.tag)
}

// self is the user a call on one's own objects acts on: the token's user,
// or the subject for a general key.
func (w *world) self(c credential) *gatehouse.User {
	if c.user != nil {
		return c.user
	}
	return w.subject
}

func (w *world) freshUser(t *testing.T) *gatehouse.User {
	t.Helper()
	u := &gatehouse.User{Name: w.name("user"), Email: w.email(), Role: gatehouse.RoleLimitedUser}
	if err := w.cli.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	w.record(u.ID)
	return u
}

func (w *world) freshTeam(t *testing.T) *gatehouse.Team {
	t.Helper()
	team := &gatehouse.Team{Name: w.name("team")}
	if err := w.cli.CreateTeam(context.Background(), team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	w.record(team.ID)
	return team
}

// freshPolicy is a new escalation policy of no team, with the subject as
// its one target.
func (w *world) freshPolicy(t *testing.T) *gatehouse.EscalationPolicy {
	t.Helper()
	p := &gatehouse.EscalationPolicy{Name: w.name("policy"), Rules: []gatehouse.EscalationRule{
		{DelayInMinutes: 5, Targets: []gatehouse.EscalationTarget{{Type: gatehouse.TargetUser, ID: w.subject.ID}}},
	}}
	if err := w.cli.CreateEscalationPolicy(context.Background(), p); err != nil {
		t.Fatalf("CreateEscalationPolicy: %v", err)
	}
	w.record(p.ID)
	for _, r := range p.Rules {
		w.record(r.ID)
	}
	return p
}

// freshMember is a new team with the subject as a member.
func (w *world) freshMember(t *testing.T) *gatehouse.Team {
	t.Helper()
	team := w.freshTeam(t)
	storetest.MustAddTeamMember(t, w.f.store, team, w.subject, "responder")
	return team
}

// freshTeamPolicy is a new team with a new policy on it.
func (w *world) freshTeamPolicy(t *testing.T) (*gatehouse.Team, *gatehouse.EscalationPolicy) {
	t.Helper()
	team, p := w.freshTeam(t), w.freshPolicy(t)
	if err := w.cli.AddTeamEscalationPolicy(context.Background(), team.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	return team, p
}

func (w *world) freshContactMethod(t *testing.T, u *gatehouse.User) *gatehouse.ContactMethod {
	t.Helper()
	c := &gatehouse.ContactMethod{Type: gatehouse.ContactEmail, Label: w.name("method"), Address: w.email()}
	if err := w.cli.CreateContactMethod(context.Background(), u.ID, c); err != nil {
		t.Fatalf("CreateContactMethod: %v", err)
	}
	w.record(c.ID)
	return c
}

// freshRule is a new notification rule of u, on a new contact method.
func (w *world) freshRule(t *testing.T, u *gatehouse.User) *gatehouse.NotificationRule {
	t.Helper()
	n := &gatehouse.NotificationRule{ContactMethodID: w.freshContactMethod(t, u).ID, StartDelayInMinutes: 3, Urgency: "low"}
	if err := w.cli.CreateNotificationRule(context.Background(), u.ID, n); err != nil {
		t.Fatalf("CreateNotificationRule: %v", err)
	}
	w.record(n.ID)
	return n
}

// freshService is a new service with escalation policy p.
func (w *world) freshService(t *testing.T, p *gatehouse.EscalationPolicy) *gatehouse.Service {
	t.Helper()
	svc := &gatehouse.Service{Name: w.name("service"), EscalationPolicy: gatehouse.Ref{ID: p.ID}}
	if err := w.cli.CreateService(context.Background(), svc); err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	w.record(svc.ID)
	return svc
}

// freshIntegration is a new Events API v2 integration of svc.
func (w *world) freshIntegration(t *testing.T, svc *gatehouse.Service) *gatehouse.Integration {
	t.Helper()
	in := &gatehouse.Integration{Name: w.name("integration"), Type: gatehouse.IntegrationEventsV2}
	if err := w.cli.CreateIntegration(context.Background(), svc.ID, in); err != nil {
		t.Fatalf("CreateIntegration: %v", err)
	}
	w.record(in.ID, in.Key)
	return in
}

// call is one request: method, path (with its query) and body.
type call struct {
	method, path, body string
}

// do sends c with the credential and returns what the client sees. An
// account-level credential names the subject in a From header, as clients
// do for the writes to incidents that need one; a user token needs none.
func (w *world) do(t *testing.T, c call, cred credential) response {
	t.Helper()
	if cred.user == nil {
		return w.f.sendFrom(t, c.method, c.path, token(cred.key), w.subject.Email, c.body)
	}
	return w.f.send(t, c.method, c.path, token(cred.key), c.body)
}

// routeCase is one way of calling a route. build makes the request for a
// credential of a world, making anew the objects the request changes or
// deletes; want is the status each credential of the world gets: the
// success's, or 403 (code 2010) where its role may not.
type routeCase struct {
	name  string
	build func(t *testing.T, w *world, c credential) call
	want  func(c credential) int
}

// get is a call without a body.
func get(path string) call { return call{method: "GET", path: path} }

// same is a build that makes the same call whoever makes it.
func same(c func(w *world) call) func(*testing.T, *world, credential) call {
	return func(_ *testing.T, w *world, _ credential) call { return c(w) }
}

// Bodies of the calls that succeed.
func newUserJSON(w *world) string {
	return `{"user":{"name":"` + w.name("user") + `","email":"` + w.email() + `","role":"limited_user","time_zone":"Europe/Paris"}}`
}

func newContactMethodJSON(w *world) string {
	return `{"contact_method":{"type":"email_contact_method","label":"` + w.name("method") + `","address":"` + w.email() + `"}}`
}

func newRuleJSON(methodID string) string {
	return `{"notification_rule":{"start_delay_in_minutes":5,"urgency":"low","contact_method":{"id":"` + methodID + `","type":"email_contact_method_reference"}}}`
}

func newServiceJSON(w *world) string {
	return `{"service":{"name":"` + w.name("service") + `","escalation_policy":{"id":"` + w.policy.ID + `","type":"escalation_policy_reference"}}}`
}

func newIntegrationJSON(w *world) string {
	return `{"integration":{"name":"` + w.name("integration") + `","type":"events_api_v2_inbound_integration"}}`
}

func newPolicyJSON(w *world) string {
	return `{"escalation_policy":{"name":"` + w.name("policy") + `","escalation_rules":[{"escalation_delay_in_minutes":5,"targets":[{"id":"` +
		w.subject.ID + `","type":"user_reference"}]}]}}`
}

// routeCases says how each route of the table is called and who may call
// it. Every route needs an entry: the tables fail for a route without one.
// Add the entry with the route.
var routeCases = map[string][]routeCase{
	"GET /abilities":      {{"", same(func(*world) call { return get("/abilities") }), may(200, everyone...)}},
	"GET /abilities/{id}": {{"", same(func(*world) call { return get("/abilities/teams") }), may(204, everyone...)}},

	"GET /users": {{"", same(func(w *world) call {
		return get("/users?include[]=contact_methods&include[]=notification_rules&include[]=teams&total=true")
	}), may(200, everyone...)}},
	"POST /users": {{"", same(func(w *world) call { return call{"POST", "/users", newUserJSON(w)} }), may(201, admins...)}},
	"GET /users/me": {{"", same(func(*world) call { return get("/users/me") }), func(c credential) int {
		if c.user == nil {
			return 400 // no user to be: PagerDuty's own answer
		}
		return may(200, everyone...)(c)
	}}},
	"GET /users/{id}": {
		{"", same(func(w *world) call { return get("/users/" + w.subject.ID) }), may(200, everyone...)},
		{"outside the team", same(func(w *world) call { return get("/users/" + w.outsider.ID) }), unlessHidden(200)},
	},
	"PUT /users/{id}": {
		{"another user", func(t *testing.T, w *world, _ credential) call {
			return call{"PUT", "/users/" + w.freshUser(t).ID, `{"user":{"job_title":"Tester"}}`}
		}, may(200, admins...)},
		{"own profile", func(t *testing.T, w *world, c credential) call {
			u := w.freshUser(t)
			if c.user != nil {
				u = c.user
			}
			return call{"PUT", "/users/" + u.ID, `{"user":{"job_title":"` + w.name("title") + `"}}`}
		}, may(200, selfService...)},
		{"the Account Owner", same(func(w *world) call {
			return call{"PUT", "/users/" + w.users[gatehouse.RoleOwner].ID, `{"user":{"job_title":"` + w.name("title") + `"}}`}
		}), may(200, fullKey, "owner")},
	},
	"DELETE /users/{id}": {
		{"", func(t *testing.T, w *world, _ credential) call {
			return call{"DELETE", "/users/" + w.freshUser(t).ID, ""}
		}, may(204, admins...)},
		// An Admin may not; those who may are told the owner stays.
		{"the Account Owner", same(func(w *world) call {
			return call{"DELETE", "/users/" + w.users[gatehouse.RoleOwner].ID, ""}
		}), may(400, fullKey, "owner")},
	},
	"GET /users/{id}/license": {
		{"", same(func(w *world) call { return get("/users/" + w.subject.ID + "/license") }), may(200, everyone...)},
		{"outside the team", same(func(w *world) call { return get("/users/" + w.outsider.ID + "/license") }), unlessHidden(200)},
	},
	"GET /licenses":            {{"", same(func(*world) call { return get("/licenses") }), may(200, everyone...)}},
	"GET /license_allocations": {{"", same(func(*world) call { return get("/license_allocations") }), may(200, everyone...)}},

	"GET /users/{id}/contact_methods": {
		{"", same(func(w *world) call { return get("/users/" + w.subject.ID + "/contact_methods") }), may(200, everyone...)},
		{"outside the team", same(func(w *world) call { return get("/users/" + w.outsider.ID + "/contact_methods") }), unlessHidden(200)},
	},
	"POST /users/{id}/contact_methods": {
		{"own", func(_ *testing.T, w *world, c credential) call {
			return call{"POST", "/users/" + w.self(c).ID + "/contact_methods", newContactMethodJSON(w)}
		}, may(201, selfService...)},
		{"another user's", same(func(w *world) call {
			return call{"POST", "/users/" + w.subject.ID + "/contact_methods", newContactMethodJSON(w)}
		}), may(201, admins...)},
		{"the Account Owner's", same(func(w *world) call {
			return call{"POST", "/users/" + w.users[gatehouse.RoleOwner].ID + "/contact_methods", newContactMethodJSON(w)}
		}), may(201, fullKey, "owner")},
	},
	"GET /users/{id}/contact_methods/{contact_method_id}": {{"", same(func(w *world) call {
		return get("/users/" + w.subject.ID + "/contact_methods/" + w.subjectMethod.ID)
	}), may(200, everyone...)}},
	"PUT /users/{id}/contact_methods/{contact_method_id}": {
		{"own", func(t *testing.T, w *world, c credential) call {
			u := w.self(c)
			return call{"PUT", "/users/" + u.ID + "/contact_methods/" + w.freshContactMethod(t, u).ID, `{"contact_method":{"label":"` + w.name("label") + `"}}`}
		}, may(200, selfService...)},
		{"another user's", func(t *testing.T, w *world, _ credential) call {
			return call{"PUT", "/users/" + w.subject.ID + "/contact_methods/" + w.freshContactMethod(t, w.subject).ID, `{"contact_method":{"label":"` + w.name("label") + `"}}`}
		}, may(200, admins...)},
	},
	"DELETE /users/{id}/contact_methods/{contact_method_id}": {
		{"own", func(t *testing.T, w *world, c credential) call {
			u := w.self(c)
			return call{"DELETE", "/users/" + u.ID + "/contact_methods/" + w.freshContactMethod(t, u).ID, ""}
		}, may(204, selfService...)},
		{"another user's", func(t *testing.T, w *world, _ credential) call {
			return call{"DELETE", "/users/" + w.subject.ID + "/contact_methods/" + w.freshContactMethod(t, w.subject).ID, ""}
		}, may(204, admins...)},
	},

	"GET /users/{id}/notification_rules": {{"", same(func(w *world) call {
		return get("/users/" + w.subject.ID + "/notification_rules?urgency=all&include[]=contact_methods")
	}), may(200, everyone...)}},
	"POST /users/{id}/notification_rules": {
		{"own", func(t *testing.T, w *world, c credential) call {
			u := w.self(c)
			return call{"POST", "/users/" + u.ID + "/notification_rules", newRuleJSON(w.freshContactMethod(t, u).ID)}
		}, may(201, selfService...)},
		{"another user's", same(func(w *world) call {
			return call{"POST", "/users/" + w.subject.ID + "/notification_rules", newRuleJSON(w.subjectMethod.ID)}
		}), may(201, admins...)},
	},
	"GET /users/{id}/notification_rules/{notification_rule_id}": {{"", same(func(w *world) call {
		return get("/users/" + w.subject.ID + "/notification_rules/" + w.subjectRule.ID)
	}), may(200, everyone...)}},
	"PUT /users/{id}/notification_rules/{notification_rule_id}": {
		{"own", func(t *testing.T, w *world, c credential) call {
			u := w.self(c)
			return call{"PUT", "/users/" + u.ID + "/notification_rules/" + w.freshRule(t, u).ID, `{"notification_rule":{"start_delay_in_minutes":10}}`}
		}, may(200, selfService...)},
		{"another user's", func(t *testing.T, w *world, _ credential) call {
			return call{"PUT", "/users/" + w.subject.ID + "/notification_rules/" + w.freshRule(t, w.subject).ID, `{"notification_rule":{"start_delay_in_minutes":10}}`}
		}, may(200, admins...)},
	},
	"DELETE /users/{id}/notification_rules/{notification_rule_id}": {
		{"own", func(t *testing.T, w *world, c credential) call {
			u := w.self(c)
			return call{"DELETE", "/users/" + u.ID + "/notification_rules/" + w.freshRule(t, u).ID, ""}
		}, may(204, selfService...)},
		{"another user's", func(t *testing.T, w *world, _ credential) call {
			return call{"DELETE", "/users/" + w.subject.ID + "/notification_rules/" + w.freshRule(t, w.subject).ID, ""}
		}, may(204, admins...)},
	},

	"GET /teams":  {{"", same(func(*world) call { return get("/teams?total=true") }), may(200, everyone...)}},
	"POST /teams": {{"", same(func(w *world) call { return call{"POST", "/teams", `{"team":{"name":"` + w.name("team") + `"}}`} }), may(201, managers...)}},
	"GET /teams/{id}": {
		{"", same(func(w *world) call { return get("/teams/" + w.team.ID) }), may(200, everyone...)},
		{"another team", same(func(w *world) call { return get("/teams/" + w.otherTeam.ID) }), unlessHidden(200)},
	},
	"PUT /teams/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/teams/" + w.freshTeam(t).ID, `{"team":{"description":"Changed"}}`}
	}, may(200, managers...)}},
	"DELETE /teams/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"DELETE", "/teams/" + w.freshTeam(t).ID, ""}
	}, may(204, managers...)}},
	"GET /teams/{id}/members": {
		{"", same(func(w *world) call { return get("/teams/" + w.team.ID + "/members?include[]=users") }), may(200, everyone...)},
		{"another team", same(func(w *world) call { return get("/teams/" + w.otherTeam.ID + "/members") }), unlessHidden(200)},
	},
	"PUT /teams/{id}/users/{user_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/teams/" + w.freshTeam(t).ID + "/users/" + w.subject.ID, `{"role":"responder"}`}
	}, may(204, managers...)}},
	"DELETE /teams/{id}/users/{user_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"DELETE", "/teams/" + w.freshMember(t).ID + "/users/" + w.subject.ID, ""}
	}, may(204, managers...)}},
	"PUT /teams/{id}/escalation_policies/{escalation_policy_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/teams/" + w.freshTeam(t).ID + "/escalation_policies/" + w.freshPolicy(t).ID, ""}
	}, may(204, managers...)}},
	"DELETE /teams/{id}/escalation_policies/{escalation_policy_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		team, p := w.freshTeamPolicy(t)
		return call{"DELETE", "/teams/" + team.ID + "/escalation_policies/" + p.ID, ""}
	}, may(204, managers...)}},

	"GET /escalation_policies": {{"", same(func(w *world) call {
		return get("/escalation_policies?include[]=targets&include[]=teams&total=true")
	}), may(200, everyone...)}},
	"POST /escalation_policies": {{"", same(func(w *world) call { return call{"POST", "/escalation_policies", newPolicyJSON(w)} }), may(201, managers...)}},
	"GET /escalation_policies/{id}": {
		{"", same(func(w *world) call { return get("/escalation_policies/" + w.policy.ID + "?include[]=targets") }), may(200, everyone...)},
		{"of no team", same(func(w *world) call { return get("/escalation_policies/" + w.otherPolicy.ID) }), unlessHidden(200)},
	},
	"PUT /escalation_policies/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/escalation_policies/" + w.freshPolicy(t).ID, `{"escalation_policy":{"description":"Changed"}}`}
	}, may(200, managers...)}},
	"DELETE /escalation_policies/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"DELETE", "/escalation_policies/" + w.freshPolicy(t).ID, ""}
	}, may(204, managers...)}},

	"GET /services": {{"", same(func(*world) call {
		return get("/services?include[]=integrations&include[]=teams&include[]=escalation_policies&total=true")
	}), may(200, everyone...)}},
	"POST /services": {{"", same(func(w *world) call { return call{"POST", "/services", newServiceJSON(w)} }), may(201, managers...)}},
	"GET /services/{id}": {
		{"", same(func(w *world) call { return get("/services/" + w.service.ID + "?include[]=integrations") }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/services/" + w.otherService.ID) }), unlessHidden(200)},
	},
	"PUT /services/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/services/" + w.freshService(t, w.policy).ID, `{"service":{"description":"Changed"}}`}
	}, may(200, managers...)}},
	"DELETE /services/{id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"DELETE", "/services/" + w.freshService(t, w.policy).ID, ""}
	}, may(204, managers...)}},
	// Integration keys are made by Managers and above: the seeds' rule.
	"POST /services/{id}/integrations": {{"", same(func(w *world) call {
		return call{"POST", "/services/" + w.service.ID + "/integrations", newIntegrationJSON(w)}
	}), may(201, managers...)}},
	"GET /services/{id}/integrations/{integration_id}": {
		{"", same(func(w *world) call { return get("/services/" + w.service.ID + "/integrations/" + w.integration.ID) }), may(200, everyone...)},
	},
	"PUT /services/{id}/integrations/{integration_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/services/" + w.service.ID + "/integrations/" + w.freshIntegration(t, w.service).ID, `{"integration":{"integration_key":null}}`}
	}, may(200, managers...)}},
	"DELETE /services/{id}/integrations/{integration_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"DELETE", "/services/" + w.service.ID + "/integrations/" + w.freshIntegration(t, w.service).ID, ""}
	}, may(204, managers...)}},
	"GET /vendors":      {{"", same(func(*world) call { return get("/vendors?query=prom") }), may(200, everyone...)}},
	"GET /vendors/{id}": {{"", same(func(*world) call { return get("/vendors/" + gatehouse.Vendors[0].ID) }), may(200, everyone...)}},
	"GET /priorities":   {{"", same(func(*world) call { return get("/priorities") }), may(200, everyone...)}},

	"GET /audit/records": {{"", same(func(*world) call { return get("/audit/records") }), may(200, auditors...)}},
	"GET /services/{id}/audit/records": {
		{"", same(func(w *world) call { return get("/services/" + w.service.ID + "/audit/records") }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/services/" + w.otherService.ID + "/audit/records") }), unlessHidden(200)},
	},
	"GET /users/{id}/audit/records": {
		{"", same(func(w *world) call { return get("/users/" + w.subject.ID + "/audit/records") }), may(200, everyone...)},
		{"outside the team", same(func(w *world) call { return get("/users/" + w.outsider.ID + "/audit/records") }), unlessHidden(200)},
	},
	"GET /teams/{id}/audit/records": {
		{"", same(func(w *world) call { return get("/teams/" + w.team.ID + "/audit/records") }), may(200, everyone...)},
		{"another team", same(func(w *world) call { return get("/teams/" + w.otherTeam.ID + "/audit/records") }), unlessHidden(200)},
	},
	"GET /escalation_policies/{id}/audit/records": {
		{"", same(func(w *world) call { return get("/escalation_policies/" + w.policy.ID + "/audit/records") }), may(200, everyone...)},
		{"of no team", same(func(w *world) call { return get("/escalation_policies/" + w.otherPolicy.ID + "/audit/records") }), unlessHidden(200)},
	},

	// Incidents: everyone reads; Responders and above act on them; the
	// Restricted Access user sees and acts on those of the team's service
	// only.
	"GET /incidents": {{"", same(func(*world) call {
		return get("/incidents?date_range=all&include[]=services&include[]=assignees&include[]=teams&total=true")
	}), may(200, everyone...)}},
	"POST /incidents": {
		{"", same(func(w *world) call { return call{"POST", "/incidents", newIncidentJSON(w, w.service)} }), may(201, responders...)},
		// The other team's service is not one the Restricted Access user
		// may name.
		{"on another team's service", same(func(w *world) call { return call{"POST", "/incidents", newIncidentJSON(w, w.otherService)} }),
			func(c credential) int {
				if c.name == string(gatehouse.RoleRestrictedAccess) {
					return 400
				}
				return may(201, responders...)(c)
			}},
	},
	"PUT /incidents": {{"", func(t *testing.T, w *world, _ credential) call {
		return call{"PUT", "/incidents", `{"incidents":[{"id":"` + w.freshIncident(t, w.service).ID + `","type":"incident_reference","status":"acknowledged"}]}`}
	}, may(200, responders...)}},
	"GET /incidents/{id}": {
		{"", same(func(w *world) call {
			return get("/incidents/" + w.incident.ID + "?include[]=first_trigger_log_entries")
		}), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/incidents/" + w.otherIncident.ID) }), unlessHidden(200)},
	},
	"PUT /incidents/{id}": {
		{"", func(t *testing.T, w *world, _ credential) call {
			return call{"PUT", "/incidents/" + w.freshIncident(t, w.service).ID, `{"incident":{"type":"incident_reference","status":"acknowledged"}}`}
		}, may(200, responders...)},
		{"of another team", func(t *testing.T, w *world, _ credential) call {
			return call{"PUT", "/incidents/" + w.freshIncident(t, w.otherService).ID, `{"incident":{"type":"incident_reference","status":"resolved"}}`}
		}, respondersUnlessHidden(200)},
	},
	"GET /incidents/{id}/alerts": {
		{"", same(func(w *world) call { return get("/incidents/" + w.incident.ID + "/alerts?include[]=services") }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/incidents/" + w.otherIncident.ID + "/alerts") }), unlessHidden(200)},
	},
	"PUT /incidents/{id}/alerts": {{"", func(t *testing.T, w *world, _ credential) call {
		inc, alert := w.freshAlert(t, w.service, w.integration)
		return call{"PUT", "/incidents/" + inc.ID + "/alerts", `{"alerts":[{"id":"` + alert + `","type":"alert","status":"resolved"}]}`}
	}, may(200, responders...)}},
	"GET /incidents/{id}/alerts/{alert_id}": {
		{"", same(func(w *world) call { return get("/incidents/" + w.incident.ID + "/alerts/" + w.alert) }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/incidents/" + w.otherIncident.ID + "/alerts/" + w.otherAlert) }), unlessHidden(200)},
	},
	"PUT /incidents/{id}/alerts/{alert_id}": {{"", func(t *testing.T, w *world, _ credential) call {
		inc, alert := w.freshAlert(t, w.service, w.integration)
		return call{"PUT", "/incidents/" + inc.ID + "/alerts/" + alert, `{"alert":{"type":"alert","status":"resolved"}}`}
	}, may(200, responders...)}},
	"GET /incidents/{id}/notes": {
		{"", same(func(w *world) call { return get("/incidents/" + w.incident.ID + "/notes") }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/incidents/" + w.otherIncident.ID + "/notes") }), unlessHidden(200)},
	},
	"POST /incidents/{id}/notes": {
		{"", same(func(w *world) call {
			return call{"POST", "/incidents/" + w.incident.ID + "/notes", `{"note":{"content":"` + w.name("note") + `"}}`}
		}), may(200, responders...)},
		{"of another team", same(func(w *world) call {
			return call{"POST", "/incidents/" + w.otherIncident.ID + "/notes", `{"note":{"content":"` + w.name("note") + `"}}`}
		}), respondersUnlessHidden(200)},
	},
	"GET /incidents/{id}/log_entries": {
		{"", same(func(w *world) call {
			return get("/incidents/" + w.incident.ID + "/log_entries?include[]=channels&include[]=incidents")
		}), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/incidents/" + w.otherIncident.ID + "/log_entries") }), unlessHidden(200)},
	},
	"GET /log_entries": {{"", same(func(*world) call { return get("/log_entries?total=true&include[]=incidents") }), may(200, everyone...)}},
	"GET /log_entries/{id}": {
		{"", same(func(w *world) call { return get("/log_entries/" + w.logEntry) }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/log_entries/" + w.otherLogEntry) }), unlessHidden(200)},
	},

	"GET /change_events": {{"", same(func(*world) call { return get("/change_events?total=true") }), may(200, everyone...)}},
	"GET /change_events/{id}": {
		{"", same(func(w *world) call { return get("/change_events/" + w.change) }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/change_events/" + w.otherChange) }), unlessHidden(200)},
	},
	"GET /services/{id}/change_events": {
		{"", same(func(w *world) call { return get("/services/" + w.service.ID + "/change_events") }), may(200, everyone...)},
		{"of another team", same(func(w *world) call { return get("/services/" + w.otherService.ID + "/change_events") }), unlessHidden(200)},
	},
}

// newIncidentJSON is the body of an incident opened by hand on svc.
func newIncidentJSON(w *world, svc *gatehouse.Service) string {
	return `{"incident":{"type":"incident","title":"` + w.name("incident") + `","service":{"id":"` + svc.ID + `","type":"service_reference"}}}`
}

// placeholder is a path parameter of a route's pattern, such as {id}.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// splitPattern is a route's method and path.
func splitPattern(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, path
}
