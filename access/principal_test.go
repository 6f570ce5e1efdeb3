package access

import (
	"net/http"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

// allowed maps each decision to the status a client sees: 0 for allowed.
func status(err error) int {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.CodeAbilityMissing:
		return http.StatusPaymentRequired
	case gatehouse.CodeForbidden:
		return http.StatusForbidden
	}
	if err != nil {
		return http.StatusInternalServerError
	}
	return 0
}

var (
	business     = &gatehouse.Account{ID: "PACCT01", Plan: gatehouse.PlanBusiness}
	lite         = &gatehouse.Account{ID: "PACCT02", Plan: gatehouse.PlanLite}
	basic        = &gatehouse.Account{ID: "PACCT03", Plan: gatehouse.PlanBasic}
	professional = &gatehouse.Account{ID: "PACCT04", Plan: gatehouse.PlanProfessional}
)

func userWith(role gatehouse.Role) *gatehouse.User {
	return &gatehouse.User{ID: "PU" + string(role), Role: role}
}

// TestAuthorize states, for every credential kind and role, which methods and
// permissions a REST request is allowed.
func TestAdmitThenPermit(t *testing.T) {
	t.Parallel()
	methods := []string{"GET", "HEAD", "POST", "PUT", "DELETE"}
	perms := []Permission{PermRead, PermRespond, PermManage, PermAdmin}

	// want[credential] is one row per method, one letter per permission
	// (read, respond, manage, admin): y allowed, f 403, p 402.
	type row = [4]byte
	all := func(s string) []row {
		rows := make([]row, len(methods))
		for i := range rows {
			copy(rows[i][:], s)
		}
		return rows
	}
	cases := []struct {
		name string
		p    *Principal
		want []row // by method, in the order of methods
	}{
		{"general full key", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral}, business, nil), all("yyyy")},
		{"general read-only key", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral, ReadOnly: true}, business, nil),
			[]row{{'y', 'y', 'y', 'y'}, {'y', 'y', 'y', 'y'}, {'f', 'f', 'f', 'f'}, {'f', 'f', 'f', 'f'}, {'f', 'f', 'f', 'f'}}},
		{"general key on lite", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral}, lite, nil), all("pppp")},
		{"read-only key on lite", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral, ReadOnly: true}, lite, nil), all("pppp")},
		{"general key on basic", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral}, basic, nil), all("yyyy")},
		{"owner token", tokenOf(gatehouse.RoleOwner, business), all("yyyy")},
		{"admin token", tokenOf(gatehouse.RoleAdmin, business), all("yyyy")},
		{"user (Manager) token", tokenOf(gatehouse.RoleUser, business), all("yyyf")},
		{"limited_user (Responder) token", tokenOf(gatehouse.RoleLimitedUser, business), all("yyff")},
		{"restricted_access token", tokenOf(gatehouse.RoleRestrictedAccess, business), all("yyff")},
		{"observer token", tokenOf(gatehouse.RoleObserver, business), all("yfff")},
		{"read_only_user token", tokenOf(gatehouse.RoleReadOnlyUser, business), all("yfff")},
		// Demoted after the token was made: the token stops.
		{"read_only_limited_user token", tokenOf(gatehouse.RoleReadOnlyLimitedUser, business), all("ffff")},
		{"admin token on lite", tokenOf(gatehouse.RoleAdmin, lite), all("pppp")},
		// The plan lost advanced permissions after the token was made.
		{"admin token on professional", tokenOf(gatehouse.RoleAdmin, professional), all("pppp")},
		{"general key on professional", KeyPrincipal(&gatehouse.APIKey{ID: "K", Kind: gatehouse.KeyGeneral}, professional, nil), all("yyyy")},
	}
	letter := map[int]byte{0: 'y', http.StatusForbidden: 'f', http.StatusPaymentRequired: 'p'}
	for _, c := range cases {
		for mi, method := range methods {
			for pi, perm := range perms {
				err := c.p.Admit(method)
				if err == nil {
					err = c.p.Permit(perm)
				}
				got := letter[status(err)]
				if want := c.want[mi][pi]; got != want {
					t.Errorf("%s: Admit(%s) then Permit(perm %d) = %c, want %c", c.name, method, perm, got, want)
				}
			}
		}
	}
}

func tokenOf(role gatehouse.Role, a *gatehouse.Account) *Principal {
	return KeyPrincipal(&gatehouse.APIKey{ID: "T", Kind: gatehouse.KeyUserToken, UserID: "PU" + string(role)}, a, userWith(role))
}

func TestKeyPrincipalRateLimitKey(t *testing.T) {
	t.Parallel()
	u := userWith(gatehouse.RoleUser)
	tok1 := KeyPrincipal(&gatehouse.APIKey{ID: "T1", Kind: gatehouse.KeyUserToken}, business, u)
	tok2 := KeyPrincipal(&gatehouse.APIKey{ID: "T2", Kind: gatehouse.KeyUserToken}, business, u)
	gen := KeyPrincipal(&gatehouse.APIKey{ID: "K1", Kind: gatehouse.KeyGeneral}, business, nil)
	if tok1.RateLimitKey() != tok2.RateLimitKey() || tok1.RateLimitKey() == gen.RateLimitKey() {
		t.Errorf("rate limit keys: tokens %q and %q, general %q; want the tokens of one user to share one", tok1.RateLimitKey(), tok2.RateLimitKey(), gen.RateLimitKey())
	}
	if tok1.Kind != CredentialUserToken || tok1.User != u || gen.Kind != CredentialGeneralKey || gen.User != nil {
		t.Errorf("KeyPrincipal kinds: %v %v", tok1, gen)
	}
}

// TestGeneralKeyActions: only the Account Owner, Admins and the CLI create,
// list, disable, enable and delete general access keys.
func TestGeneralKeyActions(t *testing.T) {
	t.Parallel()
	actions := []KeyAction{CreateGeneralKey, ListGeneralKeys, DisableGeneralKey, EnableGeneralKey, DeleteGeneralKey}
	want := map[string]int{
		"cli":                    0,
		"owner":                  0,
		"admin":                  0,
		"user":                   403,
		"limited_user":           403,
		"observer":               403,
		"restricted_access":      403,
		"read_only_user":         403,
		"read_only_limited_user": 403,
	}
	for name, wantStatus := range want {
		actor := Actor{CLI: name == "cli"}
		if !actor.CLI {
			actor.User = userWith(gatehouse.Role(name))
		}
		for _, action := range actions {
			if got := status(DecideKeyAction(actor, business, action, nil)); got != wantStatus {
				t.Errorf("%s may %s: got %d, want %d", name, action, got, wantStatus)
			}
		}
	}
	// Creating a general key needs the REST API; the rest do not.
	for _, actor := range []Actor{{CLI: true}, {User: userWith(gatehouse.RoleOwner)}} {
		if got := status(DecideKeyAction(actor, lite, CreateGeneralKey, nil)); got != 402 {
			t.Errorf("create a general key on lite: got %d, want 402", got)
		}
		if got := status(DecideKeyAction(actor, lite, DeleteGeneralKey, nil)); got != 0 {
			t.Errorf("delete a general key on lite: got %d, want 0", got)
		}
	}
	err := DecideKeyAction(Actor{User: userWith(gatehouse.RoleUser)}, business, DisableGeneralKey, nil)
	if want := "Only Admins and Account Owners can disable general access REST API keys"; err == nil || err.Error() != want {
		t.Errorf("Manager disables a general key: %v, want %q", err, want)
	}
}

// seedAdmins are the roles the seeds call "Account Owners and Admins", stated
// here rather than taken from the code under test.
var seedAdmins = map[gatehouse.Role]bool{gatehouse.RoleOwner: true, gatehouse.RoleAdmin: true}

// TestUserTokenActions covers who may create, list and delete whose tokens.
func TestUserTokenActions(t *testing.T) {
	t.Parallel()
	type tc struct {
		actor  string // "cli", "self", or a role acting on another user
		target gatehouse.Role
		plan   *gatehouse.Account
		action KeyAction
		want   int
	}
	var cases []tc
	// Creating: every role but read_only_limited_user creates their own, on
	// accounts with advanced permissions; the CLI may create for them.
	for _, role := range gatehouse.Roles {
		want := 0
		if role == gatehouse.RoleReadOnlyLimitedUser {
			want = 403
		}
		cases = append(cases,
			tc{"self", role, business, CreateUserToken, want},
			tc{"cli", role, business, CreateUserToken, want},
			tc{"self", role, basic, CreateUserToken, 402},
			tc{"cli", role, basic, CreateUserToken, 402},
		)
	}
	// Nobody, not even an admin, creates a token for someone else.
	for _, actor := range gatehouse.Roles {
		cases = append(cases, tc{string(actor), gatehouse.RoleUser, business, CreateUserToken, 403})
	}
	// Deleting: anyone their own; owner and admin others', unless the other
	// is the owner or an admin.
	deleteByOther := map[gatehouse.Role]map[gatehouse.Role]int{}
	for _, actor := range gatehouse.Roles {
		deleteByOther[actor] = map[gatehouse.Role]int{}
		for _, target := range gatehouse.Roles {
			want := 403
			if seedAdmins[actor] && !seedAdmins[target] {
				want = 0
			}
			deleteByOther[actor][target] = want
		}
	}
	// Spelled out for the rules' edge: admin→owner, admin→admin, owner→admin refused.
	for _, edge := range []struct{ actor, target gatehouse.Role }{
		{gatehouse.RoleAdmin, gatehouse.RoleOwner}, {gatehouse.RoleAdmin, gatehouse.RoleAdmin}, {gatehouse.RoleOwner, gatehouse.RoleAdmin},
	} {
		if deleteByOther[edge.actor][edge.target] != 403 {
			t.Fatalf("table error at %v", edge)
		}
	}
	for actor, targets := range deleteByOther {
		for target, want := range targets {
			cases = append(cases, tc{string(actor), target, business, DeleteUserToken, want})
		}
	}
	for _, role := range gatehouse.Roles {
		cases = append(cases,
			tc{"self", role, business, DeleteUserToken, 0},
			tc{"cli", role, business, DeleteUserToken, 0},
			tc{"self", role, business, ListUserTokens, 0},
			tc{"cli", role, business, ListUserTokens, 0},
		)
		listWant := 403
		if seedAdmins[role] {
			listWant = 0
		}
		cases = append(cases, tc{string(role), gatehouse.RoleUser, business, ListUserTokens, listWant})
	}

	for _, c := range cases {
		target := &gatehouse.User{ID: "PTARGET", Role: c.target}
		var actor Actor
		switch c.actor {
		case "cli":
			actor.CLI = true
		case "self":
			actor.User = target
		default:
			actor.User = &gatehouse.User{ID: "POTHER", Role: gatehouse.Role(c.actor)}
		}
		got := status(DecideKeyAction(actor, c.plan, c.action, target))
		if got != c.want {
			t.Errorf("%s %s the token of a %s on %s: got %d, want %d", c.actor, c.action, c.target, c.plan.Plan, got, c.want)
		}
	}
}

func TestDecideKeyActionMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		actor  Actor
		action KeyAction
		target *gatehouse.User
		plan   *gatehouse.Account
		want   string
	}{
		{Actor{CLI: true}, CreateUserToken, userWith(gatehouse.RoleReadOnlyLimitedUser), business, "Limited Stakeholders (read_only_limited_user) cannot have API user tokens"},
		{Actor{CLI: true}, CreateUserToken, userWith(gatehouse.RoleUser), basic, "API user tokens need Advanced Permissions, which the basic plan does not have"},
		{Actor{User: userWith(gatehouse.RoleAdmin)}, DeleteUserToken, &gatehouse.User{ID: "POWNER", Role: gatehouse.RoleOwner}, business, "The API user tokens of the Account Owner and of Admins can be deleted only by their user"},
		{Actor{User: userWith(gatehouse.RoleUser)}, DeleteUserToken, &gatehouse.User{ID: "PX", Role: gatehouse.RoleLimitedUser}, business, "Only the token's user, Admins and Account Owners can delete an API user token"},
	}
	for _, tt := range tests {
		err := DecideKeyAction(tt.actor, tt.plan, tt.action, tt.target)
		if err == nil || err.Error() != tt.want {
			t.Errorf("DecideKeyAction(%s) = %v, want %q", tt.action, err, tt.want)
		}
	}
	if err := DecideKeyAction(Actor{CLI: true}, business, KeyAction(99), nil); err == nil {
		t.Error("an unknown action was allowed")
	}
}
