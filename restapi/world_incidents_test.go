package restapi

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// incidentWorld is what a world holds of incidents, for the route tables:
// an incident of the team's service and one of another team's, each opened
// by an event (so with an alert) and with a note, and a change to each
// service.
type incidentWorld struct {
	// incident is on service, which every role sees; otherIncident on
	// otherService, hidden from the Restricted Access user.
	incident, otherIncident *gatehouse.Incident
	// alert and otherAlert are their alerts; logEntry and otherLogEntry
	// their triggers' log entries.
	alert, otherAlert       string
	logEntry, otherLogEntry string
	// change and otherChange are changes to service and otherService.
	change, otherChange string
	otherIntegration    *gatehouse.Integration
}

// responders act on incidents: Responders and above, and full general
// keys (DESIGN §2).
var responders = []string{fullKey, "owner", "admin", "user", "limited_user", "restricted_access"}

// respondersUnlessHidden is may(status, responders...) for an incident
// outside the Restricted Access user's teams, which they do not see: 404.
func respondersUnlessHidden(status int) func(credential) int {
	return func(c credential) int {
		if c.name == string(gatehouse.RoleRestrictedAccess) {
			return 404
		}
		return may(status, responders...)(c)
	}
}

// makeIncidents makes the world's incidents and change events.
func (w *world) makeIncidents(t *testing.T) {
	t.Helper()
	w.otherIntegration = w.freshIntegration(t, w.otherService)
	w.incident, w.alert = w.freshAlert(t, w.service, w.integration)
	w.otherIncident, w.otherAlert = w.freshAlert(t, w.otherService, w.otherIntegration)
	for _, inc := range []*gatehouse.Incident{w.incident, w.otherIncident} {
		n, err := w.cli.AddIncidentNote(context.Background(), inc.ID, w.subject, w.name("note"))
		if err != nil {
			t.Fatal(err)
		}
		w.record(n.ID)
	}
	w.logEntry, w.otherLogEntry = w.firstLogEntry(t, w.incident), w.firstLogEntry(t, w.otherIncident)
	w.change = w.freshChange(t, w.service, w.integration)
	w.otherChange = w.freshChange(t, w.otherService, w.otherIntegration)
}

// applied applies the event log until ok holds: on PostgreSQL another
// world's applier may hold the log for a while.
func (w *world) applied(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if _, err := w.f.store.ApplyEvents(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the event log was not applied within 10 s")
		}
	}
}

// freshAlert triggers an event through the integration of svc and returns
// the incident it opened and its alert.
func (w *world) freshAlert(t *testing.T, svc *gatehouse.Service, in *gatehouse.Integration) (*gatehouse.Incident, string) {
	t.Helper()
	ctx := context.Background()
	key := w.name("key")
	e := &gatehouse.Event{Kind: gatehouse.EventAlert, API: gatehouse.EventsAPIV2, AccountID: w.account.ID, ServiceID: svc.ID,
		IntegrationID: in.ID, ReceivedAt: time.Now(), Action: gatehouse.EventTrigger, DedupKey: key,
		Summary: w.name("alert"), Source: w.name("host"), Severity: gatehouse.SeverityCritical}
	if err := w.f.store.AppendEvents(ctx, []*gatehouse.Event{e}); err != nil {
		t.Fatal(err)
	}
	var inc *gatehouse.Incident
	w.applied(t, func() bool {
		list, err := w.cli.Incidents(ctx, sqlstore.IncidentQuery{IncidentKey: key, Page: sqlstore.Page{Limit: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 1 {
			inc = list.Items[0]
		}
		return inc != nil
	})
	alerts, err := w.cli.IncidentAlerts(ctx, inc.ID)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("the alerts of a fresh incident: %v, %v", alerts, err)
	}
	w.record(inc.ID, alerts[0].ID)
	return inc, alerts[0].ID
}

// freshIncident opens an incident by hand on svc.
func (w *world) freshIncident(t *testing.T, svc *gatehouse.Service) *gatehouse.Incident {
	t.Helper()
	inc, err := w.cli.CreateIncident(context.Background(), w.subject, &gatehouse.ManualIncident{Title: w.name("incident"), ServiceID: svc.ID})
	if err != nil {
		t.Fatalf("CreateIncident: %v", err)
	}
	w.record(inc.ID)
	return inc
}

func (w *world) firstLogEntry(t *testing.T, inc *gatehouse.Incident) string {
	t.Helper()
	entries, err := w.cli.IncidentLogEntries(context.Background(), inc.ID)
	if err != nil || len(entries) == 0 {
		t.Fatalf("the log of incident %s: %v, %v", inc.ID, entries, err)
	}
	for _, le := range entries {
		w.record(le.ID)
	}
	return entries[0].ID
}

// freshChange records a change to svc through its integration.
func (w *world) freshChange(t *testing.T, svc *gatehouse.Service, in *gatehouse.Integration) string {
	t.Helper()
	ctx := context.Background()
	summary := w.name("change")
	e := &gatehouse.Event{Kind: gatehouse.EventChange, API: gatehouse.EventsAPIV2, AccountID: w.account.ID, ServiceID: svc.ID,
		IntegrationID: in.ID, ReceivedAt: time.Now(), Summary: summary, Source: w.name("ci")}
	if err := w.f.store.AppendEvents(ctx, []*gatehouse.Event{e}); err != nil {
		t.Fatal(err)
	}
	var id string
	w.applied(t, func() bool {
		list, err := w.cli.ChangeEvents(ctx, sqlstore.ChangeEventQuery{ServiceIDs: []string{svc.ID}, Page: sqlstore.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Items {
			if c.Summary == summary {
				id = c.ID
			}
		}
		return id != ""
	})
	w.record(id)
	return id
}
