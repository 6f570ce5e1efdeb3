package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// This file loads what incidents, alerts, log entries and change events
// refer to, for the REST API to name it or show it whole: one query for
// each kind of object, whatever the number of rows shown.

// Related is what to load the relations of.
type Related struct {
	Incidents    []*gatehouse.Incident
	LogEntries   []*gatehouse.LogEntry
	Alerts       []*gatehouse.Alert
	ChangeEvents []*gatehouse.ChangeEvent
}

// IncidentRelations are the names of what Related objects refer to, and
// what the REST API shows with them.
type IncidentRelations struct {
	// Users, Services, Policies and Teams are names by ID; an object
	// removed since has none.
	Users, Services, Policies, Teams map[string]string
	// Integrations are the integrations by ID.
	Integrations map[string]IntegrationName
	// PolicyTeams are the IDs of each escalation policy's teams, by their
	// names: an incident's teams are its policy's.
	PolicyTeams map[string][]string
	// FirstTriggers is the ID of each incident's first trigger log entry.
	FirstTriggers map[string]string
	// AssignedAt is when each incident was given its assignees.
	AssignedAt map[string]time.Time
	// Incidents are the incidents of the log entries and alerts, by ID,
	// without their assignees, acknowledgements and alert counts.
	Incidents map[string]*gatehouse.Incident
}

// IntegrationName is what names an integration in a reference.
type IntegrationName struct {
	Name, Type, ServiceID string
}

// idSet gathers IDs once each, in the order first seen.
type idSet struct {
	ids  []string
	seen map[string]bool
}

func (s *idSet) add(ids ...string) {
	for _, id := range ids {
		if id == "" || s.seen[id] {
			continue
		}
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		s.seen[id] = true
		s.ids = append(s.ids, id)
	}
}

// addRef adds the ID of ref to the set of its kind.
func (ids *relationIDs) addRef(ref gatehouse.Ref) {
	switch {
	case ref.Type == "user_reference":
		ids.users.add(ref.ID)
	case ref.Type == "service_reference":
		ids.services.add(ref.ID)
	case strings.HasSuffix(ref.Type, "integration_reference"):
		ids.integrations.add(ref.ID)
	}
}

type relationIDs struct {
	users, services, policies, integrations, incidents, firstTriggers idSet
}

// IncidentRelations loads the relations of of: the names of the users,
// services, escalation policies, teams and integrations they refer to,
// the teams of their incidents, and their incidents' first trigger log
// entries.
func (sc *Scope) IncidentRelations(ctx context.Context, of Related) (*IncidentRelations, error) {
	rel := &IncidentRelations{
		Users: map[string]string{}, Services: map[string]string{}, Policies: map[string]string{}, Teams: map[string]string{},
		Integrations: map[string]IntegrationName{}, PolicyTeams: map[string][]string{}, FirstTriggers: map[string]string{},
		AssignedAt: map[string]time.Time{}, Incidents: map[string]*gatehouse.Incident{},
	}
	var ids relationIDs
	addIncident := func(inc *gatehouse.Incident) {
		ids.services.add(inc.ServiceID)
		ids.policies.add(inc.EscalationPolicyID)
		ids.users.add(inc.Assignees...)
		for _, a := range inc.Acknowledgers {
			ids.addRef(a.Acknowledger)
		}
		ids.addRef(inc.LastStatusChangeBy)
		ids.firstTriggers.add(inc.ID)
	}
	for _, inc := range of.Incidents {
		addIncident(inc)
		rel.Incidents[inc.ID] = inc
	}
	for _, le := range of.LogEntries {
		ids.addRef(le.Agent)
		ids.users.add(le.Assignees...)
		ids.services.add(le.ServiceID)
		ids.incidents.add(le.IncidentID)
	}
	for _, a := range of.Alerts {
		ids.services.add(a.ServiceID)
		ids.integrations.add(a.IntegrationID)
		ids.incidents.add(a.IncidentID)
	}
	for _, c := range of.ChangeEvents {
		ids.services.add(c.ServiceID)
		ids.integrations.add(c.IntegrationID)
	}
	err := sc.store.view(ctx, "load what incidents refer to", func(ctx context.Context) error {
		var missing []string
		for _, id := range ids.incidents.ids {
			if rel.Incidents[id] == nil {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			rows, err := sc.store.query(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE account_id = ? AND id IN ("+placeholders(len(missing))+")",
				append([]any{sc.accountID}, anys(missing)...)...)
			if err != nil {
				return err
			}
			incidents, err := scanAll(rows, scanIncident)
			if err != nil {
				return err
			}
			for _, inc := range incidents {
				rel.Incidents[inc.ID] = inc
				ids.policies.add(inc.EscalationPolicyID)
			}
		}
		for _, kind := range []struct {
			table string
			ids   []string
			into  map[string]string
		}{
			{"users", ids.users.ids, rel.Users},
			{"services", ids.services.ids, rel.Services},
			{"escalation_policies", ids.policies.ids, rel.Policies},
		} {
			if err := sc.loadNames(ctx, kind.table, kind.ids, kind.into); err != nil {
				return err
			}
		}
		if err := sc.loadIntegrationNames(ctx, ids.integrations.ids, rel.Integrations); err != nil {
			return err
		}
		if err := sc.loadPolicyTeams(ctx, ids.policies.ids, rel); err != nil {
			return err
		}
		if err := sc.loadFirstTriggers(ctx, ids.firstTriggers.ids, rel.FirstTriggers); err != nil {
			return err
		}
		return sc.loadAssignmentTimes(ctx, ids.firstTriggers.ids, rel.AssignedAt)
	})
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// loadNames reads the names of the account's objects of table with those
// IDs into names.
func (sc *Scope) loadNames(ctx context.Context, table string, ids []string, names map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := sc.store.query(ctx, "SELECT id, name FROM "+table+" WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")",
		append([]any{sc.accountID}, anys(ids)...)...)
	if err != nil {
		return err
	}
	pairs, err := scanAll(rows, func(row scanner) (p [2]string, err error) { return p, row.Scan(&p[0], &p[1]) })
	for _, p := range pairs {
		names[p[0]] = p[1]
	}
	return err
}

func (sc *Scope) loadIntegrationNames(ctx context.Context, ids []string, into map[string]IntegrationName) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := sc.store.query(ctx, "SELECT id, name, type, service_id FROM integrations WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")",
		append([]any{sc.accountID}, anys(ids)...)...)
	if err != nil {
		return err
	}
	type row struct {
		id string
		IntegrationName
	}
	all, err := scanAll(rows, func(r scanner) (i row, err error) { return i, r.Scan(&i.id, &i.Name, &i.Type, &i.ServiceID) })
	for _, i := range all {
		into[i.id] = i.IntegrationName
	}
	return err
}

// loadPolicyTeams reads the teams of the escalation policies, by name.
func (sc *Scope) loadPolicyTeams(ctx context.Context, policyIDs []string, rel *IncidentRelations) error {
	if len(policyIDs) == 0 {
		return nil
	}
	rows, err := sc.store.query(ctx, "SELECT pt.policy_id, t.id, t.name FROM escalation_policy_teams pt JOIN teams t ON t.id = pt.team_id "+
		"WHERE t.account_id = ? AND pt.policy_id IN ("+placeholders(len(policyIDs))+") ORDER BY "+sc.store.byteOrder("t.name")+", t.id",
		append([]any{sc.accountID}, anys(policyIDs)...)...)
	if err != nil {
		return err
	}
	all, err := scanAll(rows, func(r scanner) (v [3]string, err error) { return v, r.Scan(&v[0], &v[1], &v[2]) })
	for _, v := range all {
		rel.PolicyTeams[v[0]] = append(rel.PolicyTeams[v[0]], v[1])
		rel.Teams[v[1]] = v[2]
	}
	return err
}

// loadFirstTriggers reads the ID of each incident's first trigger log
// entry: its first entry, as every writer of incidents opens them, which
// the index of entries by incident finds without reading the others.
func (sc *Scope) loadFirstTriggers(ctx context.Context, incidentIDs []string, into map[string]string) error {
	if len(incidentIDs) == 0 {
		return nil
	}
	rows, err := sc.store.query(ctx, "SELECT incident_id, id FROM log_entries WHERE type = ? AND seq IN (SELECT MIN(seq) FROM log_entries "+
		"WHERE incident_id IN ("+placeholders(len(incidentIDs))+") GROUP BY incident_id)",
		append([]any{string(gatehouse.LogTrigger)}, anys(incidentIDs)...)...)
	if err != nil {
		return err
	}
	all, err := scanAll(rows, func(r scanner) (v [2]string, err error) { return v, r.Scan(&v[0], &v[1]) })
	for _, v := range all {
		into[v[0]] = v[1]
	}
	return err
}

// loadAssignmentTimes reads when each incident was given its assignees.
func (sc *Scope) loadAssignmentTimes(ctx context.Context, incidentIDs []string, into map[string]time.Time) error {
	if len(incidentIDs) == 0 {
		return nil
	}
	rows, err := sc.store.query(ctx, "SELECT incident_id, MAX(assigned_at) FROM incident_assignments WHERE incident_id IN ("+
		placeholders(len(incidentIDs))+") GROUP BY incident_id", anys(incidentIDs)...)
	if err != nil {
		return err
	}
	type row struct {
		id string
		at int64
	}
	all, err := scanAll(rows, func(r scanner) (v row, err error) { return v, r.Scan(&v.id, &v.at) })
	for _, v := range all {
		into[v.id] = fromMicros(v.at)
	}
	return err
}

// ServicesByID returns the account's services with those IDs, with their
// teams and integrations, by ID: for include[]=services. IDs of no service
// of the account are left out.
func (sc *Scope) ServicesByID(ctx context.Context, ids []string) (map[string]*gatehouse.Service, error) {
	out := make(map[string]*gatehouse.Service, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := sc.store.view(ctx, "find services", func(ctx context.Context) error {
		rows, err := sc.store.query(ctx, "SELECT "+serviceColumns+" FROM "+serviceFrom+" WHERE s.account_id = ? AND s.id IN ("+placeholders(len(ids))+")",
			append([]any{sc.accountID}, anys(ids)...)...)
		if err != nil {
			return err
		}
		services, err := scanAll(rows, scanService)
		if err != nil {
			return err
		}
		for _, s := range services {
			out[s.ID] = s
		}
		return fillServices(sc.store, sc.store.reader(ctx), services)
	})
	return out, err
}

// TeamsByID returns the account's teams with those IDs, by ID: for
// include[]=teams.
func (sc *Scope) TeamsByID(ctx context.Context, ids []string) (map[string]*gatehouse.Team, error) {
	return byID(ctx, sc, "find teams", teamColumns, "teams", scanTeam, func(v *gatehouse.Team) string { return v.ID }, ids)
}

// UsersByID returns the account's users with those IDs, by ID: for
// include[]=users and the like.
func (sc *Scope) UsersByID(ctx context.Context, ids []string) (map[string]*gatehouse.User, error) {
	return byID(ctx, sc, "find users", userColumns, "users", scanUser, func(v *gatehouse.User) string { return v.ID }, ids)
}

// LogEntriesByID returns the account's log entries with those IDs, by ID:
// for include[]=first_trigger_log_entries.
func (sc *Scope) LogEntriesByID(ctx context.Context, ids []string) (map[string]*gatehouse.LogEntry, error) {
	return byID(ctx, sc, "find log entries", logEntryColumns, "log_entries", scanLogEntry, func(v *gatehouse.LogEntry) string { return v.ID }, ids)
}

// IncidentsByID returns the incidents with those IDs the actor sees, with
// their assignees, acknowledgements and alert counts, by ID: for
// include[]=incidents.
func (sc *Scope) IncidentsByID(ctx context.Context, ids []string) (map[string]*gatehouse.Incident, error) {
	out := make(map[string]*gatehouse.Incident, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	f := sc.incidentFilter()
	f.in("id", slices.Compact(slices.Sorted(slices.Values(ids))))
	err := sc.store.view(ctx, "find incidents", func(ctx context.Context) error {
		rows, err := sc.store.query(ctx, "SELECT "+incidentColumns+" FROM incidents"+f.where(), f.args...)
		if err != nil {
			return err
		}
		incidents, err := scanAll(rows, scanIncident)
		if err != nil {
			return err
		}
		for _, inc := range incidents {
			out[inc.ID] = inc
		}
		return fillIncidents(sc.store.reader(ctx), incidents)
	})
	return out, err
}

// byID loads the account's rows of table with those IDs, keyed by the IDs
// id gives them: what include[] expands, one query per kind.
func byID[T any](ctx context.Context, sc *Scope, op, columns, table string, scan func(scanner) (T, error), id func(T) string, ids []string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := list(ctx, sc.store, op, scan, "SELECT "+columns+" FROM "+table+" WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")",
		append([]any{sc.accountID}, anys(ids)...)...)
	for _, r := range rows {
		out[id(r)] = r
	}
	return out, err
}
