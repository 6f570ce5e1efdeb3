package restapi

import (
	"github.com/gatehouse-dev/gatehouse/access"
)

// route is one operation of the REST API: the only list of what it serves.
type route struct {
	// Pattern is PagerDuty's method and path, such as "PUT /services/{id}".
	Pattern string
	// Perm is the least a user-level credential's role needs.
	Perm access.Permission
	// Scope is the spec's x-pd-requires-scope of the operation.
	Scope access.Scope
	// From says that an account-level credential must send a From header
	// naming a user of the account (400, code 2016, without).
	From bool
	// Handle serves the operation: the status, and the body written as JSON
	// (none when nil), or an error.
	Handle func(*request) (status int, body any, err error)
}

// routes is every operation the REST API serves.
var routes = []route{
	{Pattern: "GET /abilities", Perm: access.PermRead, Scope: "abilities.read", Handle: listAbilities},
	{Pattern: "GET /abilities/{id}", Perm: access.PermRead, Scope: "abilities.read", Handle: getAbility},
	{Pattern: "GET /users/me", Perm: access.PermRead, Scope: "users.read", Handle: getCurrentUser},
}
