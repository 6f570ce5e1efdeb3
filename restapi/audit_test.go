package restapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func TestAuditRecordsAPI(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	acme, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	other, _ := storetest.MustCreateAccount(t, s, "other", gatehouse.PlanBusiness)
	key, k := mustKey(t, s, acme, nil, false) // a key lifecycle record, by the CLI
	otherKey, _ := mustKey(t, s, other, nil, false)
	ada := storetest.MustCreateUser(t, s, acme, "ada", gatehouse.RoleUser)
	adaToken, _ := mustKey(t, s, acme, ada, false)
	f := newFixture(t, s)

	team := decodeBody[struct{ Team struct{ ID string } }](t, f.send(t, "POST", "/teams", token(adaToken), `{"team":{"name":"Ops"}}`), 201).Team
	decodeBody[struct{}](t, f.send(t, "PUT", "/teams/"+team.ID, token(key), `{"team":{"description":"On call"}}`), 200)

	type ref struct{ ID, Type, Summary, Self string }
	type record struct {
		ID, Action       string
		ExecutionTime    string `json:"execution_time"`
		ExecutionContext struct {
			RequestID     *string `json:"request_id"`
			RemoteAddress *string `json:"remote_address"`
		} `json:"execution_context"`
		Actors []ref
		Method struct {
			Type           string
			TruncatedToken *string `json:"truncated_token"`
			Description    *string
		}
		RootResource ref `json:"root_resource"`
		Details      struct {
			Fields []gatehouse.AuditField
		}
	}
	type page struct {
		Records    []record
		Limit      int
		NextCursor *string `json:"next_cursor"`
	}
	all := decodeBody[page](t, f.do(t, "GET", "/audit/records", token(key)), 200)
	if len(all.Records) != 5 || all.Limit != 25 || all.NextCursor != nil {
		t.Fatalf("GET /audit/records = %d records, limit %d, cursor %v; want 5, 25, none", len(all.Records), all.Limit, all.NextCursor)
	}
	update, create := all.Records[0], all.Records[1]
	str := func(s string) *string { return &s }
	if update.Action != "update" || update.RootResource.ID != team.ID || update.RootResource.Type != "team_reference" ||
		update.RootResource.Self != f.URL+"/teams/"+team.ID || len(update.Actors) != 1 || update.Actors[0].Type != "api_key_reference" ||
		update.Actors[0].ID != k.ID || update.Method.Type != "api_token" || *update.Method.TruncatedToken != key[16:] ||
		update.ExecutionContext.RemoteAddress == nil || len(update.ExecutionTime) != len("2006-01-02T15:04:05.000Z") {
		t.Errorf("update record = %+v", update)
	}
	if diff := cmp.Diff([]gatehouse.AuditField{{Name: "description", Value: str("On call"), BeforeValue: str("")}}, update.Details.Fields); diff != "" {
		t.Errorf("update fields (-want +got):\n%s", diff)
	}
	if create.Action != "create" || len(create.Actors) != 1 || create.Actors[0].ID != ada.ID || create.Actors[0].Type != "user_reference" {
		t.Errorf("create record = %+v", create)
	}
	keyRecord := all.Records[4]
	if keyRecord.RootResource.ID != k.ID || keyRecord.Method.Type != "other" || *keyRecord.Method.Description != "gatehouse CLI" || len(keyRecord.Actors) != 0 {
		t.Errorf("key record = %+v", keyRecord)
	}

	// Filters and cursors.
	if got := decodeBody[page](t, f.do(t, "GET", "/audit/records?root_resource_types[]=teams&actions[]=create", token(key)), 200); len(got.Records) != 1 || got.Records[0].ID != create.ID {
		t.Errorf("teams created = %+v", got.Records)
	}
	first := decodeBody[page](t, f.do(t, "GET", "/audit/records?limit=3", token(key)), 200)
	if len(first.Records) != 3 || first.NextCursor == nil {
		t.Fatalf("limit 3 = %d records, cursor %v", len(first.Records), first.NextCursor)
	}
	rest := decodeBody[page](t, f.do(t, "GET", "/audit/records?limit=3&cursor="+*first.NextCursor, token(key)), 200)
	if len(rest.Records) != 2 || rest.NextCursor != nil || rest.Records[1].ID != keyRecord.ID {
		t.Errorf("second page = %+v", rest)
	}
	if got := decodeBody[page](t, f.do(t, "GET", "/teams/"+team.ID+"/audit/records", token(adaToken)), 200); len(got.Records) != 2 {
		t.Errorf("team's trail = %d records, want 2", len(got.Records))
	}
	// Older than the default 24 hours: found only by asking.
	if got := decodeBody[page](t, f.do(t, "GET", "/audit/records?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z", token(key)), 200); len(got.Records) != 0 {
		t.Errorf("records of 2020 = %d, want 0", len(got.Records))
	}

	for _, tt := range []struct {
		name, path, auth string
		status           int
		problem          string
	}{
		{"bad since", "/audit/records?since=yesterday", token(key), 400, `since must be a date and time such as 2026-01-02T15:04:05Z, not "yesterday"`},
		{"range too long", "/audit/records?since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z", token(key), 400, "until may not be more than 31 days after since"},
		{"unknown action", "/audit/records?actions[]=explode", token(key), 400, `actions[] "explode" is not one of create, update, delete`},
		{"unknown root type", "/audit/records?root_resource_types[]=planets", token(key), 400, `root_resource_types[] "planets"`},
		{"actor id alone", "/audit/records?actor_id=P123456", token(key), 400, "actor_id must be qualified by actor_type"},
		{"bad cursor", "/audit/records?cursor=nope", token(key), 400, "Invalid cursor"},
		{"a manager's token on the whole trail", "/audit/records", token(adaToken), 403, ""},
		{"another account's team", "/teams/" + team.ID + "/audit/records", token(otherKey), 404, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := wantError(t, f.do(t, "GET", tt.path, tt.auth), tt.status, map[int]int{400: 2001, 403: 2010, 404: 2100}[tt.status], "")
			if tt.problem != "" && !strings.Contains(strings.Join(errs, "\n"), tt.problem) {
				t.Errorf("errors = %q, want %q", errs, tt.problem)
			}
		})
	}
}
