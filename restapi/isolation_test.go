package restapi

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// notObjectIDs are the path parameters that name no object of an account,
// by route, and what they name instead.
var notObjectIDs = map[string]string{
	"GET /abilities/{id}": "an ability of the plan",
	"GET /vendors/{id}":   "a vendor every account shares",
}

// TestCrossAccountIsolation: with two accounts holding the same kinds of
// objects, every route that takes IDs, called with the other account's (all
// of them, or any one among the caller's own), is 404 (code 2100), never 403
// and never the other account's data; and no answer of any route, lists and
// their filters included, shows the other account's objects.
func TestCrossAccountIsolation(t *testing.T) {
	t.Parallel()
	// On both engines: PostgreSQL refuses some text SQLite takes.
	storetest.EachStore(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		f := newFixture(t, s)
		ours := newWorld(t, f, "acme", gatehouse.PlanBusiness)
		theirs := newWorld(t, f, "globex", gatehouse.PlanBusiness)
		// The credentials each route is tried with, where they may call it.
		callers := []string{fullKey, readOnlyKey, "owner", "user"}

		for _, rt := range routes {
			t.Run(rt.Pattern, func(t *testing.T) {
				t.Parallel()
				ours.wait(t)
				method, pattern := splitPattern(rt.Pattern)
				_, notObjects := notObjectIDs[rt.Pattern]
				takesIDs := placeholder.MatchString(pattern) && !notObjects
				for _, rc := range routeCases[rt.Pattern] {
					for _, name := range callers {
						c := ours.cred(name)
						if rc.want(c)/100 != 2 {
							continue
						}
						mine := rc.build(t, ours, c)
						if !takesIDs {
							r := ours.do(t, mine, c)
							if r.Status/100 != 2 {
								t.Errorf("%s %s with our %s: %d %s, want a success", mine.method, mine.path, name, r.Status, r.Body)
							}
							theirs.wantNothingOf(t, mine, r, "")
							continue
						}
						their := rc.build(t, theirs, theirs.cred(name))
						for _, path := range mixedPaths(pattern, mine.path, their.path) {
							req := call{method, path, mine.body}
							r := ours.do(t, req, c)
							wantError(t, r, 404, gatehouse.CodeNotFound, "")
							theirs.wantNothingOf(t, req, r, path)
						}
					}
				}
			})
		}

		// Filters that name the other account's objects, or its names, find
		// nothing of it.
		key := ours.cred(fullKey)
		for _, path := range []string{
			"/users?query=globex&include[]=contact_methods&include[]=teams",
			"/users?team_ids[]=" + theirs.team.ID,
			"/teams?query=globex",
			"/escalation_policies?query=globex",
			"/escalation_policies?user_ids[]=" + theirs.subject.ID + "&team_ids[]=" + theirs.team.ID,
			"/audit/records?root_resource_types[]=users&root_resource_types[]=teams&root_resource_types[]=escalation_policies&limit=100",
			"/license_allocations?limit=100",
			"/services?query=globex&include[]=integrations",
			"/services?team_ids[]=" + theirs.team.ID,
			"/incidents?date_range=all&service_ids[]=" + theirs.service.ID + "&team_ids[]=" + theirs.team.ID + "&user_ids[]=" + theirs.subject.ID,
			"/incidents?date_range=all&incident_key=" + url.QueryEscape(theirs.incident.IncidentKey),
			"/log_entries?team_ids[]=" + theirs.team.ID,
			"/change_events?team_ids[]=" + theirs.team.ID + "&integration_ids[]=" + theirs.integration.ID,
		} {
			r := ours.do(t, get(path), key)
			if r.Status != 200 {
				t.Errorf("GET %s: %d %s, want 200", path, r.Status, r.Body)
			}
			theirs.wantNothingOf(t, get(path), r, path)
		}
	})
}

// mixedPaths are the paths of a route's pattern that take the other
// account's IDs: all of them (from theirs, the path of the same call in the
// other account), and each one among ours (from mine).
func mixedPaths(pattern, mine, theirs string) []string {
	mineSegs := strings.Split(strings.SplitN(mine, "?", 2)[0], "/")
	theirSegs := strings.Split(strings.SplitN(theirs, "?", 2)[0], "/")
	var params []int
	for i, seg := range strings.Split(pattern, "/") {
		if placeholder.MatchString(seg) {
			params = append(params, i)
		}
	}
	paths := []string{strings.Join(theirSegs, "/")}
	if len(params) > 1 {
		for _, p := range params {
			mixed := slices.Clone(mineSegs)
			mixed[p] = theirSegs[p]
			paths = append(paths, strings.Join(mixed, "/"))
		}
	}
	return paths
}

// wantNothingOf fails t if the answer r to req shows anything of w: its tag
// (in every name and address of its objects) or the ID of one of its
// objects, but for those the request's path named.
func (w *world) wantNothingOf(t *testing.T, req call, r response, path string) {
	t.Helper()
	if strings.Contains(r.Body, w.tag) {
		t.Errorf("%s %s: the answer shows the %s account's data: %d %s", req.method, req.path, w.tag, r.Status, r.Body)
		return
	}
	for _, id := range w.objectIDs() {
		if strings.Contains(r.Body, id) && !strings.Contains(path, id) {
			t.Errorf("%s %s: the answer shows %s of the %s account: %d %s", req.method, req.path, id, w.tag, r.Status, r.Body)
			return
		}
	}
}
