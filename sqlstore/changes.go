package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// changeFeedLockID serialises writers of the change feed on PostgreSQL, so
// that change IDs become visible in the order they were given and a reader
// that remembers the last ID it saw never skips one.
const changeFeedLockID = 0x6761746569

// recordChange records a change in the feed, in the transaction that makes
// it, and tells this process's listeners once the transaction commits.
func (tx *Tx) recordChange(accountID string, kind gatehouse.ChangeKind, subjectID string) error {
	return tx.recordCredentialChange(accountID, kind, subjectID, [32]byte{})
}

// recordCredentialChange is recordChange for a change of a credential, which
// carries the credential's hash.
func (tx *Tx) recordCredentialChange(accountID string, kind gatehouse.ChangeKind, subjectID string, hash [32]byte) error {
	if tx.store.dialect == dialectPostgres {
		if _, err := tx.exec("SELECT pg_advisory_xact_lock(?)", int64(changeFeedLockID)); err != nil {
			return fmt.Errorf("lock change feed: %w", err)
		}
	}
	var hashArg []byte
	if hash != ([32]byte{}) {
		hashArg = hash[:]
	}
	// The database's clock stamps the row, as it is the clock that prunes
	// the feed: a node whose clock is off can neither have its changes
	// pruned early nor prune others' early.
	ch := gatehouse.Change{AccountID: accountID, Kind: kind, SubjectID: subjectID, Hash: hash}
	var at int64
	err := tx.queryRow("INSERT INTO changes (account_id, kind, subject_id, hash, created_at) VALUES (?, ?, ?, ?, "+tx.store.nowMicros()+") RETURNING id, created_at",
		accountID, string(kind), subjectID, hashArg).Scan(&ch.ID, &at)
	if err != nil {
		return fmt.Errorf("record change: %w", err)
	}
	ch.At = fromMicros(at)
	tx.changes = append(tx.changes, ch)
	return nil
}

// nowMicros is the SQL for the database's current time in microseconds
// since the Unix epoch.
func (s *Store) nowMicros() string {
	if s.dialect == dialectPostgres {
		return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
	}
	return "CAST(unixepoch('subsec') * 1000000 AS INTEGER)"
}

// ChangesAfter returns up to limit changes whose ID is greater than afterID,
// oldest first.
func (s *Store) ChangesAfter(ctx context.Context, afterID int64, limit int) ([]gatehouse.Change, error) {
	return list(ctx, s, "list changes", scanChange,
		"SELECT id, account_id, kind, subject_id, hash, created_at FROM changes WHERE id > ? ORDER BY id LIMIT ?", afterID, limit)
}

func scanChange(row scanner) (gatehouse.Change, error) {
	var (
		c    gatehouse.Change
		hash []byte
		at   int64
	)
	if err := row.Scan(&c.ID, &c.AccountID, &c.Kind, &c.SubjectID, &hash, &at); err != nil {
		return c, err
	}
	switch len(hash) {
	case 0:
	case len(c.Hash):
		copy(c.Hash[:], hash)
	default:
		return c, fmt.Errorf("change %d: hash has %d bytes", c.ID, len(hash))
	}
	c.At = fromMicros(at)
	return c, nil
}

// LastChangeID returns the ID of the newest change, or 0 if there is none.
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	var id int64
	err := s.view(ctx, "last change", func(ctx context.Context) error {
		return s.queryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM changes").Scan(&id)
	})
	return id, err
}

// OldestChange returns the ID of the oldest change still kept (0 when none
// is) and the database's current time. A reader of the feed calls it after
// reading: if the oldest change kept is newer than the one after the last it
// read, it may have missed changes that were pruned.
func (s *Store) OldestChange(ctx context.Context) (id int64, now time.Time, err error) {
	var (
		oldest sql.NullInt64
		us     int64
	)
	err = s.view(ctx, "oldest change", func(ctx context.Context) error {
		return s.queryRow(ctx, "SELECT (SELECT MIN(id) FROM changes), "+s.nowMicros()).Scan(&oldest, &us)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return oldest.Int64, fromMicros(us), nil
}

// PruneChanges deletes the changes recorded more than age ago by the
// database's clock, and returns how many it deleted. Servers read the feed
// every fraction of a second, so a day's worth is far more than any of them
// needs.
//
// It runs as a statement of its own, not in a serializable transaction: the
// rows it deletes are a day old, and no writer could conflict with it.
func (s *Store) PruneChanges(ctx context.Context, age time.Duration) (int64, error) {
	callCtx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	var n int64
	res, err := s.write.ExecContext(callCtx, s.rebind("DELETE FROM changes WHERE created_at < "+s.nowMicros()+" - ?"), age.Microseconds())
	if err == nil {
		n, err = res.RowsAffected()
	}
	return n, s.settle(ctx, callCtx, "prune changes", err)
}
