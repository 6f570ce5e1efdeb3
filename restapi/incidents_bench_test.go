package restapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// incidentsServer is a server whose account has 300 incidents on 10
// services, each acknowledged with a note, and the owner's From header.
func incidentsServer(b *testing.B) (*Server, []string, string) {
	b.Helper()
	ctx := context.Background()
	store := storetest.OpenSQLite(b)
	a, _ := storetest.MustCreateAccount(b, store, "bench", gatehouse.PlanBusiness)
	key, _ := mustKey(b, store, a, nil, false)
	srv := New(Config{Store: store})
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	sc := store.Scope(a.ID, sqlstore.CLI(a))
	owner, err := store.UserByEmail(ctx, a.ID, "owner@bench.example.com")
	if err != nil {
		b.Fatal(err)
	}
	policy := storetest.MustCreatePolicy(b, store, a, "Policy", owner, nil).ID
	var services []string
	for i := range 10 {
		s := &gatehouse.Service{Name: fmt.Sprintf("service %d", i), EscalationPolicy: gatehouse.Ref{ID: policy}}
		if err := sc.CreateService(ctx, s); err != nil {
			b.Fatal(err)
		}
		services = append(services, s.ID)
	}
	for i := range 300 {
		inc, err := sc.CreateIncident(ctx, owner, &gatehouse.ManualIncident{Title: fmt.Sprintf("Incident %d", i), ServiceID: services[i%10]})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sc.UpdateIncident(ctx, inc.ID, owner, gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged}); err != nil {
			b.Fatal(err)
		}
		if _, err := sc.AddIncidentNote(ctx, inc.ID, owner, "On it"); err != nil {
			b.Fatal(err)
		}
	}
	return srv, []string{token(key)}, owner.Email
}

// BenchmarkListIncidents is an authenticated GET /incidents of a page of
// 100 incidents with their references named (one query per kind of
// object, whatever the page's size), through the whole front door on
// SQLite; BenchmarkListIncidentLogEntries the account's log entries,
// likewise.
func BenchmarkListIncidents(b *testing.B) {
	benchmarkGet(b, "/incidents?limit=100&date_range=all")
}

func BenchmarkListIncidentsIncluded(b *testing.B) {
	benchmarkGet(b, "/incidents?limit=100&date_range=all&include%5B%5D=services&include%5B%5D=assignees&include%5B%5D=first_trigger_log_entries")
}

func BenchmarkListLogEntries(b *testing.B) {
	benchmarkGet(b, "/log_entries?limit=100")
}

func benchmarkGet(b *testing.B, path string) {
	srv, auth, _ := incidentsServer(b)
	req := httptest.NewRequest("GET", path, nil)
	req.Header["Authorization"] = auth
	mustAnswer(b, srv, req, http.StatusOK)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}

// BenchmarkUpdateIncident is an authenticated PUT /incidents/{id} that
// changes an incident's urgency, one transaction with its log entry per
// request, on SQLite.
func BenchmarkUpdateIncident(b *testing.B) {
	srv, auth, from := incidentsServer(b)
	first := httptest.NewRequest("PUT", "/incidents/1", strings.NewReader(`{"incident":{"type":"incident_reference","title":"First"}}`))
	first.Header["Authorization"] = auth
	first.Header.Set("From", from)
	mustAnswer(b, srv, first, http.StatusOK)
	w := &discardWriter{h: http.Header{}}
	urgencies := []string{"low", "high"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest("PUT", "/incidents/1", strings.NewReader(`{"incident":{"type":"incident_reference","urgency":"`+urgencies[i%2]+`"}}`))
		req.Header["Authorization"] = auth
		req.Header.Set("From", from)
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}

// mustAnswer fails the benchmark unless srv answers req with status: a
// benchmark of errors measures nothing.
func mustAnswer(b *testing.B, srv *Server, req *http.Request, status int) {
	b.Helper()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != status {
		b.Fatalf("%s %s = %d %s, want %d", req.Method, req.URL, rec.Code, rec.Body, status)
	}
}
