package sqlstore

import (
	"context"
	"database/sql"
)

// Hooks into the store for its tests.

// MigrationLockID is the advisory lock Migrate takes on PostgreSQL.
const MigrationLockID = migrationLockID

// SetMaxAttempts bounds how often s runs a write transaction.
func SetMaxAttempts(s *Store, n int) { s.maxAttempts = n }

// WriteDB is the pool s writes with.
func WriteDB(s *Store) *sql.DB { return s.write }

// ExecInTx runs query in a write transaction of s, as a store method runs
// its statements, and returns the error the method would.
func ExecInTx(ctx context.Context, s *Store, query string, args ...any) error {
	return s.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(query, args...)
		return err
	})
}

// UniqueConstraintNames lists the PostgreSQL names of the unique
// constraints the store translates.
func UniqueConstraintNames() []string {
	var names []string
	for _, c := range uniqueConstraints {
		names = append(names, c.postgres)
	}
	return names
}

// ForeignKeyNames lists the PostgreSQL names of the foreign keys the store
// translates.
func ForeignKeyNames() []string {
	var names []string
	for name := range foreignKeyTargets {
		names = append(names, name)
	}
	return names
}
