package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// This file holds what every writer of incidents shares (the event applier
// and the REST API): numbering, status changes with their log entries, and
// the reads. A status change is made only through setIncidentStatus, inside
// the writer's transaction: it reads the incident's status under a lock,
// asks gatehouse.StatusChange, and writes, so that an event and a person
// acting on one incident at once never undo each other, on either engine.

const incidentColumns = "id, account_id, incident_number, service_id, escalation_policy_id, title, status, urgency, " +
	"incident_key, assigned_via, last_status_change_by_type, last_status_change_by_id, " +
	"created_at, updated_at, last_status_change_at, resolved_at"

func scanIncident(row scanner) (*gatehouse.Incident, error) {
	var inc gatehouse.Incident
	var status, urgency string
	var created, updated, changed int64
	var resolved sql.NullInt64
	if err := row.Scan(&inc.ID, &inc.AccountID, &inc.Number, &inc.ServiceID, &inc.EscalationPolicyID, &inc.Title,
		&status, &urgency, &inc.IncidentKey, &inc.AssignedVia, &inc.LastStatusChangeBy.Type, &inc.LastStatusChangeBy.ID,
		&created, &updated, &changed, &resolved); err != nil {
		return nil, err
	}
	inc.Status, inc.Urgency = gatehouse.IncidentStatus(status), gatehouse.Urgency(urgency)
	inc.CreatedAt, inc.UpdatedAt, inc.LastStatusChangeAt = fromMicros(created), fromMicros(updated), fromMicros(changed)
	inc.ResolvedAt = fromNullMicros(resolved)
	return &inc, nil
}

// forUpdate locks the rows a query reads until the transaction ends, on
// PostgreSQL; SQLite's one writer holds them all already.
func (tx *Tx) forUpdate() string {
	if tx.store.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// nextIncidentNumber returns the account's next incident number.
func (tx *Tx) nextIncidentNumber(accountID string) (int64, error) {
	var n int64
	err := tx.queryRow("INSERT INTO incident_numbers (account_id, last_number) VALUES (?, 1) "+
		"ON CONFLICT (account_id) DO UPDATE SET last_number = incident_numbers.last_number + 1 RETURNING last_number", accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("number incident: %w", err)
	}
	return n, nil
}

// insertIncident stores a new incident, with its assignments, giving it its
// number and the transaction's time; the caller sets its ID and the rest.
func (tx *Tx) insertIncident(inc *gatehouse.Incident) error {
	n, err := tx.nextIncidentNumber(inc.AccountID)
	if err != nil {
		return err
	}
	inc.Number = n
	inc.CreatedAt, inc.UpdatedAt, inc.LastStatusChangeAt = tx.now, tx.now, tx.now
	_, err = tx.exec("INSERT INTO incidents ("+incidentColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		inc.ID, inc.AccountID, inc.Number, inc.ServiceID, inc.EscalationPolicyID, inc.Title, string(inc.Status), string(inc.Urgency),
		inc.IncidentKey, inc.AssignedVia, inc.LastStatusChangeBy.Type, inc.LastStatusChangeBy.ID,
		micros(inc.CreatedAt), micros(inc.UpdatedAt), micros(inc.LastStatusChangeAt), nullMicros(inc.ResolvedAt))
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	for i, userID := range inc.Assignees {
		if _, err := tx.exec("INSERT INTO incident_assignments (incident_id, position, user_id, assigned_at) VALUES (?, ?, ?, ?)",
			inc.ID, i, userID, micros(tx.now)); err != nil {
			return fmt.Errorf("assign incident: %w", err)
		}
	}
	return nil
}

// firstRuleTargets returns the users the first rule of the escalation
// policy targets, in order: a new incident's assignees.
func (tx *Tx) firstRuleTargets(policyID string) ([]string, error) {
	rows, err := tx.query("SELECT t.user_id FROM escalation_rules r JOIN escalation_rule_targets t ON t.rule_id = r.id "+
		"WHERE r.policy_id = ? AND t.user_id IS NOT NULL "+
		"AND r.position = (SELECT MIN(position) FROM escalation_rules WHERE policy_id = ?) ORDER BY t.position", policyID, policyID)
	if err != nil {
		return nil, fmt.Errorf("find first escalation rule: %w", err)
	}
	users, err := scanAll(rows, func(row scanner) (string, error) {
		var id string
		err := row.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("find first escalation rule: %w", err)
	}
	return users, nil
}

// openAlert returns the alert open under the integration's dedup key, with
// its incident's status, or nil.
func (tx *Tx) openAlert(integrationID, dedupKey string) (*gatehouse.OpenAlert, error) {
	var o gatehouse.OpenAlert
	var status string
	err := tx.queryRow("SELECT o.alert_id, o.incident_id, i.status FROM open_alerts o JOIN incidents i ON i.id = o.incident_id "+
		"WHERE o.integration_id = ? AND o.dedup_key = ?", integrationID, dedupKey).Scan(&o.AlertID, &o.IncidentID, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find open alert: %w", err)
	}
	o.IncidentStatus = gatehouse.IncidentStatus(status)
	return &o, nil
}

// setIncidentStatus moves the incident to status to, if gatehouse.
// StatusChange allows it, and reports whether it moved. by is who changed
// it (the service for events, a user for people), agent and channel what
// its log entry names. Acknowledging records the acknowledgement; resolving
// resolves the incident's alerts, closes their dedup keys (so a trigger
// opens a new alert) and clears its assignments and acknowledgements. Every
// writer of an incident's status goes through here.
func (tx *Tx) setIncidentStatus(incidentID string, to gatehouse.IncidentStatus, by, agent gatehouse.Ref, channel gatehouse.Channel) (changed bool, err error) {
	return tx.setIncidentStatusNoted(incidentID, to, by, agent, channel, "")
}

// setIncidentStatusNoted is setIncidentStatus with a note on its log entry,
// such as the resolution a person gives with a resolve.
func (tx *Tx) setIncidentStatusNoted(incidentID string, to gatehouse.IncidentStatus, by, agent gatehouse.Ref, channel gatehouse.Channel, note string) (changed bool, err error) {
	var accountID, serviceID, from string
	err = tx.queryRow("SELECT account_id, service_id, status FROM incidents WHERE id = ?"+tx.forUpdate(), incidentID).
		Scan(&accountID, &serviceID, &from)
	if errors.Is(err, sql.ErrNoRows) {
		return false, gatehouse.NotFound("Incident " + incidentID)
	}
	if err != nil {
		return false, fmt.Errorf("find incident: %w", err)
	}
	if changed, err := gatehouse.StatusChange(gatehouse.IncidentStatus(from), to); err != nil || !changed {
		return false, err
	}
	now := micros(tx.now)
	var resolvedAt sql.NullInt64
	if to == gatehouse.IncidentResolved {
		resolvedAt = nullMicros(tx.now)
	}
	if _, err := tx.exec("UPDATE incidents SET status = ?, updated_at = ?, last_status_change_at = ?, "+
		"last_status_change_by_type = ?, last_status_change_by_id = ?, resolved_at = ? WHERE id = ?",
		string(to), now, now, by.Type, by.ID, resolvedAt, incidentID); err != nil {
		return false, fmt.Errorf("change incident status: %w", err)
	}
	entry := &gatehouse.LogEntry{AccountID: accountID, IncidentID: incidentID, ServiceID: serviceID, Agent: agent, Channel: channel, Note: note}
	switch to {
	case gatehouse.IncidentAcknowledged:
		entry.Type = gatehouse.LogAcknowledge
		if _, err := tx.exec("INSERT INTO incident_acknowledgements (incident_id, position, acknowledger_type, acknowledger_id, at) "+
			"VALUES (?, (SELECT COUNT(*) FROM incident_acknowledgements WHERE incident_id = ?), ?, ?, ?)",
			incidentID, incidentID, by.Type, by.ID, now); err != nil {
			return false, fmt.Errorf("acknowledge incident: %w", err)
		}
	case gatehouse.IncidentResolved:
		entry.Type = gatehouse.LogResolve
		if err := tx.closeAlerts(incidentID); err != nil {
			return false, err
		}
		for _, table := range []string{"incident_assignments", "incident_acknowledgements"} {
			if _, err := tx.exec("DELETE FROM "+table+" WHERE incident_id = ?", incidentID); err != nil {
				return false, fmt.Errorf("resolve incident: %w", err)
			}
		}
	}
	if err := tx.addLogEntry(entry); err != nil {
		return false, err
	}
	return true, nil
}

// closeAlerts resolves the incident's alerts that are still triggered and
// closes their dedup keys.
func (tx *Tx) closeAlerts(incidentID string) error {
	if _, err := tx.exec("UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE incident_id = ? AND status = 'triggered'",
		micros(tx.now), incidentID); err != nil {
		return fmt.Errorf("resolve alerts: %w", err)
	}
	if _, err := tx.exec("DELETE FROM open_alerts WHERE incident_id = ?", incidentID); err != nil {
		return fmt.Errorf("close alerts: %w", err)
	}
	return nil
}

const alertColumns = "id, account_id, service_id, integration_id, incident_id, alert_key, status, severity, summary, body, event_seq, created_at, resolved_at"

// alertBody is an alert's body as the alerts table keeps it.
type alertBody struct {
	Details  json.RawMessage `json:"details,omitempty"`
	Contexts []jsonContext   `json:"contexts,omitempty"`
	CEF      cefDetails      `json:"cef_details"`
}

type jsonContext struct {
	Type string `json:"type"`
	Href string `json:"href,omitempty"`
	Text string `json:"text,omitempty"`
	Src  string `json:"src,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

type cefDetails struct {
	Summary       string     `json:"summary,omitempty"`
	Source        string     `json:"source,omitempty"`
	Severity      string     `json:"severity,omitempty"`
	Component     string     `json:"component,omitempty"`
	Group         string     `json:"group,omitempty"`
	Class         string     `json:"class,omitempty"`
	Client        string     `json:"client,omitempty"`
	ClientURL     string     `json:"client_url,omitempty"`
	EventAction   string     `json:"event_action,omitempty"`
	DedupKey      string     `json:"dedup_key,omitempty"`
	Timestamp     *time.Time `json:"timestamp,omitempty"`
	ServiceID     string     `json:"service_id,omitempty"`
	IntegrationID string     `json:"integration_id,omitempty"`
}

func contextsToJSON(contexts []gatehouse.Context) []jsonContext {
	out := make([]jsonContext, len(contexts))
	for i, c := range contexts {
		out[i] = jsonContext(c)
	}
	return out
}

func contextsFromJSON(contexts []jsonContext) []gatehouse.Context {
	if len(contexts) == 0 {
		return nil
	}
	out := make([]gatehouse.Context, len(contexts))
	for i, c := range contexts {
		out[i] = gatehouse.Context(c)
	}
	return out
}

func (tx *Tx) insertAlert(a *gatehouse.Alert) error {
	c := a.Body.CEF
	body := alertBody{
		Details:  a.Body.Details,
		Contexts: contextsToJSON(a.Body.Contexts),
		CEF: cefDetails{
			Summary: c.Summary, Source: c.Source, Severity: string(c.Severity), Component: c.Component, Group: c.Group, Class: c.Class,
			Client: c.Client, ClientURL: c.ClientURL, EventAction: string(c.EventAction), DedupKey: c.DedupKey,
			ServiceID: c.ServiceID, IntegrationID: c.IntegrationID,
		},
	}
	if !c.Timestamp.IsZero() {
		body.CEF.Timestamp = &c.Timestamp
	}
	b, err := json.Marshal(&body)
	if err != nil {
		return fmt.Errorf("create alert: %w", err)
	}
	_, err = tx.exec("INSERT INTO alerts ("+alertColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.AccountID, a.ServiceID, a.IntegrationID, a.IncidentID, a.AlertKey, string(a.Status), string(a.Severity),
		a.Summary, string(b), a.EventSeq, micros(a.CreatedAt), nullMicros(a.ResolvedAt))
	if err != nil {
		return fmt.Errorf("create alert: %w", err)
	}
	return nil
}

func scanAlert(row scanner) (*gatehouse.Alert, error) {
	var a gatehouse.Alert
	var status, severity string
	var body []byte
	var created int64
	var resolved sql.NullInt64
	if err := row.Scan(&a.ID, &a.AccountID, &a.ServiceID, &a.IntegrationID, &a.IncidentID, &a.AlertKey, &status, &severity,
		&a.Summary, &body, &a.EventSeq, &created, &resolved); err != nil {
		return nil, err
	}
	a.Status, a.Severity = gatehouse.AlertStatus(status), gatehouse.Severity(severity)
	a.CreatedAt, a.ResolvedAt = fromMicros(created), fromNullMicros(resolved)
	var b alertBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("alert %s body: %w", a.ID, err)
	}
	c := b.CEF
	a.Body = gatehouse.AlertBody{
		Details:  b.Details,
		Contexts: contextsFromJSON(b.Contexts),
		CEF: gatehouse.CEFDetails{
			Summary: c.Summary, Source: c.Source, Severity: gatehouse.Severity(c.Severity), Component: c.Component, Group: c.Group,
			Class: c.Class, Client: c.Client, ClientURL: c.ClientURL, EventAction: gatehouse.EventAction(c.EventAction),
			DedupKey: c.DedupKey, ServiceID: c.ServiceID, IntegrationID: c.IntegrationID,
		},
	}
	if c.Timestamp != nil {
		a.Body.CEF.Timestamp = c.Timestamp.UTC()
	}
	return &a, nil
}

// logEntryDetails is what the log_entries table keeps of an entry as JSON.
type logEntryDetails struct {
	Channel   jsonChannel   `json:"channel"`
	Note      string        `json:"note,omitempty"`
	Assignees []string      `json:"assignees,omitempty"`
	Contexts  []jsonContext `json:"contexts,omitempty"`
}

type jsonChannel struct {
	Type      string          `json:"type"`
	Summary   string          `json:"summary,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	Client    string          `json:"client,omitempty"`
	ClientURL string          `json:"client_url,omitempty"`
}

const logEntryColumns = "seq, id, account_id, incident_id, service_id, type, created_at, agent_type, agent_id, details"

// addLogEntry stores a log entry of the transaction's time, giving it its
// ID, time and seq.
func (tx *Tx) addLogEntry(le *gatehouse.LogEntry) error {
	le.ID, le.CreatedAt = gatehouse.NewRecordID(), tx.now
	d := logEntryDetails{
		Channel:   jsonChannel(le.Channel),
		Note:      le.Note,
		Assignees: le.Assignees,
	}
	if len(le.Contexts) > 0 {
		d.Contexts = contextsToJSON(le.Contexts)
	}
	b, err := json.Marshal(&d)
	if err != nil {
		return fmt.Errorf("add log entry: %w", err)
	}
	err = tx.queryRow("INSERT INTO log_entries (id, account_id, incident_id, service_id, type, created_at, agent_type, agent_id, details) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
		le.ID, le.AccountID, le.IncidentID, le.ServiceID, string(le.Type), micros(le.CreatedAt), le.Agent.Type, le.Agent.ID, string(b)).Scan(&le.Seq)
	if err != nil {
		return fmt.Errorf("add log entry: %w", err)
	}
	return nil
}

func scanLogEntry(row scanner) (*gatehouse.LogEntry, error) {
	var le gatehouse.LogEntry
	var typ string
	var created int64
	var details []byte
	if err := row.Scan(&le.Seq, &le.ID, &le.AccountID, &le.IncidentID, &le.ServiceID, &typ, &created,
		&le.Agent.Type, &le.Agent.ID, &details); err != nil {
		return nil, err
	}
	le.Type, le.CreatedAt = gatehouse.LogEntryType(typ), fromMicros(created)
	var d logEntryDetails
	if err := json.Unmarshal(details, &d); err != nil {
		return nil, fmt.Errorf("log entry %s: %w", le.ID, err)
	}
	le.Channel, le.Note, le.Assignees, le.Contexts = gatehouse.Channel(d.Channel), d.Note, d.Assignees, contextsFromJSON(d.Contexts)
	return &le, nil
}

// IncidentQuery selects a page of incidents. Empty lists and zero times
// select all.
type IncidentQuery struct {
	ServiceIDs []string
	// TeamIDs keeps the incidents whose escalation policy belongs to one
	// of these teams.
	TeamIDs []string
	// UserIDs keeps the incidents assigned to one of these users.
	UserIDs     []string
	Statuses    []gatehouse.IncidentStatus
	Urgencies   []gatehouse.Urgency
	IncidentKey string
	// Since and Until bound when the incidents were opened: from Since,
	// before Until.
	Since, Until time.Time
	// Sort orders the incidents, by number when empty.
	Sort []IncidentSort
	Page Page
}

// IncidentSort is one key incidents are sorted by: Field is one of
// IncidentSortFields.
type IncidentSort struct {
	Field      string
	Descending bool
}

// incidentSortColumns are what each of IncidentSortFields sorts by, the
// same on both engines: an incident not resolved sorts as if resolved after
// all others, and high urgency after low.
var incidentSortColumns = map[string]string{
	"incident_number": "incident_number",
	"created_at":      "created_at",
	"resolved_at":     "resolved_at IS NULL %[1]s, resolved_at",
	"urgency":         "CASE urgency WHEN 'high' THEN 1 ELSE 0 END",
}

// IncidentSortFields are the fields incidents may be sorted by.
var IncidentSortFields = []string{"incident_number", "created_at", "resolved_at", "urgency"}

// incidentOrder is the ORDER BY of sorts, ending with the number so that
// the order is total.
func incidentOrder(sorts []IncidentSort) (string, error) {
	var parts []string
	for _, s := range sorts {
		col, ok := incidentSortColumns[s.Field]
		if !ok {
			return "", gatehouse.InvalidInput(fmt.Sprintf("Incidents cannot be sorted by %q", s.Field))
		}
		dir := "ASC"
		if s.Descending {
			dir = "DESC"
		}
		if strings.Contains(col, "%[1]s") {
			col = fmt.Sprintf(col, dir)
		}
		parts = append(parts, col+" "+dir)
	}
	return strings.Join(append(parts, "incident_number"), ", "), nil
}

// incidentFilter is the account's incidents as the scope's actor sees
// them: Restricted Access users see those of their teams' services.
func (sc *Scope) incidentFilter() *filter {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	if userID, limited := sc.teamLimited(); limited {
		f.add("service_id IN (SELECT s.id FROM services s JOIN escalation_policy_teams pt ON pt.policy_id = s.escalation_policy_id "+
			"JOIN team_members m ON m.team_id = pt.team_id WHERE m.user_id = ?)", userID)
	}
	return f
}

// byIDOrNumber adds to f the incident with that ID or number.
func byIDOrNumber(f *filter, idOrNumber string) {
	if n, err := strconv.ParseInt(idOrNumber, 10, 64); err == nil {
		f.add("incident_number = ?", n)
	} else {
		f.add("id = ?", idOrNumber)
	}
}

// Incidents returns a page of the account's incidents, by number unless
// q says otherwise, with their assignees, acknowledgements and alert
// counts. It returns 2001 for a sort by an unknown field.
func (sc *Scope) Incidents(ctx context.Context, q IncidentQuery) (List[*gatehouse.Incident], error) {
	f := sc.incidentFilter()
	f.in("service_id", q.ServiceIDs)
	f.in("status", strs(q.Statuses))
	f.in("urgency", strs(q.Urgencies))
	if q.IncidentKey != "" {
		f.add("incident_key = ?", q.IncidentKey)
	}
	if len(q.TeamIDs) > 0 {
		f.add("escalation_policy_id IN (SELECT policy_id FROM escalation_policy_teams WHERE team_id IN ("+placeholders(len(q.TeamIDs))+"))", anys(q.TeamIDs)...)
	}
	if len(q.UserIDs) > 0 {
		f.add("id IN (SELECT incident_id FROM incident_assignments WHERE user_id IN ("+placeholders(len(q.UserIDs))+"))", anys(q.UserIDs)...)
	}
	if !q.Since.IsZero() {
		f.add("created_at >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		f.add("created_at < ?", micros(q.Until))
	}
	order, err := incidentOrder(q.Sort)
	if err != nil {
		return List[*gatehouse.Incident]{}, err
	}
	var list List[*gatehouse.Incident]
	err = sc.store.view(ctx, "list incidents", func(ctx context.Context) error {
		var err error
		if list, err = readPage(ctx, sc.store, incidentColumns, "incidents", f, order, q.Page, scanIncident); err != nil {
			return err
		}
		return fillIncidents(sc.store.reader(ctx), list.Items)
	})
	return list, err
}

// Incident returns the incident with that ID or number, or a 2100 error.
func (sc *Scope) Incident(ctx context.Context, idOrNumber string) (*gatehouse.Incident, error) {
	var inc *gatehouse.Incident
	err := sc.store.view(ctx, "find incident", func(ctx context.Context) error {
		var err error
		inc, err = sc.readIncident(ctx, idOrNumber)
		return err
	})
	return inc, err
}

// readIncident is Incident's reads, to call inside view.
func (sc *Scope) readIncident(ctx context.Context, idOrNumber string) (*gatehouse.Incident, error) {
	f := sc.incidentFilter()
	byIDOrNumber(f, idOrNumber)
	inc, err := scanIncident(sc.store.queryRow(ctx, "SELECT "+incidentColumns+" FROM incidents"+f.where(), f.args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Incident " + idOrNumber)
	}
	if err != nil {
		return nil, err
	}
	if err := fillIncidents(sc.store.reader(ctx), []*gatehouse.Incident{inc}); err != nil {
		return nil, err
	}
	return inc, nil
}

// incidentID returns the ID of the incident with that ID or number the
// actor sees, or a 2100 error; to call inside view.
func (sc *Scope) incidentID(ctx context.Context, idOrNumber string) (string, error) {
	f := sc.incidentFilter()
	byIDOrNumber(f, idOrNumber)
	var id string
	err := sc.store.queryRow(ctx, "SELECT id FROM incidents"+f.where(), f.args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", gatehouse.NotFound("Incident " + idOrNumber)
	}
	return id, err
}

// fillIncidents loads the incidents' assignees, acknowledgements and alert
// counts: one query each for all of them.
func fillIncidents(query querier, incidents []*gatehouse.Incident) error {
	if len(incidents) == 0 {
		return nil
	}
	byID := make(map[string]*gatehouse.Incident, len(incidents))
	ids := make([]any, len(incidents))
	for i, inc := range incidents {
		byID[inc.ID], ids[i] = inc, inc.ID
		inc.Assignees, inc.Acknowledgers, inc.AlertCounts = nil, nil, gatehouse.AlertCounts{}
	}
	in := "(" + placeholders(len(ids)) + ")"
	rows, err := query("SELECT incident_id, user_id FROM incident_assignments WHERE incident_id IN "+in+" ORDER BY incident_id, position", ids...)
	if err != nil {
		return fmt.Errorf("load assignments: %w", err)
	}
	if _, err := scanAll(rows, func(row scanner) (struct{}, error) {
		var incID, userID string
		if err := row.Scan(&incID, &userID); err != nil {
			return struct{}{}, err
		}
		byID[incID].Assignees = append(byID[incID].Assignees, userID)
		return struct{}{}, nil
	}); err != nil {
		return fmt.Errorf("load assignments: %w", err)
	}
	rows, err = query("SELECT incident_id, acknowledger_type, acknowledger_id, at FROM incident_acknowledgements "+
		"WHERE incident_id IN "+in+" ORDER BY incident_id, position", ids...)
	if err != nil {
		return fmt.Errorf("load acknowledgements: %w", err)
	}
	if _, err := scanAll(rows, func(row scanner) (struct{}, error) {
		var incID string
		var ack gatehouse.Acknowledgement
		var at int64
		if err := row.Scan(&incID, &ack.Acknowledger.Type, &ack.Acknowledger.ID, &at); err != nil {
			return struct{}{}, err
		}
		ack.At = fromMicros(at)
		byID[incID].Acknowledgers = append(byID[incID].Acknowledgers, ack)
		return struct{}{}, nil
	}); err != nil {
		return fmt.Errorf("load acknowledgements: %w", err)
	}
	rows, err = query("SELECT incident_id, status, COUNT(*) FROM alerts WHERE incident_id IN "+in+" GROUP BY incident_id, status", ids...)
	if err != nil {
		return fmt.Errorf("count alerts: %w", err)
	}
	if _, err := scanAll(rows, func(row scanner) (struct{}, error) {
		var incID, status string
		var n int
		if err := row.Scan(&incID, &status, &n); err != nil {
			return struct{}{}, err
		}
		if status == string(gatehouse.AlertResolved) {
			byID[incID].AlertCounts.Resolved = n
		} else {
			byID[incID].AlertCounts.Triggered = n
		}
		return struct{}{}, nil
	}); err != nil {
		return fmt.Errorf("count alerts: %w", err)
	}
	return nil
}

// IncidentAlerts returns the alerts of the incident with that ID, oldest
// first, or a 2100 error.
func (sc *Scope) IncidentAlerts(ctx context.Context, incidentID string) ([]*gatehouse.Alert, error) {
	list, err := sc.Alerts(ctx, AlertQuery{IncidentID: incidentID, Page: Page{Limit: math.MaxInt32}})
	return list.Items, err
}

// IncidentLogEntries returns the log entries of the incident with that ID,
// oldest first, or a 2100 error.
func (sc *Scope) IncidentLogEntries(ctx context.Context, incidentID string) ([]*gatehouse.LogEntry, error) {
	list, err := sc.LogEntries(ctx, LogEntryQuery{IncidentID: incidentID, Oldest: true, Page: Page{Limit: math.MaxInt32}})
	return list.Items, err
}

// strs returns values as strings.
func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
