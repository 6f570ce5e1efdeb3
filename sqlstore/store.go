// Package sqlstore keeps Gatehouse's data in SQLite (the default, embedded) or
// PostgreSQL (for several nodes), through database/sql with one code path and
// a small dialect shim.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-dev/gatehouse"
)

// Config says where the database is.
type Config struct {
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or
	// postgresql://. When empty, SQLite is used.
	DatabaseURL string
	// DataDir holds the SQLite file gatehouse.db; it is created if missing.
	DataDir string
}

// Store is Gatehouse's database. It is safe for concurrent use.
type Store struct {
	dialect dialect
	// write is the only pool that writes: on SQLite one connection, so writers
	// queue in Go instead of spinning on SQLITE_BUSY.
	write *sql.DB
	// read serves queries; on PostgreSQL it is the same pool as write.
	read *sql.DB
	// Now is the clock; one timestamp is taken per transaction.
	Now func() time.Time
	// dataDir holds the SQLite file; empty on PostgreSQL.
	dataDir string
	// onChange holds the functions told of each change this process commits.
	onChangeMu sync.RWMutex
	onChange   []func(gatehouse.Change)
}

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// IsPostgresURL reports whether u names a PostgreSQL database.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// Open connects to the database cfg names. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{Now: time.Now}
	switch {
	case IsPostgresURL(cfg.DatabaseURL):
		db, err := sql.Open("pgx", cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.dialect, s.write, s.read = dialectPostgres, db, db
	case cfg.DatabaseURL != "":
		return nil, fmt.Errorf("database URL must start with postgres:// or postgresql://, or be empty for SQLite")
	default:
		if cfg.DataDir == "" {
			return nil, errors.New("data directory is empty")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "gatehouse.db")
		write, err := sql.Open("sqlite", sqliteDSN(path, false))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		write.SetMaxOpenConns(1)
		read, err := sql.Open("sqlite", sqliteDSN(path, true))
		if err != nil {
			write.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		read.SetMaxOpenConns(8)
		read.SetMaxIdleConns(8)
		s.dialect, s.write, s.read, s.dataDir = dialectSQLite, write, read, cfg.DataDir
		// The first connection to a new file turns it to WAL, which can fail
		// with SQLITE_BUSY, busy timeout or not, while another process does
		// the same: processes take turns.
		unlock, err := s.lockDataDir(ctx)
		if err != nil {
			s.Close()
			return nil, err
		}
		defer unlock()
		if _, err := s.write.ExecContext(ctx, "SELECT 1"); err != nil {
			s.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// BEGIN IMMEDIATE takes the write lock at once, so a transaction never
		// fails half-way when another process (the CLI) writes too.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// rebind turns the ? placeholders of query into PostgreSQL's $1, $2, ….
func (s *Store) rebind(query string) string {
	if s.dialect != dialectPostgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// byteOrder makes column sort by its bytes, as SQLite does, whatever the
// collation of the PostgreSQL database, so lists come in one order on both.
func (s *Store) byteOrder(column string) string {
	if s.dialect == dialectPostgres {
		return column + ` COLLATE "C"`
	}
	return column
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.read.QueryContext(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.rebind(query), args...)
}

// Tx is a write transaction with the one timestamp it stands at.
type Tx struct {
	store *Store
	tx    *sql.Tx
	ctx   context.Context
	now   time.Time
	// changes are those the transaction recorded, told after it commits.
	changes []gatehouse.Change
}

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, tx.store.rebind(query), args...)
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(tx.ctx, tx.store.rebind(query), args...)
}

func (tx *Tx) query(query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(tx.ctx, tx.store.rebind(query), args...)
}

// maxTxAttempts bounds how often a transaction is retried after a unique
// violation that its own checks did not foresee: a random ID that collided, or
// a concurrent writer on PostgreSQL. The retry re-runs those checks.
const maxTxAttempts = 4

// inTx runs fn in a write transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for range maxTxAttempts {
		err = s.tryTx(ctx, fn)
		if !isUniqueViolation(err) {
			return err
		}
	}
	return gatehouse.Errorf(gatehouse.CodeInvalidInput, "conflicting write, try again")
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{store: s, tx: sqlTx, ctx: ctx, now: s.Now().UTC().Truncate(time.Microsecond)}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if len(tx.changes) > 0 {
		s.onChangeMu.RLock()
		for _, fn := range s.onChange {
			for _, ch := range tx.changes {
				fn(ch)
			}
		}
		s.onChangeMu.RUnlock()
	}
	return nil
}

// OnChange registers fn to be told of every change this process commits,
// after the commit and before the call that made it returns, so that the
// process's own caches never serve what it just changed. Changes made by
// other processes are found by reading the feed (ChangesAfter).
func (s *Store) OnChange(fn func(gatehouse.Change)) {
	s.onChangeMu.Lock()
	defer s.onChangeMu.Unlock()
	s.onChange = append(s.onChange, fn)
}

func isUniqueViolation(err error) bool {
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return e.Code == "23505"
	}
	return false
}

// micros and fromMicros store times as microseconds since the Unix epoch, the
// same on both engines.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}
