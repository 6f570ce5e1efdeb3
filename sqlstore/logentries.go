package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// LogEntryQuery selects a page of log entries: of one incident, or of the
// whole account. Empty lists and zero times select all.
type LogEntryQuery struct {
	// IncidentID names the incident, by ID or number; empty for every
	// incident's.
	IncidentID string
	// TeamIDs keeps the entries of incidents whose escalation policy
	// belongs to one of these teams.
	TeamIDs []string
	// Since and Until bound when the entries were made: from Since, before
	// Until.
	Since, Until time.Time
	// Overview keeps the entries that say how the incident changed,
	// leaving out the assignments its escalation policy made.
	Overview bool
	// Oldest lists the oldest entries first; the newest come first
	// otherwise, as PagerDuty lists them.
	Oldest bool
	Page   Page
}

// LogEntries returns a page of log entries. It returns 2100 for an incident
// the actor does not see. Restricted Access users see the entries of the
// incidents they see.
func (sc *Scope) LogEntries(ctx context.Context, q LogEntryQuery) (List[*gatehouse.LogEntry], error) {
	f := sc.logEntryFilter()
	if len(q.TeamIDs) > 0 {
		f.add("incident_id IN (SELECT id FROM incidents WHERE escalation_policy_id IN "+
			"(SELECT policy_id FROM escalation_policy_teams WHERE team_id IN ("+placeholders(len(q.TeamIDs))+")))", anys(q.TeamIDs)...)
	}
	if !q.Since.IsZero() {
		f.add("created_at >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		f.add("created_at < ?", micros(q.Until))
	}
	if q.Overview {
		f.add("NOT (type = ? AND agent_type = 'service_reference')", string(gatehouse.LogAssign))
	}
	order := "seq DESC"
	if q.Oldest {
		order = "seq"
	}
	var list List[*gatehouse.LogEntry]
	err := sc.store.view(ctx, "list log entries", func(ctx context.Context) error {
		if q.IncidentID != "" {
			incID, err := sc.incidentID(ctx, q.IncidentID)
			if err != nil {
				return err
			}
			f.add("incident_id = ?", incID)
		}
		var err error
		list, err = readPage(ctx, sc.store, logEntryColumns, "log_entries", f, order, q.Page, scanLogEntry)
		return err
	})
	return list, err
}

// LogEntry returns the log entry with that ID, or a 2100 error.
func (sc *Scope) LogEntry(ctx context.Context, id string) (*gatehouse.LogEntry, error) {
	f := sc.logEntryFilter()
	f.add("id = ?", id)
	return get(ctx, sc.store, "find log entry", "Log entry "+id, scanLogEntry, "SELECT "+logEntryColumns+" FROM log_entries"+f.where(), f.args...)
}

// logEntryFilter is the account's log entries as the scope's actor sees
// them: Restricted Access users see those of their teams' services.
func (sc *Scope) logEntryFilter() *filter {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	if userID, limited := sc.teamLimited(); limited {
		f.add("service_id IN (SELECT s.id FROM services s JOIN escalation_policy_teams pt ON pt.policy_id = s.escalation_policy_id "+
			"JOIN team_members m ON m.team_id = pt.team_id WHERE m.user_id = ?)", userID)
	}
	return f
}
