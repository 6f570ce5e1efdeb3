package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

// This file holds what people do to incidents, each request one
// transaction with its log entries (PagerDuty keeps no audit records of
// incidents, and no node caches them, so there is no change-feed row
// either). A status change goes through setIncidentStatus like the event
// applier's, so that a person and an event acting on one incident at once
// never undo or reorder each other's effects: SQLite has one writer, and on
// PostgreSQL the incident's row is locked and the transaction serializable.

// errAlreadyResolved is PagerDuty's answer to a change a resolved incident
// cannot take.
var errAlreadyResolved = gatehouse.InvalidInput("Incident Already Resolved")

// errOpenIncidentKey is PagerDuty's answer to an incident opened with the
// key of an open incident of its service.
var errOpenIncidentKey = gatehouse.InvalidInput("Open incident with matching dedup key already exists on this service")

// userActorRef names the user who acts in log entries and incidents.
func userActorRef(u *gatehouse.User) gatehouse.Ref {
	return gatehouse.Ref{Type: "user_reference", ID: u.ID, Summary: u.Name}
}

// restChannel is how log entries name the REST API.
func restChannel() gatehouse.Channel { return gatehouse.Channel{Type: "api"} }

// lockIncident loads the incident with that ID or number as the actor sees
// it, with its assignees, acknowledgements and alert counts, and locks it
// until tx ends; or returns a 2100 error.
func (sc *Scope) lockIncident(tx *Tx, idOrNumber string) (*gatehouse.Incident, error) {
	f := sc.incidentFilter()
	byIDOrNumber(f, idOrNumber)
	inc, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents"+f.where()+tx.forUpdate(), f.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Incident " + idOrNumber)
	}
	if err != nil {
		return nil, fmt.Errorf("find incident: %w", err)
	}
	if err := fillIncidents(tx.query, []*gatehouse.Incident{inc}); err != nil {
		return nil, err
	}
	return inc, nil
}

// CreateIncident opens the incident m describes as the user by, with its
// trigger and assign log entries, and returns it. It returns 2001 errors
// for invalid fields, a service, escalation policy or user that is not the
// account's (or, for Restricted Access users, a service not of their
// teams), a disabled service, and an incident key an open incident of the
// service has.
func (sc *Scope) CreateIncident(ctx context.Context, by *gatehouse.User, m *gatehouse.ManualIncident) (*gatehouse.Incident, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var created *gatehouse.Incident
	err := sc.write(ctx, func(tx *Tx) error {
		svc, err := sc.incidentService(tx, m.ServiceID)
		if err != nil {
			return err
		}
		inc := &gatehouse.Incident{
			ID: gatehouse.NewID(), AccountID: sc.accountID, Title: m.Title, Status: gatehouse.IncidentTriggered,
			Urgency: m.Urgency, ServiceID: svc.id, EscalationPolicyID: svc.policyID, IncidentKey: m.IncidentKey,
			AssignedVia: gatehouse.AssignedViaEscalationPolicy, LastStatusChangeBy: userActorRef(by),
		}
		if inc.Urgency == "" {
			inc.Urgency = gatehouse.UrgencyFor(svc.urgency, "")
		}
		if m.EscalationPolicyID != "" {
			if err := tx.policyOfAccount(sc.accountID, m.EscalationPolicyID); err != nil {
				return err
			}
			inc.EscalationPolicyID = m.EscalationPolicyID
		}
		if m.AssigneeIDs != nil {
			if inc.Assignees, err = tx.usersOfAccount(sc.accountID, m.AssigneeIDs); err != nil {
				return err
			}
			inc.AssignedVia = gatehouse.AssignedViaDirect
		} else if inc.Assignees, err = tx.firstRuleTargets(inc.EscalationPolicyID); err != nil {
			return err
		}
		if inc.IncidentKey == "" {
			inc.IncidentKey = gatehouse.NewDedupKey()
		} else {
			var open int
			if err := tx.queryRow("SELECT COUNT(*) FROM incidents WHERE service_id = ? AND incident_key = ? AND status <> 'resolved'",
				svc.id, inc.IncidentKey).Scan(&open); err != nil {
				return fmt.Errorf("check incident key: %w", err)
			}
			if open > 0 {
				return errOpenIncidentKey
			}
		}
		if err := tx.insertIncident(inc); err != nil {
			return err
		}
		user := userActorRef(by)
		trigger := &gatehouse.LogEntry{
			AccountID: sc.accountID, IncidentID: inc.ID, ServiceID: inc.ServiceID, Type: gatehouse.LogTrigger, Agent: user,
			Channel: gatehouse.Channel{Type: "api", Summary: inc.Title, Details: m.Details},
		}
		if err := tx.addLogEntry(trigger); err != nil {
			return err
		}
		if len(inc.Assignees) > 0 {
			assign := &gatehouse.LogEntry{AccountID: sc.accountID, IncidentID: inc.ID, ServiceID: inc.ServiceID, Type: gatehouse.LogAssign,
				Agent: user, Channel: restChannel(), Assignees: inc.Assignees}
			if inc.AssignedVia == gatehouse.AssignedViaEscalationPolicy {
				assign.Agent, assign.Channel = gatehouse.Ref{Type: "service_reference", ID: inc.ServiceID}, gatehouse.Channel{Type: "auto"}
			}
			if err := tx.addLogEntry(assign); err != nil {
				return err
			}
		}
		if _, err := tx.exec("UPDATE services SET last_incident_at = ? WHERE id = ?", micros(tx.now), inc.ServiceID); err != nil {
			return fmt.Errorf("date service's last incident: %w", err)
		}
		created = inc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// incidentServiceRow is what opening an incident by hand needs of its
// service.
type incidentServiceRow struct {
	id, policyID string
	// urgency is the service's incident urgency rule's: high, low or
	// severity_based.
	urgency string
}

// incidentService loads the service an incident is to be opened on, as the
// actor sees it, or returns a 2001 error naming it: it is a reference in
// the request's body.
func (sc *Scope) incidentService(tx *Tx, id string) (*incidentServiceRow, error) {
	f := &filter{}
	f.add("s.account_id = ?", sc.accountID)
	f.add("s.id = ?", id)
	sc.limitServicesToTeams(f)
	var svc incidentServiceRow
	var rule, status string
	err := tx.queryRow("SELECT s.id, s.escalation_policy_id, s.incident_urgency_rule, s.status FROM services s"+f.where(), f.args...).
		Scan(&svc.id, &svc.policyID, &rule, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.InvalidInput(fmt.Sprintf("Service %s not found in this account", id))
	}
	if err != nil {
		return nil, fmt.Errorf("find service: %w", err)
	}
	if status == "disabled" {
		return nil, gatehouse.InvalidInput(fmt.Sprintf("Service %s is disabled: it takes no incidents until it is enabled", id))
	}
	var r gatehouse.IncidentUrgencyRule
	if err := json.Unmarshal([]byte(rule), &r); err != nil {
		return nil, fmt.Errorf("decode service %s's urgency rule: %w", id, err)
	}
	svc.urgency = r.Urgency
	return &svc, nil
}

// policyOfAccount returns a 2001 error naming the escalation policy unless
// it is the account's: it is a reference in the request's body.
func (tx *Tx) policyOfAccount(accountID, id string) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM escalation_policies WHERE account_id = ? AND id = ?", accountID, id).Scan(&n); err != nil {
		return fmt.Errorf("find escalation policy: %w", err)
	}
	if n == 0 {
		return gatehouse.InvalidInput(fmt.Sprintf("Escalation policy %s not found in this account", id))
	}
	return nil
}

// usersOfAccount returns ids without repeats, in order, or a 2001 error with
// a line for each ID of no user of the account.
func (tx *Tx) usersOfAccount(accountID string, ids []string) ([]string, error) {
	var unique []string
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	rows, err := tx.query("SELECT id FROM users WHERE account_id = ? AND id IN ("+placeholders(len(unique))+")",
		append([]any{accountID}, anys(unique)...)...)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	found, err := scanAll(rows, func(row scanner) (id string, err error) { return id, row.Scan(&id) })
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	known := map[string]bool{}
	for _, id := range found {
		known[id] = true
	}
	var problems []string
	for _, id := range unique {
		if !known[id] {
			problems = append(problems, fmt.Sprintf("User %s not found in this account", id))
		}
	}
	if len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	return unique, nil
}

// UpdateIncident applies u to the incident with that ID or number as the
// user by, and returns the incident as stored. It returns 2001 errors for
// an invalid update, a status the incident cannot take ("Incident Already
// Resolved"), assignees or a policy that are not the account's and an
// escalation level beyond the policy's rules; and 2100 for an incident the
// actor does not see.
func (sc *Scope) UpdateIncident(ctx context.Context, idOrNumber string, by *gatehouse.User, u gatehouse.IncidentUpdate) (*gatehouse.Incident, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var updated *gatehouse.Incident
	err := sc.write(ctx, func(tx *Tx) error {
		var err error
		updated, err = sc.updateIncident(tx, idOrNumber, by, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// UpdateIncidents applies each update to the incident its ID names, as the
// user by, all in one transaction: all are made, or none. It returns the
// incidents as stored, in the updates' order, and the errors UpdateIncident
// does, whose lines name the incident; and a 2902 error for more than
// gatehouse.MaxBulkUpdate updates.
func (sc *Scope) UpdateIncidents(ctx context.Context, by *gatehouse.User, updates []gatehouse.IncidentUpdate) ([]*gatehouse.Incident, error) {
	if len(updates) > gatehouse.MaxBulkUpdate {
		return nil, tooMany("incidents", len(updates))
	}
	var problems []string
	for i := range updates {
		if updates[i].ID == "" {
			problems = append(problems, fmt.Sprintf("Incident %d of the list has no id", i+1))
		} else if err := updates[i].Validate(); err != nil {
			problems = append(problems, "Incident "+updates[i].ID+": "+errorLines(err))
		}
	}
	if len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	var incidents []*gatehouse.Incident
	err := sc.write(ctx, func(tx *Tx) error {
		incidents = incidents[:0]
		for _, u := range updates {
			inc, err := sc.updateIncident(tx, u.ID, by, u)
			if e, ok := errors.AsType[*gatehouse.Error](err); ok && e.Code == gatehouse.CodeInvalidInput {
				return gatehouse.InvalidInput("Incident " + u.ID + ": " + errorLines(e))
			}
			if err != nil {
				return err
			}
			incidents = append(incidents, inc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return incidents, nil
}

// updateIncident applies u to the incident in tx: title and urgency, then
// the new assignment, then the status, so that a resolve comes last.
func (sc *Scope) updateIncident(tx *Tx, idOrNumber string, by *gatehouse.User, u gatehouse.IncidentUpdate) (*gatehouse.Incident, error) {
	inc, err := sc.lockIncident(tx, idOrNumber)
	if err != nil {
		return nil, err
	}
	user := userActorRef(by)
	entry := func(typ gatehouse.LogEntryType) *gatehouse.LogEntry {
		return &gatehouse.LogEntry{AccountID: sc.accountID, IncidentID: inc.ID, ServiceID: inc.ServiceID, Type: typ, Agent: user, Channel: restChannel()}
	}
	if u.Title != "" && u.Title != inc.Title {
		if _, err := tx.exec("UPDATE incidents SET title = ?, updated_at = ? WHERE id = ?", u.Title, micros(tx.now), inc.ID); err != nil {
			return nil, fmt.Errorf("retitle incident: %w", err)
		}
	}
	if u.Urgency != "" && u.Urgency != inc.Urgency {
		if _, err := tx.exec("UPDATE incidents SET urgency = ?, updated_at = ? WHERE id = ?", string(u.Urgency), micros(tx.now), inc.ID); err != nil {
			return nil, fmt.Errorf("change incident urgency: %w", err)
		}
		le := entry(gatehouse.LogUrgency)
		le.Channel.Summary = "Urgency changed to " + string(u.Urgency)
		if err := tx.addLogEntry(le); err != nil {
			return nil, err
		}
	}
	if u.Reassigns() {
		if inc.Status == gatehouse.IncidentResolved {
			return nil, errAlreadyResolved
		}
		a, err := sc.assignment(tx, inc, u)
		if err != nil {
			return nil, err
		}
		if err := tx.reassign(inc, a, user); err != nil {
			return nil, err
		}
		le := entry(a.logType)
		le.Assignees = a.users
		if err := tx.addLogEntry(le); err != nil {
			return nil, err
		}
	}
	if u.Status != "" {
		if _, err := tx.setIncidentStatusNoted(inc.ID, u.Status, user, user, restChannel(), u.Resolution); err != nil {
			return nil, err
		}
	}
	updated, err := scanIncident(tx.queryRow("SELECT "+incidentColumns+" FROM incidents WHERE id = ?", inc.ID))
	if err != nil {
		return nil, fmt.Errorf("read incident: %w", err)
	}
	if err := fillIncidents(tx.query, []*gatehouse.Incident{updated}); err != nil {
		return nil, err
	}
	return updated, nil
}

// newAssignment is who an incident is assigned to anew, and how.
type newAssignment struct {
	users    []string
	via      string
	policyID string
	logType  gatehouse.LogEntryType
}

// assignment works out the new assignment u asks of inc.
func (sc *Scope) assignment(tx *Tx, inc *gatehouse.Incident, u gatehouse.IncidentUpdate) (*newAssignment, error) {
	a := &newAssignment{via: gatehouse.AssignedViaEscalationPolicy, policyID: inc.EscalationPolicyID, logType: gatehouse.LogAssign}
	var err error
	switch {
	case u.AssigneeIDs != nil:
		a.via = gatehouse.AssignedViaDirect
		a.users, err = tx.usersOfAccount(sc.accountID, u.AssigneeIDs)
	case u.EscalationPolicyID != "":
		if err := tx.policyOfAccount(sc.accountID, u.EscalationPolicyID); err != nil {
			return nil, err
		}
		a.policyID = u.EscalationPolicyID
		a.users, err = tx.firstRuleTargets(a.policyID)
	default:
		a.logType = gatehouse.LogEscalate
		a.users, err = tx.ruleTargets(inc.EscalationPolicyID, u.EscalationLevel)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ruleTargets returns the users the rule at level (from 1) of the
// escalation policy targets, or a 2001 error when it has no such rule.
func (tx *Tx) ruleTargets(policyID string, level int) ([]string, error) {
	var ruleID string
	err := tx.queryRow("SELECT id FROM escalation_rules WHERE policy_id = ? ORDER BY position LIMIT 1 OFFSET ?", policyID, level-1).Scan(&ruleID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.InvalidInput(fmt.Sprintf("Escalation level %d is beyond the rules of escalation policy %s", level, policyID))
	}
	if err != nil {
		return nil, fmt.Errorf("find escalation rule: %w", err)
	}
	rows, err := tx.query("SELECT user_id FROM escalation_rule_targets WHERE rule_id = ? AND user_id IS NOT NULL ORDER BY position", ruleID)
	if err != nil {
		return nil, fmt.Errorf("find escalation rule targets: %w", err)
	}
	users, err := scanAll(rows, func(row scanner) (id string, err error) { return id, row.Scan(&id) })
	if err != nil {
		return nil, fmt.Errorf("find escalation rule targets: %w", err)
	}
	return users, nil
}

// reassign gives inc its new assignment. As PagerDuty does, an
// acknowledged incident assigned anew is triggered again, for its new
// assignees to acknowledge: it loses its acknowledgements.
func (tx *Tx) reassign(inc *gatehouse.Incident, a *newAssignment, by gatehouse.Ref) error {
	now := micros(tx.now)
	if _, err := tx.exec("DELETE FROM incident_assignments WHERE incident_id = ?", inc.ID); err != nil {
		return fmt.Errorf("reassign incident: %w", err)
	}
	for i, userID := range a.users {
		if _, err := tx.exec("INSERT INTO incident_assignments (incident_id, position, user_id, assigned_at) VALUES (?, ?, ?, ?)",
			inc.ID, i, userID, now); err != nil {
			return fmt.Errorf("reassign incident: %w", err)
		}
	}
	if _, err := tx.exec("UPDATE incidents SET assigned_via = ?, escalation_policy_id = ?, updated_at = ? WHERE id = ?",
		a.via, a.policyID, now, inc.ID); err != nil {
		return fmt.Errorf("reassign incident: %w", err)
	}
	if inc.Status != gatehouse.IncidentAcknowledged {
		return nil
	}
	if _, err := tx.exec("DELETE FROM incident_acknowledgements WHERE incident_id = ?", inc.ID); err != nil {
		return fmt.Errorf("reassign incident: %w", err)
	}
	if _, err := tx.exec("UPDATE incidents SET status = 'triggered', last_status_change_at = ?, last_status_change_by_type = ?, "+
		"last_status_change_by_id = ? WHERE id = ?", now, by.Type, by.ID, inc.ID); err != nil {
		return fmt.Errorf("reassign incident: %w", err)
	}
	return nil
}
