package eventsapi_test

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
	"github.com/gatehouse-dev/gatehouse/eventsapi"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// runApplier runs an applier until the test ends.
func runApplier(t *testing.T, a *eventsapi.Applier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// TestApplierFollowsTheWriter sends events through the writer to a running
// applier, which the writer wakes: incidents appear without anyone asking.
func TestApplierFollowsTheWriter(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, "sqlite")
	s := storetest.Open(t, cfg)
	account, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	svc := storetest.MustCreateService(t, cfg, account.ID, "Checkout", storetest.ServiceOptions{Targets: []*gatehouse.User{owner}})
	// A poll of an hour: only the writer's wake-ups can make the applier
	// run in time.
	a := eventsapi.NewApplier(eventsapi.ApplierConfig{Log: s, Poll: time.Hour})
	w := eventsapi.NewWriter(eventsapi.WriterConfig{Store: s, OnCommit: a.Wake})
	go w.Run()
	t.Cleanup(w.Stop)
	runApplier(t, a)
	for _, key := range []string{"a", "b", "c"} {
		e := &gatehouse.Event{Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV2, AccountID: account.ID, ServiceID: svc.ID,
			IntegrationID: svc.IntegrationID, ReceivedAt: time.Now(), Action: gatehouse.EventTrigger, DedupKey: key,
			Summary: "s", Source: "h", Severity: gatehouse.SeverityInfo}
		if err := w.Write(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	sc := s.Scope(account.ID, sqlstore.CLI(account))
	for {
		list, err := sc.Incidents(context.Background(), sqlstore.IncidentQuery{Page: sqlstore.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 3 {
			break
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%d incidents, want 3", len(list.Items))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// scriptedLog is an event log whose ApplyEvents fails with the errors it
// is given, in turn, then applies nothing.
type scriptedLog struct {
	mu      sync.Mutex
	errs    []error
	calls   []int // the limit of each call
	skipped int
	idle    chan struct{} // closed once the errors are used up
}

func (l *scriptedLog) ApplyEvents(ctx context.Context, limit int) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, limit)
	if len(l.errs) == 0 {
		select {
		case <-l.idle:
		default:
			close(l.idle)
		}
		return 0, nil
	}
	err := l.errs[0]
	l.errs = l.errs[1:]
	if err == nil {
		return 1, nil
	}
	return 0, err
}

func (l *scriptedLog) PruneEvents(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return 0, nil
}

func (l *scriptedLog) EventsPending(ctx context.Context) (int64, error) { return 0, nil }

func (l *scriptedLog) SkipEvent(ctx context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.skipped++
	return 42, nil
}

func TestApplierPassesOverAnEventThatNeverApplies(t *testing.T) {
	t.Parallel()
	broken := errors.New("apply event 42: constraint failed")
	unavailable := &gatehouse.Error{Code: gatehouse.CodeUnavailable, Message: "Service Unavailable"}
	tests := []struct {
		name        string
		errs        []error
		wantSkipped int
	}{
		{"an event that fails every time is passed over", []error{broken, broken, broken, broken, broken, broken}, 1},
		{"an event that applies alone at last is not", []error{broken, broken, broken, nil}, 0},
		{"an unavailable database skips nothing", []error{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable, unavailable, unavailable}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			var mu sync.Mutex
			log := &scriptedLog{errs: tt.errs, idle: make(chan struct{})}
			a := eventsapi.NewApplier(eventsapi.ApplierConfig{Log: log, Poll: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(lockedWriter{&logs, &mu}, nil))})
			runApplier(t, a)
			<-log.idle
			log.mu.Lock()
			skipped := log.skipped
			log.mu.Unlock()
			if skipped != tt.wantSkipped {
				t.Errorf("events passed over: %d, want %d (calls %v)", skipped, tt.wantSkipped, log.calls)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Count(logs.String(), "event passed over"); got != tt.wantSkipped {
				t.Errorf("logs:\n%s\nwant %d line(s) about an event passed over", logs.String(), tt.wantSkipped)
			}
		})
	}
}
