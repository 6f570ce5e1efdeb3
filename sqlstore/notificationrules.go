package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

const notificationRuleColumns = "id, account_id, user_id, contact_method_id, start_delay_in_minutes, urgency, created_at"

// notificationRuleOrder is the order rules are listed in: by urgency, then
// by when they fire.
func notificationRuleOrder(s *Store) string {
	return s.byteOrder("urgency") + ", start_delay_in_minutes, created_at, " + s.byteOrder("id")
}

// NotificationRules returns the notification rules of the user with that ID
// for incidents of urgency, or of every urgency when urgency is "". It
// returns 2100 for an unknown user.
func (sc *Scope) NotificationRules(ctx context.Context, userID, urgency string) ([]*gatehouse.NotificationRule, error) {
	if _, err := sc.User(ctx, userID); err != nil {
		return nil, err
	}
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.add("user_id = ?", userID)
	if urgency != "" {
		f.add("urgency = ?", urgency)
	}
	return list(ctx, sc.store, "list notification rules", scanNotificationRule,
		"SELECT "+notificationRuleColumns+" FROM notification_rules"+f.where()+" ORDER BY "+notificationRuleOrder(sc.store), f.args...)
}

// NotificationRule returns the user's notification rule with that ID. It
// returns 2100 for an unknown user or rule.
func (sc *Scope) NotificationRule(ctx context.Context, userID, id string) (*gatehouse.NotificationRule, error) {
	if _, err := sc.User(ctx, userID); err != nil {
		return nil, err
	}
	return get(ctx, sc.store, "find notification rule", "Notification rule "+id, scanNotificationRule,
		"SELECT "+notificationRuleColumns+" FROM notification_rules WHERE account_id = ? AND user_id = ? AND id = ?", sc.accountID, userID, id)
}

// CreateNotificationRule validates n and adds it to the user's notification
// rules, setting its ID, user, account and creation time. It returns a 403
// error for an actor who may not change this user's notification rules,
// 2001 errors for invalid fields and a contact method that is not the
// user's, and 2100 for an unknown user.
func (sc *Scope) CreateNotificationRule(ctx context.Context, userID string, n *gatehouse.NotificationRule) error {
	if err := n.Validate(); err != nil {
		return err
	}
	return sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.ManageUserContact, access.Target{User: u}); err != nil {
			return err
		}
		n.AccountID, n.UserID = sc.accountID, userID
		if err := tx.usersContactMethod(n); err != nil {
			return err
		}
		if err := tx.insertNotificationRule(n); err != nil {
			return err
		}
		ref := gatehouse.AuditReference{Name: "notification_rules", Added: []gatehouse.Ref{notificationRuleRef(n)}}
		if err := sc.audit(tx, "update", userRef(u), createdFields(notificationRuleFields(n)), ref); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
}

// UpdateNotificationRule applies change to the user's notification rule
// with that ID and stores it, and returns it as stored. change may run more
// than once and must only set fields. It returns a 403 error for an actor
// who may not change this user's notification rules, 2001 errors for
// invalid fields and a contact method that is not the user's, and 2100 for
// an unknown user or rule.
func (sc *Scope) UpdateNotificationRule(ctx context.Context, userID, id string, change func(*gatehouse.NotificationRule)) (*gatehouse.NotificationRule, error) {
	var updated *gatehouse.NotificationRule
	err := sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		before, err := tx.notificationRule(sc.accountID, userID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.ManageUserContact, access.Target{User: u}); err != nil {
			return err
		}
		n := *before
		change(&n)
		n.ID, n.AccountID, n.UserID, n.CreatedAt = before.ID, before.AccountID, before.UserID, before.CreatedAt
		if err := n.Validate(); err != nil {
			return err
		}
		if err := tx.usersContactMethod(&n); err != nil {
			return err
		}
		fields := changedFields(notificationRuleFields(before), notificationRuleFields(&n))
		updated = &n
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE notification_rules SET contact_method_id = ?, start_delay_in_minutes = ?, urgency = ? WHERE id = ?",
			n.ContactMethodID, n.StartDelayInMinutes, n.Urgency, id); err != nil {
			return fmt.Errorf("update notification rule: %w", err)
		}
		if err := sc.audit(tx, "update", userRef(u), fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
	return updated, err
}

// DeleteNotificationRule removes the user's notification rule with that ID.
// It returns a 403 error for an actor who may not change this user's
// notification rules, and 2100 for an unknown user or rule.
func (sc *Scope) DeleteNotificationRule(ctx context.Context, userID, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		n, err := tx.notificationRule(sc.accountID, userID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.ManageUserContact, access.Target{User: u}); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM notification_rules WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete notification rule: %w", err)
		}
		ref := gatehouse.AuditReference{Name: "notification_rules", Removed: []gatehouse.Ref{notificationRuleRef(n)}}
		if err := sc.audit(tx, "update", userRef(u), deletedFields(notificationRuleFields(n)), ref); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
}

// usersContactMethod returns a 2001 error unless n's contact method is one
// of its user's.
func (tx *Tx) usersContactMethod(n *gatehouse.NotificationRule) error {
	_, err := tx.contactMethod(n.AccountID, n.UserID, n.ContactMethodID)
	if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
		return gatehouse.InvalidInput(fmt.Sprintf("Contact method %q is not one of this user's contact methods", n.ContactMethodID))
	}
	return err
}

// notificationRule loads the user's notification rule with that ID in tx,
// or returns a 2100 error.
func (tx *Tx) notificationRule(accountID, userID, id string) (*gatehouse.NotificationRule, error) {
	n, err := scanNotificationRule(tx.queryRow("SELECT "+notificationRuleColumns+" FROM notification_rules WHERE account_id = ? AND user_id = ? AND id = ?",
		accountID, userID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Notification rule " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find notification rule: %w", err)
	}
	return n, nil
}

// insertNotificationRule gives n an ID and a creation time and stores it.
func (tx *Tx) insertNotificationRule(n *gatehouse.NotificationRule) error {
	n.ID, n.CreatedAt = gatehouse.NewID(), tx.now
	_, err := tx.exec("INSERT INTO notification_rules ("+notificationRuleColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		n.ID, n.AccountID, n.UserID, n.ContactMethodID, n.StartDelayInMinutes, n.Urgency, micros(n.CreatedAt))
	if err != nil {
		return fmt.Errorf("create notification rule: %w", err)
	}
	return nil
}

func scanNotificationRule(row scanner) (*gatehouse.NotificationRule, error) {
	var n gatehouse.NotificationRule
	var created int64
	if err := row.Scan(&n.ID, &n.AccountID, &n.UserID, &n.ContactMethodID, &n.StartDelayInMinutes, &n.Urgency, &created); err != nil {
		return nil, err
	}
	n.CreatedAt = fromMicros(created)
	return &n, nil
}

func notificationRuleRef(n *gatehouse.NotificationRule) gatehouse.Ref {
	return gatehouse.Ref{Type: "assignment_notification_rule_reference", ID: n.ID, Summary: n.Summary()}
}

// notificationRuleFields are the audited fields of a notification rule,
// named after it, as they belong to its user's record.
func notificationRuleFields(n *gatehouse.NotificationRule) fieldValues {
	prefix := "notification_rules." + n.ID + "."
	return fieldValues{
		{prefix + "contact_method", n.ContactMethodID},
		{prefix + "start_delay_in_minutes", strconv.Itoa(n.StartDelayInMinutes)},
		{prefix + "urgency", n.Urgency},
	}
}
