package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// eventsFixture is an account with a service whose policy's first rule
// targets two users, and the store and configuration to reach it.
type eventsFixture struct {
	cfg     sqlstore.Config
	s       *sqlstore.Store
	account *gatehouse.Account
	owner   *gatehouse.User
	alice   *gatehouse.User
	svc     *storetest.Service
}

func newEventsFixture(t *testing.T, cfg sqlstore.Config, opts storetest.ServiceOptions) *eventsFixture {
	t.Helper()
	f := &eventsFixture{cfg: cfg, s: storetest.Open(t, cfg)}
	f.account, f.owner = storetest.MustCreateAccount(t, f.s, "acme", gatehouse.PlanBusiness)
	f.alice = storetest.MustCreateUser(t, f.s, f.account, "alice", gatehouse.RoleUser)
	if opts.Targets == nil {
		opts.Targets = []*gatehouse.User{f.alice, f.owner}
	}
	f.svc = storetest.MustCreateService(t, cfg, f.account.ID, "Checkout", opts)
	return f
}

func (f *eventsFixture) scope() *sqlstore.Scope {
	return f.s.Scope(f.account.ID, sqlstore.CLI(f.account))
}

// alertEvent is an Events API v2 event through svc's integration.
func alertEvent(svc *storetest.Service, action gatehouse.EventAction, dedupKey string) *gatehouse.Event {
	return &gatehouse.Event{
		Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV2,
		AccountID: svc.AccountID, ServiceID: svc.ID, IntegrationID: svc.IntegrationID, ReceivedAt: time.Now(),
		Action: action, DedupKey: dedupKey,
		Summary: "Disk full on " + dedupKey, Source: "db01", Severity: gatehouse.SeverityWarning,
		CustomDetails: json.RawMessage(`{"free":"1%"}`),
		Client:        "Monitoring", ClientURL: "https://monitoring.example",
		Links:     []gatehouse.Link{{Href: "https://monitoring.example/db01", Text: "db01"}},
		Timestamp: time.Date(2025, 7, 17, 8, 42, 58, 315e6, time.UTC),
	}
}

func mustAppend(t *testing.T, s *sqlstore.Store, events ...*gatehouse.Event) {
	t.Helper()
	if err := s.AppendEvents(context.Background(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
}

// mustApplyAll applies the whole event log and returns how many events it
// applied.
func mustApplyAll(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	total := 0
	for {
		n, err := s.ApplyEvents(context.Background(), 100)
		if err != nil {
			t.Fatalf("ApplyEvents: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func mustIncidents(t *testing.T, sc *sqlstore.Scope, q sqlstore.IncidentQuery) []*gatehouse.Incident {
	t.Helper()
	if q.Page.Limit == 0 {
		q.Page.Limit = 100
	}
	list, err := sc.Incidents(context.Background(), q)
	if err != nil {
		t.Fatalf("Incidents: %v", err)
	}
	return list.Items
}

func logTypes(t *testing.T, sc *sqlstore.Scope, incidentID string) []gatehouse.LogEntryType {
	t.Helper()
	entries, err := sc.IncidentLogEntries(context.Background(), incidentID)
	if err != nil {
		t.Fatalf("IncidentLogEntries: %v", err)
	}
	var types []gatehouse.LogEntryType
	for _, e := range entries {
		types = append(types, e.Type)
	}
	return types
}

func TestEventRoute(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		check := func(key string, want *gatehouse.EventRoute) {
			t.Helper()
			got, err := f.s.EventRoute(ctx, key)
			if want == nil {
				wantCode(t, err, gatehouse.CodeNotFound)
				return
			}
			if err != nil {
				t.Fatalf("EventRoute: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("EventRoute (-want +got):\n%s", diff)
			}
		}
		route := &gatehouse.EventRoute{AccountID: f.account.ID, ServiceID: f.svc.ID, IntegrationID: f.svc.IntegrationID,
			IntegrationType: "events_api_v2_inbound_integration"}
		check(f.svc.IntegrationKey, route)
		check("0123456789abcdef0123456789abcdef", nil)
		storetest.MustSetServiceStatus(t, cfg, f.svc.ID, "disabled")
		disabled := *route
		disabled.ServiceDisabled = true
		check(f.svc.IntegrationKey, &disabled)
		storetest.MustSetServiceStatus(t, cfg, f.svc.ID, "active")
		check(f.svc.IntegrationKey, route)
		storetest.MustDeleteIntegration(t, cfg, f.svc.IntegrationID)
		check(f.svc.IntegrationKey, nil)
	})
}

// TestDedupSemantics plays trigger, trigger again, acknowledge, resolve and
// trigger again on one dedup key, and checks the incidents, alerts and log
// entries they leave.
func TestDedupSemantics(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{Urgency: "severity_based"})
		sc := f.scope()
		const key = "srv01/disk"

		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, key), alertEvent(f.svc, gatehouse.EventTrigger, key))
		if n := mustApplyAll(t, f.s); n != 2 {
			t.Fatalf("applied %d events, want 2", n)
		}
		incs := mustIncidents(t, sc, sqlstore.IncidentQuery{})
		if len(incs) != 1 {
			t.Fatalf("after trigger and trigger again: %d incidents, want 1", len(incs))
		}
		first := incs[0]
		if first.Number != 1 || first.Status != gatehouse.IncidentTriggered || first.IncidentKey != key ||
			first.Title != "Disk full on "+key || first.Urgency != gatehouse.UrgencyLow || first.ServiceID != f.svc.ID ||
			first.EscalationPolicyID != f.svc.PolicyID || first.AssignedVia != "escalation_policy" ||
			first.AlertCounts != (gatehouse.AlertCounts{Triggered: 1}) || first.LastStatusChangeBy.ID != f.svc.ID {
			t.Errorf("incident after trigger = %+v", first)
		}
		if diff := cmp.Diff([]string{f.alice.ID, f.owner.ID}, first.Assignees); diff != "" {
			t.Errorf("assignees: the first rule's targets (-want +got):\n%s", diff)
		}
		alerts, err := sc.IncidentAlerts(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 1 || alerts[0].AlertKey != key || alerts[0].Status != gatehouse.AlertTriggered ||
			alerts[0].Severity != gatehouse.SeverityWarning || string(alerts[0].Body.Details) != `{"free":"1%"}` ||
			alerts[0].Body.CEF.Source != "db01" || alerts[0].IntegrationID != f.svc.IntegrationID ||
			len(alerts[0].Body.Contexts) != 1 || alerts[0].Body.Contexts[0].Href != "https://monitoring.example/db01" {
			t.Errorf("alerts after trigger = %+v", alerts)
		}

		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventAcknowledge, key))
		mustApplyAll(t, f.s)
		inc, err := sc.Incident(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != gatehouse.IncidentAcknowledged || len(inc.Acknowledgers) != 1 || inc.Acknowledgers[0].Acknowledger.ID != f.svc.ID {
			t.Errorf("incident after acknowledge = %+v", inc)
		}

		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventResolve, key))
		mustApplyAll(t, f.s)
		inc, err = sc.Incident(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		if inc.Status != gatehouse.IncidentResolved || inc.ResolvedAt.IsZero() || len(inc.Assignees) != 0 || len(inc.Acknowledgers) != 0 ||
			inc.AlertCounts != (gatehouse.AlertCounts{Resolved: 1}) {
			t.Errorf("incident after resolve = %+v", inc)
		}

		// An acknowledge and a resolve of a resolved alert change nothing;
		// a trigger opens a new incident.
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventAcknowledge, key), alertEvent(f.svc, gatehouse.EventResolve, key),
			alertEvent(f.svc, gatehouse.EventTrigger, key))
		mustApplyAll(t, f.s)
		incs = mustIncidents(t, sc, sqlstore.IncidentQuery{})
		if len(incs) != 2 || incs[0].Status != gatehouse.IncidentResolved || incs[1].Status != gatehouse.IncidentTriggered || incs[1].Number != 2 {
			t.Fatalf("after re-trigger: %d incidents %+v, want the resolved one and a new triggered one", len(incs), incs)
		}
		wantLog := []gatehouse.LogEntryType{gatehouse.LogTrigger, gatehouse.LogAssign, gatehouse.LogAcknowledge, gatehouse.LogResolve}
		if diff := cmp.Diff(wantLog, logTypes(t, sc, first.ID)); diff != "" {
			t.Errorf("log of the first incident (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantLog[:2], logTypes(t, sc, incs[1].ID)); diff != "" {
			t.Errorf("log of the second incident (-want +got):\n%s", diff)
		}
		entries, err := sc.IncidentLogEntries(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a := entries[0].Agent; a.ID != f.svc.IntegrationID || a.Type != "events_api_v2_inbound_integration_reference" ||
			entries[0].Channel.Type != "api" || string(entries[0].Channel.Details) != `{"free":"1%"}` {
			t.Errorf("trigger log entry = %+v", entries[0])
		}
		if diff := cmp.Diff([]string{f.alice.ID, f.owner.ID}, entries[1].Assignees); diff != "" {
			t.Errorf("assign log entry's assignees (-want +got):\n%s", diff)
		}

		// Filters.
		if got := mustIncidents(t, sc, sqlstore.IncidentQuery{Statuses: []gatehouse.IncidentStatus{gatehouse.IncidentResolved}}); len(got) != 1 || got[0].ID != first.ID {
			t.Errorf("resolved incidents = %+v, want the first", got)
		}
		if got := mustIncidents(t, sc, sqlstore.IncidentQuery{IncidentKey: "other"}); len(got) != 0 {
			t.Errorf("incidents with another key = %+v, want none", got)
		}
		st, err := f.s.EventLog(ctx)
		if err != nil || st.Pending() != 0 || st.Last != 7 {
			t.Errorf("EventLog = %+v, %v; want 7 events, all applied", st, err)
		}
	})
}

func TestEventsOnDifferentKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		other := storetest.MustCreateService(t, cfg, f.account.ID, "Search", storetest.ServiceOptions{Targets: []*gatehouse.User{f.owner}})
		// The same dedup key on two integrations names two alerts; an
		// acknowledge before any trigger, and a resolve of an unknown key,
		// change nothing.
		mustAppend(t, f.s,
			alertEvent(f.svc, gatehouse.EventAcknowledge, "a"),
			alertEvent(f.svc, gatehouse.EventResolve, "never-triggered"),
			alertEvent(f.svc, gatehouse.EventTrigger, "a"),
			alertEvent(other, gatehouse.EventTrigger, "a"),
			alertEvent(f.svc, gatehouse.EventTrigger, "b"),
			alertEvent(other, gatehouse.EventResolve, "a"),
		)
		mustApplyAll(t, f.s)
		incs := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{})
		var got []string
		for _, inc := range incs {
			got = append(got, fmt.Sprintf("%d %s %s %s", inc.Number, inc.ServiceID, inc.IncidentKey, inc.Status))
		}
		want := []string{
			"1 " + f.svc.ID + " a triggered",
			"2 " + other.ID + " a resolved",
			"3 " + f.svc.ID + " b triggered",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("incidents (-want +got):\n%s", diff)
		}
		if got := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{ServiceIDs: []string{other.ID}}); len(got) != 1 || got[0].Assignees != nil {
			t.Errorf("incidents of the other service = %+v, want one, resolved, assigned to no one", got)
		}
		// Another account sees none of them.
		acct2, _ := storetest.MustCreateAccount(t, f.s, "globex", gatehouse.PlanBusiness)
		if got := mustIncidents(t, f.s.Scope(acct2.ID, sqlstore.CLI(acct2)), sqlstore.IncidentQuery{}); len(got) != 0 {
			t.Errorf("another account's incidents = %+v, want none", got)
		}
		if _, err := f.s.Scope(acct2.ID, sqlstore.CLI(acct2)).Incident(context.Background(), incs[0].ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("another account's Incident(%s) = %v, want 2100", incs[0].ID, err)
		}
	})
}

// TestEventsOfGoneServices checks that events whose integration or service
// went away after they were taken are passed over, and the log moves on;
// an event of a service disabled after it was taken is applied all the same
// (it was answered 202).
func TestEventsOfGoneServices(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		gone := storetest.MustCreateService(t, cfg, f.account.ID, "Gone", storetest.ServiceOptions{})
		disabled := storetest.MustCreateService(t, cfg, f.account.ID, "Disabled", storetest.ServiceOptions{})
		noIntegration := storetest.MustCreateService(t, cfg, f.account.ID, "No integration", storetest.ServiceOptions{})
		mustAppend(t, f.s,
			alertEvent(gone, gatehouse.EventTrigger, "k"),
			alertEvent(disabled, gatehouse.EventTrigger, "k"),
			alertEvent(noIntegration, gatehouse.EventTrigger, "k"),
			changeEvent(gone, "deploy"),
			alertEvent(f.svc, gatehouse.EventTrigger, "k"),
		)
		storetest.MustDeleteService(t, cfg, gone.ID)
		storetest.MustSetServiceStatus(t, cfg, disabled.ID, "disabled")
		storetest.MustDeleteIntegration(t, cfg, noIntegration.IntegrationID)
		if n := mustApplyAll(t, f.s); n != 5 {
			t.Errorf("applied %d events, want 5", n)
		}
		incs := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{})
		services := map[string]bool{}
		for _, inc := range incs {
			services[inc.ServiceID] = true
		}
		if len(incs) != 2 || !services[f.svc.ID] || !services[disabled.ID] {
			t.Errorf("incidents = %+v, want those of the service still there and of the one disabled since", incs)
		}
	})
}

func changeEvent(svc *storetest.Service, summary string) *gatehouse.Event {
	return &gatehouse.Event{
		Kind: gatehouse.EventChange, API: gatehouse.EventsAPIV2,
		AccountID: svc.AccountID, ServiceID: svc.ID, IntegrationID: svc.IntegrationID, ReceivedAt: time.Now(),
		Summary: summary, Source: "ci", CustomDetails: json.RawMessage(`{"build":220}`),
		Links: []gatehouse.Link{{Href: "https://ci.example/220", Text: "Build"}},
	}
}

func TestChangeEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		older := changeEvent(f.svc, "Build 219 passed")
		older.Timestamp = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		newer := changeEvent(f.svc, "Build 220 passed")
		mustAppend(t, f.s, older, newer)
		mustApplyAll(t, f.s)
		list, err := f.scope().ChangeEvents(ctx, sqlstore.ChangeEventQuery{ServiceIDs: []string{f.svc.ID}, Page: sqlstore.Page{Limit: 10, Total: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 || list.Total != 2 || list.Items[0].Summary != "Build 220 passed" || list.Items[1].Summary != "Build 219 passed" {
			t.Fatalf("ChangeEvents = %+v, want the two, newest first", list)
		}
		c := list.Items[1]
		if !c.Timestamp.Equal(older.Timestamp) || c.Source != "ci" || string(c.CustomDetails) != `{"build":220}` ||
			len(c.Links) != 1 || c.Links[0].Href != "https://ci.example/220" || c.IntegrationID != f.svc.IntegrationID {
			t.Errorf("change event = %+v", c)
		}
		if !list.Items[0].Timestamp.Equal(newer.ReceivedAt.UTC().Truncate(time.Microsecond)) {
			t.Errorf("change event without timestamp dated %v, want when it was received, %v", list.Items[0].Timestamp, newer.ReceivedAt)
		}
		got, err := f.scope().ChangeEvent(ctx, c.ID)
		if err != nil || got.Summary != c.Summary {
			t.Errorf("ChangeEvent(%s) = %+v, %v", c.ID, got, err)
		}
		acct2, _ := storetest.MustCreateAccount(t, f.s, "globex", gatehouse.PlanBusiness)
		_, err = f.s.Scope(acct2.ID, sqlstore.CLI(acct2)).ChangeEvent(ctx, c.ID)
		wantCode(t, err, gatehouse.CodeNotFound)
	})
}

// TestApplyRacesStatusChanges resolves incidents through events while
// people acknowledge and resolve them at the same time, as the REST API
// does: whatever the order, resolve is final, no effect is lost, and each
// log tells the order things happened in.
func TestApplyRacesStatusChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		const n = 40
		var triggers, resolves []*gatehouse.Event
		for i := range n {
			key := fmt.Sprintf("k%d", i)
			triggers = append(triggers, alertEvent(f.svc, gatehouse.EventTrigger, key))
			resolves = append(resolves, alertEvent(f.svc, gatehouse.EventResolve, key))
		}
		mustAppend(t, f.s, triggers...)
		mustApplyAll(t, f.s)
		incs := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{})
		if len(incs) != n {
			t.Fatalf("%d incidents, want %d", len(incs), n)
		}

		var wg sync.WaitGroup
		errs := make(chan error, 2*n+1)
		wg.Go(func() {
			for _, e := range resolves {
				if err := f.s.AppendEvents(ctx, []*gatehouse.Event{e}); err != nil {
					errs <- err
					return
				}
				if _, err := f.s.ApplyEvents(ctx, 3); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for i, inc := range incs {
				to := gatehouse.IncidentAcknowledged
				if i%4 == 3 {
					to = gatehouse.IncidentResolved
				}
				_, err := f.s.SetIncidentStatusAsUser(ctx, inc.ID, to, f.alice.ID)
				if err != nil && gatehouse.ErrorCode(err) != gatehouse.CodeInvalidInput {
					errs <- fmt.Errorf("set incident %d %s: %w", inc.Number, to, err)
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		mustApplyAll(t, f.s)

		sc := f.scope()
		for _, inc := range mustIncidents(t, sc, sqlstore.IncidentQuery{}) {
			if inc.Status != gatehouse.IncidentResolved || inc.AlertCounts != (gatehouse.AlertCounts{Resolved: 1}) {
				t.Errorf("incident %d = %s with alerts %+v, want resolved with its alert", inc.Number, inc.Status, inc.AlertCounts)
			}
			types := logTypes(t, sc, inc.ID)
			resolves, acksAfterResolve, resolved := 0, 0, false
			for _, typ := range types {
				switch typ {
				case gatehouse.LogResolve:
					resolves++
					resolved = true
				case gatehouse.LogAcknowledge:
					if resolved {
						acksAfterResolve++
					}
				}
			}
			if resolves != 1 || acksAfterResolve != 0 {
				t.Errorf("incident %d's log = %v, want one resolve, last", inc.Number, types)
			}
		}
		// Every dedup key is closed: triggers open new incidents.
		mustAppend(t, f.s, triggers...)
		mustApplyAll(t, f.s)
		if got := mustIncidents(t, sc, sqlstore.IncidentQuery{Statuses: []gatehouse.IncidentStatus{gatehouse.IncidentTriggered}}); len(got) != n {
			t.Errorf("%d triggered incidents after triggering every key again, want %d", len(got), n)
		}
	})
}

// TestEventLogAcrossNodes appends events from several stores at once (on
// PostgreSQL, several nodes) while several apply them: every event is
// applied exactly once.
func TestEventLogAcrossNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		const nodes, batches, perBatch = 3, 15, 7
		stores := []*sqlstore.Store{f.s}
		for range nodes - 1 {
			stores = append(stores, storetest.Open(t, cfg))
		}
		var writers, appliers sync.WaitGroup
		done := make(chan struct{})
		errs := make(chan error, 2*nodes)
		for i, s := range stores {
			writers.Go(func() {
				for b := range batches {
					var events []*gatehouse.Event
					for e := range perBatch {
						events = append(events, changeEvent(f.svc, fmt.Sprintf("node %d batch %d event %d", i, b, e)))
					}
					if err := s.AppendEvents(ctx, events); err != nil {
						errs <- err
						return
					}
				}
			})
			appliers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if _, err := s.ApplyEvents(ctx, 5); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		writers.Wait()
		close(done)
		appliers.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		mustApplyAll(t, f.s)
		list, err := f.scope().ChangeEvents(ctx, sqlstore.ChangeEventQuery{Page: sqlstore.Page{Limit: 1, Total: true}})
		if err != nil {
			t.Fatal(err)
		}
		if want := nodes * batches * perBatch; list.Total != want {
			t.Errorf("%d change events recorded, want %d: each event once", list.Total, want)
		}
	})
}

func TestSkipEvent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		if seq, err := f.s.SkipEvent(ctx); err != nil || seq != 0 {
			t.Fatalf("SkipEvent on an empty log = %d, %v; want 0, nil", seq, err)
		}
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, "skipped"), alertEvent(f.svc, gatehouse.EventTrigger, "applied"))
		if seq, err := f.s.SkipEvent(ctx); err != nil || seq != 1 {
			t.Fatalf("SkipEvent = %d, %v; want 1, nil", seq, err)
		}
		mustApplyAll(t, f.s)
		incs := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{})
		if len(incs) != 1 || incs[0].IncidentKey != "applied" {
			t.Errorf("incidents = %+v, want only the one of the event not skipped", incs)
		}
	})
}

// TestEventLogWritersCommitInOrder holds the event log's lock in a
// transaction that has inserted an event but not committed, as a slow node
// would, while another appends: the applier must not see the second
// before the first is committed, or it would skip the first.
func TestEventLogWritersCommitInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := storetest.Config(t, "postgres")
	f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	slow, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := slow.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(sqlstore.EventLogLockID)); err != nil {
		t.Fatal(err)
	}
	if _, err := slow.ExecContext(ctx, "INSERT INTO events (account_id, service_id, integration_id, kind, api, action, dedup_key, received_at, body) "+
		"VALUES ($1, $2, $3, 'change', 'v2', '', '', 0, '{\"summary\":\"first\"}')", f.account.ID, f.svc.ID, f.svc.IntegrationID); err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	go func() { appended <- f.s.AppendEvents(ctx, []*gatehouse.Event{changeEvent(f.svc, "second")}) }()
	// Wait until the second writer has committed, or waits for the lock.
	for waiting := false; !waiting; {
		select {
		case err := <-appended:
			appended <- err
			waiting = true
		case <-time.After(10 * time.Millisecond):
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "+
				"AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&n); err != nil {
				t.Fatal(err)
			}
			waiting = n > 0
		}
	}
	if _, err := f.s.ApplyEvents(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	mustApplyAll(t, f.s)
	list, err := f.scope().ChangeEvents(ctx, sqlstore.ChangeEventQuery{Page: sqlstore.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list.Items {
		got = append(got, c.Summary)
	}
	if len(got) != 2 {
		t.Errorf("change events recorded: %q, want both the first and the second", got)
	}
}

// TestDedupSemanticsInOneBatch applies a dedup key's whole life in one
// transaction: the applier's memory of open alerts must follow each event.
func TestDedupSemanticsInOneBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		var events []*gatehouse.Event
		for _, a := range []gatehouse.EventAction{"trigger", "trigger", "acknowledge", "resolve", "acknowledge", "trigger", "acknowledge"} {
			events = append(events, alertEvent(f.svc, a, "k"))
		}
		mustAppend(t, f.s, events...)
		if n, err := f.s.ApplyEvents(context.Background(), 100); err != nil || n != len(events) {
			t.Fatalf("ApplyEvents = %d, %v; want all %d in one", n, err, len(events))
		}
		sc := f.scope()
		incs := mustIncidents(t, sc, sqlstore.IncidentQuery{})
		if statuses := fmt.Sprintf("%s %s %d", incs[0].Status, incs[len(incs)-1].Status, len(incs)); statuses != "resolved acknowledged 2" {
			t.Fatalf("incidents: %s, want the first resolved and a second acknowledged", statuses)
		}
		want := []gatehouse.LogEntryType{gatehouse.LogTrigger, gatehouse.LogAssign, gatehouse.LogAcknowledge, gatehouse.LogResolve}
		if diff := cmp.Diff(want, logTypes(t, sc, incs[0].ID)); diff != "" {
			t.Errorf("log of the first incident (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]gatehouse.LogEntryType{gatehouse.LogTrigger, gatehouse.LogAssign, gatehouse.LogAcknowledge}, logTypes(t, sc, incs[1].ID)); diff != "" {
			t.Errorf("log of the second incident (-want +got):\n%s", diff)
		}
	})
}

func TestPruneEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		old := time.Now().Add(-48 * time.Hour)
		var events []*gatehouse.Event
		for i := range 3 {
			e := alertEvent(f.svc, gatehouse.EventTrigger, fmt.Sprint(i))
			e.ReceivedAt = old
			events = append(events, e)
		}
		recent := alertEvent(f.svc, gatehouse.EventTrigger, "recent")
		mustAppend(t, f.s, append(events, recent)...)
		if _, err := f.s.ApplyEvents(ctx, 2); err != nil {
			t.Fatal(err)
		}
		cutoff := time.Now().Add(-24 * time.Hour)
		if n, err := f.s.PruneEvents(ctx, cutoff, 10); err != nil || n != 2 {
			t.Fatalf("PruneEvents = %d, %v; want the 2 old events applied", n, err)
		}
		mustApplyAll(t, f.s)
		if n, err := f.s.PruneEvents(ctx, cutoff, 10); err != nil || n != 1 {
			t.Fatalf("PruneEvents once all are applied = %d, %v; want the third old one, not the recent one", n, err)
		}
		if got := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{}); len(got) != 4 {
			t.Errorf("%d incidents after pruning, want the 4 the events made", len(got))
		}
		// Seqs are never given twice, though the oldest events are gone.
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, "later"))
		st, err := f.s.EventLog(ctx)
		if err != nil || st.Last != 5 || st.Applied != 4 {
			t.Errorf("EventLog = %+v, %v; want the new event at seq 5, 4 applied", st, err)
		}
		if n := mustApplyAll(t, f.s); n != 1 {
			t.Errorf("applied %d events after pruning, want the new one", n)
		}
	})
}

// TestApplyBoundsChangesPerTransaction checks that a transaction of the
// applier stops after a bounded number of events that change something,
// while events that change nothing do not count.
func TestApplyBoundsChangesPerTransaction(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		var events []*gatehouse.Event
		for range 200 {
			events = append(events, alertEvent(f.svc, gatehouse.EventResolve, "unknown"))
		}
		for i := range 100 {
			events = append(events, alertEvent(f.svc, gatehouse.EventTrigger, fmt.Sprint(i)))
		}
		mustAppend(t, f.s, events...)
		var got []int
		for {
			n, err := f.s.ApplyEvents(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, n)
		}
		if diff := cmp.Diff([]int{200 + 64, 36}, got); diff != "" {
			t.Errorf("events applied per transaction (-want +got):\n%s", diff)
		}
	})
}
