package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// migrationLockID is the PostgreSQL advisory lock that serialises nodes
// migrating at the same time.
const migrationLockID = 0x6761746568 // "gateh"

// Migrate applies every pending migration. On PostgreSQL it holds an advisory
// lock, so several nodes may start at once.
func (s *Store) Migrate(ctx context.Context) error {
	var (
		dir     = "migrations/sqlite"
		dialect = goose.DialectSQLite3
		opts    []goose.ProviderOption
	)
	if s.dialect == dialectPostgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if s.dialect == dialectSQLite {
		unlock, err := s.lockDataDir(ctx)
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		defer unlock()
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	provider, err := goose.NewProvider(dialect, s.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
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
