package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// alertBody is PagerDuty's Alert object.
type alertBody struct {
	ID          string        `json:"id"`
	Type        string        `json:"type"`
	Summary     string        `json:"summary"`
	Self        string        `json:"self"`
	HTMLURL     string        `json:"html_url"`
	CreatedAt   string        `json:"created_at"`
	Status      string        `json:"status"`
	AlertKey    string        `json:"alert_key"`
	Service     any           `json:"service"`
	Incident    any           `json:"incident"`
	Suppressed  bool          `json:"suppressed"`
	Severity    string        `json:"severity"`
	Integration any           `json:"integration"`
	Body        alertBodyBody `json:"body"`
}

// alertBodyBody is an alert's body: what its trigger said.
type alertBodyBody struct {
	Type     string          `json:"type"`
	Contexts []contextBody   `json:"contexts"`
	Details  json.RawMessage `json:"details,omitempty"`
	// CEFDetails is the trigger in PagerDuty's Common Event Format.
	CEFDetails cefBody `json:"cef_details"`
}

type cefBody struct {
	Summary       string `json:"summary,omitempty"`
	Source        string `json:"source_origin,omitempty"`
	Severity      string `json:"severity,omitempty"`
	Component     string `json:"source_component,omitempty"`
	Group         string `json:"service_group,omitempty"`
	Class         string `json:"event_class,omitempty"`
	Client        string `json:"client,omitempty"`
	ClientURL     string `json:"client_url,omitempty"`
	EventAction   string `json:"event_action,omitempty"`
	DedupKey      string `json:"dedup_key,omitempty"`
	Timestamp     string `json:"creation_time,omitempty"`
	ServiceID     string `json:"service_id,omitempty"`
	IntegrationID string `json:"integration_id,omitempty"`
}

func (v *incidentView) alertBody(a *gatehouse.Alert) alertBody {
	ref := v.r.nestedRef("incident", a.IncidentID, "alert", "alerts", a.ID, a.Summary)
	c := a.Body.CEF
	b := alertBody{
		ID: a.ID, Type: "alert", Summary: a.Summary, Self: ref.Self, HTMLURL: ref.HTMLURL,
		CreatedAt: v.time(a.CreatedAt), Status: string(a.Status), AlertKey: a.AlertKey,
		Service: v.service(a.ServiceID), Incident: v.incidentRef(a.IncidentID), Severity: string(a.Severity),
		Integration: v.integration(a.IntegrationID, a.ServiceID),
		Body: alertBodyBody{Type: "alert_body", Contexts: contextBodies(a.Body.Contexts), Details: a.Body.Details,
			CEFDetails: cefBody{
				Summary: c.Summary, Source: c.Source, Severity: string(c.Severity), Component: c.Component, Group: c.Group,
				Class: c.Class, Client: c.Client, ClientURL: c.ClientURL, EventAction: string(c.EventAction), DedupKey: c.DedupKey,
				ServiceID: c.ServiceID, IntegrationID: c.IntegrationID,
			}},
	}
	if !c.Timestamp.IsZero() {
		b.Body.CEFDetails.Timestamp = v.time(c.Timestamp)
	}
	return b
}

// integration is the reference to an integration of a service: of its own
// type, or inbound_integration_reference once it is deleted.
func (v *incidentView) integration(id, serviceID string) reference {
	in, ok := v.rel.Integrations[id]
	typ := "inbound_integration"
	if ok {
		typ, serviceID = in.Type, in.ServiceID
	}
	return v.r.nestedRef("service", serviceID, typ, "integrations", id, in.Name)
}

// alertQuery reads GET /incidents/{id}/alerts' filters, sort and page.
func (r *request) alertQuery() (sqlstore.AlertQuery, error) {
	q := sqlstore.AlertQuery{IncidentID: r.http.PathValue("id"), AlertKey: r.query("alert_key")}
	var problems []string
	for _, s := range r.values("statuses") {
		if s != string(gatehouse.AlertTriggered) && s != string(gatehouse.AlertResolved) {
			problems = append(problems, fmt.Sprintf("statuses[] %q is not one of triggered, resolved", s))
		}
		q.Statuses = append(q.Statuses, gatehouse.AlertStatus(s))
	}
	if v := r.query("sort_by"); v != "" {
		field, dir, _ := strings.Cut(v, ":")
		if (field != "created_at" && field != "resolved_at") || (dir != "" && dir != "asc" && dir != "desc") {
			problems = append(problems, fmt.Sprintf("sort_by %q is not one of created_at, resolved_at, each with :asc or :desc", v))
		}
		q.SortBy, q.Descending = field, dir == "desc"
	}
	var err error
	if q.Page, err = r.page(); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if len(problems) > 0 {
		return q, gatehouse.InvalidInput(problems...)
	}
	return q, nil
}

func listIncidentAlerts(r *request) (int, any, error) {
	q, err := r.alertQuery()
	if err != nil {
		return 0, nil, err
	}
	alerts, err := r.scope().Alerts(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.alertBodies(alerts.Items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list{key: "alerts", items: bodies, page: q.Page, more: alerts.More, total: alerts.Total}, nil
}

// alertBodies are the Alert objects of alerts, as include[] asks.
func (r *request) alertBodies(alerts []*gatehouse.Alert) ([]alertBody, error) {
	v, err := r.newIncidentView(time.UTC, sqlstore.Related{Alerts: alerts}, "alerts")
	if err != nil {
		return nil, err
	}
	bodies := make([]alertBody, len(alerts))
	for i, a := range alerts {
		bodies[i] = v.alertBody(a)
	}
	return bodies, nil
}

func getIncidentAlert(r *request) (int, any, error) {
	a, err := r.scope().Alert(r.ctx, r.http.PathValue("id"), r.http.PathValue("alert_id"))
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.alertBodies([]*gatehouse.Alert{a})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]alertBody{"alert": bodies[0]}, nil
}

// alertInput is an Alert in a request body: its status, and the incident
// the client says it belongs to.
type alertInput struct {
	ID       opt[string]   `json:"id"`
	Type     opt[string]   `json:"type"`
	Status   opt[string]   `json:"status"`
	Incident opt[refInput] `json:"incident"`
}

func (in *alertInput) update(id string) gatehouse.AlertUpdate {
	if id == "" {
		id = in.ID.Value
	}
	return gatehouse.AlertUpdate{ID: id, Status: gatehouse.AlertStatus(in.Status.Value), IncidentID: in.Incident.Value.ID}
}

func updateIncidentAlert(r *request) (int, any, error) {
	in, err := decode[alertInput](r, "alert")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	alerts, err := r.scope().UpdateAlerts(r.ctx, r.http.PathValue("id"), by, []gatehouse.AlertUpdate{in.update(r.http.PathValue("alert_id"))})
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.alertBodies(alerts)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]alertBody{"alert": bodies[0]}, nil
}

func updateIncidentAlerts(r *request) (int, any, error) {
	inputs, err := decodeList[alertInput](r, "alerts")
	if err != nil {
		return 0, nil, err
	}
	by, err := r.actingUser()
	if err != nil {
		return 0, nil, err
	}
	updates := make([]gatehouse.AlertUpdate, len(inputs))
	var problems []string
	for i, in := range inputs {
		if in.ID.Value == "" {
			problems = append(problems, fmt.Sprintf("alerts[%d].id must be given", i))
		}
		updates[i] = in.update("")
	}
	if len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	alerts, err := r.scope().UpdateAlerts(r.ctx, r.http.PathValue("id"), by, updates)
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.alertBodies(alerts)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list{key: "alerts", items: bodies, page: sqlstore.Page{Limit: max(len(bodies), 1)}}, nil
}
