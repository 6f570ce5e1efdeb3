package restapi

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

type decodeTarget struct {
	Name    string          `json:"name"`
	Count   int             `json:"count"`
	Enabled bool            `json:"enabled"`
	Timeout opt[*int]       `json:"timeout"`
	Teams   []reference     `json:"teams"`
	Rule    struct{ A int } `json:"rule"`
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     *decodeTarget
		problems []string
	}{
		{"fields", `{"thing":{"name":"a","count":2,"enabled":true,"unknown":[1],"id":"ignored"}}`,
			&decodeTarget{Name: "a", Count: 2, Enabled: true}, nil},
		{"null optional", `{"thing":{"timeout":null}}`, &decodeTarget{Timeout: opt[*int]{Set: true, Null: true}}, nil},
		{"every wrong type is a line", `{"thing":{"name":1,"count":"2","enabled":"yes","teams":{},"rule":{"A":"x"}}}`, nil, []string{
			"thing.name must be a string, not a number",
			"thing.count must be an integer, not a string",
			"thing.enabled must be a boolean, not a string",
			"thing.teams must be an array, not an object",
			"thing.rule.A must be an integer, not a string",
		}},
		{"fraction for an integer", `{"thing":{"count":1.5}}`, nil, []string{"thing.count must be an integer, not a number 1.5"}},
		{"not wrapped", `{"name":"a","other":{}}`, &decodeTarget{Name: "a"}, nil},
		{"not wrapped, wrong type", `{"name":1}`, nil, []string{"body.name must be a string, not a number"}},
		{"null wrapper", `{"thing":null}`, nil, []string{`thing must be an object, not null`}},
		{"wrapper not an object", `{"thing":[1]}`, nil, []string{"thing must be an object"}},
		{"empty body", ``, nil, []string{"The request body is empty; it must be a JSON object"}},
		{"array body", `[1]`, nil, []string{"The request body must be a JSON object"}},
		{"malformed", `{"thing":`, nil, []string{"The request body is not valid JSON: unexpected end of JSON input"}},
		{"oversize", `{"thing":{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}}`, nil, []string{"The request body must be at most 1048576 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &request{http: httptest.NewRequest("POST", "/things", strings.NewReader(tt.body))}
			got, err := decode[decodeTarget](r, "thing")
			if tt.problems != nil {
				e, ok := err.(*gatehouse.Error)
				if !ok || e.Code != gatehouse.CodeInvalidInput {
					t.Fatalf("decode(%s) = %v, want a 2001 error", tt.body, err)
				}
				if diff := cmp.Diff(tt.problems, e.Errors); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode(%s): %v", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(opt[*int]{})); diff != "" {
				t.Errorf("decode(%s) (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query   string
		want    sqlstore.Page
		problem string
	}{
		{"", sqlstore.Page{Limit: 25}, ""},
		{"limit=100&offset=50&total=true", sqlstore.Page{Limit: 100, Offset: 50, Total: true}, ""},
		{"limit=500", sqlstore.Page{Limit: 100}, ""},
		{"limit=0", sqlstore.Page{}, `limit must be a positive integer, not "0"`},
		{"limit=ten", sqlstore.Page{}, `limit must be a positive integer, not "ten"`},
		{"offset=-1", sqlstore.Page{}, `offset must be a non-negative integer, not "-1"`},
		{"total=maybe", sqlstore.Page{}, `total must be true or false, not "maybe"`},
		{"offset=9975", sqlstore.Page{Limit: 25, Offset: 9975}, ""},
		{"offset=9976", sqlstore.Page{}, "Offset+limit must be at most 10000; use filters to narrow the list"},
	}
	for _, tt := range tests {
		r := &request{http: httptest.NewRequest("GET", "/users?"+tt.query, nil)}
		got, err := r.page()
		if tt.problem != "" {
			if e, ok := err.(*gatehouse.Error); !ok || !slices.Equal(e.Errors, []string{tt.problem}) {
				t.Errorf("page(%q) error = %v, want %q", tt.query, err, tt.problem)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("page(%q) = %+v, %v, want %+v", tt.query, got, err, tt.want)
		}
	}
}

func TestListJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		l    list
		want string
	}{
		{list{key: "users", items: []string{"a"}, page: sqlstore.Page{Limit: 25}, more: true}, `{"users":["a"],"limit":25,"offset":0,"more":true,"total":null}`},
		{list{key: "teams", items: []string{}, page: sqlstore.Page{Limit: 10, Offset: 20, Total: true}, total: 20}, `{"teams":[],"limit":10,"offset":20,"more":false,"total":20}`},
	} {
		got, err := json.Marshal(tt.l)
		if err != nil || string(got) != tt.want {
			t.Errorf("json.Marshal(%+v) = %s, %v, want %s", tt.l, got, err, tt.want)
		}
	}
}

func TestIncludesAndValues(t *testing.T) {
	t.Parallel()
	r := &request{http: httptest.NewRequest("GET", "/services?include[]=teams&include=integrations&team_ids[]=P1&team_ids[]=P2", nil)}
	if got := r.includes(); !got["teams"] || !got["integrations"] || len(got) != 2 {
		t.Errorf("includes() = %v, want teams and integrations", got)
	}
	if got := r.values("team_ids"); !slices.Equal(got, []string{"P1", "P2"}) {
		t.Errorf("values(team_ids) = %q", got)
	}
}
