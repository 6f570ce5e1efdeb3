package restapi

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// TestParametersNoObjectCanHold: a path parameter that is not UTF-8 or
// holds a NUL names no object (404), and such a query parameter is a 400,
// on every route and on both engines alike: PostgreSQL cannot take such
// text, which SQLite never matches. Such an ID in a body is a 400 too.
func TestParametersNoObjectCanHold(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		f := newFixture(t, s)
		w := newWorld(t, f, "acme", gatehouse.PlanBusiness)
		key := w.cred(fullKey)
		for _, rt := range routes {
			method, pattern := splitPattern(rt.Pattern)
			if len(routeCases[rt.Pattern]) == 0 {
				t.Errorf("%s: no entry in routeCases", rt.Pattern)
				continue
			}
			for _, bad := range []string{"P%00X", "P%FFX"} {
				if placeholder.MatchString(pattern) {
					path := placeholder.ReplaceAllString(pattern, bad)
					wantError(t, w.do(t, call{method, path, "{}"}, key), 404, gatehouse.CodeNotFound, "Not Found")
				}
				usual := routeCases[rt.Pattern][0].build(t, w, key)
				sep := "?"
				if strings.Contains(usual.path, "?") {
					sep = "&"
				}
				usual.path += sep + "query=" + bad
				wantLine(t, rt.Pattern, usual, w.do(t, usual, key), `The query parameter "query" must be UTF-8 text without NUL characters`)
			}
		}
		body := strings.Replace(newPolicyJSON(w), w.subject.ID, `P\u0000X`, 1)
		r := w.do(t, call{"POST", "/escalation_policies", body}, key)
		wantError(t, r, 400, gatehouse.CodeInvalidInput, "")
		if st := s.Stats(); st.Internal != 0 {
			t.Errorf("Stats() = %+v, want no internal errors", st)
		}
	})
}
