package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// eventLogLockID serialises the writers of the event log on PostgreSQL, so
// that seqs become visible in the order they were given and the applier,
// which reads after the last seq it applied, never skips one.
const eventLogLockID = 0x676174656a

// eventRouteQuery finds the integration of a routing key and whether its
// service is disabled.
const eventRouteQuery = "SELECT i.account_id, i.service_id, i.id, i.type, s.status = 'disabled' FROM integrations i JOIN services s ON s.id = i.service_id " +
	"WHERE i.integration_key = ?"

// EventRoute returns where the routing key leads: the integration whose
// integration key it is, and whether its service is disabled. It returns a
// 2100 error when no integration has the key.
func (s *Store) EventRoute(ctx context.Context, routingKey string) (*gatehouse.EventRoute, error) {
	return get(ctx, s, "find routing key", "Routing key", scanEventRoute, eventRouteQuery, routingKey)
}

func scanEventRoute(row scanner) (*gatehouse.EventRoute, error) {
	var r gatehouse.EventRoute
	if err := row.Scan(&r.AccountID, &r.ServiceID, &r.IntegrationID, &r.IntegrationType, &r.ServiceDisabled); err != nil {
		return nil, err
	}
	return &r, nil
}

// maxEventRows is how many events one INSERT statement carries: below
// SQLite's and PostgreSQL's limits on bound parameters.
const maxEventRows = 500

// AppendEvents commits events to the event log, in order, in one
// transaction: the group-commit writer's batch. Once it returns nil every
// event is durable. On PostgreSQL it holds the event log's lock until the
// commit, so that seqs become visible in order.
func (s *Store) AppendEvents(ctx context.Context, events []*gatehouse.Event) error {
	if len(events) == 0 {
		return nil
	}
	bodies := make([][]byte, len(events))
	for i, e := range events {
		b, err := encodeEventBody(e)
		if err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		bodies[i] = b
	}
	return s.inTx(ctx, func(tx *Tx) error {
		if s.dialect == dialectPostgres {
			if _, err := tx.exec("SELECT pg_advisory_xact_lock(?)", int64(eventLogLockID)); err != nil {
				return fmt.Errorf("lock event log: %w", err)
			}
		}
		for start := 0; start < len(events); start += maxEventRows {
			end := min(start+maxEventRows, len(events))
			var q strings.Builder
			q.WriteString("INSERT INTO events (account_id, service_id, integration_id, kind, api, action, dedup_key, received_at, body) VALUES ")
			args := make([]any, 0, 9*(end-start))
			for i := start; i < end; i++ {
				if i > start {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
				e := events[i]
				args = append(args, e.AccountID, e.ServiceID, e.IntegrationID, string(e.Kind), e.API, string(e.Action),
					e.DedupKey, micros(e.ReceivedAt), string(bodies[i]))
			}
			if _, err := tx.exec(q.String(), args...); err != nil {
				return fmt.Errorf("append events: %w", err)
			}
		}
		return nil
	})
}

// eventBody is the part of an event the event log keeps as JSON.
type eventBody struct {
	Summary       string          `json:"summary,omitempty"`
	Source        string          `json:"source,omitempty"`
	Severity      string          `json:"severity,omitempty"`
	Component     string          `json:"component,omitempty"`
	Group         string          `json:"group,omitempty"`
	Class         string          `json:"class,omitempty"`
	Timestamp     *time.Time      `json:"timestamp,omitempty"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
	Client        string          `json:"client,omitempty"`
	ClientURL     string          `json:"client_url,omitempty"`
	Links         []jsonLink      `json:"links,omitempty"`
	Images        []jsonImage     `json:"images,omitempty"`
}

type jsonLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

type jsonImage struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

func encodeEventBody(e *gatehouse.Event) ([]byte, error) {
	b := eventBody{
		Summary: e.Summary, Source: e.Source, Severity: string(e.Severity),
		Component: e.Component, Group: e.Group, Class: e.Class,
		CustomDetails: e.CustomDetails, Client: e.Client, ClientURL: e.ClientURL,
		Links: linksToJSON(e.Links), Images: imagesToJSON(e.Images),
	}
	if !e.Timestamp.IsZero() {
		b.Timestamp = &e.Timestamp
	}
	return json.Marshal(&b)
}

func decodeEventBody(data []byte, e *gatehouse.Event) error {
	var b eventBody
	if err := json.Unmarshal(data, &b); err != nil {
		return err
	}
	e.Summary, e.Source, e.Severity = b.Summary, b.Source, gatehouse.Severity(b.Severity)
	e.Component, e.Group, e.Class = b.Component, b.Group, b.Class
	e.CustomDetails, e.Client, e.ClientURL = b.CustomDetails, b.Client, b.ClientURL
	e.Links, e.Images = linksFromJSON(b.Links), imagesFromJSON(b.Images)
	if b.Timestamp != nil {
		e.Timestamp = b.Timestamp.UTC()
	}
	return nil
}

func linksToJSON(links []gatehouse.Link) []jsonLink {
	if len(links) == 0 {
		return nil
	}
	out := make([]jsonLink, len(links))
	for i, l := range links {
		out[i] = jsonLink{Href: l.Href, Text: l.Text}
	}
	return out
}

func linksFromJSON(links []jsonLink) []gatehouse.Link {
	if len(links) == 0 {
		return nil
	}
	out := make([]gatehouse.Link, len(links))
	for i, l := range links {
		out[i] = gatehouse.Link{Href: l.Href, Text: l.Text}
	}
	return out
}

func imagesToJSON(images []gatehouse.Image) []jsonImage {
	if len(images) == 0 {
		return nil
	}
	out := make([]jsonImage, len(images))
	for i, img := range images {
		out[i] = jsonImage{Src: img.Src, Href: img.Href, Alt: img.Alt}
	}
	return out
}

func imagesFromJSON(images []jsonImage) []gatehouse.Image {
	if len(images) == 0 {
		return nil
	}
	out := make([]gatehouse.Image, len(images))
	for i, img := range images {
		out[i] = gatehouse.Image{Src: img.Src, Href: img.Href, Alt: img.Alt}
	}
	return out
}

// eventsAfter returns up to limit events of the log after seq, in order,
// without their bodies: most events of a busy log only add to an open
// alert, which their columns say enough to decide (see eventBody).
func (tx *Tx) eventsAfter(seq int64, limit int) ([]*gatehouse.Event, error) {
	rows, err := tx.query("SELECT seq, account_id, service_id, integration_id, kind, api, action, dedup_key, received_at "+
		"FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	events, err := scanAll(rows, func(row scanner) (*gatehouse.Event, error) {
		var e gatehouse.Event
		var kind, action string
		var received int64
		if err := row.Scan(&e.Seq, &e.AccountID, &e.ServiceID, &e.IntegrationID, &kind, &e.API, &action, &e.DedupKey, &received); err != nil {
			return nil, err
		}
		e.Kind, e.Action, e.ReceivedAt = gatehouse.EventKind(kind), gatehouse.EventAction(action), fromMicros(received)
		return &e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	return events, nil
}

// eventBody fills e with the rest of what its event said. It reports false
// for a body it cannot read, which only a bug could have written.
func (tx *Tx) eventBody(e *gatehouse.Event) (bool, error) {
	var body []byte
	if err := tx.queryRow("SELECT body FROM events WHERE seq = ?", e.Seq).Scan(&body); err != nil {
		return false, fmt.Errorf("read event %d: %w", e.Seq, err)
	}
	return decodeEventBody(body, e) == nil, nil
}

// EventLogStats says how much of the event log is applied.
type EventLogStats struct {
	// Last is the seq of the newest event, Applied that of the last event
	// applied; Pending is the difference.
	Last, Applied int64
}

// Pending is how many events wait to be applied.
func (st EventLogStats) Pending() int64 { return st.Last - st.Applied }

// EventLog returns how much of the event log is applied.
func (s *Store) EventLog(ctx context.Context) (EventLogStats, error) {
	var st EventLogStats
	err := s.view(ctx, "event log", func(ctx context.Context) error {
		return s.queryRow(ctx, "SELECT COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT seq FROM event_cursor WHERE name = 'events')").
			Scan(&st.Last, &st.Applied)
	})
	return st, err
}

// EventsPending returns how many events of the log wait to be applied.
func (s *Store) EventsPending(ctx context.Context) (int64, error) {
	st, err := s.EventLog(ctx)
	return st.Pending(), err
}

// PruneEvents deletes up to limit of the oldest events of the log that are
// applied and were received before cutoff, and returns how many it deleted:
// once applied, an event lives on in what it made. Each call is one short
// transaction, so that the writer never waits long; call it again while it
// deletes limit.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec("DELETE FROM events WHERE seq IN (SELECT seq FROM events "+
			"WHERE seq <= (SELECT seq FROM event_cursor WHERE name = 'events') ORDER BY seq LIMIT ?) AND received_at < ?",
			limit, micros(cutoff))
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
