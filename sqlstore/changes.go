package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// changeFeedLockID serialises writers of the change feed on PostgreSQL, so
// that change IDs become visible in the order they were given and a reader
// that remembers the last ID it saw never skips one.
const changeFeedLockID = 0x6761746569

func (tx *Tx) recordChange(accountID string, kind gatehouse.ChangeKind, subjectID string) error {
	if tx.store.dialect == dialectPostgres {
		if _, err := tx.exec("SELECT pg_advisory_xact_lock(?)", int64(changeFeedLockID)); err != nil {
			return fmt.Errorf("lock change feed: %w", err)
		}
	}
	_, err := tx.exec("INSERT INTO changes (account_id, kind, subject_id, created_at) VALUES (?, ?, ?, ?)",
		accountID, string(kind), subjectID, micros(tx.now))
	if err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	tx.changes = append(tx.changes, gatehouse.Change{AccountID: accountID, Kind: kind, SubjectID: subjectID, At: tx.now})
	return nil
}

// ChangesAfter returns up to limit changes whose ID is greater than afterID,
// oldest first.
func (s *Store) ChangesAfter(ctx context.Context, afterID int64, limit int) ([]gatehouse.Change, error) {
	return list(ctx, s, "list changes", func(row scanner) (gatehouse.Change, error) {
		var c gatehouse.Change
		var at int64
		err := row.Scan(&c.ID, &c.AccountID, &c.Kind, &c.SubjectID, &at)
		c.At = fromMicros(at)
		return c, err
	}, "SELECT id, account_id, kind, subject_id, created_at FROM changes WHERE id > ? ORDER BY id LIMIT ?", afterID, limit)
}

// LastChangeID returns the ID of the newest change, or 0 if there is none.
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	return get(ctx, s, "last change", "Change", func(row scanner) (id int64, err error) {
		return id, row.Scan(&id)
	}, "SELECT COALESCE(MAX(id), 0) FROM changes")
}

// PruneChanges deletes the changes recorded before cutoff and returns how
// many it deleted. Servers read the feed every fraction of a second, so a
// day's worth is far more than any of them needs.
func (s *Store) PruneChanges(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.exec("DELETE FROM changes WHERE created_at < ?", micros(cutoff))
		if err != nil {
			return fmt.Errorf("prune changes: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
