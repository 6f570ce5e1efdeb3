package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// changeEventBody is PagerDuty's ChangeEvent object.
type changeEventBody struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Summary       string          `json:"summary"`
	Self          string          `json:"self"`
	HTMLURL       string          `json:"html_url"`
	Timestamp     string          `json:"timestamp"`
	Source        string          `json:"source"`
	Services      []reference     `json:"services"`
	Integration   reference       `json:"integration"`
	CustomDetails json.RawMessage `json:"custom_details,omitempty"`
	Links         []linkBody      `json:"links"`
	Images        []imageBody     `json:"images"`
}

type linkBody struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

type imageBody struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

func (v *incidentView) changeEventBody(c *gatehouse.ChangeEvent) changeEventBody {
	b := changeEventBody{
		ID: c.ID, Type: "change_event", Summary: c.Summary, Self: v.r.self("change_event", c.ID), HTMLURL: v.r.htmlURL("change_event", c.ID),
		Timestamp: v.time(c.Timestamp), Source: c.Source,
		Services:      []reference{v.r.ref("service", c.ServiceID, v.rel.Services[c.ServiceID])},
		Integration:   v.integration(c.IntegrationID, c.ServiceID),
		CustomDetails: c.CustomDetails,
		Links:         make([]linkBody, len(c.Links)),
		Images:        make([]imageBody, len(c.Images)),
	}
	for i, l := range c.Links {
		b.Links[i] = linkBody(l)
	}
	for i, img := range c.Images {
		b.Images[i] = imageBody(img)
	}
	return b
}

// changeEventTime reads since or until: PagerDuty takes UTC times only,
// and refuses others with a 400.
func (r *request) changeEventTime(name string) (time.Time, error) {
	v := r.query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, gatehouse.InvalidInput(fmt.Sprintf("%s %q is not a UTC date and time in ISO 8601, such as 2025-07-17T08:42:58Z", name, v))
	}
	if _, offset := t.Zone(); offset != 0 {
		return time.Time{}, gatehouse.InvalidInput(fmt.Sprintf("%s %q must be in UTC, such as 2025-07-17T08:42:58Z", name, v))
	}
	return t, nil
}

// changeEventList answers a page of change events, those of the service
// with serviceID when it is not empty.
func (r *request) changeEventList(serviceID string) (int, any, error) {
	q := sqlstore.ChangeEventQuery{TeamIDs: r.values("team_ids"), IntegrationIDs: r.values("integration_ids")}
	if serviceID != "" {
		q.ServiceIDs = []string{serviceID}
	}
	var problems []string
	var err error
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if *t.dst, err = r.changeEventTime(t.name); err != nil {
			problems = append(problems, errorLines(err)...)
		}
	}
	if q.Page, err = r.page(); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if len(problems) > 0 {
		return 0, nil, gatehouse.InvalidInput(problems...)
	}
	changes, err := r.scope().ChangeEvents(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(time.UTC, sqlstore.Related{ChangeEvents: changes.Items}, "")
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]changeEventBody, len(changes.Items))
	for i, c := range changes.Items {
		bodies[i] = v.changeEventBody(c)
	}
	return http.StatusOK, list{key: "change_events", items: bodies, page: q.Page, more: changes.More, total: changes.Total}, nil
}

func listChangeEvents(r *request) (int, any, error) {
	return r.changeEventList("")
}

func listServiceChangeEvents(r *request) (int, any, error) {
	id := r.http.PathValue("id")
	if _, err := r.scope().Service(r.ctx, id); err != nil {
		return 0, nil, err
	}
	return r.changeEventList(id)
}

func getChangeEvent(r *request) (int, any, error) {
	c, err := r.scope().ChangeEvent(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(time.UTC, sqlstore.Related{ChangeEvents: []*gatehouse.ChangeEvent{c}}, "")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]changeEventBody{"change_event": v.changeEventBody(c)}, nil
}
