package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

const changeEventColumns = "id, account_id, service_id, integration_id, summary, source, occurred_at, details, event_seq, created_at"

// changeEventDetails is what the change_events table keeps as JSON.
type changeEventDetails struct {
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
	Links         []jsonLink      `json:"links,omitempty"`
	Images        []jsonImage     `json:"images,omitempty"`
}

func (tx *Tx) insertChangeEvent(c *gatehouse.ChangeEvent) error {
	b, err := json.Marshal(&changeEventDetails{CustomDetails: c.CustomDetails, Links: linksToJSON(c.Links), Images: imagesToJSON(c.Images)})
	if err != nil {
		return fmt.Errorf("record change event: %w", err)
	}
	_, err = tx.exec("INSERT INTO change_events ("+changeEventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.ServiceID, c.IntegrationID, c.Summary, c.Source, micros(c.Timestamp), string(b), c.EventSeq, micros(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("record change event: %w", err)
	}
	return nil
}

func scanChangeEvent(row scanner) (*gatehouse.ChangeEvent, error) {
	var c gatehouse.ChangeEvent
	var occurred, created int64
	var details []byte
	if err := row.Scan(&c.ID, &c.AccountID, &c.ServiceID, &c.IntegrationID, &c.Summary, &c.Source, &occurred, &details,
		&c.EventSeq, &created); err != nil {
		return nil, err
	}
	c.Timestamp, c.CreatedAt = fromMicros(occurred), fromMicros(created)
	var d changeEventDetails
	if err := json.Unmarshal(details, &d); err != nil {
		return nil, fmt.Errorf("change event %s: %w", c.ID, err)
	}
	c.CustomDetails, c.Links, c.Images = d.CustomDetails, linksFromJSON(d.Links), imagesFromJSON(d.Images)
	return &c, nil
}

// ChangeEventQuery selects a page of change events. Empty lists and zero
// times select all.
type ChangeEventQuery struct {
	ServiceIDs     []string
	IntegrationIDs []string
	// TeamIDs keeps the change events of services whose escalation policy
	// belongs to one of these teams.
	TeamIDs []string
	// Since and Until bound when the changes happened: from Since, before
	// Until.
	Since, Until time.Time
	Page         Page
}

// changeEventFilter is the account's change events as the scope's actor
// sees them: Restricted Access users see those of their teams' services.
func (sc *Scope) changeEventFilter() *filter {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	if userID, limited := sc.teamLimited(); limited {
		f.add("service_id IN (SELECT s.id FROM services s JOIN escalation_policy_teams pt ON pt.policy_id = s.escalation_policy_id "+
			"JOIN team_members m ON m.team_id = pt.team_id WHERE m.user_id = ?)", userID)
	}
	return f
}

// ChangeEvents returns a page of the account's change events, newest
// first.
func (sc *Scope) ChangeEvents(ctx context.Context, q ChangeEventQuery) (List[*gatehouse.ChangeEvent], error) {
	f := sc.changeEventFilter()
	f.in("service_id", q.ServiceIDs)
	f.in("integration_id", q.IntegrationIDs)
	if len(q.TeamIDs) > 0 {
		f.add("service_id IN (SELECT s.id FROM services s JOIN escalation_policy_teams pt ON pt.policy_id = s.escalation_policy_id "+
			"WHERE pt.team_id IN ("+placeholders(len(q.TeamIDs))+"))", anys(q.TeamIDs)...)
	}
	if !q.Since.IsZero() {
		f.add("occurred_at >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		f.add("occurred_at < ?", micros(q.Until))
	}
	return listPage(ctx, sc.store, "list change events", changeEventColumns, "change_events", f, "occurred_at DESC, seq DESC", q.Page, scanChangeEvent)
}

// ChangeEvent returns the change event with that ID, or a 2100 error.
func (sc *Scope) ChangeEvent(ctx context.Context, id string) (*gatehouse.ChangeEvent, error) {
	f := sc.changeEventFilter()
	f.add("id = ?", id)
	return get(ctx, sc.store, "find change event", "Change event "+id, scanChangeEvent, "SELECT "+changeEventColumns+" FROM change_events"+f.where(), f.args...)
}
