package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

// ChangeEventQuery selects a page of change events. An empty list selects
// all.
type ChangeEventQuery struct {
	ServiceIDs []string
	Page       Page
}

// ChangeEvents returns a page of the account's change events, newest
// first.
func (sc *Scope) ChangeEvents(ctx context.Context, q ChangeEventQuery) (List[*gatehouse.ChangeEvent], error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.in("service_id", q.ServiceIDs)
	list, err := listPage(ctx, sc.store, changeEventColumns, "change_events", f, "occurred_at DESC, seq DESC", q.Page, scanChangeEvent)
	if err != nil {
		return list, fmt.Errorf("list change events: %w", err)
	}
	return list, nil
}

// ChangeEvent returns the change event with that ID, or a 2100 error.
func (sc *Scope) ChangeEvent(ctx context.Context, id string) (*gatehouse.ChangeEvent, error) {
	c, err := scanChangeEvent(sc.store.queryRow(ctx, "SELECT "+changeEventColumns+" FROM change_events WHERE account_id = ? AND id = ?", sc.accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Change event " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find change event: %w", err)
	}
	return c, nil
}
