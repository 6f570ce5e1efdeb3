package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// BenchmarkAppendEvents commits batches of events to the event log on
// SQLite, as the group-commit writer does: the cost of one commit, and so
// the most events a second a given batch size allows.
func BenchmarkAppendEvents(b *testing.B) {
	for _, n := range []int{1, 32, 128} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			cfg := storetest.Config(b, "sqlite")
			s := storetest.Open(b, cfg)
			a, owner := storetest.MustCreateAccount(b, s, "acme", gatehouse.PlanBusiness)
			svc := storetest.MustCreateService(b, cfg, a.ID, "Checkout", storetest.ServiceOptions{Targets: []*gatehouse.User{owner}})
			batch := make([]*gatehouse.Event, n)
			for i := range batch {
				batch[i] = alertEvent(svc, gatehouse.EventTrigger, fmt.Sprintf("key-%d", i))
			}
			ctx := context.Background()
			for b.Loop() {
				if err := s.AppendEvents(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
