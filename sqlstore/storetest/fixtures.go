package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// The fixtures in this file write configuration straight to the database
// with SQL, for the tests of the Events API, which need services and
// integrations before the store can make them. They work on a database a
// running server uses too.

// Service is a service made for tests: its escalation policy, and an
// integration whose key routes events to it.
type Service struct {
	ID             string
	AccountID      string
	PolicyID       string
	IntegrationID  string
	IntegrationKey string
}

// ServiceOptions says how MustCreateService makes a service.
type ServiceOptions struct {
	// Targets are the users of the policy's first rule.
	Targets []*gatehouse.User
	// Urgency is the incident urgency rule's urgency; high when empty.
	Urgency string
	// IntegrationType is the integration's type; Events API v2 when empty.
	IntegrationType string
}

// MustCreateService is CreateService for tests.
func MustCreateService(t testing.TB, cfg sqlstore.Config, accountID, name string, opts ServiceOptions) *Service {
	t.Helper()
	svc, err := CreateService(context.Background(), cfg, accountID, name, opts)
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	return svc
}

// CreateService adds to the account an escalation policy whose first rule
// targets opts.Targets (a second rule targets the first of them again), a
// service on it, and an integration of the service. The benchmarks use it
// too.
func CreateService(ctx context.Context, cfg sqlstore.Config, accountID, name string, opts ServiceOptions) (*Service, error) {
	if opts.Urgency == "" {
		opts.Urgency = "high"
	}
	if opts.IntegrationType == "" {
		opts.IntegrationType = "events_api_v2_inbound_integration"
	}
	svc := &Service{
		ID: gatehouse.NewID(), AccountID: accountID, PolicyID: gatehouse.NewID(), IntegrationID: gatehouse.NewID(),
		IntegrationKey: gatehouse.RandomString(32, "0123456789abcdef"),
	}
	now := time.Now().UnixMicro()
	type stmt struct {
		query string
		args  []any
	}
	stmts := []stmt{
		{"INSERT INTO escalation_policies (id, account_id, name, created_at) VALUES (?, ?, ?, ?)",
			[]any{svc.PolicyID, accountID, name + " policy", now}},
	}
	for position, users := range [][]*gatehouse.User{opts.Targets, opts.Targets[:min(1, len(opts.Targets))]} {
		ruleID := gatehouse.NewID()
		stmts = append(stmts, stmt{"INSERT INTO escalation_rules (id, account_id, policy_id, position, escalation_delay_in_minutes) VALUES (?, ?, ?, ?, 30)",
			[]any{ruleID, accountID, svc.PolicyID, position}})
		for i, u := range users {
			stmts = append(stmts, stmt{"INSERT INTO escalation_rule_targets (rule_id, position, target_type, user_id) VALUES (?, ?, 'user_reference', ?)",
				[]any{ruleID, i, u.ID}})
		}
	}
	stmts = append(stmts,
		stmt{"INSERT INTO services (id, account_id, name, status, escalation_policy_id, alert_creation, alert_grouping_parameters, " +
			"auto_pause_notifications_parameters, incident_urgency_rule, created_at) " +
			"VALUES (?, ?, ?, 'active', ?, 'create_alerts_and_incidents', '{\"type\":null}', '{\"enabled\":false}', ?, ?)",
			[]any{svc.ID, accountID, name, svc.PolicyID, fmt.Sprintf(`{"type":"constant","urgency":%q}`, opts.Urgency), now}},
		stmt{"INSERT INTO integrations (id, account_id, service_id, name, type, integration_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			[]any{svc.IntegrationID, accountID, svc.ID, name + " integration", opts.IntegrationType, svc.IntegrationKey, now}},
	)
	db, postgres, err := openRaw(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, rebind(s.query, postgres), s.args...); err != nil {
			return nil, fmt.Errorf("%s: %w", s.query, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return svc, nil
}

// MustSetServiceStatus sets the service's status, such as "disabled".
func MustSetServiceStatus(t testing.TB, cfg sqlstore.Config, serviceID, status string) {
	t.Helper()
	mustExec(t, cfg, "UPDATE services SET status = ? WHERE id = ?", status, serviceID)
}

// MustDeleteIntegration deletes the integration.
func MustDeleteIntegration(t testing.TB, cfg sqlstore.Config, integrationID string) {
	t.Helper()
	mustExec(t, cfg, "DELETE FROM integrations WHERE id = ?", integrationID)
}

// MustDeleteService deletes the service, and with it its integrations and
// incidents.
func MustDeleteService(t testing.TB, cfg sqlstore.Config, serviceID string) {
	t.Helper()
	mustExec(t, cfg, "DELETE FROM services WHERE id = ?", serviceID)
}

func mustExec(t testing.TB, cfg sqlstore.Config, query string, args ...any) {
	t.Helper()
	db, postgres, err := openRaw(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(rebind(query, postgres), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// openRaw opens the database cfg names without the store, and reports
// whether it is PostgreSQL.
func openRaw(cfg sqlstore.Config) (db *sql.DB, postgres bool, err error) {
	if sqlstore.IsPostgresURL(cfg.DatabaseURL) {
		db, err = sql.Open("pgx", cfg.DatabaseURL)
		return db, true, err
	}
	db, err = sql.Open("sqlite", "file:"+filepath.Join(cfg.DataDir, "gatehouse.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, false, err
	}
	db.SetMaxOpenConns(1)
	return db, false, nil
}

func rebind(query string, postgres bool) string {
	if !postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
