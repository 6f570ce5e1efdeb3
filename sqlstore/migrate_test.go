package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// holdMigrationLock takes the advisory lock Migrate takes, on a connection
// of its own, as another node migrating would, and returns its release.
func holdMigrationLock(t *testing.T, db *sql.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(sqlstore.MigrationLockID)); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(sqlstore.MigrationLockID)); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
	t.Cleanup(release)
	return release
}

// TestMigrateUpToDateTakesNoLock: with nothing to migrate, Migrate returns
// without waiting for the lock that another node holds.
func TestMigrateUpToDateTakesNoLock(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, storetest.Config(t, "postgres"))
	holdMigrationLock(t, sqlstore.WriteDB(s))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate with nothing pending while another node holds the lock: %v", err)
	}
}

// TestMigrateWaitsForAnotherNode: a node with migrations to apply waits for
// the node that holds the lock, then finds its work done or does it; a node
// that gives up waiting leaves no session waiting on the server.
func TestMigrateWaitsForAnotherNode(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, "postgres")
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdMigrationLock(t, sqlstore.WriteDB(s))

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	start := time.Now()
	err = s.Migrate(short)
	cancel()
	if gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable {
		t.Errorf("Migrate that cannot get the lock in time = %v, want code %d", err, gatehouse.CodeUnavailable)
	}
	// The server gave up waiting too (lock_timeout).
	for waiting := 1; waiting > 0; {
		err := sqlstore.WriteDB(s).QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 && time.Since(start) > 5*time.Second {
			t.Fatalf("%d sessions still wait for the lock 5s after Migrate gave up", waiting)
		}
		time.Sleep(20 * time.Millisecond)
	}

	done := make(chan error, 1)
	go func() { done <- s.Migrate(ctx) }()
	waitForLockWait(t, sqlstore.WriteDB(s))
	release()
	if err := <-done; err != nil {
		t.Fatalf("Migrate after the other node let go: %v", err)
	}
	if _, err := s.Accounts(ctx); err != nil {
		t.Errorf("Accounts after migrating: %v", err)
	}
}

// TestSQLiteFilesPrivate: the database and the files beside it are the
// owner's alone, whatever the umask, in a folder that already exists; a
// database made by an older version is narrowed when opened.
func TestSQLiteFilesPrivate(t *testing.T) {
	// Not parallel: the umask belongs to the whole process.
	defer syscall.Umask(syscall.Umask(0))
	dir := t.TempDir()
	s := storetest.Open(t, sqlstore.Config{DataDir: dir})
	storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	wantPrivate := func(when string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.Name())
			if perm := info.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has permissions %v, want -rw-------", when, e.Name(), perm)
			}
		}
		if len(names) != 4 {
			t.Errorf("%s: files %v, want the database, its WAL, shared memory and lock", when, names)
		}
	}
	wantPrivate("new database")

	for _, name := range []string{"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again := storetest.Open(t, sqlstore.Config{DataDir: dir})
	if _, err := again.Accounts(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantPrivate("database opened again")
}
