package restapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// logEntryQuery reads the filters and page of GET /log_entries and GET
// /incidents/{id}/log_entries, and the time zone to write times in.
func (r *request) logEntryQuery(incidentID string) (sqlstore.LogEntryQuery, *time.Location, error) {
	q := sqlstore.LogEntryQuery{IncidentID: incidentID}
	if incidentID == "" {
		q.TeamIDs = r.values("team_ids")
	}
	var problems []string
	loc, err := r.timeZone()
	if err != nil {
		return q, nil, err
	}
	if q.Since, q.Until, err = r.timeRange(loc); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if v := r.query("is_overview"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("is_overview must be true or false, not %q", v))
		}
		q.Overview = b
	}
	if q.Page, err = r.page(); err != nil {
		problems = append(problems, errorLines(err)...)
	}
	if len(problems) > 0 {
		return q, nil, gatehouse.InvalidInput(problems...)
	}
	return q, loc, nil
}

func listLogEntries(r *request) (int, any, error) {
	return r.logEntryList("")
}

func listIncidentLogEntries(r *request) (int, any, error) {
	return r.logEntryList(r.http.PathValue("id"))
}

func (r *request) logEntryList(incidentID string) (int, any, error) {
	q, t, err := r.logEntryQuery(incidentID)
	if err != nil {
		return 0, nil, err
	}
	entries, err := r.scope().LogEntries(r.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(t, sqlstore.Related{LogEntries: entries.Items}, "log_entries")
	if err != nil {
		return 0, nil, err
	}
	bodies := make([]logEntryBody, len(entries.Items))
	for i, le := range entries.Items {
		bodies[i] = v.logEntryBody(le)
	}
	return http.StatusOK, list{key: "log_entries", items: bodies, page: q.Page, more: entries.More, total: entries.Total}, nil
}

func getLogEntry(r *request) (int, any, error) {
	loc, err := r.timeZone()
	if err != nil {
		return 0, nil, err
	}
	le, err := r.scope().LogEntry(r.ctx, r.http.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	v, err := r.newIncidentView(loc, sqlstore.Related{LogEntries: []*gatehouse.LogEntry{le}}, "log_entries")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]logEntryBody{"log_entry": v.logEntryBody(le)}, nil
}
