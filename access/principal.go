package access

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse"
)

// CredentialKind is the kind of credential a request carried.
type CredentialKind uint8

// The kinds of credential.
const (
	CredentialGeneralKey CredentialKind = iota + 1
	CredentialUserToken
	CredentialOAuth
	CredentialSession
	// CredentialCLI is the operator at the command line, who acts for the
	// account like a general access key.
	CredentialCLI
)

// String names the kind for people, such as "user token".
func (k CredentialKind) String() string {
	switch k {
	case CredentialGeneralKey:
		return "general access key"
	case CredentialUserToken:
		return "user token"
	case CredentialOAuth:
		return "OAuth token"
	case CredentialSession:
		return "web session"
	case CredentialCLI:
		return "command line"
	}
	return "unknown credential"
}

// Principal is who a request acts as: an account and, for user-level
// credentials, one of its users. It is small, because a cache may hold one
// per credential for millions of credentials: what the credentials of one
// account and user have in common is in their shared Identity. Make one with
// KeyPrincipal, Identity.KeyPrincipal or CLIPrincipal: a Principal without
// an Identity has no Account or User to read.
type Principal struct {
	// Identity is the account and user the credential acts as; its fields
	// read as the principal's own (p.Account, p.User).
	*Identity
	// KeyID is the key (or app) the credential belongs to.
	KeyID string
	Kind  CredentialKind
	// ReadOnly principals may only make GET requests.
	ReadOnly bool
}

// Identity is what the principals of one account and user share.
type Identity struct {
	Account *gatehouse.Account
	// User is nil for account-level credentials: general keys and OAuth
	// client-credentials tokens.
	User *gatehouse.User
	// Scopes are an OAuth token's scopes; nil for other credentials.
	Scopes []string
	// userLimitKey is "user:" and the user's ID.
	userLimitKey string
}

// NewIdentity returns the identity of account and user, nil for an
// account-level credential.
func NewIdentity(account *gatehouse.Account, user *gatehouse.User) *Identity {
	id := &Identity{Account: account, User: user}
	if user != nil {
		id.userLimitKey = "user:" + user.ID
	}
	return id
}

// KeyPrincipal returns the principal of a REST API key of account; user is
// the token's user and nil for a general key.
func KeyPrincipal(key *gatehouse.APIKey, account *gatehouse.Account, user *gatehouse.User) *Principal {
	if key.Kind != gatehouse.KeyUserToken {
		user = nil
	}
	return NewIdentity(account, user).KeyPrincipal(key)
}

// KeyPrincipal returns the principal of a REST API key acting as id: its
// account for a general key, its account and user for a user token.
func (id *Identity) KeyPrincipal(key *gatehouse.APIKey) *Principal {
	p := &Principal{Identity: id, KeyID: key.ID}
	if key.Kind == gatehouse.KeyUserToken {
		p.Kind = CredentialUserToken
	} else {
		p.Kind, p.ReadOnly = CredentialGeneralKey, key.ReadOnly
	}
	return p
}

// CLIPrincipal is the operator at the command line acting on account.
func CLIPrincipal(account *gatehouse.Account) *Principal {
	return &Principal{Identity: NewIdentity(account, nil), Kind: CredentialCLI}
}

// RateLimitKey names the allowance a request draws on: one per general key
// (the key's ID), one per user across all their tokens ("user:" and the
// user's ID). The two cannot collide: IDs have 7 characters.
func (p *Principal) RateLimitKey() string {
	if p.User != nil {
		return p.userLimitKey
	}
	return p.KeyID
}

// Permission is what a REST operation needs of a user-level principal's role.
type Permission uint8

// The permissions, each including those before it.
const (
	// PermRead is reading what the role can see: every role.
	PermRead Permission = iota
	// PermRespond is acting on incidents: Responders and above.
	PermRespond
	// PermManage is changing configuration: Managers and above.
	PermManage
	// PermAdmin is administering the account: Admins and the Account Owner.
	PermAdmin
)

// rolePermission is the most a role may do.
var rolePermission = map[gatehouse.Role]Permission{
	gatehouse.RoleOwner:               PermAdmin,
	gatehouse.RoleAdmin:               PermAdmin,
	gatehouse.RoleUser:                PermManage,
	gatehouse.RoleLimitedUser:         PermRespond,
	gatehouse.RoleRestrictedAccess:    PermRespond,
	gatehouse.RoleObserver:            PermRead,
	gatehouse.RoleReadOnlyUser:        PermRead,
	gatehouse.RoleReadOnlyLimitedUser: PermRead,
}

// RoleAllows reports whether role may perform operations needing perm.
func RoleAllows(role gatehouse.Role, perm Permission) bool {
	most, ok := rolePermission[role]
	return ok && perm <= most
}

// Admit is what the REST door checks once per request, whatever the
// operation. It returns a 402 (code 2014) error when the account's plan has
// no REST API, or no advanced permissions for a user token; and a 403 (code
// 2010) error for a read-only key with any method but GET or HEAD (a GET
// without its body), or a token of a Limited Stakeholder. The token rules
// are checked on every request, not only when a token is made, so a plan
// change or a demotion stops tokens that the rules no longer allow.
func (p *Principal) Admit(method string) error {
	if err := p.Account.Lacks(gatehouse.AbilityRESTAPI, fmt.Sprintf("The REST API is not available on the %s plan", p.Account.Plan)); err != nil {
		return err
	}
	if p.ReadOnly && method != http.MethodGet && method != http.MethodHead {
		return gatehouse.Errorf(gatehouse.CodeForbidden, "This API key is read-only: it may only make GET requests")
	}
	if p.Kind == CredentialUserToken {
		if err := p.Account.Lacks(gatehouse.AbilityAdvancedPermissions, fmt.Sprintf("API user tokens need Advanced Permissions, which the %s plan does not have", p.Account.Plan)); err != nil {
			return err
		}
		if p.User.Role == gatehouse.RoleReadOnlyLimitedUser {
			return gatehouse.Errorf(gatehouse.CodeForbidden, "Limited Stakeholders (read_only_limited_user) cannot have API user tokens")
		}
	}
	return nil
}

// Permit is what each operation checks after Admit: a user-level
// principal's role must allow perm, or it returns a 403 (code 2010) error.
// Account-level principals may do anything Admit let through.
func (p *Principal) Permit(perm Permission) error {
	if p.User != nil && !RoleAllows(p.User.Role, perm) {
		return gatehouse.Errorf(gatehouse.CodeForbidden, "Your role, %s (%s), is not permitted to perform this action", p.User.Role.UIName(), p.User.Role)
	}
	return nil
}

// KeyAction is a step in the life of a REST API key.
type KeyAction uint8

// The key actions the seeds' rules speak of.
const (
	CreateGeneralKey KeyAction = iota + 1
	ListGeneralKeys
	DisableGeneralKey
	EnableGeneralKey
	DeleteGeneralKey
	CreateUserToken
	ListUserTokens
	DeleteUserToken
)

var keyActionVerbs = map[KeyAction]string{
	CreateGeneralKey:  "create",
	ListGeneralKeys:   "list",
	DisableGeneralKey: "disable",
	EnableGeneralKey:  "enable",
	DeleteGeneralKey:  "delete",
	CreateUserToken:   "create",
	ListUserTokens:    "list",
	DeleteUserToken:   "delete",
}

// String says the action for people, such as "disable general access REST
// API keys".
func (a KeyAction) String() string {
	if a >= CreateUserToken {
		return keyActionVerbs[a] + " API user tokens"
	}
	return keyActionVerbs[a] + " general access REST API keys"
}

// Actor is who asks for a key action: a user of the account, or the
// operator at the command line, who may do anything the account allows.
type Actor struct {
	CLI  bool
	User *gatehouse.User
}

// DecideKeyAction decides whether actor may perform action on account's keys.
// tokenUser is the user whose token is created, listed or deleted (nil for
// general keys). It returns nil to allow, a 402 (code 2014) error when the
// account lacks what the key needs, and a 403 (code 2010) error naming the
// rule otherwise.
func DecideKeyAction(actor Actor, account *gatehouse.Account, action KeyAction, tokenUser *gatehouse.User) error {
	switch action {
	case CreateGeneralKey, ListGeneralKeys, DisableGeneralKey, EnableGeneralKey, DeleteGeneralKey:
		if !actor.CLI && !actor.User.Role.IsAdmin() {
			return gatehouse.Errorf(gatehouse.CodeForbidden, "Only Admins and Account Owners can %s", action)
		}
		if action == CreateGeneralKey {
			return account.Lacks(gatehouse.AbilityRESTAPI, fmt.Sprintf("The REST API is not available on the %s plan", account.Plan))
		}
		return nil
	case CreateUserToken:
		if err := account.Lacks(gatehouse.AbilityAdvancedPermissions, fmt.Sprintf("API user tokens need Advanced Permissions, which the %s plan does not have", account.Plan)); err != nil {
			return err
		}
		if err := account.Lacks(gatehouse.AbilityRESTAPI, fmt.Sprintf("The REST API is not available on the %s plan", account.Plan)); err != nil {
			return err
		}
		if tokenUser.Role == gatehouse.RoleReadOnlyLimitedUser {
			return gatehouse.Errorf(gatehouse.CodeForbidden, "Limited Stakeholders (read_only_limited_user) cannot have API user tokens")
		}
		if !actor.CLI && actor.User.ID != tokenUser.ID {
			return gatehouse.Errorf(gatehouse.CodeForbidden, "Users create their own API user tokens")
		}
		return nil
	case ListUserTokens:
		if actor.CLI || actor.User.ID == tokenUser.ID || actor.User.Role.IsAdmin() {
			return nil
		}
		return gatehouse.Errorf(gatehouse.CodeForbidden, "Only the user, Admins and Account Owners can list a user's API user tokens")
	case DeleteUserToken:
		switch {
		case actor.CLI, actor.User.ID == tokenUser.ID:
			return nil
		case !actor.User.Role.IsAdmin():
			return gatehouse.Errorf(gatehouse.CodeForbidden, "Only the token's user, Admins and Account Owners can delete an API user token")
		case tokenUser.Role.IsAdmin():
			return gatehouse.Errorf(gatehouse.CodeForbidden, "The API user tokens of the Account Owner and of Admins can be deleted only by their user")
		}
		return nil
	}
	return fmt.Errorf("access: unknown key action %d", action)
}

// Scope is an OAuth scope, such as "services.write": the spec's
// x-pd-requires-scope of each REST operation.
type Scope string
