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

// atOnce runs fns at the same time, as closely as goroutines allow, and
// returns their errors in order.
func atOnce(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentPolicyWrites: writers of one escalation policy at the same
// time take turns, on PostgreSQL as on SQLite's single writer: two rules
// added at once both stay, a policy linked to two teams at once ends in
// one, and of two policies created with one name one is refused.
func TestConcurrentPolicyWrites(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		acme, owner := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
		sc := s.Scope(acme.ID, sqlstore.CLI(acme))
		ops, dbas := &gatehouse.Team{Name: "Ops"}, &gatehouse.Team{Name: "DBAs"}
		for _, team := range []*gatehouse.Team{ops, dbas} {
			if err := sc.CreateTeam(ctx, team); err != nil {
				t.Fatal(err)
			}
		}
		const runs = 20
		for run := range runs {
			p := &gatehouse.EscalationPolicy{Name: fmt.Sprintf("Policy %d", run), Rules: []gatehouse.EscalationRule{rule(5, owner)}}
			if err := sc.CreateEscalationPolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
			addRule := func(delay int) func() error {
				return func() error {
					_, err := sc.UpdateEscalationPolicy(ctx, p.ID, func(p *gatehouse.EscalationPolicy) {
						p.Rules = append(p.Rules, rule(delay, owner))
					})
					return err
				}
			}
			for _, err := range atOnce(addRule(10), addRule(20)) {
				if err != nil {
					t.Fatalf("run %d: UpdateEscalationPolicy: %v", run, err)
				}
			}
			if got := mustPolicy(t, sc, p.ID).Rules; len(got) != 3 {
				t.Errorf("run %d: %d rules after two added at once to one, want 3", run, len(got))
			}

			errs := atOnce(
				func() error { return sc.AddTeamEscalationPolicy(ctx, ops.ID, p.ID) },
				func() error { return sc.AddTeamEscalationPolicy(ctx, dbas.ID, p.ID) },
			)
			refused := 0
			for _, err := range errs {
				switch gatehouse.ErrorCode(err) {
				case gatehouse.CodeInvalidInput:
					refused++
				case gatehouse.CodeInternal:
					if err != nil {
						t.Fatalf("run %d: AddTeamEscalationPolicy: %v", run, err)
					}
				}
			}
			if teams := mustPolicy(t, sc, p.ID).Teams; len(teams) != 1 || refused != 1 {
				t.Errorf("run %d: linked to two teams at once: %d teams, %d refused (%v); want one of each", run, len(teams), refused, errs)
			}

			name := fmt.Sprintf("Same %d", run)
			create := func() error {
				return sc.CreateEscalationPolicy(ctx, &gatehouse.EscalationPolicy{Name: name, Rules: []gatehouse.EscalationRule{rule(5, owner)}})
			}
			errs = atOnce(create, create)
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Errorf("run %d: two policies named alike created at once: %v; want one made and one refused", run, errs)
			}
			for _, err := range errs {
				if err != nil {
					wantProblem(t, err, gatehouse.CodeInvalidInput, "Name has already been taken")
				}
			}
		}
	})
}
