package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

// applierLockID is held, on PostgreSQL, by the one node applying the event
// log at a time: for the length of each of its transactions, so that a node
// that dies hands over at once.
const applierLockID = 0x676174656b

// ApplyEvents applies up to limit events of the event log after its cursor,
// in order, in one transaction that also moves the cursor past them: alert
// events open, acknowledge and resolve alerts and incidents (see
// gatehouse.EffectOf), change events become change events. So an event's
// effects are committed exactly once, whatever crashes. It returns how many
// events it applied: 0 when all are, or, on PostgreSQL, when another node is
// applying them. It applies fewer than limit when the events change many
// alerts, incidents or change events (maxChangesPerTx), so that the
// transaction stays short and the event log's writer does not wait long.
//
// An event whose integration, service or account is gone is passed over, as
// is one whose body cannot be read. An event of a service disabled since it
// was taken is applied: the 202 promised it would be.
func (s *Store) ApplyEvents(ctx context.Context, limit int) (applied int, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		applied = 0
		cursor, ok, err := tx.lockEventCursor()
		if err != nil || !ok {
			return err
		}
		events, err := tx.eventsAfter(cursor, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		a := newApplier(tx)
		if err := a.loadOpenAlerts(events); err != nil {
			return err
		}
		for i, e := range events {
			if err := a.apply(e); err != nil {
				return fmt.Errorf("apply event %d: %w", e.Seq, err)
			}
			if a.changes >= maxChangesPerTx {
				events = events[:i+1]
				break
			}
		}
		if err := tx.setEventCursor(events[len(events)-1].Seq); err != nil {
			return err
		}
		applied = len(events)
		return nil
	})
	return applied, err
}

// SkipEvent moves the event log's cursor past the next event without
// applying it, and returns its seq, or 0 when there is none: for an event
// that fails to apply however often it is tried.
func (s *Store) SkipEvent(ctx context.Context) (seq int64, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		seq = 0
		cursor, ok, err := tx.lockEventCursor()
		if err != nil || !ok {
			return err
		}
		err = tx.queryRow("SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT 1", cursor).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			seq = 0
			return nil
		}
		if err != nil {
			return fmt.Errorf("skip event: %w", err)
		}
		return tx.setEventCursor(seq)
	})
	return seq, err
}

// lockEventCursor returns the seq of the last event applied; on PostgreSQL
// it first takes the applier's lock for the transaction, and reports false
// when another node holds it.
func (tx *Tx) lockEventCursor() (seq int64, ok bool, err error) {
	if tx.store.dialect == dialectPostgres {
		if err := tx.queryRow("SELECT pg_try_advisory_xact_lock(?)", int64(applierLockID)).Scan(&ok); err != nil {
			return 0, false, fmt.Errorf("lock event applier: %w", err)
		}
		if !ok {
			return 0, false, nil
		}
	}
	if err := tx.queryRow("SELECT seq FROM event_cursor WHERE name = 'events'").Scan(&seq); err != nil {
		return 0, false, fmt.Errorf("read event cursor: %w", err)
	}
	return seq, true, nil
}

func (tx *Tx) setEventCursor(seq int64) error {
	if _, err := tx.exec("UPDATE event_cursor SET seq = ? WHERE name = 'events'", seq); err != nil {
		return fmt.Errorf("move event cursor: %w", err)
	}
	return nil
}

// maxChangesPerTx bounds the events that change something in one
// transaction of the applier: an event that opens an incident writes eight
// rows.
const maxChangesPerTx = 64

// applier applies the events of one transaction, remembering what it
// looked up: a batch's events mostly share a few services.
type applier struct {
	tx *Tx
	// changes counts the events that changed something.
	changes int
	// open holds the open alert of each dedup key seen, nil for none, as
	// the batch's events leave it.
	open         map[alertKey]*gatehouse.OpenAlert
	services     map[string]*eventService // nil: gone or disabled
	integrations map[string]string        // ID → type; "": gone
	firstTargets map[string][]string      // policy ID → users of its first rule
}

// eventService is what opening an incident needs of its service.
type eventService struct {
	policyID string
	// urgency is the service's incident urgency rule's: high, low or
	// severity_based.
	urgency string
}

func newApplier(tx *Tx) *applier {
	return &applier{
		tx:           tx,
		open:         map[alertKey]*gatehouse.OpenAlert{},
		services:     map[string]*eventService{},
		integrations: map[string]string{},
		firstTargets: map[string][]string{},
	}
}

func (a *applier) apply(e *gatehouse.Event) error {
	switch e.Kind {
	case gatehouse.EventAlert:
		return a.applyAlertEvent(e)
	case gatehouse.EventChange:
		return a.recordChange(e)
	}
	return nil
}

func (a *applier) applyAlertEvent(e *gatehouse.Event) error {
	key := alertKey{e.IntegrationID, e.DedupKey}
	open, known := a.open[key]
	if !known {
		var err error
		if open, err = a.tx.openAlert(e.IntegrationID, e.DedupKey); err != nil {
			return err
		}
		a.open[key] = open
	}
	effect := gatehouse.EffectOf(e.Action, open)
	if effect == gatehouse.EffectNone || effect == gatehouse.EffectDeduplicate {
		return nil
	}
	svc, integrationType, err := a.target(e)
	if err != nil || svc == nil {
		return err
	}
	if ok, err := a.tx.eventBody(e); err != nil || !ok {
		return err
	}
	a.changes++
	agent := gatehouse.Ref{Type: integrationType + "_reference", ID: e.IntegrationID}
	by := gatehouse.Ref{Type: "service_reference", ID: e.ServiceID}
	channel := eventChannel(e)
	switch effect {
	case gatehouse.EffectOpen:
		if open != nil {
			// Its incident was resolved without it: it closes now.
			if err := a.tx.closeAlerts(open.IncidentID); err != nil {
				return err
			}
		}
		opened, err := a.openAlert(e, svc, agent, by, channel)
		a.open[key] = opened
		return err
	case gatehouse.EffectAcknowledge:
		changed, err := a.tx.setIncidentStatus(open.IncidentID, gatehouse.IncidentAcknowledged, by, agent, channel)
		if changed {
			open.IncidentStatus = gatehouse.IncidentAcknowledged
		}
		return a.settled(key, err)
	case gatehouse.EffectResolve:
		_, err := a.tx.setIncidentStatus(open.IncidentID, gatehouse.IncidentResolved, by, agent, channel)
		a.open[key] = nil
		return a.settled(key, err)
	}
	return nil
}

// settled takes the outcome of a status change an event asked for: an
// incident resolved or deleted meanwhile (by a person, on PostgreSQL's
// concurrent writers) leaves the event without effect, as if it came
// after.
func (a *applier) settled(key alertKey, err error) error {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.CodeInvalidInput, gatehouse.CodeNotFound:
		a.open[key] = nil
		return nil
	}
	return err
}

// alertKey names an alert by its integration and dedup key.
type alertKey struct {
	integrationID, dedupKey string
}

// maxKeysPerQuery bounds the dedup keys of one query for open alerts.
const maxKeysPerQuery = 400

// loadOpenAlerts reads the open alerts of the alert events' dedup keys, a
// query per integration rather than one per event: most events of a busy
// log only add to an open alert.
func (a *applier) loadOpenAlerts(events []*gatehouse.Event) error {
	byIntegration := map[string][]any{}
	for _, e := range events {
		key := alertKey{e.IntegrationID, e.DedupKey}
		if _, seen := a.open[key]; e.Kind != gatehouse.EventAlert || seen {
			continue
		}
		a.open[key] = nil
		byIntegration[e.IntegrationID] = append(byIntegration[e.IntegrationID], e.DedupKey)
	}
	for integrationID, keys := range byIntegration {
		for start := 0; start < len(keys); start += maxKeysPerQuery {
			chunk := keys[start:min(start+maxKeysPerQuery, len(keys))]
			rows, err := a.tx.query("SELECT o.dedup_key, o.alert_id, o.incident_id, i.status FROM open_alerts o "+
				"JOIN incidents i ON i.id = o.incident_id WHERE o.integration_id = ? AND o.dedup_key IN ("+placeholders(len(chunk))+")",
				append([]any{integrationID}, chunk...)...)
			if err != nil {
				return fmt.Errorf("find open alerts: %w", err)
			}
			if _, err := scanAll(rows, func(row scanner) (struct{}, error) {
				var key string
				var status string
				o := &gatehouse.OpenAlert{}
				if err := row.Scan(&key, &o.AlertID, &o.IncidentID, &status); err != nil {
					return struct{}{}, err
				}
				o.IncidentStatus = gatehouse.IncidentStatus(status)
				a.open[alertKey{integrationID, key}] = o
				return struct{}{}, nil
			}); err != nil {
				return fmt.Errorf("find open alerts: %w", err)
			}
		}
	}
	return nil
}

// target returns the event's service and its integration's type, or a nil
// service when either is gone.
func (a *applier) target(e *gatehouse.Event) (*eventService, string, error) {
	svc, ok := a.services[e.ServiceID]
	if !ok {
		var policyID, rule string
		err := a.tx.queryRow("SELECT escalation_policy_id, incident_urgency_rule FROM services WHERE id = ? AND account_id = ?",
			e.ServiceID, e.AccountID).Scan(&policyID, &rule)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, "", fmt.Errorf("find service: %w", err)
		default:
			var r struct {
				Urgency string `json:"urgency"`
			}
			json.Unmarshal([]byte(rule), &r) // an unreadable rule is high urgency
			svc = &eventService{policyID: policyID, urgency: r.Urgency}
		}
		a.services[e.ServiceID] = svc
	}
	typ, ok := a.integrations[e.IntegrationID]
	if !ok {
		err := a.tx.queryRow("SELECT type FROM integrations WHERE id = ? AND service_id = ?", e.IntegrationID, e.ServiceID).Scan(&typ)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, "", fmt.Errorf("find integration: %w", err)
		}
		a.integrations[e.IntegrationID] = typ
	}
	if svc == nil || typ == "" {
		return nil, "", nil
	}
	return svc, typ, nil
}

// openAlert opens an alert for a trigger, and an incident for it, assigned to
// the targets of the first rule of the service's escalation policy.
func (a *applier) openAlert(e *gatehouse.Event, svc *eventService, agent, by gatehouse.Ref, channel gatehouse.Channel) (*gatehouse.OpenAlert, error) {
	tx := a.tx
	assignees, err := a.firstRuleTargets(svc.policyID)
	if err != nil {
		return nil, err
	}
	inc := &gatehouse.Incident{
		ID:                 gatehouse.NewID(),
		AccountID:          e.AccountID,
		Title:              e.Summary,
		Status:             gatehouse.IncidentTriggered,
		Urgency:            gatehouse.UrgencyFor(svc.urgency, e.Severity),
		ServiceID:          e.ServiceID,
		EscalationPolicyID: svc.policyID,
		IncidentKey:        e.DedupKey,
		AssignedVia:        gatehouse.AssignedViaEscalationPolicy,
		Assignees:          assignees,
		LastStatusChangeBy: by,
	}
	if err := tx.insertIncident(inc); err != nil {
		return nil, err
	}
	alert := &gatehouse.Alert{
		ID:            gatehouse.NewRecordID(),
		AccountID:     e.AccountID,
		ServiceID:     e.ServiceID,
		IntegrationID: e.IntegrationID,
		IncidentID:    inc.ID,
		AlertKey:      e.DedupKey,
		Status:        gatehouse.AlertTriggered,
		Severity:      e.Severity,
		Summary:       e.Summary,
		Body: gatehouse.AlertBody{
			Details:  e.CustomDetails,
			Contexts: gatehouse.ContextsOf(e),
			CEF: gatehouse.CEFDetails{
				Summary: e.Summary, Source: e.Source, Severity: e.Severity,
				Component: e.Component, Group: e.Group, Class: e.Class,
				Client: e.Client, ClientURL: e.ClientURL,
				EventAction: e.Action, DedupKey: e.DedupKey, Timestamp: e.Timestamp,
				ServiceID: e.ServiceID, IntegrationID: e.IntegrationID,
			},
		},
		EventSeq:  e.Seq,
		CreatedAt: tx.now,
	}
	if err := tx.insertAlert(alert); err != nil {
		return nil, err
	}
	if _, err := tx.exec("INSERT INTO open_alerts (integration_id, dedup_key, alert_id, incident_id) VALUES (?, ?, ?, ?)",
		e.IntegrationID, e.DedupKey, alert.ID, inc.ID); err != nil {
		return nil, fmt.Errorf("open alert: %w", err)
	}
	trigger := &gatehouse.LogEntry{
		AccountID: e.AccountID, IncidentID: inc.ID, ServiceID: e.ServiceID,
		Type: gatehouse.LogTrigger, Agent: agent, Channel: channel, Contexts: alert.Body.Contexts,
	}
	if err := tx.addLogEntry(trigger); err != nil {
		return nil, err
	}
	if len(assignees) > 0 {
		assign := &gatehouse.LogEntry{
			AccountID: e.AccountID, IncidentID: inc.ID, ServiceID: e.ServiceID,
			Type: gatehouse.LogAssign, Agent: by, Channel: gatehouse.Channel{Type: "auto"}, Assignees: assignees,
		}
		if err := tx.addLogEntry(assign); err != nil {
			return nil, err
		}
	}
	if _, err := tx.exec("UPDATE services SET last_incident_at = ? WHERE id = ?", micros(tx.now), e.ServiceID); err != nil {
		return nil, fmt.Errorf("date service's last incident: %w", err)
	}
	return &gatehouse.OpenAlert{AlertID: alert.ID, IncidentID: inc.ID, IncidentStatus: inc.Status}, nil
}

// firstRuleTargets returns the users the first rule of the escalation
// policy targets, in order.
func (a *applier) firstRuleTargets(policyID string) ([]string, error) {
	if users, ok := a.firstTargets[policyID]; ok {
		return users, nil
	}
	users, err := a.tx.firstRuleTargets(policyID)
	if err != nil {
		return nil, err
	}
	a.firstTargets[policyID] = users
	return users, nil
}

func (a *applier) recordChange(e *gatehouse.Event) error {
	svc, _, err := a.target(e)
	if err != nil || svc == nil {
		return err
	}
	if ok, err := a.tx.eventBody(e); err != nil || !ok {
		return err
	}
	a.changes++
	c := &gatehouse.ChangeEvent{
		ID:            gatehouse.NewRecordID(),
		AccountID:     e.AccountID,
		ServiceID:     e.ServiceID,
		IntegrationID: e.IntegrationID,
		Summary:       e.Summary,
		Source:        e.Source,
		Timestamp:     e.Timestamp,
		CustomDetails: e.CustomDetails,
		Links:         e.Links,
		Images:        e.Images,
		EventSeq:      e.Seq,
		CreatedAt:     a.tx.now,
	}
	if c.Timestamp.IsZero() {
		c.Timestamp = e.ReceivedAt
	}
	return a.tx.insertChangeEvent(c)
}

// eventChannel is how a log entry records the event behind it.
func eventChannel(e *gatehouse.Event) gatehouse.Channel {
	return gatehouse.Channel{Type: "api", Summary: e.Summary, Details: e.CustomDetails, Client: e.Client, ClientURL: e.ClientURL}
}
