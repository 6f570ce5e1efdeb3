package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

const noteColumns = "n.id, n.account_id, n.incident_id, n.user_id, u.name, n.content, n.created_at"

const noteFrom = "incident_notes n LEFT JOIN users u ON u.id = n.user_id"

func scanNote(row scanner) (*gatehouse.IncidentNote, error) {
	var n gatehouse.IncidentNote
	var userID, userName sql.NullString
	var created int64
	if err := row.Scan(&n.ID, &n.AccountID, &n.IncidentID, &userID, &userName, &n.Content, &created); err != nil {
		return nil, err
	}
	if userID.Valid {
		n.User = gatehouse.Ref{Type: "user_reference", ID: userID.String, Summary: userName.String}
	}
	n.CreatedAt = fromMicros(created)
	return &n, nil
}

// IncidentNotes returns the notes of the incident with that ID or number,
// oldest first, or a 2100 error.
func (sc *Scope) IncidentNotes(ctx context.Context, incidentID string) ([]*gatehouse.IncidentNote, error) {
	var notes []*gatehouse.IncidentNote
	err := sc.store.view(ctx, "list notes", func(ctx context.Context) error {
		incID, err := sc.incidentID(ctx, incidentID)
		if err != nil {
			return err
		}
		rows, err := sc.store.query(ctx, "SELECT "+noteColumns+" FROM "+noteFrom+" WHERE n.incident_id = ? ORDER BY n.created_at, n.id", incID)
		if err != nil {
			return err
		}
		notes, err = scanAll(rows, scanNote)
		return err
	})
	return notes, err
}

// AddIncidentNote adds a note by the user by to the incident with that ID
// or number, with its annotate log entry, and returns it. It returns 2001
// errors for an empty or too long note and for an incident that has
// gatehouse.MaxIncidentNotes notes already, and 2100 for an incident the
// actor does not see.
func (sc *Scope) AddIncidentNote(ctx context.Context, incidentID string, by *gatehouse.User, content string) (*gatehouse.IncidentNote, error) {
	n := &gatehouse.IncidentNote{AccountID: sc.accountID, User: userActorRef(by), Content: content}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	err := sc.write(ctx, func(tx *Tx) error {
		inc, err := sc.lockIncident(tx, incidentID)
		if err != nil {
			return err
		}
		var count int
		if err := tx.queryRow("SELECT COUNT(*) FROM incident_notes WHERE incident_id = ?", inc.ID).Scan(&count); err != nil {
			return fmt.Errorf("count notes: %w", err)
		}
		if count >= gatehouse.MaxIncidentNotes {
			return gatehouse.InvalidInput(fmt.Sprintf("Incident %s has %d notes, the most an incident may have", incidentID, count))
		}
		n.ID, n.IncidentID, n.CreatedAt = gatehouse.NewID(), inc.ID, tx.now
		if _, err := tx.exec("INSERT INTO incident_notes (id, account_id, incident_id, user_id, content, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			n.ID, n.AccountID, n.IncidentID, by.ID, n.Content, micros(n.CreatedAt)); err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		return tx.addLogEntry(&gatehouse.LogEntry{
			AccountID: sc.accountID, IncidentID: inc.ID, ServiceID: inc.ServiceID, Type: gatehouse.LogAnnotate,
			Agent: n.User, Channel: gatehouse.Channel{Type: "note"}, Note: content,
		})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}
