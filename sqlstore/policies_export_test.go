package sqlstore

import (
	"context"

	"github.com/gatehouse-dev/gatehouse"
)

// InsertServiceForTest stores a bare service of the account that uses the
// escalation policy, and returns its ID: escalation policies' tests need a
// service that uses a policy, which the services' own methods make
// elsewhere.
func InsertServiceForTest(ctx context.Context, s *Store, accountID, name, policyID string) (string, error) {
	id := gatehouse.NewID()
	err := s.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec("INSERT INTO services (id, account_id, name, status, escalation_policy_id, alert_creation, "+
			"alert_grouping_parameters, auto_pause_notifications_parameters, incident_urgency_rule, created_at) "+
			"VALUES (?, ?, ?, 'active', ?, 'create_alerts_and_incidents', '{}', '{}', '{}', ?)",
			id, accountID, name, policyID, micros(tx.now))
		return err
	})
	return id, err
}

// DeleteServiceForTest removes the service with that ID.
func DeleteServiceForTest(ctx context.Context, s *Store, id string) error {
	return s.inTx(ctx, func(tx *Tx) error {
		_, err := tx.exec("DELETE FROM services WHERE id = ?", id)
		return err
	})
}

// CountRowsForTest counts the rows of table that match where.
func CountRowsForTest(ctx context.Context, s *Store, table, where string, args ...any) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&n)
	return n, err
}

// RemoveTargetUserForTest takes the user out of the account's escalation
// rules as the user's removal will.
func (sc *Scope) RemoveTargetUserForTest(ctx context.Context, userID string) error {
	return sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		return sc.removeTargetUser(tx, u)
	})
}
