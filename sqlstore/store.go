// Package sqlstore keeps Gatehouse's data in SQLite (the default, embedded) or
// PostgreSQL (for several nodes), through database/sql. Both engines run the
// same queries; a small dialect shim gives PostgreSQL its placeholders, its
// serializable write transactions and its locks, so that a read-check-write
// behaves there as on SQLite's single writer.
//
// Every call runs under a deadline, and its errors carry codes, never a
// driver's words (see settle). Besides the codes each method names, any call
// may fail with 2901 (gatehouse.CodeUnavailable) when the database does not
// answer before the deadline (the store's, or the caller's if earlier) or
// cannot be reached, and a write with 2900 (gatehouse.CodeConflict) when it
// still loses to concurrent writers after its retries. A call whose caller
// hung up (its context canceled) returns an error for which
// errors.Is(err, context.Canceled). Anything else is an internal error.
package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/fault"
)

// Default deadlines of store calls; a caller's earlier deadline wins.
const (
	// DefaultReadTimeout bounds a read.
	DefaultReadTimeout = 2 * time.Second
	// DefaultWriteTimeout bounds a write transaction, its retries included.
	DefaultWriteTimeout = 5 * time.Second
)

// Config says where the database is and how long calls may take.
type Config struct {
	// DatabaseURL selects PostgreSQL when it starts with postgres:// or
	// postgresql://. When empty, SQLite is used.
	DatabaseURL string
	// DataDir holds the SQLite file gatehouse.db; it is created if missing.
	DataDir string
	// Logger receives one line when the database starts failing and one
	// when it recovers; nothing is logged when nil.
	Logger *slog.Logger
	// ReadTimeout bounds each read; DefaultReadTimeout when zero.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write transaction, its retries included;
	// DefaultWriteTimeout when zero.
	WriteTimeout time.Duration
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

	readTimeout, writeTimeout time.Duration
	// maxAttempts bounds how often a write transaction runs.
	maxAttempts int
	// health logs a fault of the database once when it starts and once when
	// it ends.
	health *fault.Tracker
	counts counters

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
// It returns a 2901 error when the database does not answer in time.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		Now:          time.Now,
		readTimeout:  cmp.Or(cfg.ReadTimeout, DefaultReadTimeout),
		writeTimeout: cmp.Or(cfg.WriteTimeout, DefaultWriteTimeout),
		maxAttempts:  defaultMaxAttempts,
		health:       &fault.Tracker{Logger: logger, What: "database"},
	}
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
		if err := s.openSQLite(ctx, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteFile is the name of the SQLite database in its data folder.
const sqliteFile = "gatehouse.db"

func (s *Store) openSQLite(ctx context.Context, dataDir string) error {
	if dataDir == "" {
		return errors.New("data directory is empty")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	s.dialect, s.dataDir = dialectSQLite, dataDir
	// The first connection to a new file turns it to WAL, which can fail
	// with SQLITE_BUSY, busy timeout or not, while another process does the
	// same: processes take turns.
	lockCtx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	unlock, err := s.lockDataDir(lockCtx)
	if err != nil {
		return err
	}
	defer unlock()
	path := filepath.Join(dataDir, sqliteFile)
	if err := restrictFiles(path); err != nil {
		return err
	}
	busy := s.writeTimeout
	write, err := sql.Open("sqlite", sqliteDSN(path, busy, false))
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", sqliteDSN(path, busy, true))
	if err != nil {
		write.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	s.write, s.read = write, read
	firstCtx, cancelFirst := context.WithTimeout(ctx, s.writeTimeout)
	defer cancelFirst()
	if _, err := s.write.ExecContext(firstCtx, "SELECT 1"); err != nil {
		s.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	return nil
}

// restrictFiles makes the database at path, and its WAL and shared-memory
// files if they exist, readable by their owner only, whatever the umask:
// they hold password and key hashes. SQLite gives the files it creates the
// database's permissions, so a new database is made here, empty, first.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, info.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("restrict permissions of %s: %w", p, err)
			}
		}
	}
	return nil
}

func sqliteDSN(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"}
	for _, p := range pragmas {
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

// Ping reports whether the database answers, within the read deadline. It
// returns a 2901 error when it does not.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, "ping database", func(ctx context.Context) error {
		return s.read.PingContext(ctx)
	})
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

// view runs fn, which reads, under the read deadline, and settles its error
// (see settle); op names the call in errors, such as "list users".
func (s *Store) view(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, s.readTimeout)
	defer cancel()
	return s.settle(ctx, callCtx, op, fn(callCtx))
}

// query and queryRow run a query on the read pool without a deadline of
// their own: call them inside view.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.read.QueryContext(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.rebind(query), args...)
}

// list reads every row query returns, scanned by scan, under the read
// deadline.
func list[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var all []T
	err := s.view(ctx, op, func(ctx context.Context) error {
		rows, err := s.query(ctx, query, args...)
		if err != nil {
			return err
		}
		all, err = scanAll(rows, scan)
		return err
	})
	return all, err
}

// get reads the one row query returns, scanned by scan, under the read
// deadline; when there is none, it returns a 2100 error naming what, such
// as "User PABC123".
func get[T any](ctx context.Context, s *Store, op, what string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var v T
	err := s.view(ctx, op, func(ctx context.Context) error {
		var err error
		v, err = scan(s.queryRow(ctx, query, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound(what)
		}
		return err
	})
	return v, err
}

type scanner interface{ Scan(dest ...any) error }

// scanAll scans every row of rows with scan, and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var all []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return all, nil
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

// Retries of a write transaction: at most defaultMaxAttempts runs, waiting
// between them a random time around a delay that doubles from
// minRetryDelay up to maxRetryDelay, all within the write deadline.
const (
	defaultMaxAttempts = 10
	minRetryDelay      = 2 * time.Millisecond
	maxRetryDelay      = 200 * time.Millisecond
)

// inTx runs fn in a write transaction under the write deadline and commits
// it if fn returns nil. On PostgreSQL the transaction is serializable: when
// it fails to serialize or deadlocks, inTx runs fn again in a new one, as it
// does on both engines when a random ID collides. So fn must be safe to run
// again: it starts from its arguments as the caller gave them (see keep), and
// anything it records outside the transaction it sets anew each run. Errors
// are settled (see settle); fn wraps its own with the operation's name.
func (s *Store) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	callCtx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		err = s.tryTx(callCtx, fn)
		if err == nil || attempt == s.maxAttempts || !retryable(err) {
			break
		}
		s.counts.retries.Add(1)
		if !sleep(callCtx, retryDelay(attempt)) {
			break
		}
	}
	return s.settle(ctx, callCtx, "", err)
}

// retryable reports whether a transaction that failed with err may succeed
// when run again from the start.
func retryable(err error) bool {
	kind, _ := classify(err)
	return kind == failSerialization || kind == failIDTaken
}

// retryDelay is how long to wait after the attempt-th run failed: a delay
// that doubles each time, jittered so that writers who collided do not
// collide again.
func retryDelay(attempt int) time.Duration {
	d := min(minRetryDelay<<(attempt-1), maxRetryDelay)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d, or until ctx is done, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// keep saves *p and returns a function that puts it back: a transaction
// function calls it first, so that each run starts from what the caller gave.
func keep[T any](p *T) (restore func()) {
	saved := *p
	return func() { *p = saved }
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == dialectPostgres {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	sqlTx, err := s.write.BeginTx(ctx, opts)
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
