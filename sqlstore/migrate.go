package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// migrationLockID is the PostgreSQL advisory lock that serialises nodes
// migrating at the same time.
const migrationLockID = 0x6761746568 // "gateh"

// migrateTimeout bounds Migrate, the wait for another node's migration
// included.
const migrateTimeout = 5 * time.Minute

// Migrate applies every pending migration. When none is pending it returns
// at once, without waiting for a lock. Otherwise it migrates holding a lock
// (an advisory lock on PostgreSQL, a file lock beside the SQLite database),
// so several nodes may start at once: the others wait, and find nothing left
// to do.
func (s *Store) Migrate(ctx context.Context) error {
	callCtx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	return s.settle(ctx, callCtx, "migrate", s.migrate(callCtx))
}

func (s *Store) migrate(ctx context.Context) error {
	var (
		dir     = "migrations/sqlite"
		dialect = goose.DialectSQLite3
		opts    []goose.ProviderOption
	)
	if s.dialect == dialectPostgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(advisoryLocker{}))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(dialect, s.write, fsys, opts...)
	if err != nil {
		return err
	}
	// HasPending takes no lock, so an up-to-date database is never kept
	// waiting for one. (Up asks it too, but after the file lock below.)
	pending, err := provider.HasPending(ctx)
	if err != nil || !pending {
		return err
	}
	if s.dialect == dialectSQLite {
		unlock, err := s.lockDataDir(ctx)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer unlock()
	}
	_, err = provider.Up(ctx)
	return err
}

// advisoryLocker is goose's lock on PostgreSQL: a session-level advisory
// lock, waited for on the server, so that a node waiting for another's
// migration goes on the moment it ends.
type advisoryLocker struct{}

// SessionLock waits for the lock until ctx's deadline, which the server
// enforces too (lock_timeout): a node that gives up leaves nothing waiting.
func (advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	timeout := migrateTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET lock_timeout = %d", timeout.Milliseconds())); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockID)); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "RESET lock_timeout"); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	return nil
}

// SessionUnlock releases the lock.
func (advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(migrationLockID)); err != nil {
		return fmt.Errorf("migration unlock: %w", err)
	}
	return nil
}

// lockDataDir serialises the processes that open or migrate the SQLite
// database in the data folder.
func (s *Store) lockDataDir(ctx context.Context) (unlock func(), err error) {
	return lockFile(ctx, filepath.Join(s.dataDir, "gatehouse.db.lock"))
}

// lockFile takes an exclusive lock on the file at path, waiting for other
// processes (a server and the CLI starting at once on a new data folder) to
// release it, and returns its release.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
