package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

const auditColumns = "id, account_id, at, request_id, remote_address, actor_type, actor_id, actor_summary, " +
	"method_type, method_truncated_token, method_description, root_type, root_id, root_summary, action, fields, refs"

// Audit record pages hold defaultAuditLimit records unless asked otherwise,
// and at most maxAuditLimit.
const (
	defaultAuditLimit = 25
	maxAuditLimit     = 100
)

// recordAudit appends r to its account's audit trail, giving it an ID and
// the transaction's time.
func (tx *Tx) recordAudit(r *gatehouse.AuditRecord) error {
	r.ID, r.ExecutionTime = gatehouse.NewID(), tx.now
	fields, err := json.Marshal(nonNil(r.Fields))
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	refs, err := json.Marshal(nonNil(r.References))
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	_, err = tx.exec("INSERT INTO audit_records ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, r.AccountID, micros(r.ExecutionTime), r.RequestID, r.RemoteAddress,
		r.Actor.Type, r.Actor.ID, r.Actor.Summary,
		r.Method.Type, r.Method.TruncatedToken, r.Method.Description,
		r.RootResource.Type, r.RootResource.ID, r.RootResource.Summary,
		r.Action, string(fields), string(refs))
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// AuditQuery selects a page of audit records. Every field is optional.
type AuditQuery struct {
	// Cursor is "" for the first page, else a next cursor AuditRecords
	// returned.
	Cursor string
	// Limit is clamped to 1..100; 0 means 25.
	Limit int
	// Since and Until bound the records' execution time: Since <= t < Until.
	Since, Until time.Time
	// RootType and RootID select the records of one object, such as
	// "user_reference" and a user's ID.
	RootType, RootID string
	// RootTypes select records whose root resource has one of these types.
	RootTypes []string
	// Actions select records with one of these actions.
	Actions []string
	// ActorType and ActorID select the records of one actor.
	ActorType, ActorID string
	// MethodType and TruncatedToken select records by how they were made.
	MethodType, TruncatedToken string
}

// AuditRecords returns a page of the account's audit trail, newest first,
// and the cursor of the next page, "" after the last. It returns a 2001
// error for an invalid cursor.
func (s *Store) AuditRecords(ctx context.Context, accountID string, q AuditQuery) (records []*gatehouse.AuditRecord, nextCursor string, err error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = defaultAuditLimit
	case limit < 1:
		limit = 1
	case limit > maxAuditLimit:
		limit = maxAuditLimit
	}
	where, args := []string{"account_id = ?"}, []any{accountID}
	add := func(cond string, arg any) {
		where, args = append(where, cond), append(args, arg)
	}
	if q.Cursor != "" {
		before, err := parseAuditCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		add("seq < ?", before)
	}
	if !q.Since.IsZero() {
		add("at >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("at < ?", micros(q.Until))
	}
	if q.RootType != "" {
		add("root_type = ?", q.RootType)
		add("root_id = ?", q.RootID)
	}
	for column, values := range map[string][]string{"root_type": q.RootTypes, "action": q.Actions} {
		if len(values) > 0 {
			where = append(where, column+" IN ("+placeholders(len(values))+")")
			for _, v := range values {
				args = append(args, v)
			}
		}
	}
	for column, value := range map[string]string{"actor_type": q.ActorType, "actor_id": q.ActorID, "method_type": q.MethodType, "method_truncated_token": q.TruncatedToken} {
		if value != "" {
			add(column+" = ?", value)
		}
	}
	// One more than asked for tells whether there is a next page.
	type row struct {
		seq    int64
		record *gatehouse.AuditRecord
	}
	rows, err := list(ctx, s, "list audit records", func(sc scanner) (row, error) {
		r, seq, err := scanAudit(sc)
		return row{seq, r}, err
	}, "SELECT seq, "+auditColumns+" FROM audit_records WHERE "+strings.Join(where, " AND ")+" ORDER BY seq DESC LIMIT ?", append(args, limit+1)...)
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

func scanAudit(row scanner) (*gatehouse.AuditRecord, int64, error) {
	var (
		r            gatehouse.AuditRecord
		seq, at      int64
		fields, refs string
	)
	err := row.Scan(&seq, &r.ID, &r.AccountID, &at, &r.RequestID, &r.RemoteAddress,
		&r.Actor.Type, &r.Actor.ID, &r.Actor.Summary,
		&r.Method.Type, &r.Method.TruncatedToken, &r.Method.Description,
		&r.RootResource.Type, &r.RootResource.ID, &r.RootResource.Summary,
		&r.Action, &fields, &refs)
	if err != nil {
		return nil, 0, err
	}
	r.ExecutionTime = fromMicros(at)
	if err := json.Unmarshal([]byte(fields), &r.Fields); err != nil {
		return nil, 0, fmt.Errorf("audit record %s fields: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(refs), &r.References); err != nil {
		return nil, 0, fmt.Errorf("audit record %s references: %w", r.ID, err)
	}
	if len(r.Fields) == 0 {
		r.Fields = nil
	}
	if len(r.References) == 0 {
		r.References = nil
	}
	return &r, seq, nil
}

// placeholders returns n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
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
