package restapi

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// benchServer returns a server whose cache already holds n keys, and the
// Authorization headers of those keys.
func benchServer(b *testing.B, n int) (*Server, [][]string) {
	b.Helper()
	s := storetest.OpenSQLite(b)
	a, _ := storetest.MustCreateAccount(b, s, "bench", gatehouse.PlanBusiness)
	srv := New(Config{Store: s})
	close(srv.feedReady)
	headers := make([][]string, n)
	for i := range headers {
		secret := access.GenerateKey(gatehouse.KeyGeneral)
		k := &gatehouse.APIKey{ID: gatehouse.NewID(), AccountID: a.ID, Kind: gatehouse.KeyGeneral}
		srv.keys.put(access.HashKey(secret), cacheEntry{principal: access.KeyPrincipal(k, a, nil), keyID: k.ID, accountID: a.ID}, srv.keys.generation())
		headers[i] = []string{"Token token=" + secret}
	}
	return srv, headers
}

// BenchmarkVerifyKey measures the front door's key check on a cache hit:
// parse the header, hash the key, look it up.
func BenchmarkVerifyKey(b *testing.B) {
	srv, headers := benchServer(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.authenticate(ctx, headers[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyKeyRotating is BenchmarkVerifyKey over 10 000 cached keys,
// from every core.
func BenchmarkVerifyKeyRotating(b *testing.B) {
	srv, headers := benchServer(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := srv.authenticate(ctx, headers[i%len(headers)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
