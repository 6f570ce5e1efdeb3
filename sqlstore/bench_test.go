package sqlstore_test

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// BenchmarkUserByID is a one-row read, with its deadline and the settling
// of its error.
func BenchmarkUserByID(b *testing.B) {
	s := storetest.OpenSQLite(b)
	a, owner := storetest.MustCreateAccount(b, s, "acme", gatehouse.PlanBusiness)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UserByID(ctx, a.ID, owner.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateUser is a write transaction.
func BenchmarkCreateUser(b *testing.B) {
	s := storetest.OpenSQLite(b)
	a, _ := storetest.MustCreateAccount(b, s, "acme", gatehouse.PlanBusiness)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		u := &gatehouse.User{AccountID: a.ID, Email: gatehouse.NewID() + "@example.com", Name: "U", Role: gatehouse.RoleUser}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}
