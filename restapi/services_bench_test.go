package restapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// BenchmarkListServices is an authenticated GET
// /services?include[]=integrations&limit=100 on an account of 1 000
// services with an integration each, through the whole front door on
// SQLite; bench/services-load.sh measures it over HTTP against a bare
// handler.
func BenchmarkListServices(b *testing.B) {
	srv, req := listServicesServer(b)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}

// listServicesServer is a server whose account has 1 000 services with an
// integration each, and the request of their first page with integrations.
func listServicesServer(b *testing.B) (*Server, *http.Request) {
	b.Helper()
	srv, store, a, owner, header := realBenchServer(b)
	sc := store.Scope(a.ID, sqlstore.CLI(a))
	policy := storetest.MustCreatePolicy(b, store, a, "Policy", owner, nil).ID
	for i := range 1000 {
		s := &gatehouse.Service{Name: fmt.Sprintf("service %04d", i), EscalationPolicy: gatehouse.Ref{ID: policy}}
		if err := sc.CreateService(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		if err := sc.CreateIntegration(context.Background(), s.ID, &gatehouse.Integration{Type: gatehouse.IntegrationEventsV2}); err != nil {
			b.Fatal(err)
		}
	}
	req := httptest.NewRequest("GET", "/services?include%5B%5D=integrations&limit=100", nil)
	req.Header["Authorization"] = header
	return srv, req
}

// realBenchServer returns a server on a real store with an account, its
// owner and a full general key, which it has cached.
func realBenchServer(b *testing.B) (*Server, *sqlstore.Store, *gatehouse.Account, *gatehouse.User, []string) {
	b.Helper()
	store := storetest.OpenSQLite(b)
	a, owner := storetest.MustCreateAccount(b, store, "bench", gatehouse.PlanBusiness)
	key, _ := mustKey(b, store, a, nil, false)
	srv := New(Config{Store: store})
	srv.keys.TrustUntil(time.Now().Add(time.Hour))
	header := []string{token(key)}
	if _, _, err := srv.authenticate(context.Background(), header, time.Now(), netip.MustParseAddr("192.0.2.1")); err != nil {
		b.Fatal(err)
	}
	return srv, store, a, owner, header
}

// BenchmarkCreateService is an authenticated POST /services on SQLite, one
// transaction with its audit record and change row per request.
func BenchmarkCreateService(b *testing.B) {
	srv, store, a, owner, header := realBenchServer(b)
	policy := storetest.MustCreatePolicy(b, store, a, "Policy", owner, nil).ID
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest("POST", "/services", strings.NewReader(fmt.Sprintf(`{"service":{"name":"service %d","escalation_policy":{"id":"%s"}}}`, i, policy)))
		req.Header["Authorization"] = header
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}
