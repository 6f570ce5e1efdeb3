package restapi

import (
	"github.com/gatehouse-dev/gatehouse"
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
	// Ability is the account ability the operation needs, if any (402,
	// code 2014, without), such as "teams".
	Ability string
	// Handle serves the operation: the status, and the body written as JSON
	// (none when nil), or an error.
	Handle func(*request) (status int, body any, err error)
}

// routes is every operation the REST API serves.
var routes = []route{
	// Abilities
	{Pattern: "GET /abilities", Perm: access.PermRead, Scope: "abilities.read", Handle: listAbilities},
	{Pattern: "GET /abilities/{id}", Perm: access.PermRead, Scope: "abilities.read", Handle: getAbility},

	// Users
	{Pattern: "GET /users/me", Perm: access.PermRead, Handle: getCurrentUser},

	// Teams
	{Pattern: "GET /teams", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: listTeams},
	{Pattern: "POST /teams", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: createTeam},
	{Pattern: "GET /teams/{id}", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: getTeam},
	{Pattern: "PUT /teams/{id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: updateTeam},
	{Pattern: "DELETE /teams/{id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: deleteTeam},
	{Pattern: "GET /teams/{id}/members", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: listTeamMembers},
	{Pattern: "PUT /teams/{id}/users/{user_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: setTeamMember},
	{Pattern: "DELETE /teams/{id}/users/{user_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: removeTeamMember},

	// Escalation policies

	// Services and their integrations
	{Pattern: "GET /services", Perm: access.PermRead, Scope: "services.read", Handle: listServices},
	{Pattern: "POST /services", Perm: access.PermManage, Scope: "services.write", Handle: createService},
	{Pattern: "GET /services/{id}", Perm: access.PermRead, Scope: "services.read", Handle: getService},
	{Pattern: "PUT /services/{id}", Perm: access.PermManage, Scope: "services.write", Handle: updateService},
	{Pattern: "DELETE /services/{id}", Perm: access.PermManage, Scope: "services.write", Handle: deleteService},
	{Pattern: "POST /services/{id}/integrations", Perm: access.PermManage, Scope: "services.write", Handle: createIntegration},
	{Pattern: "GET /services/{id}/integrations/{integration_id}", Perm: access.PermRead, Scope: "services.read", Handle: getIntegration},
	{Pattern: "PUT /services/{id}/integrations/{integration_id}", Perm: access.PermManage, Scope: "services.write", Handle: updateIntegration},
	{Pattern: "DELETE /services/{id}/integrations/{integration_id}", Perm: access.PermManage, Scope: "services.write", Handle: deleteIntegration},

	// Vendors and priorities
	{Pattern: "GET /vendors", Perm: access.PermRead, Scope: "vendors.read", Handle: listVendors},
	{Pattern: "GET /vendors/{id}", Perm: access.PermRead, Scope: "vendors.read", Handle: getVendor},
	{Pattern: "GET /priorities", Perm: access.PermRead, Scope: "priorities.read", Handle: listPriorities},

	// Audit records
	{Pattern: "GET /audit/records", Perm: access.PermAdmin, Scope: "audit_records.read", Handle: listAuditRecords},
	{Pattern: "GET /teams/{id}/audit/records", Perm: access.PermRead, Scope: "audit_records.read", Ability: gatehouse.AbilityTeams, Handle: auditRecordsOf("team", teamExists)},
}
