package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-dev/gatehouse"
)

// This file is the store's edge: every error a store call returns passes
// through settle, so that no driver's words reach a client. A client sees a
// code: 2001 for a value a constraint refused, 2100 for a row referred to
// that is gone, 2900 for a write that lost its race more often than the store
// retries, 2901 for a database that did not answer in time or at all. What
// the store does not know stays an internal error, wrapped with the
// operation's name for the log.

// Stats counts what went wrong in the store's calls since it opened, for
// metrics.
type Stats struct {
	// Unavailable counts calls that failed with CodeUnavailable: the
	// database did not answer in time, or at all.
	Unavailable uint64
	// Conflict counts writes that failed with CodeConflict: still losing a
	// race after every retry.
	Conflict uint64
	// Internal counts calls that failed with an error the store does not
	// translate: a bug, or a driver error it does not know.
	Internal uint64
	// Canceled counts calls abandoned by their caller, such as a client that
	// hung up.
	Canceled uint64
	// Retries counts transactions run again after a serialization failure,
	// a deadlock or a random ID that was taken.
	Retries uint64
}

type counters struct {
	unavailable, conflict, internal, canceled, retries atomic.Uint64
}

// Stats returns the store's error counts since it opened.
func (s *Store) Stats() Stats {
	return Stats{
		Unavailable: s.counts.unavailable.Load(),
		Conflict:    s.counts.conflict.Load(),
		Internal:    s.counts.internal.Load(),
		Canceled:    s.counts.canceled.Load(),
		Retries:     s.counts.retries.Load(),
	}
}

var (
	errUnavailable = &gatehouse.Error{
		Code:    gatehouse.CodeUnavailable,
		Message: "Service Unavailable",
		Errors:  []string{"The database did not answer; try again in a few seconds"},
	}
	errConflict = &gatehouse.Error{
		Code:    gatehouse.CodeConflict,
		Message: "Conflict",
		Errors:  []string{"Other changes to the same data were being made at the same time; try again"},
	}
)

// storeError is a client's error (code and message) with the cause behind
// it, which only logs and the command line show.
type storeError struct {
	client *gatehouse.Error
	cause  error
}

func (e *storeError) Error() string   { return e.client.Errors[0] + ": " + e.cause.Error() }
func (e *storeError) Unwrap() []error { return []error{e.client, e.cause} }

// settle turns what a store call returned into what its caller gets, and
// keeps the store's health and counts. ctx is the caller's context; callCtx
// is the one the call ran under, with the store's deadline. op, when not
// empty, names the call in the errors it wraps.
func (s *Store) settle(ctx, callCtx context.Context, op string, err error) error {
	if err == nil {
		s.health.OK()
		return nil
	}
	if _, ok := errors.AsType[*gatehouse.Error](err); ok {
		// The store's own checks: the database answered.
		s.health.OK()
		return err
	}
	if op != "" {
		err = fmt.Errorf("%s: %w", op, err)
	}
	if ctx.Err() == context.Canceled {
		s.counts.canceled.Add(1)
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %w", context.Canceled, err)
	}
	if callCtx.Err() != nil {
		// Whatever the driver made of it, the call ran out of time.
		if !errors.Is(err, callCtx.Err()) {
			err = fmt.Errorf("%w (%w)", err, callCtx.Err())
		}
		return s.unavailable(err)
	}
	switch kind, clientErr := classify(err); kind {
	case failUnavailable:
		return s.unavailable(err)
	case failSerialization, failIDTaken:
		s.health.OK()
		s.counts.conflict.Add(1)
		return &storeError{errConflict, err}
	case failConstraint:
		s.health.OK()
		return &storeError{clientErr, err}
	}
	s.counts.internal.Add(1)
	return err
}

func (s *Store) unavailable(err error) error {
	s.health.Fail(err)
	s.counts.unavailable.Add(1)
	return &storeError{errUnavailable, err}
}

// failure is what kind of failure a driver's error is.
type failure int

const (
	failOther         failure = iota // unknown: an internal error
	failUnavailable                  // the database cannot be reached or cannot work
	failSerialization                // a serialization failure or a deadlock: run the transaction again
	failIDTaken                      // a random ID the store made was taken: run the transaction again
	failConstraint                   // a constraint refused a value: the client's error
)

// classify says what kind of failure err is and, for a constraint, the
// client's error it becomes.
func classify(err error) (failure, *gatehouse.Error) {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return classifyPostgres(e)
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return classifySQLite(e)
	}
	if isConnectionFailure(err) {
		return failUnavailable, nil
	}
	return failOther, nil
}

func classifyPostgres(e *pgconn.PgError) (failure, *gatehouse.Error) {
	switch class := e.Code[:2]; {
	case e.Code == "40001" || e.Code == "40P01": // serialization_failure, deadlock_detected
		return failSerialization, nil
	case e.Code == "23505": // unique_violation
		return uniqueViolation(func(c uniqueConstraint) bool { return c.postgres == e.ConstraintName })
	case e.Code == "23503": // foreign_key_violation
		return failConstraint, goneError(foreignKeyTargets[e.ConstraintName])
	case class == "23": // check, not null, exclusion
		return failConstraint, errRefusedValue
	case e.Code == "22021", // character_not_in_repertoire: not UTF-8, or a NUL
		e.Code == "22P05": // untranslatable_character
		return failConstraint, errNotText
	case class == "08", // connection exception
		class == "53",     // insufficient resources: too many connections, disk full
		class == "58",     // system error: I/O
		e.Code == "57P01", // admin_shutdown
		e.Code == "57P02", // crash_shutdown
		e.Code == "57P03", // cannot_connect_now: starting up, in recovery
		e.Code == "57014", // query_canceled: a statement timeout
		e.Code == "55P03", // lock_not_available: a lock timeout
		e.Code == "25006", // read_only_sql_transaction: a standby after a failover
		e.Code == "40003": // statement_completion_unknown
		return failUnavailable, nil
	}
	return failOther, nil
}

func classifySQLite(e *sqlite.Error) (failure, *gatehouse.Error) {
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		// "constraint failed: UNIQUE constraint failed: users.account_id, users.email (2067)"
		_, columns, _ := strings.Cut(e.Error(), "UNIQUE constraint failed: ")
		columns, _, _ = strings.Cut(columns, " (")
		return uniqueViolation(func(c uniqueConstraint) bool { return c.sqlite == columns })
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		// SQLite does not say which key: either may be gone.
		return failConstraint, goneError("Account or user")
	}
	switch e.Code() & 0xff { // the primary code
	case sqlite3.SQLITE_CONSTRAINT:
		return failConstraint, errRefusedValue
	case sqlite3.SQLITE_BUSY, // another process held the write lock for longer than the busy timeout
		sqlite3.SQLITE_LOCKED,
		sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_CANTOPEN:
		return failUnavailable, nil
	}
	return failOther, nil
}

// isConnectionFailure reports whether err says that the database could not
// be reached, or that the connection to it broke.
func isConnectionFailure(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// uniqueConstraint is a unique constraint of the schema, by its name on each
// engine: SQLite names it by its columns, PostgreSQL by the constraint.
type uniqueConstraint struct {
	sqlite, postgres string
	// problem is the line of the 2001 error for a value given twice; empty
	// for a random ID the store made, which a retry makes anew.
	problem string
}

// uniqueConstraints are the schema's unique constraints. The stores' own
// checks give a better message (naming the value) before a constraint is
// reached; these are for a check that a concurrent writer overtook.
var uniqueConstraints = []uniqueConstraint{
	{"accounts.id", "accounts_pkey", ""},
	{"accounts.subdomain", "accounts_subdomain_key", "Subdomain is already taken"},
	{"users.id", "users_pkey", ""},
	{"users.account_id, users.email", "users_account_id_email_key", "Email has already been taken"},
	{"api_keys.id", "api_keys_pkey", ""},
	{"api_keys.hash", "api_keys_hash_key", "This key is already in use"},
	{"audit_records.id", "audit_records_id_key", ""},
	{"audit_records.seq", "audit_records_pkey", ""},
	{"changes.id", "changes_pkey", ""},
	{"contact_methods.id", "contact_methods_pkey", ""},
	{"contact_methods.user_id, contact_methods.type, contact_methods.address", "contact_methods_user_id_type_address_key", "User contact method must be unique"},
	{"notification_rules.id", "notification_rules_pkey", ""},
	{"teams.id", "teams_pkey", ""},
	{"teams.account_id, teams.name", "teams_account_id_name_key", "Name has already been taken"},
	{"team_members.team_id, team_members.user_id", "team_members_pkey", "The user is already a member of the team"},
	{"escalation_policies.id", "escalation_policies_pkey", ""},
	{"escalation_policies.account_id, escalation_policies.name", "escalation_policies_account_id_name_key", "Name has already been taken"},
	{"escalation_rules.id", "escalation_rules_pkey", ""},
	{"escalation_rules.policy_id, escalation_rules.position", "escalation_rules_policy_id_position_key", "The escalation policy was changed at the same time; try again"},
	{"escalation_rule_targets.rule_id, escalation_rule_targets.position", "escalation_rule_targets_pkey", "The escalation policy was changed at the same time; try again"},
	{"escalation_policy_teams.policy_id, escalation_policy_teams.team_id", "escalation_policy_teams_pkey", "The escalation policy is already on the team"},
	{"services.id", "services_pkey", ""},
	{"services.account_id, services.name", "services_account_id_name_key", "Name has already been taken"},
	{"integrations.id", "integrations_pkey", ""},
	{"integrations.integration_key", "integrations_integration_key_key", ""},
	{"events.seq", "events_pkey", ""},
	{"event_cursor.name", "event_cursor_pkey", ""},
	{"incident_numbers.account_id", "incident_numbers_pkey", "The incident was opened at the same time as another; try again"},
	{"incidents.id", "incidents_pkey", ""},
	{"incidents.account_id, incidents.incident_number", "incidents_account_id_incident_number_key", "The incident was opened at the same time as another; try again"},
	{"incident_assignments.incident_id, incident_assignments.position", "incident_assignments_pkey", "The incident was changed at the same time; try again"},
	{"incident_acknowledgements.incident_id, incident_acknowledgements.position", "incident_acknowledgements_pkey", "The incident was changed at the same time; try again"},
	{"alerts.id", "alerts_pkey", ""},
	{"open_alerts.integration_id, open_alerts.dedup_key", "open_alerts_pkey", "An alert with this dedup key was opened at the same time; try again"},
	{"log_entries.seq", "log_entries_pkey", ""},
	{"log_entries.id", "log_entries_id_key", ""},
	{"incident_notes.id", "incident_notes_pkey", ""},
	{"change_events.seq", "change_events_pkey", ""},
	{"change_events.id", "change_events_id_key", ""},
}

// foreignKeyTargets names what each PostgreSQL foreign key refers to.
var foreignKeyTargets = map[string]string{
	"users_account_id_fkey":         "Account",
	"api_keys_account_id_fkey":      "Account",
	"api_keys_user_id_fkey":         "User",
	"audit_records_account_id_fkey": "Account",

	"contact_methods_account_id_fkey":           "Account",
	"contact_methods_user_id_fkey":              "User",
	"notification_rules_account_id_fkey":        "Account",
	"notification_rules_user_id_fkey":           "User",
	"notification_rules_contact_method_id_fkey": "Contact method",
	"teams_account_id_fkey":                     "Account",
	"team_members_account_id_fkey":              "Account",
	"team_members_team_id_fkey":                 "Team",
	"team_members_user_id_fkey":                 "User",
	"escalation_policies_account_id_fkey":       "Account",
	"escalation_rules_account_id_fkey":          "Account",
	"escalation_rules_policy_id_fkey":           "Escalation policy",
	"escalation_rule_targets_rule_id_fkey":      "Escalation rule",
	"escalation_rule_targets_user_id_fkey":      "User",
	"escalation_policy_teams_policy_id_fkey":    "Escalation policy",
	"escalation_policy_teams_team_id_fkey":      "Team",
	"services_account_id_fkey":                  "Account",
	"services_escalation_policy_id_fkey":        "Escalation policy",
	"integrations_account_id_fkey":              "Account",
	"integrations_service_id_fkey":              "Service",

	"incident_numbers_account_id_fkey":           "Account",
	"incidents_account_id_fkey":                  "Account",
	"incidents_service_id_fkey":                  "Service",
	"incident_assignments_incident_id_fkey":      "Incident",
	"incident_assignments_user_id_fkey":          "User",
	"incident_acknowledgements_incident_id_fkey": "Incident",
	"alerts_incident_id_fkey":                    "Incident",
	"open_alerts_integration_id_fkey":            "Integration",
	"open_alerts_incident_id_fkey":               "Incident",
	"log_entries_account_id_fkey":                "Account",
	"log_entries_incident_id_fkey":               "Incident",
	"incident_notes_account_id_fkey":             "Account",
	"incident_notes_incident_id_fkey":            "Incident",
	"incident_notes_user_id_fkey":                "User",
	"change_events_account_id_fkey":              "Account",
	"change_events_service_id_fkey":              "Service",
}

// errRefusedValue is a check or not-null constraint's refusal: the store's
// validation should have refused the value first.
var errRefusedValue = gatehouse.InvalidInput("A value given is not allowed")

// errNotText is PostgreSQL's refusal of a text that is not UTF-8 or holds a
// NUL character, which SQLite stores or compares: so such a value given
// where the store checks nothing of it, such as an ID to look up, is the
// client's error on both engines, never an internal one.
var errNotText = gatehouse.InvalidInput("Text must be UTF-8 without NUL characters")

func uniqueViolation(match func(uniqueConstraint) bool) (failure, *gatehouse.Error) {
	for _, c := range uniqueConstraints {
		if match(c) {
			if c.problem == "" {
				return failIDTaken, nil
			}
			return failConstraint, gatehouse.InvalidInput(c.problem)
		}
	}
	return failConstraint, gatehouse.InvalidInput("A value given is already in use")
}

// goneError is the 2100 error for a row that what a write refers to was
// removed: what names it, such as "User".
func goneError(what string) *gatehouse.Error {
	if what == "" {
		what = "A resource this refers to"
	}
	return gatehouse.NotFound(what)
}
