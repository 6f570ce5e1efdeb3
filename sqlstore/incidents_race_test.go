package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// TestPeopleRaceEvents has people acknowledge, reassign, annotate and
// resolve incidents through the store's REST writes while events
// acknowledge and resolve the same incidents, on both engines: no effect is
// lost, and each incident's log replays to the status it ends in, so no
// effect was reordered either.
func TestPeopleRaceEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		bob := storetest.MustCreateUser(t, f.s, f.account, "bob", gatehouse.RoleLimitedUser)
		const n = 24
		var triggers []*gatehouse.Event
		for i := range n {
			triggers = append(triggers, alertEvent(f.svc, gatehouse.EventTrigger, fmt.Sprintf("k%d", i)))
		}
		mustAppend(t, f.s, triggers...)
		mustApplyAll(t, f.s)
		incs := mustIncidents(t, f.scope(), sqlstore.IncidentQuery{})
		if len(incs) != n {
			t.Fatalf("%d incidents, want %d", len(incs), n)
		}
		// Events acknowledge every incident and resolve every third.
		resolvedByEvent := func(i int) bool { return i%3 == 0 }
		// People resolve every fourth.
		resolvedByPerson := func(i int) bool { return i%4 == 1 }

		var wg sync.WaitGroup
		errs := make(chan error, 4*n)
		// wanted are the errors a race may give: an incident resolved
		// meanwhile takes no acknowledgement nor assignment.
		settle := func(what string, err error) {
			if err != nil && gatehouse.ErrorCode(err) != gatehouse.CodeInvalidInput {
				errs <- fmt.Errorf("%s: %w", what, err)
			}
		}
		wg.Go(func() {
			for i := range n {
				key := fmt.Sprintf("k%d", i)
				events := []*gatehouse.Event{alertEvent(f.svc, gatehouse.EventAcknowledge, key)}
				if resolvedByEvent(i) {
					events = append(events, alertEvent(f.svc, gatehouse.EventResolve, key))
				}
				if err := f.s.AppendEvents(ctx, events); err != nil {
					errs <- err
					return
				}
				if _, err := f.s.ApplyEvents(ctx, 2); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			sc := asUser(f.s, f.account, bob)
			for i, inc := range incs {
				_, err := sc.UpdateIncident(ctx, inc.ID, bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged})
				settle("acknowledge", err)
				_, err = sc.UpdateIncident(ctx, inc.ID, bob, gatehouse.IncidentUpdate{AssigneeIDs: []string{bob.ID}})
				settle("reassign", err)
				if resolvedByPerson(i) {
					_, err = sc.UpdateIncident(ctx, inc.ID, bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved, Resolution: "done"})
					settle("resolve", err)
				}
			}
		})
		wg.Go(func() {
			sc := asUser(f.s, f.account, bob)
			for _, inc := range incs {
				for j := range 2 {
					if _, err := sc.AddIncidentNote(ctx, inc.ID, bob, fmt.Sprintf("note %d", j)); err != nil {
						errs <- fmt.Errorf("note: %w", err)
					}
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
		for i, inc := range incs {
			got := mustIncident(t, sc, inc.ID)
			wantResolved := resolvedByEvent(i) || resolvedByPerson(i)
			if (got.Status == gatehouse.IncidentResolved) != wantResolved {
				t.Errorf("incident %d is %s; resolved by an event %t, by a person %t", got.Number, got.Status, resolvedByEvent(i), resolvedByPerson(i))
			}
			entries, err := sc.IncidentLogEntries(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if replayed, notes := replay(entries); replayed != got.Status || notes != 2 {
				t.Errorf("incident %d is %s with %d notes in its log, which replays to %s: %v",
					got.Number, got.Status, notes, replayed, typesOf(entries))
			}
			notes, err := sc.IncidentNotes(ctx, inc.ID)
			if err != nil || len(notes) != 2 {
				t.Errorf("incident %d has %d notes (%v), want 2", got.Number, len(notes), err)
			}
			wantAlerts := gatehouse.AlertCounts{Triggered: 1}
			if wantResolved {
				wantAlerts = gatehouse.AlertCounts{Resolved: 1}
			}
			if got.AlertCounts != wantAlerts {
				t.Errorf("incident %d's alerts = %+v, want %+v", got.Number, got.AlertCounts, wantAlerts)
			}
		}
	})
}

// replay plays an incident's log entries as the state machine would, and
// returns the status they lead to and how many notes they record.
func replay(entries []*gatehouse.LogEntry) (status gatehouse.IncidentStatus, notes int) {
	for _, le := range entries {
		switch le.Type {
		case gatehouse.LogTrigger:
			status = gatehouse.IncidentTriggered
		case gatehouse.LogAcknowledge:
			if status == gatehouse.IncidentResolved {
				return "acknowledged after its resolve", notes
			}
			status = gatehouse.IncidentAcknowledged
		case gatehouse.LogAssign:
			if status == gatehouse.IncidentResolved {
				return "assigned after its resolve", notes
			}
			if le.Agent.Type == "user_reference" {
				status = gatehouse.IncidentTriggered
			}
		case gatehouse.LogResolve:
			if status == gatehouse.IncidentResolved {
				return "resolved twice", notes
			}
			status = gatehouse.IncidentResolved
		case gatehouse.LogAnnotate:
			notes++
		}
	}
	return status, notes
}

func typesOf(entries []*gatehouse.LogEntry) []gatehouse.LogEntryType {
	var types []gatehouse.LogEntryType
	for _, le := range entries {
		types = append(types, le.Type)
	}
	return types
}
