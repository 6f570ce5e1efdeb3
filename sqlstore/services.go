package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// A service is read with its escalation policy's name, for the policy's
// reference.
const (
	serviceColumns = "s.id, s.account_id, s.name, s.description, s.status, s.escalation_policy_id, p.name, " +
		"s.acknowledgement_timeout, s.auto_resolve_timeout, s.alert_creation, s.alert_grouping_parameters, " +
		"s.auto_pause_notifications_parameters, s.incident_urgency_rule, s.last_incident_at, s.created_at"
	serviceFrom = "services s JOIN escalation_policies p ON p.id = s.escalation_policy_id"
)

// ServiceQuery selects a page of services.
type ServiceQuery struct {
	// Query matches part of a service's name, whatever its case.
	Query string
	// Name, when set, is the exact name of the service wanted.
	Name string
	// TeamIDs keeps the services whose escalation policy belongs to one of
	// these teams.
	TeamIDs []string
	// Descending sorts by name from Z to A.
	Descending bool
	Page       Page
}

// Services returns a page of the account's services by name, each with its
// teams and integrations (one query for each kind, whatever the page's
// size). Restricted Access users see only the services whose escalation
// policy belongs to one of their teams.
func (sc *Scope) Services(ctx context.Context, q ServiceQuery) (List[*gatehouse.Service], error) {
	f := &filter{}
	f.add("s.account_id = ?", sc.accountID)
	f.matches(sc.store, q.Query, "s.name")
	if q.Name != "" {
		f.add("s.name = ?", q.Name)
	}
	if len(q.TeamIDs) > 0 {
		f.add("s.escalation_policy_id IN (SELECT policy_id FROM escalation_policy_teams WHERE team_id IN ("+placeholders(len(q.TeamIDs))+"))", anys(q.TeamIDs)...)
	}
	sc.limitServicesToTeams(f)
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	var services List[*gatehouse.Service]
	err := sc.store.view(ctx, "list services", func(ctx context.Context) error {
		var err error
		services, err = readPage(ctx, sc.store, serviceColumns, serviceFrom, f, sc.store.byteOrder("s.name")+dir+", s.id"+dir, q.Page, scanService)
		if err != nil {
			return err
		}
		return fillServices(sc.store, sc.store.reader(ctx), services.Items)
	})
	return services, err
}

// Service returns the service with that ID with its teams and
// integrations, or a 2100 error.
func (sc *Scope) Service(ctx context.Context, id string) (*gatehouse.Service, error) {
	f := &filter{}
	f.add("s.account_id = ?", sc.accountID)
	f.add("s.id = ?", id)
	sc.limitServicesToTeams(f)
	var s *gatehouse.Service
	err := sc.store.view(ctx, "find service", func(ctx context.Context) error {
		var err error
		s, err = scanService(sc.store.queryRow(ctx, "SELECT "+serviceColumns+" FROM "+serviceFrom+f.where(), f.args...))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("Service " + id)
		}
		if err != nil {
			return err
		}
		return fillServices(sc.store, sc.store.reader(ctx), []*gatehouse.Service{s})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// limitServicesToTeams keeps, for Restricted Access users and Limited
// Stakeholders, the services whose escalation policy belongs to one of
// their teams.
func (sc *Scope) limitServicesToTeams(f *filter) {
	if userID, limited := sc.teamLimited(); limited {
		f.add("s.escalation_policy_id IN (SELECT ept.policy_id FROM escalation_policy_teams ept "+
			"JOIN team_members m ON m.team_id = ept.team_id WHERE m.user_id = ?)", userID)
	}
}

// CreateService validates s and adds it to the account, setting its ID,
// account, creation time, policy's name and teams. It returns 2001 errors
// for invalid fields, a name already taken and an escalation policy that is
// not the account's.
func (sc *Scope) CreateService(ctx context.Context, s *gatehouse.Service) error {
	s.Normalize()
	restore := keep(s)
	return sc.write(ctx, func(tx *Tx) error {
		restore()
		if err := tx.checkService(sc.accountID, s, ""); err != nil {
			return err
		}
		s.ID, s.AccountID, s.CreatedAt, s.LastIncidentAt = gatehouse.NewID(), sc.accountID, tx.now, time.Time{}
		row, err := serviceRowOf(s)
		if err != nil {
			return err
		}
		_, err = tx.exec("INSERT INTO services (id, account_id, name, description, status, escalation_policy_id, "+
			"acknowledgement_timeout, auto_resolve_timeout, alert_creation, alert_grouping_parameters, "+
			"auto_pause_notifications_parameters, incident_urgency_rule, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			s.ID, s.AccountID, s.Name, s.Description, s.Status, s.EscalationPolicy.ID,
			row.ackTimeout, row.resolveTimeout, s.AlertCreation, row.grouping, row.autoPause, row.urgency, micros(s.CreatedAt))
		if err != nil {
			return fmt.Errorf("create service: %w", err)
		}
		s.Integrations = nil
		if err := fillServices(sc.store, tx.query, []*gatehouse.Service{s}); err != nil {
			return err
		}
		if err := sc.audit(tx, "create", serviceRef(s), createdFields(serviceFields(s))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeService, s.ID)
	})
}

// UpdateService applies change to the service with that ID and stores it,
// and returns the service as stored, with its teams and integrations.
// change may run more than once (a write that lost a race is retried) and
// must only set fields. It returns 2001 errors for invalid fields, a name
// already taken and an escalation policy that is not the account's, and 2100
// for an unknown service.
func (sc *Scope) UpdateService(ctx context.Context, id string, change func(*gatehouse.Service)) (*gatehouse.Service, error) {
	var updated *gatehouse.Service
	err := sc.write(ctx, func(tx *Tx) error {
		before, err := tx.service(sc.accountID, id)
		if err != nil {
			return err
		}
		s := *before
		change(&s)
		s.ID, s.AccountID, s.CreatedAt, s.LastIncidentAt = before.ID, before.AccountID, before.CreatedAt, before.LastIncidentAt
		s.Normalize()
		if err := tx.checkService(sc.accountID, &s, id); err != nil {
			return err
		}
		if err := fillServices(sc.store, tx.query, []*gatehouse.Service{&s}); err != nil {
			return err
		}
		updated = &s
		fields := changedFields(serviceFields(before), serviceFields(&s))
		if len(fields) == 0 {
			return nil
		}
		row, err := serviceRowOf(&s)
		if err != nil {
			return err
		}
		if _, err := tx.exec("UPDATE services SET name = ?, description = ?, status = ?, escalation_policy_id = ?, "+
			"acknowledgement_timeout = ?, auto_resolve_timeout = ?, alert_creation = ?, alert_grouping_parameters = ?, "+
			"auto_pause_notifications_parameters = ?, incident_urgency_rule = ? WHERE id = ?",
			s.Name, s.Description, s.Status, s.EscalationPolicy.ID, row.ackTimeout, row.resolveTimeout,
			s.AlertCreation, row.grouping, row.autoPause, row.urgency, id); err != nil {
			return fmt.Errorf("update service: %w", err)
		}
		if err := sc.audit(tx, "update", serviceRef(&s), fields); err != nil {
			return err
		}
		if s.Status != before.Status {
			// The Events API takes events through the integrations of
			// enabled services only: the caches of their routing keys must
			// learn of it.
			for _, i := range s.Integrations {
				if err := sc.changed(tx, gatehouse.ChangeIntegration, i.ID); err != nil {
					return err
				}
			}
		}
		return sc.changed(tx, gatehouse.ChangeService, id)
	})
	return updated, err
}

// DeleteService removes the service with that ID and its integrations, whose
// routing keys stop working. It returns 2100 for an unknown service.
func (sc *Scope) DeleteService(ctx context.Context, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		s, err := tx.service(sc.accountID, id)
		if err != nil {
			return err
		}
		if err := fillServices(sc.store, tx.query, []*gatehouse.Service{s}); err != nil {
			return err
		}
		// The integrations go with the service (ON DELETE CASCADE).
		if _, err := tx.exec("DELETE FROM services WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete service: %w", err)
		}
		var refs []gatehouse.AuditReference
		if len(s.Integrations) > 0 {
			removed := make([]gatehouse.Ref, len(s.Integrations))
			for i, in := range s.Integrations {
				removed[i] = integrationRef(in)
			}
			refs = append(refs, gatehouse.AuditReference{Name: "integrations", Removed: removed})
		}
		if err := sc.audit(tx, "delete", serviceRef(s), deletedFields(serviceFields(s)), refs...); err != nil {
			return err
		}
		for _, in := range s.Integrations {
			if err := sc.changed(tx, gatehouse.ChangeIntegration, in.ID); err != nil {
				return err
			}
		}
		return sc.changed(tx, gatehouse.ChangeService, id)
	})
}

// service loads the account's service with that ID in tx, without its
// teams and integrations, or returns a 2100 error.
func (tx *Tx) service(accountID, id string) (*gatehouse.Service, error) {
	s, err := scanService(tx.queryRow("SELECT "+serviceColumns+" FROM "+serviceFrom+" WHERE s.account_id = ? AND s.id = ?", accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Service " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find service: %w", err)
	}
	return s, nil
}

// checkService validates s, which Normalize has seen, against the account:
// its fields, its escalation policy, which must be one of the account's
// (whose name it takes), and its name, which no other service than exceptID
// may have. It returns a 2001 error with every problem.
func (tx *Tx) checkService(accountID string, s *gatehouse.Service, exceptID string) error {
	var problems []string
	if err := s.Validate(); err != nil {
		e, ok := errors.AsType[*gatehouse.Error](err)
		if !ok {
			return err
		}
		problems = e.Errors
	}
	if id := s.EscalationPolicy.ID; id != "" {
		var name string
		err := tx.queryRow("SELECT name FROM escalation_policies WHERE account_id = ? AND id = ?", accountID, id).Scan(&name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			problems = append(problems, fmt.Sprintf("Escalation policy %s not found in this account", id))
		case err != nil:
			return fmt.Errorf("find escalation policy: %w", err)
		}
		s.EscalationPolicy = gatehouse.Ref{Type: "escalation_policy_reference", ID: id, Summary: name}
	}
	if s.Name != "" {
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM services WHERE account_id = ? AND name = ? AND id <> ?", accountID, s.Name, exceptID).Scan(&n); err != nil {
			return fmt.Errorf("check service name: %w", err)
		}
		if n > 0 {
			problems = append(problems, "Name has already been taken")
		}
	}
	if len(problems) > 0 {
		return gatehouse.InvalidInput(problems...)
	}
	return nil
}

// fillServices loads the teams and integrations of services: one query for
// the teams of all their escalation policies, one for all their
// integrations.
func fillServices(s *Store, query querier, services []*gatehouse.Service) error {
	if len(services) == 0 {
		return nil
	}
	byID := make(map[string]*gatehouse.Service, len(services))
	byPolicy := map[string][]*gatehouse.Service{}
	var serviceIDs, policyIDs []any
	for _, svc := range services {
		svc.Teams, svc.Integrations = []*gatehouse.Team{}, []*gatehouse.Integration{}
		byID[svc.ID] = svc
		serviceIDs = append(serviceIDs, svc.ID)
		if _, seen := byPolicy[svc.EscalationPolicy.ID]; !seen {
			policyIDs = append(policyIDs, svc.EscalationPolicy.ID)
		}
		byPolicy[svc.EscalationPolicy.ID] = append(byPolicy[svc.EscalationPolicy.ID], svc)
	}

	rows, err := query("SELECT ept.policy_id, "+qualify("t.", teamColumns)+" FROM escalation_policy_teams ept JOIN teams t ON t.id = ept.team_id "+
		"WHERE ept.policy_id IN ("+placeholders(len(policyIDs))+") ORDER BY "+s.byteOrder("t.name")+", t.id", policyIDs...)
	if err != nil {
		return fmt.Errorf("list teams of services: %w", err)
	}
	type policyTeam struct {
		policyID string
		team     *gatehouse.Team
	}
	teams, err := scanAll(rows, func(row scanner) (policyTeam, error) {
		var pt policyTeam
		var t gatehouse.Team
		var created int64
		err := row.Scan(&pt.policyID, &t.ID, &t.AccountID, &t.Name, &t.Description, &t.DefaultRole, &created)
		t.CreatedAt, pt.team = fromMicros(created), &t
		return pt, err
	})
	if err != nil {
		return fmt.Errorf("list teams of services: %w", err)
	}
	for _, pt := range teams {
		for _, svc := range byPolicy[pt.policyID] {
			svc.Teams = append(svc.Teams, pt.team)
		}
	}

	rows, err = query("SELECT "+integrationColumns+" FROM integrations WHERE service_id IN ("+placeholders(len(serviceIDs))+") ORDER BY created_at, id", serviceIDs...)
	if err != nil {
		return fmt.Errorf("list integrations of services: %w", err)
	}
	integrations, err := scanAll(rows, scanIntegration)
	if err != nil {
		return fmt.Errorf("list integrations of services: %w", err)
	}
	for _, in := range integrations {
		svc := byID[in.Service.ID]
		in.Service.Summary = svc.Name
		svc.Integrations = append(svc.Integrations, in)
	}
	return nil
}

func serviceRef(s *gatehouse.Service) gatehouse.Ref {
	return gatehouse.Ref{Type: "service_reference", ID: s.ID, Summary: s.Name}
}

// serviceFields are the audited fields of a service; the JSON parameters as
// the store keeps them.
func serviceFields(s *gatehouse.Service) fieldValues {
	row, _ := serviceRowOf(s)
	return fieldValues{
		{"name", s.Name}, {"description", s.Description}, {"status", s.Status},
		{"escalation_policy", s.EscalationPolicy.ID},
		{"acknowledgement_timeout", nullIntText(row.ackTimeout)}, {"auto_resolve_timeout", nullIntText(row.resolveTimeout)},
		{"alert_creation", s.AlertCreation}, {"alert_grouping_parameters", row.grouping},
		{"auto_pause_notifications_parameters", row.autoPause}, {"incident_urgency_rule", row.urgency},
	}
}

func nullIntText(n sql.NullInt64) string {
	if !n.Valid {
		return "null"
	}
	return strconv.FormatInt(n.Int64, 10)
}

// serviceRow is how a service's columns hold what has no column type of its
// own: nullable timeouts and PagerDuty's JSON parameters.
type serviceRow struct {
	ackTimeout, resolveTimeout   sql.NullInt64
	grouping, autoPause, urgency string
}

func serviceRowOf(s *gatehouse.Service) (serviceRow, error) {
	var r serviceRow
	r.ackTimeout, r.resolveTimeout = nullInt(s.AcknowledgementTimeout), nullInt(s.AutoResolveTimeout)
	for _, f := range []struct {
		dst *string
		v   any
	}{{&r.grouping, s.AlertGrouping}, {&r.autoPause, s.AutoPause}, {&r.urgency, s.UrgencyRule}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return r, fmt.Errorf("encode service: %w", err)
		}
		*f.dst = string(b)
	}
	return r, nil
}

func nullInt(n *int) sql.NullInt64 {
	if n == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*n), Valid: true}
}

func fromNullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func scanService(row scanner) (*gatehouse.Service, error) {
	var s gatehouse.Service
	var r serviceRow
	var lastIncident sql.NullInt64
	var created int64
	s.EscalationPolicy.Type = "escalation_policy_reference"
	if err := row.Scan(&s.ID, &s.AccountID, &s.Name, &s.Description, &s.Status, &s.EscalationPolicy.ID, &s.EscalationPolicy.Summary,
		&r.ackTimeout, &r.resolveTimeout, &s.AlertCreation, &r.grouping, &r.autoPause, &r.urgency, &lastIncident, &created); err != nil {
		return nil, err
	}
	s.AcknowledgementTimeout, s.AutoResolveTimeout = fromNullInt(r.ackTimeout), fromNullInt(r.resolveTimeout)
	if err := r.decodeSettings(&s); err != nil {
		return nil, fmt.Errorf("decode service %s: %w", s.ID, err)
	}
	s.LastIncidentAt, s.CreatedAt = fromNullMicros(lastIncident), fromMicros(created)
	return &s, nil
}

// EscalationPoliciesByID returns the account's escalation policies with
// those IDs, with their rules, teams and services, by ID: for the services
// whose include[]=escalation_policies expands them, one query for the
// policies and one for each kind of detail. IDs of no policy of the account
// are left out.
func (sc *Scope) EscalationPoliciesByID(ctx context.Context, ids []string) (map[string]*gatehouse.EscalationPolicy, error) {
	out := make(map[string]*gatehouse.EscalationPolicy, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := sc.store.view(ctx, "find escalation policies of services", func(ctx context.Context) error {
		rows, err := sc.store.query(ctx, "SELECT "+policyColumns+" FROM escalation_policies WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")",
			append([]any{sc.accountID}, anys(ids)...)...)
		if err != nil {
			return err
		}
		policies, err := scanAll(rows, scanPolicy)
		if err != nil {
			return err
		}
		for _, p := range policies {
			out[p.ID] = p
		}
		return sc.store.loadPolicyDetails(sc.store.reader(ctx), policies)
	})
	return out, err
}

// decodeSettings decodes the JSON parameters of a service's row into s.
// Most services keep the defaults, which are decoded without a parse: lists
// of services read a hundred rows at a time.
func (r *serviceRow) decodeSettings(s *gatehouse.Service) error {
	switch r.grouping {
	case `{"type":null}`:
		s.AlertGrouping = gatehouse.AlertGroupingParameters{}
	default:
		if err := json.Unmarshal([]byte(r.grouping), &s.AlertGrouping); err != nil {
			return err
		}
	}
	switch r.autoPause {
	case `{"enabled":false}`:
		s.AutoPause = gatehouse.AutoPauseParameters{}
	default:
		if err := json.Unmarshal([]byte(r.autoPause), &s.AutoPause); err != nil {
			return err
		}
	}
	switch r.urgency {
	case `{"type":"constant","urgency":"high"}`:
		s.UrgencyRule = gatehouse.IncidentUrgencyRule{Type: "constant", Urgency: "high"}
	default:
		return json.Unmarshal([]byte(r.urgency), &s.UrgencyRule)
	}
	return nil
}
