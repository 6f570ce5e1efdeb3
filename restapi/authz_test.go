package restapi

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// TestRouteCasesCoverEveryRoute: every route of the table says how it is
// called and who may call it (routeCases), and routeCases names no route
// the table lacks.
func TestRouteCasesCoverEveryRoute(t *testing.T) {
	t.Parallel()
	served := map[string]bool{}
	for _, rt := range routes {
		served[rt.Pattern] = true
		if len(routeCases[rt.Pattern]) == 0 {
			t.Errorf("%s: no entry in routeCases (world_test.go); add how it is called and who may call it (DESIGN §2)", rt.Pattern)
		}
	}
	for pattern := range routeCases {
		if !served[pattern] {
			t.Errorf("routeCases has %s, which no route serves", pattern)
		}
	}
}

// TestAuthorizationTable is DESIGN §2 as a table: every route, called by
// every kind of credential of a business account (the full and the
// read-only general key, and a user token of each role), answers the
// success's status or 403 (code 2010) as that credential's role allows;
// and an object outside a Restricted Access user's teams is not found for
// them (404), as if it were not there.
func TestAuthorizationTable(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	f := newFixture(t, s)
	w := newWorld(t, f, "acme", gatehouse.PlanBusiness)
	for _, rt := range routes {
		t.Run(rt.Pattern, func(t *testing.T) {
			t.Parallel()
			w.wait(t)
			for _, rc := range routeCases[rt.Pattern] {
				for _, c := range w.creds {
					req := rc.build(t, w, c)
					if method, _ := splitPattern(rt.Pattern); req.method != method {
						t.Fatalf("%s: routeCases builds a %s request", rt.Pattern, req.method)
					}
					r := w.do(t, req, c)
					want := rc.want(c)
					what := strings.TrimSpace(rc.name + " " + c.name)
					if r.Status != want {
						t.Errorf("%s %s with the %s: %d %s, want %d", req.method, req.path, what, r.Status, r.Body, want)
						continue
					}
					switch want {
					case 403:
						wantError(t, r, 403, gatehouse.CodeForbidden, "")
					case 404:
						wantError(t, r, 404, gatehouse.CodeNotFound, "")
					}
				}
			}
		})
	}
}

// TestRoutesOnPlans: what a plan lacks is refused before any route looks at
// the request: without the REST API every route is 402, without teams
// every team route is, and user tokens without advanced permissions are.
func TestRoutesOnPlans(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	f := newFixture(t, s)
	lite, _ := storetest.MustCreateAccount(t, s, "lite", gatehouse.PlanLite)
	liteKey, _ := mustKey(t, s, lite, nil, false)
	basic, _ := storetest.MustCreateAccount(t, s, "basic", gatehouse.PlanBasic)
	basicKey, _ := mustKey(t, s, basic, nil, false)
	pro, _ := storetest.MustCreateAccount(t, s, "pro", gatehouse.PlanProfessional)
	proToken, _ := mustKey(t, s, pro, storetest.MustCreateUser(t, s, pro, "ada", gatehouse.RoleAdmin), false)

	for _, rt := range routes {
		method, path := splitPattern(rt.Pattern)
		path = placeholder.ReplaceAllString(path, "PNOPE00")
		t.Run(rt.Pattern, func(t *testing.T) {
			t.Parallel()
			wantError(t, f.send(t, method, path, token(liteKey), "{}"), 402, gatehouse.CodeAbilityMissing, "The REST API is not available on the lite plan")
			wantError(t, f.send(t, method, path, token(proToken), "{}"), 402, gatehouse.CodeAbilityMissing,
				"API user tokens need Advanced Permissions, which the professional plan does not have")
			r := f.send(t, method, path, token(basicKey), "{}")
			switch {
			case rt.Ability == gatehouse.AbilityTeams:
				wantError(t, r, 402, gatehouse.CodeAbilityMissing, "The basic plan does not have the teams ability")
			case r.Status == 402:
				t.Errorf("%s %s on the basic plan, which has the REST API: %d %s", method, path, r.Status, r.Body)
			}
		})
	}
}
