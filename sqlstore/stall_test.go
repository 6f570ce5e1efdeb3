package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// logBuffer collects a store's log lines while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines are the log lines that contain msg.
func (b *logBuffer) lines(msg string) []string {
	var found []string
	for line := range strings.Lines(b.String()) {
		if strings.Contains(line, msg) {
			found = append(found, line)
		}
	}
	return found
}

// slack is how much later than its deadline a call may return on these
// busy machines; a store without deadlines hangs for tens of seconds.
const slack = 5 * time.Second

// unavailableCalls are store calls of each kind, each with the deadline it
// runs under: every read goes through the store's edge (view), whoever
// makes it.
func unavailableCalls(s *sqlstore.Store, cfg sqlstore.Config, a *gatehouse.Account) []struct {
	name     string
	deadline time.Duration
	call     func(ctx context.Context) error
} {
	sc := s.Scope(a.ID, sqlstore.CLI(a))
	return []struct {
		name     string
		deadline time.Duration
		call     func(ctx context.Context) error
	}{
		{"read", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := s.AccountBySubdomain(ctx, a.Subdomain)
			return err
		}},
		{"list", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := s.Users(ctx, a.ID)
			return err
		}},
		{"write", cfg.WriteTimeout, func(ctx context.Context) error {
			_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityTeams: false}, gatehouse.CLIActor)
			return err
		}},
		{"ping", cfg.ReadTimeout, s.Ping},
		{"credential", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := s.CredentialByHash(ctx, [32]byte{1})
			return err
		}},
		{"change feed", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := s.ChangesAfter(ctx, 0, 10)
			return err
		}},
		// The reads of an account as one actor sees it: a page, one object,
		// and the lists and loads that are no page.
		{"scope list", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := sc.Teams(ctx, sqlstore.TeamQuery{Page: sqlstore.Page{Limit: 25, Total: true}})
			return err
		}},
		{"scope get", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := sc.User(ctx, "PNOPE00")
			return err
		}},
		{"scope policies", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := sc.EscalationPolicies(ctx, sqlstore.PolicyQuery{Page: sqlstore.Page{Limit: 25}})
			return err
		}},
		{"scope relations", cfg.ReadTimeout, func(ctx context.Context) error {
			_, err := sc.UserRelations(ctx, []string{"PNOPE00"})
			return err
		}},
	}
}

// wantUnavailable runs each call several times at once, more than the pool
// holds, and checks that each fails with a 503 within its deadline.
func wantUnavailable(t *testing.T, s *sqlstore.Store, cfg sqlstore.Config, a *gatehouse.Account) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range unavailableCalls(s, cfg, a) {
		for range 8 {
			wg.Go(func() {
				// The caller's own deadline is far later than the store's,
				// so that a read without one fails the test, not hangs it.
				ctx, cancel := context.WithTimeout(context.Background(), c.deadline+2*slack)
				defer cancel()
				start := time.Now()
				err := c.call(ctx)
				took := time.Since(start)
				if gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable {
					t.Errorf("%s: error = %v, want code %d", c.name, err, gatehouse.CodeUnavailable)
				}
				if took > c.deadline+slack {
					t.Errorf("%s took %v, want about its deadline, %v", c.name, took, c.deadline)
				}
			})
		}
	}
	wg.Wait()
}

// stallConfig is the configuration of a PostgreSQL database behind a proxy,
// with short deadlines and its log in logs.
func stallConfig(t *testing.T, logs *logBuffer) (sqlstore.Config, *storetest.Proxy) {
	cfg, proxy := storetest.PostgresBehindProxy(t)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.ReadTimeout, cfg.WriteTimeout = time.Second, 1500*time.Millisecond
	return cfg, proxy
}

// wantOneFault checks that the fault was logged once as it began and once as
// it ended.
func wantOneFault(t *testing.T, logs *logBuffer) {
	t.Helper()
	t.Logf("log:\n%s", logs)
	failing, recovered := logs.lines("database failing"), logs.lines("database recovered")
	if len(failing) != 1 || len(recovered) != 1 {
		t.Errorf("logged %d failing and %d recovered lines, want one of each:\n%s", len(failing), len(recovered), logs)
	}
	for _, line := range failing {
		if !strings.Contains(line, "level=WARN") {
			t.Errorf("failing line = %q, want a warning", line)
		}
	}
}

// TestStalledPostgres: a database that stops answering makes every call
// fail with a 503 within its deadline, not hang; the fault is logged once
// when it starts and once when it ends.
func TestStalledPostgres(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	cfg, proxy := stallConfig(t, &logs)
	s := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	ctx := context.Background()

	proxy.Pause()
	wantUnavailable(t, s, cfg, a)

	// A caller's shorter deadline wins over the store's.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	start := time.Now()
	_, err := s.AccountBySubdomain(short, a.Subdomain)
	cancel()
	if gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable || time.Since(start) >= cfg.ReadTimeout {
		t.Errorf("with a 50ms deadline: error %v after %v, want code %d before the store's %v", err, time.Since(start), gatehouse.CodeUnavailable, cfg.ReadTimeout)
	}
	// A caller who hangs up is told so, and it is not the database's fault.
	hangUp, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = s.AccountBySubdomain(hangUp, a.Subdomain)
	if !errors.Is(err, context.Canceled) || gatehouse.ErrorCode(err) == gatehouse.CodeUnavailable {
		t.Errorf("after the caller hung up: error %v, want context.Canceled", err)
	}
	if len(logs.lines("database failing")) != 1 {
		t.Errorf("during the stall, log:\n%s\nwant one failing line", &logs)
	}

	proxy.Resume()
	waitForRecovery(t, s, a)
	wantOneFault(t, &logs)
	if st := s.Stats(); st.Unavailable < 33 || st.Canceled != 1 || st.Internal != 0 {
		t.Errorf("Stats() = %+v, want 33 unavailable calls or more, 1 canceled, no internal errors", st)
	}
}

// TestDroppedPostgres: a database that goes away makes every call fail
// with a 503 at once; the fault is logged once when it starts and once when
// it ends.
func TestDroppedPostgres(t *testing.T) {
	t.Parallel()
	var logs logBuffer
	cfg, proxy := stallConfig(t, &logs)
	s := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)

	proxy.Drop()
	wantUnavailable(t, s, cfg, a)
	proxy.Resume()
	waitForRecovery(t, s, a)
	wantOneFault(t, &logs)
}

// waitForRecovery calls the store until it answers again.
func waitForRecovery(t *testing.T, s *sqlstore.Store, a *gatehouse.Account) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.AccountBySubdomain(context.Background(), a.Subdomain)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still fails 10s after the database came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLockedSQLite: on SQLite, a write that waits for longer than its
// deadline (the write lock held by another process, or the one writer
// connection by a long transaction) fails with a 503.
func TestLockedSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := storetest.Config(t, "sqlite")
	var logs logBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.WriteTimeout = 300 * time.Millisecond
	s := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	write := func(ctx context.Context) error {
		_, err := s.SetAbilities(ctx, a.ID, map[string]bool{gatehouse.AbilityTeams: false}, gatehouse.CLIActor)
		return err
	}
	for _, holder := range []struct {
		name  string
		store *sqlstore.Store
	}{{"another process", storetest.Open(t, cfg)}, {"this process", s}} {
		tx, err := sqlstore.WriteDB(holder.store).BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = write(ctx)
		if gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable || time.Since(start) > cfg.WriteTimeout+slack {
			t.Errorf("write lock held by %s: error %v after %v, want code %d within %v", holder.name, err, time.Since(start), gatehouse.CodeUnavailable, cfg.WriteTimeout)
		}
		tx.Rollback()
		if err := write(ctx); err != nil {
			t.Errorf("after %s let go: %v", holder.name, err)
		}
	}
	if failing := logs.lines("database failing"); len(failing) != 2 {
		t.Errorf("log:\n%s\nwant two faults", &logs)
	}
}
