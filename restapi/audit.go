package restapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// The audit trail's date range: 24 hours unless asked otherwise, at most 31
// days, as PagerDuty's.
const (
	defaultAuditRange = 24 * time.Hour
	maxAuditRange     = 31 * 24 * time.Hour
)

// rootTypes maps root_resource_types[] values to the reference types of
// root resources.
var rootTypes = map[string]string{
	"users":               "user_reference",
	"teams":               "team_reference",
	"escalation_policies": "escalation_policy_reference",
	"services":            "service_reference",
	"schedules":           "schedule_reference",
	"ip_allow_lists":      "ip_allow_list_reference",
}

// auditRecordBody is PagerDuty's AuditRecord.
type auditRecordBody struct {
	ID               string           `json:"id"`
	Self             *string          `json:"self"`
	ExecutionTime    string           `json:"execution_time"`
	ExecutionContext executionContext `json:"execution_context"`
	Actors           []reference      `json:"actors"`
	Method           auditMethodBody  `json:"method"`
	RootResource     reference        `json:"root_resource"`
	Action           string           `json:"action"`
	Details          auditDetails     `json:"details"`
}

type executionContext struct {
	RequestID     *string `json:"request_id"`
	RemoteAddress *string `json:"remote_address"`
}

type auditMethodBody struct {
	Type           string  `json:"type"`
	TruncatedToken *string `json:"truncated_token,omitempty"`
	Description    *string `json:"description,omitempty"`
}

type auditDetails struct {
	Resource   reference              `json:"resource"`
	Fields     []gatehouse.AuditField `json:"fields"`
	References []auditReferenceBody   `json:"references"`
}

type auditReferenceBody struct {
	Name    string      `json:"name"`
	Added   []reference `json:"added,omitempty"`
	Removed []reference `json:"removed,omitempty"`
}

// auditTimeFormat is ISO 8601 with milliseconds, as PagerDuty writes
// execution_time.
const auditTimeFormat = "2006-01-02T15:04:05.000Z07:00"

func (r *request) auditRecordBody(rec *gatehouse.AuditRecord) auditRecordBody {
	b := auditRecordBody{
		ID:            rec.ID,
		ExecutionTime: rec.ExecutionTime.UTC().Format(auditTimeFormat),
		ExecutionContext: executionContext{
			RequestID: nonEmpty(rec.RequestID), RemoteAddress: nonEmpty(rec.RemoteAddress),
		},
		Actors:       []reference{},
		Method:       auditMethodBody{Type: rec.Method.Type, TruncatedToken: nonEmpty(rec.Method.TruncatedToken), Description: nonEmpty(rec.Method.Description)},
		RootResource: r.refOf(rec.RootResource),
		Action:       rec.Action,
		Details:      auditDetails{Fields: rec.Fields, References: []auditReferenceBody{}},
	}
	if rec.Actor.Type != gatehouse.CLIActor.Type {
		b.Actors = append(b.Actors, r.refOf(gatehouse.Ref(rec.Actor)))
	}
	if b.Details.Fields == nil {
		b.Details.Fields = []gatehouse.AuditField{}
	}
	b.Details.Resource = b.RootResource
	for _, ref := range rec.References {
		body := auditReferenceBody{Name: ref.Name}
		for _, a := range ref.Added {
			body.Added = append(body.Added, r.refOf(a))
		}
		for _, a := range ref.Removed {
			body.Removed = append(body.Removed, r.refOf(a))
		}
		b.Details.References = append(b.Details.References, body)
	}
	return b
}

// refOf is the reference a domain Ref stands for, with URLs when its kind
// has a place in the API.
func (r *request) refOf(ref gatehouse.Ref) reference {
	kind := strings.TrimSuffix(ref.Type, "_reference")
	if _, ok := kinds[kind]; ok {
		return r.ref(kind, ref.ID, ref.Summary)
	}
	return reference{ID: ref.ID, Type: ref.Type, Summary: ref.Summary}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// auditRecordsBody is a page of audit records with cursor pagination.
type auditRecordsBody struct {
	Records          []auditRecordBody `json:"records"`
	ResponseMetadata *struct{}         `json:"response_metadata"`
	Limit            int               `json:"limit"`
	NextCursor       *string           `json:"next_cursor"`
}

// listAuditRecords serves GET /audit/records: the account's whole trail.
func listAuditRecords(r *request) (int, any, error) {
	q, err := r.auditQuery()
	if err != nil {
		return 0, nil, err
	}
	var problems []string
	for _, v := range r.values("root_resource_types") {
		typ, ok := rootTypes[v]
		if !ok {
			problems = append(problems, fmt.Sprintf("root_resource_types[] %q is not one of users, teams, schedules, escalation_policies, services, ip_allow_lists", v))
		}
		q.RootTypes = append(q.RootTypes, typ)
	}
	q.ActorType, q.ActorID = r.query("actor_type"), r.query("actor_id")
	q.MethodType, q.TruncatedToken = r.query("method_type"), r.query("method_truncated_token")
	if q.ActorID != "" && q.ActorType == "" {
		problems = append(problems, "actor_id must be qualified by actor_type")
	}
	if q.TruncatedToken != "" && q.MethodType == "" {
		problems = append(problems, "method_truncated_token must be qualified by method_type")
	}
	if len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	return r.auditRecords(q)
}

// auditRecordsOf returns the handler of GET /<collection>/{id}/audit/records:
// the trail of one object of kind, which must exist and be visible.
func auditRecordsOf(kind string, exists func(r *request, id string) error) func(*request) (int, any, error) {
	return func(r *request) (int, any, error) {
		id := r.http.PathValue("id")
		if err := exists(r, id); err != nil {
			return 0, nil, err
		}
		q, err := r.auditQuery()
		if err != nil {
			return 0, nil, err
		}
		q.RootType, q.RootID = kind+"_reference", id
		return r.auditRecords(q)
	}
}

// auditQuery parses what every audit trail takes: limit, cursor, since,
// until and actions[].
func (r *request) auditQuery() (sqlstore.AuditQuery, error) {
	var q sqlstore.AuditQuery
	var problems []string
	if v := r.query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("limit must be a positive integer, not %q", v))
		}
		q.Limit = n
	}
	q.Cursor = r.query("cursor")
	q.Until = time.Now()
	for name, t := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if v := r.query(name); v != "" {
			parsed, err := time.Parse(time.RFC3339, v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s must be a date and time such as 2026-01-02T15:04:05Z, not %q", name, v))
			}
			*t = parsed
		}
	}
	if q.Since.IsZero() {
		q.Since = q.Until.Add(-defaultAuditRange)
	}
	if len(problems) == 0 {
		switch {
		case !q.Since.Before(q.Until):
			problems = append(problems, "since must be before until")
		case q.Until.Sub(q.Since) > maxAuditRange:
			problems = append(problems, "until may not be more than 31 days after since")
		}
	}
	for _, a := range r.values("actions") {
		switch a {
		case "create", "update", "delete":
		default:
			problems = append(problems, fmt.Sprintf("actions[] %q is not one of create, update, delete", a))
		}
		q.Actions = append(q.Actions, a)
	}
	if len(problems) > 0 {
		return q, gatehouse.InvalidInput(problems...)
	}
	return q, nil
}

func (r *request) auditRecords(q sqlstore.AuditQuery) (int, any, error) {
	records, next, err := r.store.AuditRecords(r.ctx, r.principal.Account.ID, q)
	if err != nil {
		return 0, nil, err
	}
	body := auditRecordsBody{Records: make([]auditRecordBody, len(records)), Limit: effectiveAuditLimit(q.Limit), NextCursor: nonEmpty(next)}
	for i, rec := range records {
		body.Records[i] = r.auditRecordBody(rec)
	}
	return http.StatusOK, body, nil
}

// effectiveAuditLimit is the page size AuditRecords used for limit.
func effectiveAuditLimit(limit int) int {
	switch {
	case limit == 0:
		return 25
	case limit > 100:
		return 100
	}
	return limit
}

// teamExists is the check of GET /teams/{id}/audit/records.
func teamExists(r *request, id string) error {
	_, err := r.scope().Team(r.ctx, id)
	return err
}

// userExists is the check of GET /users/{id}/audit/records.
func userExists(r *request, id string) error {
	_, err := r.scope().User(r.ctx, id)
	return err
}
