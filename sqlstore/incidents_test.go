package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// These tests cover what people do to incidents through the store (the
// REST API's writes), beside what events do (events_test.go).

func mustCreateIncident(t *testing.T, sc *sqlstore.Scope, by *gatehouse.User, m *gatehouse.ManualIncident) *gatehouse.Incident {
	t.Helper()
	inc, err := sc.CreateIncident(context.Background(), by, m)
	if err != nil {
		t.Fatalf("CreateIncident(%+v): %v", m, err)
	}
	return inc
}

func mustUpdateIncident(t *testing.T, sc *sqlstore.Scope, id string, by *gatehouse.User, u gatehouse.IncidentUpdate) *gatehouse.Incident {
	t.Helper()
	inc, err := sc.UpdateIncident(context.Background(), id, by, u)
	if err != nil {
		t.Fatalf("UpdateIncident(%s, %+v): %v", id, u, err)
	}
	return inc
}

func mustIncident(t *testing.T, sc *sqlstore.Scope, id string) *gatehouse.Incident {
	t.Helper()
	inc, err := sc.Incident(context.Background(), id)
	if err != nil {
		t.Fatalf("Incident(%s): %v", id, err)
	}
	return inc
}

func TestCreateIncident(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{Urgency: "low"})
		sc := f.scope()
		other, _ := storetest.MustCreateAccount(t, f.s, "other", gatehouse.PlanBusiness)
		otherSvc := storetest.MustCreateService(t, cfg, other.ID, "Theirs", storetest.ServiceOptions{Targets: []*gatehouse.User{f.owner}})

		inc := mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{
			Title: "The server is on fire", ServiceID: f.svc.ID, IncidentKey: "fire-1", Details: json.RawMessage(`"Smoke everywhere"`),
		})
		got := mustIncident(t, sc, inc.ID)
		want := &gatehouse.Incident{
			ID: inc.ID, AccountID: f.account.ID, Number: 1, Title: "The server is on fire", Status: gatehouse.IncidentTriggered,
			Urgency: gatehouse.UrgencyLow, ServiceID: f.svc.ID, EscalationPolicyID: f.svc.PolicyID, IncidentKey: "fire-1",
			AssignedVia: gatehouse.AssignedViaEscalationPolicy, Assignees: []string{f.alice.ID, f.owner.ID},
			LastStatusChangeBy: gatehouse.Ref{Type: "user_reference", ID: f.alice.ID},
			CreatedAt:          got.CreatedAt, UpdatedAt: got.CreatedAt, LastStatusChangeAt: got.CreatedAt,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the incident opened by hand (-want +got):\n%s", diff)
		}
		entries, err := sc.IncidentLogEntries(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Type != gatehouse.LogTrigger || entries[0].Agent.ID != f.alice.ID ||
			string(entries[0].Channel.Details) != `"Smoke everywhere"` || entries[1].Type != gatehouse.LogAssign ||
			!cmp.Equal(entries[1].Assignees, []string{f.alice.ID, f.owner.ID}) {
			t.Errorf("log entries = %+v, want a trigger by alice with the details and an assignment to the policy's first rule", entries)
		}

		// The key is the service's while the incident is open.
		dup := &gatehouse.ManualIncident{Title: "Again", ServiceID: f.svc.ID, IncidentKey: "fire-1"}
		_, err = sc.CreateIncident(ctx, f.alice, dup)
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Open incident with matching dedup key already exists on this service")
		mustUpdateIncident(t, sc, inc.ID, f.alice, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved})
		again := mustCreateIncident(t, sc, f.alice, dup)
		if again.Number != 2 || again.IncidentKey != "fire-1" {
			t.Errorf("the key's second incident = #%d %q", again.Number, again.IncidentKey)
		}

		// Assigned directly, with the urgency asked for, and a key of its own.
		direct := mustCreateIncident(t, sc, f.owner, &gatehouse.ManualIncident{
			Title: "Direct", ServiceID: f.svc.ID, Urgency: gatehouse.UrgencyHigh, AssigneeIDs: []string{f.owner.ID, f.owner.ID},
		})
		if direct.AssignedVia != gatehouse.AssignedViaDirect || !cmp.Equal(direct.Assignees, []string{f.owner.ID}) ||
			direct.Urgency != gatehouse.UrgencyHigh || len(direct.IncidentKey) != 32 {
			t.Errorf("incident assigned directly = %+v", direct)
		}

		for _, tt := range []struct {
			name    string
			m       gatehouse.ManualIncident
			problem string
		}{
			{"no title", gatehouse.ManualIncident{ServiceID: f.svc.ID}, "Title must not be empty"},
			{"no service", gatehouse.ManualIncident{Title: "x"}, "Service must be given: a reference to the service the incident is on"},
			{"unknown service", gatehouse.ManualIncident{Title: "x", ServiceID: "PNOPE00"}, "Service PNOPE00 not found in this account"},
			{"another account's service", gatehouse.ManualIncident{Title: "x", ServiceID: otherSvc.ID}, "Service " + otherSvc.ID + " not found in this account"},
			{"another account's policy", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, EscalationPolicyID: otherSvc.PolicyID},
				"Escalation policy " + otherSvc.PolicyID + " not found in this account"},
			{"unknown assignee", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, AssigneeIDs: []string{"PNOBODY"}}, "User PNOBODY not found in this account"},
			{"both ways", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, AssigneeIDs: []string{f.owner.ID}, EscalationPolicyID: f.svc.PolicyID},
				"Assignments cannot be given with an escalation policy: give one or the other"},
			{"unknown urgency", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, Urgency: "medium"}, `Urgency "medium" is not one of high, low`},
			{"long key", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, IncidentKey: strings.Repeat("k", 256)}, "Incident key must be at most 255 characters"},
			{"NUL in key", gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID, IncidentKey: "a\x00b"}, "Incident key must be valid UTF-8 without the NUL character"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := sc.CreateIncident(ctx, f.alice, &tt.m)
				wantProblem(t, err, gatehouse.CodeInvalidInput, tt.problem)
			})
		}

		storetest.MustSetServiceStatus(t, cfg, f.svc.ID, "disabled")
		_, err = sc.CreateIncident(ctx, f.alice, &gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Service "+f.svc.ID+" is disabled: it takes no incidents until it is enabled")
	})
}

func TestUpdateIncident(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		bob := storetest.MustCreateUser(t, f.s, f.account, "bob", gatehouse.RoleLimitedUser)
		inc := mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "Disk full", ServiceID: f.svc.ID})

		acked := mustUpdateIncident(t, sc, "1", bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged})
		if acked.Status != gatehouse.IncidentAcknowledged || len(acked.Acknowledgers) != 1 || acked.Acknowledgers[0].Acknowledger.ID != bob.ID ||
			acked.LastStatusChangeBy.ID != bob.ID {
			t.Errorf("acknowledged by number = %+v", acked)
		}
		// Acknowledging again changes nothing.
		if again := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged}); len(again.Acknowledgers) != 1 {
			t.Errorf("acknowledged twice: %+v", again.Acknowledgers)
		}

		retitled := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{Title: "Disk full on db01", Urgency: gatehouse.UrgencyLow})
		if retitled.Title != "Disk full on db01" || retitled.Urgency != gatehouse.UrgencyLow || retitled.Status != gatehouse.IncidentAcknowledged {
			t.Errorf("retitled = %+v", retitled)
		}

		// Assigned anew, an acknowledged incident is triggered again.
		reassigned := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{AssigneeIDs: []string{bob.ID}})
		if reassigned.Status != gatehouse.IncidentTriggered || reassigned.Acknowledgers != nil || !cmp.Equal(reassigned.Assignees, []string{bob.ID}) ||
			reassigned.AssignedVia != gatehouse.AssignedViaDirect {
			t.Errorf("reassigned = %+v, want triggered again, assigned to bob directly", reassigned)
		}
		// To the second level of its policy, which targets alice alone.
		escalated := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{EscalationLevel: 2})
		if !cmp.Equal(escalated.Assignees, []string{f.alice.ID}) || escalated.AssignedVia != gatehouse.AssignedViaEscalationPolicy {
			t.Errorf("escalated to level 2 = %+v", escalated)
		}
		_, err := sc.UpdateIncident(ctx, inc.ID, bob, gatehouse.IncidentUpdate{EscalationLevel: 3})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Escalation level 3 is beyond the rules of escalation policy "+f.svc.PolicyID)
		// To another policy.
		policy := storetest.MustCreatePolicy(t, f.s, f.account, "Backup", bob, nil)
		moved := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{EscalationPolicyID: policy.ID})
		if moved.EscalationPolicyID != policy.ID || !cmp.Equal(moved.Assignees, []string{bob.ID}) {
			t.Errorf("moved to another policy = %+v", moved)
		}

		resolved := mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved, Resolution: "Rotated the logs"})
		if resolved.Status != gatehouse.IncidentResolved || resolved.ResolvedAt.IsZero() || resolved.Assignees != nil {
			t.Errorf("resolved = %+v", resolved)
		}
		types := logTypes(t, sc, inc.ID)
		want := []gatehouse.LogEntryType{gatehouse.LogTrigger, gatehouse.LogAssign, gatehouse.LogAcknowledge, gatehouse.LogUrgency,
			gatehouse.LogAssign, gatehouse.LogEscalate, gatehouse.LogAssign, gatehouse.LogResolve}
		if diff := cmp.Diff(want, types); diff != "" {
			t.Errorf("log (-want +got):\n%s", diff)
		}
		entries, _ := sc.IncidentLogEntries(ctx, inc.ID)
		if last := entries[len(entries)-1]; last.Note != "Rotated the logs" || last.Agent.ID != bob.ID {
			t.Errorf("the resolve's entry = %+v, want bob's with the resolution as its note", last)
		}

		for _, tt := range []struct {
			name    string
			u       gatehouse.IncidentUpdate
			problem string
		}{
			{"acknowledge a resolved incident", gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged}, "Incident Already Resolved"},
			{"reassign a resolved incident", gatehouse.IncidentUpdate{AssigneeIDs: []string{bob.ID}}, "Incident Already Resolved"},
			{"trigger again", gatehouse.IncidentUpdate{Status: gatehouse.IncidentTriggered}, `Status "triggered" is not one of acknowledged, resolved`},
			{"no assignee", gatehouse.IncidentUpdate{AssigneeIDs: []string{}}, "Assignments must name at least one user"},
			{"two ways", gatehouse.IncidentUpdate{AssigneeIDs: []string{bob.ID}, EscalationLevel: 1}, "Give one of assignments, escalation_policy and escalation_level"},
			{"resolution without resolve", gatehouse.IncidentUpdate{Resolution: "x"}, "Resolution is the note of a resolve: give it with the status resolved"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := sc.UpdateIncident(ctx, inc.ID, bob, tt.u)
				wantProblem(t, err, gatehouse.CodeInvalidInput, tt.problem)
			})
		}
		// Resolving again changes nothing; the title of a resolved
		// incident may still change.
		mustUpdateIncident(t, sc, inc.ID, bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved, Title: "Post-mortem: disk"})
		if got := logTypes(t, sc, inc.ID); len(got) != len(want) {
			t.Errorf("resolving again wrote %v", got[len(want):])
		}
		if _, err := sc.UpdateIncident(ctx, "PNOPE00", bob, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved}); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("unknown incident: %v, want 2100", err)
		}
		other, _ := storetest.MustCreateAccount(t, f.s, "other", gatehouse.PlanBusiness)
		if _, err := f.s.Scope(other.ID, sqlstore.CLI(other)).UpdateIncident(ctx, inc.ID, bob, gatehouse.IncidentUpdate{Title: "mine"}); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("another account's incident: %v, want 2100", err)
		}
	})
}

func TestUpdateIncidentsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		a := mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "A", ServiceID: f.svc.ID})
		b := mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "B", ServiceID: f.svc.ID})
		mustUpdateIncident(t, sc, b.ID, f.alice, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved})

		_, err := sc.UpdateIncidents(ctx, f.alice, []gatehouse.IncidentUpdate{
			{ID: a.ID, Status: gatehouse.IncidentAcknowledged}, {ID: b.ID, Status: gatehouse.IncidentAcknowledged},
		})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Incident "+b.ID+": Incident Already Resolved")
		if got := mustIncident(t, sc, a.ID); got.Status != gatehouse.IncidentTriggered {
			t.Errorf("after a failed bulk update, the first incident is %s, want it untouched", got.Status)
		}
		_, err = sc.UpdateIncidents(ctx, f.alice, []gatehouse.IncidentUpdate{{Status: gatehouse.IncidentAcknowledged}, {ID: "2", Urgency: "x"}})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Incident 1 of the list has no id")
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Incident 2: Urgency "x" is not one of high, low`)

		got, err := sc.UpdateIncidents(ctx, f.alice, []gatehouse.IncidentUpdate{{ID: "1", Status: gatehouse.IncidentAcknowledged}, {ID: b.ID, Title: "B2"}})
		if err != nil || len(got) != 2 || got[0].Status != gatehouse.IncidentAcknowledged || got[1].Title != "B2" {
			t.Fatalf("UpdateIncidents = %+v, %v", got, err)
		}
		_, err = sc.UpdateIncidents(ctx, f.alice, make([]gatehouse.IncidentUpdate, gatehouse.MaxBulkUpdate+1))
		if gatehouse.ErrorCode(err) != gatehouse.CodeTooLarge {
			t.Errorf("%d updates: %v, want 2902", gatehouse.MaxBulkUpdate+1, err)
		}
	})
}

func TestIncidentNotes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		carol := storetest.MustCreateUser(t, f.s, f.account, "carol", gatehouse.RoleLimitedUser)
		inc := mustCreateIncident(t, sc, carol, &gatehouse.ManualIncident{Title: "A", ServiceID: f.svc.ID})
		for _, content := range []string{"Firefighters are on the scene.", "Fire is out.\nLooking at why."} {
			if _, err := sc.AddIncidentNote(ctx, inc.ID, carol, content); err != nil {
				t.Fatalf("AddIncidentNote: %v", err)
			}
		}
		notes, err := sc.IncidentNotes(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 2 || notes[0].Content != "Firefighters are on the scene." || notes[1].User != (gatehouse.Ref{Type: "user_reference", ID: carol.ID, Summary: "carol"}) {
			t.Errorf("notes = %+v", notes)
		}
		if got := logTypes(t, sc, inc.ID); got[len(got)-1] != gatehouse.LogAnnotate || got[len(got)-2] != gatehouse.LogAnnotate {
			t.Errorf("log = %v, want an annotate entry per note", got)
		}
		_, err = sc.AddIncidentNote(ctx, inc.ID, carol, "  \n ")
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Content must not be empty")
		_, err = sc.AddIncidentNote(ctx, inc.ID, carol, strings.Repeat("x", gatehouse.MaxNoteContent+1))
		wantProblem(t, err, gatehouse.CodeInvalidInput, fmt.Sprintf("Content must be at most %d characters", gatehouse.MaxNoteContent))
		if _, err := sc.AddIncidentNote(ctx, "PNOPE00", carol, "x"); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("a note on an unknown incident: %v, want 2100", err)
		}

		// An incident holds at most MaxIncidentNotes notes.
		err = sqlstore.ExecInTx(ctx, f.s, "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "+
			"INSERT INTO incident_notes (id, account_id, incident_id, user_id, content, created_at) "+
			"SELECT 'N' || CAST(i AS TEXT), ?, ?, ?, 'more', 0 FROM n", gatehouse.MaxIncidentNotes, f.account.ID, inc.ID, carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sc.AddIncidentNote(ctx, inc.ID, carol, "one too many")
		wantProblem(t, err, gatehouse.CodeInvalidInput, fmt.Sprintf("Incident %s has %d notes, the most an incident may have", inc.ID, gatehouse.MaxIncidentNotes))

		// A removed user's notes stay, without their author.
		if err := f.s.DeleteUser(ctx, f.account.ID, carol.ID, gatehouse.CLIActor); err != nil {
			t.Fatal(err)
		}
		notes, err = sc.IncidentNotes(ctx, inc.ID)
		if err != nil || len(notes) != gatehouse.MaxIncidentNotes || notes[0].User.ID != "" {
			t.Errorf("after carol's removal: %d notes, the first by %+v (%v)", len(notes), notes[0].User, err)
		}
	})
}

func TestResolveAlerts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, "disk"), alertEvent(f.svc, gatehouse.EventTrigger, "cpu"))
		mustApplyAll(t, f.s)
		incs := mustIncidents(t, sc, sqlstore.IncidentQuery{})
		alerts, err := sc.Alerts(ctx, sqlstore.AlertQuery{IncidentID: incs[0].ID, Page: sqlstore.Page{Limit: 10}})
		if err != nil || len(alerts.Items) != 1 {
			t.Fatalf("Alerts = %+v, %v", alerts, err)
		}
		alert := alerts.Items[0]
		if got, err := sc.Alert(ctx, "1", alert.ID); err != nil || got.AlertKey != "disk" {
			t.Errorf("Alert(1, %s) = %+v, %v", alert.ID, got, err)
		}
		if _, err := sc.Alert(ctx, incs[1].ID, alert.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("the alert under another incident: %v, want 2100", err)
		}
		_, err = sc.UpdateAlerts(ctx, incs[0].ID, f.owner, []gatehouse.AlertUpdate{{ID: alert.ID, Status: gatehouse.AlertResolved, IncidentID: incs[1].ID}})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Alert "+alert.ID+" is in incident "+incs[0].ID+": moving alerts to another incident is not supported")
		_, err = sc.UpdateAlerts(ctx, incs[0].ID, f.owner, []gatehouse.AlertUpdate{{ID: alert.ID, Status: gatehouse.AlertTriggered}})
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Alert `+alert.ID+`: Status "triggered" is not one of resolved`)
		if _, err := sc.UpdateAlerts(ctx, incs[0].ID, f.owner, []gatehouse.AlertUpdate{{ID: "QNOPE", Status: gatehouse.AlertResolved}}); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("an unknown alert: %v, want 2100", err)
		}

		got, err := sc.UpdateAlerts(ctx, incs[0].ID, f.owner, []gatehouse.AlertUpdate{{ID: alert.ID, Status: gatehouse.AlertResolved}})
		if err != nil || len(got) != 1 || got[0].Status != gatehouse.AlertResolved || got[0].ResolvedAt.IsZero() {
			t.Fatalf("UpdateAlerts = %+v, %v", got, err)
		}
		// Its incident's last alert resolved, the incident is resolved by
		// the person, and its dedup key is free: a trigger opens anew.
		inc := mustIncident(t, sc, incs[0].ID)
		if inc.Status != gatehouse.IncidentResolved || inc.LastStatusChangeBy.ID != f.owner.ID || inc.AlertCounts != (gatehouse.AlertCounts{Resolved: 1}) {
			t.Errorf("the incident of the resolved alert = %+v", inc)
		}
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, "disk"))
		mustApplyAll(t, f.s)
		if got := mustIncidents(t, sc, sqlstore.IncidentQuery{IncidentKey: "disk"}); len(got) != 2 || got[1].Status != gatehouse.IncidentTriggered {
			t.Errorf("incidents of the key after a trigger = %v", statusesOf(got))
		}
		// Resolving it again changes nothing.
		if _, err := sc.UpdateAlerts(ctx, incs[0].ID, f.owner, []gatehouse.AlertUpdate{{ID: alert.ID, Status: gatehouse.AlertResolved}}); err != nil {
			t.Errorf("resolving a resolved alert: %v", err)
		}
		if _, err := sc.UpdateAlerts(ctx, "2", f.owner, make([]gatehouse.AlertUpdate, gatehouse.MaxBulkUpdate+1)); gatehouse.ErrorCode(err) != gatehouse.CodeTooLarge {
			t.Errorf("%d alerts: %v, want 2902", gatehouse.MaxBulkUpdate+1, err)
		}
		list, err := sc.Alerts(ctx, sqlstore.AlertQuery{IncidentID: "2", Statuses: []gatehouse.AlertStatus{gatehouse.AlertResolved}, Page: sqlstore.Page{Limit: 10}})
		if err != nil || len(list.Items) != 0 {
			t.Errorf("resolved alerts of incident 2 = %+v, %v", list.Items, err)
		}
	})
}

func statusesOf(incs []*gatehouse.Incident) []string {
	var out []string
	for _, inc := range incs {
		out = append(out, fmt.Sprintf("#%d %s", inc.Number, inc.Status))
	}
	return out
}

func numbersOf(incs []*gatehouse.Incident) []int64 {
	var out []int64
	for _, inc := range incs {
		out = append(out, inc.Number)
	}
	return out
}

func TestIncidentQueries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		c := setClock(f.s)
		sc := f.scope()
		team := mustTeam(t, sc, "Ops")
		policy := storetest.MustCreatePolicy(t, f.s, f.account, "Ops policy", f.owner, team)
		opsSvc := mustService(t, sc, "Ops service", policy.ID)
		t0 := c.now
		mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "1", ServiceID: f.svc.ID, Urgency: gatehouse.UrgencyLow})
		c.advance(time.Hour)
		mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "2", ServiceID: opsSvc.ID, IncidentKey: "k2"})
		c.advance(time.Hour)
		mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "3", ServiceID: f.svc.ID, AssigneeIDs: []string{f.alice.ID}})
		c.advance(time.Hour)
		mustUpdateIncident(t, sc, "1", f.alice, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved})
		c.advance(time.Hour)
		mustUpdateIncident(t, sc, "3", f.alice, gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved})

		for _, tt := range []struct {
			name string
			q    sqlstore.IncidentQuery
			want []int64
		}{
			{"all", sqlstore.IncidentQuery{}, []int64{1, 2, 3}},
			{"by status", sqlstore.IncidentQuery{Statuses: []gatehouse.IncidentStatus{gatehouse.IncidentResolved}}, []int64{1, 3}},
			{"by urgency", sqlstore.IncidentQuery{Urgencies: []gatehouse.Urgency{gatehouse.UrgencyLow}}, []int64{1}},
			{"by service", sqlstore.IncidentQuery{ServiceIDs: []string{opsSvc.ID}}, []int64{2}},
			{"by team", sqlstore.IncidentQuery{TeamIDs: []string{team.ID}}, []int64{2}},
			{"by assignee", sqlstore.IncidentQuery{UserIDs: []string{f.owner.ID}}, []int64{2}},
			{"by key", sqlstore.IncidentQuery{IncidentKey: "k2"}, []int64{2}},
			{"since", sqlstore.IncidentQuery{Since: t0.Add(time.Hour)}, []int64{2, 3}},
			{"until", sqlstore.IncidentQuery{Until: t0.Add(time.Hour)}, []int64{1}},
			{"newest first", sqlstore.IncidentQuery{Sort: []sqlstore.IncidentSort{{Field: "created_at", Descending: true}}}, []int64{3, 2, 1}},
			{"by urgency, then number backwards", sqlstore.IncidentQuery{Sort: []sqlstore.IncidentSort{{Field: "urgency", Descending: true}, {Field: "incident_number", Descending: true}}}, []int64{3, 2, 1}},
			{"resolved first, in order", sqlstore.IncidentQuery{Sort: []sqlstore.IncidentSort{{Field: "resolved_at"}}}, []int64{1, 3, 2}},
			{"unresolved first, latest resolve next", sqlstore.IncidentQuery{Sort: []sqlstore.IncidentSort{{Field: "resolved_at", Descending: true}}}, []int64{2, 3, 1}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := numbersOf(mustIncidents(t, sc, tt.q)); !cmp.Equal(got, tt.want) {
					t.Errorf("incidents = %v, want %v", got, tt.want)
				}
			})
		}
		_, err := sc.Incidents(context.Background(), sqlstore.IncidentQuery{Sort: []sqlstore.IncidentSort{{Field: "title"}}, Page: sqlstore.Page{Limit: 1}})
		wantProblem(t, err, gatehouse.CodeInvalidInput, `Incidents cannot be sorted by "title"`)

		// Log entries: the account's, newest first; the overview leaves out
		// what the escalation policy assigned.
		all, err := sc.LogEntries(context.Background(), sqlstore.LogEntryQuery{Page: sqlstore.Page{Limit: 100, Total: true}})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 8 || all.Items[0].Type != gatehouse.LogResolve || all.Items[0].IncidentID != mustIncident(t, sc, "3").ID {
			t.Errorf("log entries: %d, the newest %+v", all.Total, all.Items[0])
		}
		overview, err := sc.LogEntries(context.Background(), sqlstore.LogEntryQuery{Overview: true, Page: sqlstore.Page{Limit: 100}})
		if err != nil || len(overview.Items) != 6 {
			t.Errorf("overview: %d entries (%v), want 6: all but the policy's two assignments", len(overview.Items), err)
		}
		byTeam, err := sc.LogEntries(context.Background(), sqlstore.LogEntryQuery{TeamIDs: []string{team.ID}, Page: sqlstore.Page{Limit: 100}})
		if err != nil || len(byTeam.Items) != 2 {
			t.Errorf("entries of the team's incidents: %d (%v), want 2", len(byTeam.Items), err)
		}
		since, err := sc.LogEntries(context.Background(), sqlstore.LogEntryQuery{Since: t0.Add(3 * time.Hour), Page: sqlstore.Page{Limit: 100}})
		if err != nil || len(since.Items) != 2 {
			t.Errorf("entries of the last two hours: %d (%v), want the two resolves", len(since.Items), err)
		}
		le, err := sc.LogEntry(context.Background(), all.Items[0].ID)
		if err != nil || le.Seq != all.Items[0].Seq {
			t.Errorf("LogEntry(%s) = %+v, %v", all.Items[0].ID, le, err)
		}
		other, _ := storetest.MustCreateAccount(t, f.s, "other", gatehouse.PlanBusiness)
		if _, err := f.s.Scope(other.ID, sqlstore.CLI(other)).LogEntry(context.Background(), le.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("another account's log entry: %v, want 2100", err)
		}
	})
}

// TestRestrictedAccessIncidents: a Restricted Access user sees, and acts
// on, the incidents of their teams' services only.
func TestRestrictedAccessIncidents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		team := mustTeam(t, sc, "Ops")
		rita := storetest.MustCreateUser(t, f.s, f.account, "rita", gatehouse.RoleRestrictedAccess)
		storetest.MustAddTeamMember(t, f.s, team, rita, "responder")
		policy := storetest.MustCreatePolicy(t, f.s, f.account, "Ops policy", rita, team)
		ours := mustService(t, sc, "Ours", policy.ID)
		theirs := mustCreateIncident(t, sc, f.alice, &gatehouse.ManualIncident{Title: "Theirs", ServiceID: f.svc.ID})
		rsc := asUser(f.s, f.account, rita)
		mine := mustCreateIncident(t, rsc, rita, &gatehouse.ManualIncident{Title: "Ours", ServiceID: ours.ID})

		if got := numbersOf(mustIncidents(t, rsc, sqlstore.IncidentQuery{})); !cmp.Equal(got, []int64{mine.Number}) {
			t.Errorf("rita sees incidents %v, want only %d", got, mine.Number)
		}
		for name, err := range map[string]error{
			"get":    errOf(rsc.Incident(ctx, theirs.ID)),
			"update": errOf(rsc.UpdateIncident(ctx, theirs.ID, rita, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged})),
			"note":   errOf(rsc.AddIncidentNote(ctx, theirs.ID, rita, "x")),
			"alerts": errOf(rsc.Alerts(ctx, sqlstore.AlertQuery{IncidentID: theirs.ID, Page: sqlstore.Page{Limit: 1}})),
			"log":    errOf(rsc.LogEntries(ctx, sqlstore.LogEntryQuery{IncidentID: theirs.ID, Page: sqlstore.Page{Limit: 1}})),
		} {
			if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
				t.Errorf("%s of another team's incident: %v, want 2100", name, err)
			}
		}
		_, err := rsc.CreateIncident(ctx, rita, &gatehouse.ManualIncident{Title: "x", ServiceID: f.svc.ID})
		wantProblem(t, err, gatehouse.CodeInvalidInput, "Service "+f.svc.ID+" not found in this account")
		mustUpdateIncident(t, rsc, mine.ID, rita, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged})
		entries, err := rsc.LogEntries(ctx, sqlstore.LogEntryQuery{Page: sqlstore.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		for _, le := range entries.Items {
			if le.IncidentID != mine.ID {
				t.Errorf("rita sees a log entry of incident %s", le.IncidentID)
			}
		}
	})
}

func errOf[T any](_ T, err error) error { return err }

func TestIncidentRelations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		ctx := context.Background()
		f := newEventsFixture(t, cfg, storetest.ServiceOptions{})
		sc := f.scope()
		mustAppend(t, f.s, alertEvent(f.svc, gatehouse.EventTrigger, "disk"), alertEvent(f.svc, gatehouse.EventAcknowledge, "disk"))
		mustApplyAll(t, f.s)
		inc := mustIncidents(t, sc, sqlstore.IncidentQuery{})[0]
		entries, _ := sc.IncidentLogEntries(ctx, inc.ID)
		alerts, _ := sc.IncidentAlerts(ctx, inc.ID)
		rel, err := sc.IncidentRelations(ctx, sqlstore.Related{Incidents: []*gatehouse.Incident{inc}, LogEntries: entries, Alerts: alerts})
		if err != nil {
			t.Fatal(err)
		}
		want := &sqlstore.IncidentRelations{
			Users:         map[string]string{f.alice.ID: "alice", f.owner.ID: "Owner"},
			Services:      map[string]string{f.svc.ID: "Checkout"},
			Policies:      map[string]string{f.svc.PolicyID: "Checkout policy"},
			Teams:         map[string]string{},
			Integrations:  map[string]sqlstore.IntegrationName{f.svc.IntegrationID: {Name: "Checkout integration", Type: "events_api_v2_inbound_integration", ServiceID: f.svc.ID}},
			PolicyTeams:   map[string][]string{},
			FirstTriggers: map[string]string{inc.ID: entries[0].ID},
			AssignedAt:    map[string]time.Time{inc.ID: inc.CreatedAt},
			Incidents:     map[string]*gatehouse.Incident{inc.ID: inc},
		}
		if diff := cmp.Diff(want, rel); diff != "" {
			t.Errorf("IncidentRelations (-want +got):\n%s", diff)
		}
	})
}
