package restapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	srv, headers := benchServer(b, 1)
	store := srv.cfg.Store.(*sqlstore.Store)
	a, err := store.AccountBySubdomain(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	sc := store.Scope(a.ID, sqlstore.CLI(a))
	owner, err := store.UserByEmail(context.Background(), a.ID, "owner@bench.example.com")
	if err != nil {
		b.Fatal(err)
	}
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
	req.Header["Authorization"] = headers[0]
	return srv, req
}

// BenchmarkCreateService is an authenticated POST /services on SQLite, one
// transaction with its audit record and change row per request.
func BenchmarkCreateService(b *testing.B) {
	srv, headers := benchServer(b, 1)
	store := srv.cfg.Store.(*sqlstore.Store)
	a, err := store.AccountBySubdomain(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	owner, err := store.UserByEmail(context.Background(), a.ID, "owner@bench.example.com")
	if err != nil {
		b.Fatal(err)
	}
	policy := storetest.MustCreatePolicy(b, store, a, "Policy", owner, nil).ID
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest("POST", "/services", strings.NewReader(fmt.Sprintf(`{"service":{"name":"service %d","escalation_policy":{"id":"%s"}}}`, i, policy)))
		req.Header["Authorization"] = headers[0]
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
}
