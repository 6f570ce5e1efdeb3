package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

// AlertQuery selects a page of an incident's alerts. An empty list selects
// all.
type AlertQuery struct {
	// IncidentID names the incident, by ID or number.
	IncidentID string
	Statuses   []gatehouse.AlertStatus
	AlertKey   string
	// SortBy is created_at or resolved_at (an alert not resolved sorts as
	// if resolved after all others); created_at when empty.
	SortBy     string
	Descending bool
	Page       Page
}

// Alerts returns a page of an incident's alerts, oldest first unless q
// says otherwise. It returns 2100 for an incident the actor does not see,
// and 2001 for a sort by another field than created_at or resolved_at.
func (sc *Scope) Alerts(ctx context.Context, q AlertQuery) (List[*gatehouse.Alert], error) {
	dir := " ASC"
	if q.Descending {
		dir = " DESC"
	}
	var order string
	switch q.SortBy {
	case "", "created_at":
		order = "created_at" + dir + ", id" + dir
	case "resolved_at":
		order = "resolved_at IS NULL" + dir + ", resolved_at" + dir + ", created_at, id"
	default:
		return List[*gatehouse.Alert]{}, gatehouse.InvalidInput(fmt.Sprintf("Alerts cannot be sorted by %q", q.SortBy))
	}
	var list List[*gatehouse.Alert]
	err := sc.store.view(ctx, "list alerts", func(ctx context.Context) error {
		incID, err := sc.incidentID(ctx, q.IncidentID)
		if err != nil {
			return err
		}
		f := &filter{}
		f.add("incident_id = ?", incID)
		f.in("status", strs(q.Statuses))
		if q.AlertKey != "" {
			f.add("alert_key = ?", q.AlertKey)
		}
		list, err = readPage(ctx, sc.store, alertColumns, "alerts", f, order, q.Page, scanAlert)
		return err
	})
	return list, err
}

// Alert returns the alert with that ID of the incident with that ID or
// number, or a 2100 error.
func (sc *Scope) Alert(ctx context.Context, incidentID, alertID string) (*gatehouse.Alert, error) {
	var a *gatehouse.Alert
	err := sc.store.view(ctx, "find alert", func(ctx context.Context) error {
		incID, err := sc.incidentID(ctx, incidentID)
		if err != nil {
			return err
		}
		a, err = scanAlert(sc.store.queryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE incident_id = ? AND id = ?", incID, alertID))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound(fmt.Sprintf("Alert %s of incident %s", alertID, incidentID))
		}
		return err
	})
	return a, err
}

// UpdateAlerts resolves alerts of the incident with that ID or number, as
// the user by asks, in one transaction, and returns them as stored. An
// incident whose last triggered alert this resolves is resolved too, by by.
// It returns 2001 errors for invalid updates, an alert said to be in
// another incident, and more than gatehouse.MaxBulkUpdate alerts (2902);
// and 2100 for an incident the actor does not see or an alert not in it.
func (sc *Scope) UpdateAlerts(ctx context.Context, incidentID string, by *gatehouse.User, updates []gatehouse.AlertUpdate) ([]*gatehouse.Alert, error) {
	if len(updates) > gatehouse.MaxBulkUpdate {
		return nil, tooMany("alerts", len(updates))
	}
	var problems []string
	for i := range updates {
		if err := updates[i].Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("Alert %s: %s", updates[i].ID, errorLines(err)))
		}
	}
	if len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	var alerts []*gatehouse.Alert
	err := sc.write(ctx, func(tx *Tx) error {
		alerts = alerts[:0]
		inc, err := sc.lockIncident(tx, incidentID)
		if err != nil {
			return err
		}
		resolved := false
		for _, u := range updates {
			a, err := scanAlert(tx.queryRow("SELECT "+alertColumns+" FROM alerts WHERE incident_id = ? AND id = ?", inc.ID, u.ID))
			if errors.Is(err, sql.ErrNoRows) {
				return gatehouse.NotFound(fmt.Sprintf("Alert %s of incident %s", u.ID, incidentID))
			}
			if err != nil {
				return fmt.Errorf("find alert: %w", err)
			}
			if u.IncidentID != "" && u.IncidentID != inc.ID && u.IncidentID != fmt.Sprint(inc.Number) {
				return gatehouse.InvalidInput(fmt.Sprintf("Alert %s is in incident %s: moving alerts to another incident is not supported", a.ID, inc.ID))
			}
			if u.Status == gatehouse.AlertResolved && a.Status == gatehouse.AlertTriggered {
				if err := tx.resolveAlert(a); err != nil {
					return err
				}
				resolved = true
			}
			alerts = append(alerts, a)
		}
		if !resolved || inc.Status == gatehouse.IncidentResolved {
			return nil
		}
		var open int
		if err := tx.queryRow("SELECT COUNT(*) FROM alerts WHERE incident_id = ? AND status = 'triggered'", inc.ID).Scan(&open); err != nil {
			return fmt.Errorf("count triggered alerts: %w", err)
		}
		if open > 0 {
			return nil
		}
		user := userActorRef(by)
		_, err = tx.setIncidentStatus(inc.ID, gatehouse.IncidentResolved, user, user, restChannel())
		return err
	})
	if err != nil {
		return nil, err
	}
	return alerts, nil
}

// resolveAlert resolves a triggered alert and closes its dedup key, so that
// the next trigger with it opens a new alert.
func (tx *Tx) resolveAlert(a *gatehouse.Alert) error {
	if _, err := tx.exec("UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?", micros(tx.now), a.ID); err != nil {
		return fmt.Errorf("resolve alert: %w", err)
	}
	if _, err := tx.exec("DELETE FROM open_alerts WHERE integration_id = ? AND dedup_key = ? AND alert_id = ?",
		a.IntegrationID, a.AlertKey, a.ID); err != nil {
		return fmt.Errorf("close alert: %w", err)
	}
	a.Status, a.ResolvedAt = gatehouse.AlertResolved, tx.now
	return nil
}

// tooMany is the 2902 error of a request that changes more than
// gatehouse.MaxBulkUpdate objects of a kind at once.
func tooMany(kind string, n int) error {
	return &gatehouse.Error{Code: gatehouse.CodeTooLarge, Message: "Request Entity Too Large",
		Errors: []string{fmt.Sprintf("At most %d %s may be updated at a time, not %d", gatehouse.MaxBulkUpdate, kind, n)}}
}

// errorLines returns the lines of a 2001 error, joined, or its text.
func errorLines(err error) string {
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && len(e.Errors) > 0 {
		s := e.Errors[0]
		for _, l := range e.Errors[1:] {
			s += "; " + l
		}
		return s
	}
	return err.Error()
}
