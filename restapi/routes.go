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

	// Users: anyone reads; Admins add and remove users; a user changes their
	// own profile, contact methods and notification rules (access.Decide,
	// in the store, says whose).
	{Pattern: "GET /users", Perm: access.PermRead, Scope: "users.read", Handle: listUsers},
	{Pattern: "POST /users", Perm: access.PermAdmin, Scope: "users.write", Handle: createUser},
	{Pattern: "GET /users/me", Perm: access.PermRead, Handle: getCurrentUser},
	{Pattern: "GET /users/{id}", Perm: access.PermRead, Scope: "users.read", Handle: getUser},
	{Pattern: "PUT /users/{id}", Perm: access.PermRead, Scope: "users.write", Handle: updateUser},
	{Pattern: "DELETE /users/{id}", Perm: access.PermAdmin, Scope: "users.write", Handle: deleteUser},
	{Pattern: "GET /users/{id}/license", Perm: access.PermRead, Scope: "licenses.read", Handle: getUserLicense},
	{Pattern: "GET /licenses", Perm: access.PermRead, Scope: "licenses.read", Handle: listLicenses},
	{Pattern: "GET /license_allocations", Perm: access.PermRead, Scope: "licenses.read", Handle: listLicenseAllocations},
	{Pattern: "GET /users/{id}/contact_methods", Perm: access.PermRead, Scope: "users:contact_methods.read", Handle: listContactMethods},
	{Pattern: "POST /users/{id}/contact_methods", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: createContactMethod},
	{Pattern: "GET /users/{id}/contact_methods/{contact_method_id}", Perm: access.PermRead, Scope: "users:contact_methods.read", Handle: getContactMethod},
	{Pattern: "PUT /users/{id}/contact_methods/{contact_method_id}", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: updateContactMethod},
	{Pattern: "DELETE /users/{id}/contact_methods/{contact_method_id}", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: deleteContactMethod},
	{Pattern: "GET /users/{id}/notification_rules", Perm: access.PermRead, Scope: "users:contact_methods.read", Handle: listNotificationRules},
	{Pattern: "POST /users/{id}/notification_rules", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: createNotificationRule},
	{Pattern: "GET /users/{id}/notification_rules/{notification_rule_id}", Perm: access.PermRead, Scope: "users:contact_methods.read", Handle: getNotificationRule},
	{Pattern: "PUT /users/{id}/notification_rules/{notification_rule_id}", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: updateNotificationRule},
	{Pattern: "DELETE /users/{id}/notification_rules/{notification_rule_id}", Perm: access.PermRead, Scope: "users:contact_methods.write", Handle: deleteNotificationRule},

	// Teams
	{Pattern: "GET /teams", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: listTeams},
	{Pattern: "POST /teams", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: createTeam},
	{Pattern: "GET /teams/{id}", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: getTeam},
	{Pattern: "PUT /teams/{id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: updateTeam},
	{Pattern: "DELETE /teams/{id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: deleteTeam},
	{Pattern: "GET /teams/{id}/members", Perm: access.PermRead, Scope: "teams.read", Ability: gatehouse.AbilityTeams, Handle: listTeamMembers},
	{Pattern: "PUT /teams/{id}/users/{user_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: setTeamMember},
	{Pattern: "DELETE /teams/{id}/users/{user_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: removeTeamMember},
	{Pattern: "PUT /teams/{id}/escalation_policies/{escalation_policy_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: addTeamEscalationPolicy},
	{Pattern: "DELETE /teams/{id}/escalation_policies/{escalation_policy_id}", Perm: access.PermManage, Scope: "teams.write", Ability: gatehouse.AbilityTeams, Handle: removeTeamEscalationPolicy},

	// Escalation policies
	{Pattern: "GET /escalation_policies", Perm: access.PermRead, Scope: "escalation_policies.read", Handle: listEscalationPolicies},
	{Pattern: "POST /escalation_policies", Perm: access.PermManage, Scope: "escalation_policies.write", Handle: createEscalationPolicy},
	{Pattern: "GET /escalation_policies/{id}", Perm: access.PermRead, Scope: "escalation_policies.read", Handle: getEscalationPolicy},
	{Pattern: "PUT /escalation_policies/{id}", Perm: access.PermManage, Scope: "escalation_policies.write", Handle: updateEscalationPolicy},
	{Pattern: "DELETE /escalation_policies/{id}", Perm: access.PermManage, Scope: "escalation_policies.write", Handle: deleteEscalationPolicy},

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

	// Incidents, their alerts, notes and log entries: anyone reads;
	// Responders and above act on them. The writes an account-level
	// credential makes need a From header naming the user they are made
	// as, as PagerDuty's description requires. Restricted Access users see
	// and act on the incidents of their teams' services (the store says
	// which).
	{Pattern: "GET /incidents", Perm: access.PermRead, Scope: "incidents.read", Handle: listIncidents},
	{Pattern: "POST /incidents", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: createIncident},
	{Pattern: "PUT /incidents", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: updateIncidents},
	{Pattern: "GET /incidents/{id}", Perm: access.PermRead, Scope: "incidents.read", Handle: getIncident},
	{Pattern: "PUT /incidents/{id}", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: updateIncident},
	{Pattern: "GET /incidents/{id}/alerts", Perm: access.PermRead, Scope: "incidents.read", Handle: listIncidentAlerts},
	{Pattern: "PUT /incidents/{id}/alerts", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: updateIncidentAlerts},
	{Pattern: "GET /incidents/{id}/alerts/{alert_id}", Perm: access.PermRead, Scope: "incidents.read", Handle: getIncidentAlert},
	{Pattern: "PUT /incidents/{id}/alerts/{alert_id}", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: updateIncidentAlert},
	{Pattern: "GET /incidents/{id}/notes", Perm: access.PermRead, Scope: "incidents.read", Handle: listIncidentNotes},
	{Pattern: "POST /incidents/{id}/notes", Perm: access.PermRespond, Scope: "incidents.write", From: true, Handle: createIncidentNote},
	{Pattern: "GET /incidents/{id}/log_entries", Perm: access.PermRead, Scope: "incidents.read", Handle: listIncidentLogEntries},
	{Pattern: "GET /log_entries", Perm: access.PermRead, Scope: "incidents.read", Handle: listLogEntries},
	{Pattern: "GET /log_entries/{id}", Perm: access.PermRead, Scope: "incidents.read", Handle: getLogEntry},

	// Change events, which the Events API records.
	{Pattern: "GET /change_events", Perm: access.PermRead, Scope: "change_events.read", Handle: listChangeEvents},
	{Pattern: "GET /change_events/{id}", Perm: access.PermRead, Scope: "change_events.read", Handle: getChangeEvent},
	{Pattern: "GET /services/{id}/change_events", Perm: access.PermRead, Scope: "services.read", Handle: listServiceChangeEvents},

	// Audit records
	{Pattern: "GET /audit/records", Perm: access.PermAdmin, Scope: "audit_records.read", Handle: listAuditRecords},
	{Pattern: "GET /users/{id}/audit/records", Perm: access.PermRead, Scope: "audit_records.read", Handle: auditRecordsOf("user", userExists)},
	{Pattern: "GET /teams/{id}/audit/records", Perm: access.PermRead, Scope: "audit_records.read", Ability: gatehouse.AbilityTeams, Handle: auditRecordsOf("team", teamExists)},
	{Pattern: "GET /escalation_policies/{id}/audit/records", Perm: access.PermRead, Scope: "audit_records.read", Handle: auditRecordsOf("escalation_policy", escalationPolicyExists)},
	{Pattern: "GET /services/{id}/audit/records", Perm: access.PermRead, Scope: "audit_records.read", Handle: auditRecordsOf("service", serviceExists)},
}
