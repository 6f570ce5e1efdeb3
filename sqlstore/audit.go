package sqlstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/gatehouse-dev/gatehouse"
)

const auditColumns = "id, account_id, at, actor_type, actor_id, actor_summary, action, target_type, target_id, details"

// Audit record pages hold defaultAuditLimit records unless asked otherwise,
// and at most maxAuditLimit.
const (
	defaultAuditLimit = 25
	maxAuditLimit     = 100
)

// recordAudit appends r to its account's audit trail, giving it an ID and
// the transaction's time.
func (tx *Tx) recordAudit(r *gatehouse.AuditRecord) error {
	r.ID, r.At = gatehouse.NewID(), tx.now
	_, err := tx.exec("INSERT INTO audit_records ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.AccountID, micros(r.At), r.Actor.Type, r.Actor.ID, r.Actor.Summary,
		r.Action, r.TargetType, r.TargetID, r.Details)
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

// AuditRecords returns a page of the account's audit trail, newest first,
// and the cursor of the next page, "" after the last. cursor is "" for the
// first page, else a nextCursor this method returned. limit is clamped to
// 1..100; 0 means 25. It returns a 2001 error for
// an invalid cursor.
func (s *Store) AuditRecords(ctx context.Context, accountID, cursor string, limit int) (records []*gatehouse.AuditRecord, nextCursor string, err error) {
	switch {
	case limit == 0:
		limit = defaultAuditLimit
	case limit < 1:
		limit = 1
	case limit > maxAuditLimit:
		limit = maxAuditLimit
	}
	q, args := "SELECT seq, "+auditColumns+" FROM audit_records WHERE account_id = ?", []any{accountID}
	if cursor != "" {
		before, err := parseAuditCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q, args = q+" AND seq < ?", append(args, before)
	}
	// One more than asked for tells whether there is a next page.
	type row struct {
		seq    int64
		record *gatehouse.AuditRecord
	}
	rows, err := list(ctx, s, "list audit records", func(sc scanner) (row, error) {
		var r gatehouse.AuditRecord
		var seq, at int64
		err := sc.Scan(&seq, &r.ID, &r.AccountID, &at, &r.Actor.Type, &r.Actor.ID, &r.Actor.Summary,
			&r.Action, &r.TargetType, &r.TargetID, &r.Details)
		r.At = fromMicros(at)
		return row{seq, &r}, err
	}, q+" ORDER BY seq DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, "", err
	}
	for i, r := range rows {
		if i == limit {
			nextCursor = auditCursor(rows[i-1].seq)
			break
		}
		records = append(records, r.record)
	}
	return records, nextCursor, nil
}

// auditCursor is the cursor of the page after the record at seq: opaque to
// clients, who must not build it.
func auditCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

func parseAuditCursor(cursor string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, gatehouse.InvalidInput("Invalid cursor")
	}
	seq, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || seq <= 0 || auditCursor(seq) != cursor {
		return 0, gatehouse.InvalidInput("Invalid cursor")
	}
	return seq, nil
}
