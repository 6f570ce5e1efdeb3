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

const contactMethodColumns = "id, account_id, user_id, type, label, address, country_code, send_short_email, created_at"

// ContactMethods returns the contact methods of the user with that ID,
// oldest first. It returns 2100 for an unknown user.
func (sc *Scope) ContactMethods(ctx context.Context, userID string) ([]*gatehouse.ContactMethod, error) {
	if _, err := sc.User(ctx, userID); err != nil {
		return nil, err
	}
	return list(ctx, sc.store, "list contact methods", scanContactMethod,
		"SELECT "+contactMethodColumns+" FROM contact_methods WHERE account_id = ? AND user_id = ? ORDER BY created_at, "+sc.store.byteOrder("id"),
		sc.accountID, userID)
}

// ContactMethod returns the user's contact method with that ID. It returns
// 2100 for an unknown user or contact method.
func (sc *Scope) ContactMethod(ctx context.Context, userID, id string) (*gatehouse.ContactMethod, error) {
	if _, err := sc.User(ctx, userID); err != nil {
		return nil, err
	}
	return get(ctx, sc.store, "find contact method", "Contact method "+id, scanContactMethod,
		"SELECT "+contactMethodColumns+" FROM contact_methods WHERE account_id = ? AND user_id = ? AND id = ?", sc.accountID, userID, id)
}

// CreateContactMethod validates c and adds it to the user's contact
// methods, setting its ID, user, account and creation time. It returns a
// 403 error for an actor who may not change this user's contact methods,
// 2001 errors for invalid fields and an address the user already has for
// that type, and 2100 for an unknown user.
func (sc *Scope) CreateContactMethod(ctx context.Context, userID string, c *gatehouse.ContactMethod) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
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
		c.AccountID, c.UserID = sc.accountID, userID
		if err := tx.contactAddressFree(c, ""); err != nil {
			return err
		}
		if err := tx.insertContactMethod(c); err != nil {
			return err
		}
		ref := gatehouse.AuditReference{Name: "contact_methods", Added: []gatehouse.Ref{contactMethodRef(c)}}
		if err := sc.audit(tx, "update", userRef(u), createdFields(contactMethodFields(c)), ref); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
}

// UpdateContactMethod applies change to the user's contact method with that
// ID and stores it, and returns it as stored. change may run more than once
// and must only set fields; the type cannot change. It returns a 403 error
// for an actor who may not change this user's contact methods, 2001 errors
// for invalid fields, a changed type and an address the user already has
// for that type, and 2100 for an unknown user or contact method.
func (sc *Scope) UpdateContactMethod(ctx context.Context, userID, id string, change func(*gatehouse.ContactMethod)) (*gatehouse.ContactMethod, error) {
	var updated *gatehouse.ContactMethod
	err := sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		before, err := tx.contactMethod(sc.accountID, userID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.ManageUserContact, access.Target{User: u}); err != nil {
			return err
		}
		c := *before
		change(&c)
		c.ID, c.AccountID, c.UserID, c.CreatedAt = before.ID, before.AccountID, before.UserID, before.CreatedAt
		if c.Type != before.Type {
			return gatehouse.InvalidInput(fmt.Sprintf("Type cannot change from %s to %s: add a new contact method instead", before.Type, c.Type))
		}
		c.Normalize()
		if err := c.Validate(); err != nil {
			return err
		}
		if err := tx.contactAddressFree(&c, id); err != nil {
			return err
		}
		fields := changedFields(contactMethodFields(before), contactMethodFields(&c))
		updated = &c
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE contact_methods SET label = ?, address = ?, country_code = ?, send_short_email = ? WHERE id = ?",
			c.Label, c.Address, nullCountryCode(c.CountryCode), c.SendShortEmail, id); err != nil {
			return fmt.Errorf("update contact method: %w", err)
		}
		if err := sc.audit(tx, "update", userRef(u), fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
	return updated, err
}

// DeleteContactMethod removes the user's contact method with that ID, and
// the notification rules that use it. It returns a 403 error for an actor
// who may not change this user's contact methods, and 2100 for an unknown
// user or contact method.
func (sc *Scope) DeleteContactMethod(ctx context.Context, userID, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		c, err := tx.contactMethod(sc.accountID, userID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.ManageUserContact, access.Target{User: u}); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+notificationRuleColumns+" FROM notification_rules WHERE contact_method_id = ? ORDER BY "+notificationRuleOrder(sc.store), id)
		if err != nil {
			return fmt.Errorf("find notification rules of contact method: %w", err)
		}
		rules, err := scanAll(rows, scanNotificationRule)
		if err != nil {
			return fmt.Errorf("find notification rules of contact method: %w", err)
		}
		for _, q := range []string{"DELETE FROM notification_rules WHERE contact_method_id = ?", "DELETE FROM contact_methods WHERE id = ?"} {
			if _, err := tx.exec(q, id); err != nil {
				return fmt.Errorf("delete contact method: %w", err)
			}
		}
		refs := []gatehouse.AuditReference{{Name: "contact_methods", Removed: []gatehouse.Ref{contactMethodRef(c)}}}
		if len(rules) > 0 {
			removed := make([]gatehouse.Ref, len(rules))
			for i, n := range rules {
				removed[i] = notificationRuleRef(n)
			}
			refs = append(refs, gatehouse.AuditReference{Name: "notification_rules", Removed: removed})
		}
		if err := sc.audit(tx, "update", userRef(u), deletedFields(contactMethodFields(c)), refs...); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, userID)
	})
}

// contactMethod loads the user's contact method with that ID in tx, or
// returns a 2100 error.
func (tx *Tx) contactMethod(accountID, userID, id string) (*gatehouse.ContactMethod, error) {
	c, err := scanContactMethod(tx.queryRow("SELECT "+contactMethodColumns+" FROM contact_methods WHERE account_id = ? AND user_id = ? AND id = ?",
		accountID, userID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Contact method " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find contact method: %w", err)
	}
	return c, nil
}

// contactAddressFree returns a 2001 error if another contact method of the
// user than exceptID has c's type and address.
func (tx *Tx) contactAddressFree(c *gatehouse.ContactMethod, exceptID string) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM contact_methods WHERE user_id = ? AND type = ? AND address = ? AND id <> ?",
		c.UserID, c.Type, c.Address, exceptID).Scan(&n); err != nil {
		return fmt.Errorf("check contact method address: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput("Address has already been taken")
	}
	return nil
}

// insertContactMethod gives c an ID and a creation time and stores it.
func (tx *Tx) insertContactMethod(c *gatehouse.ContactMethod) error {
	c.ID, c.CreatedAt = gatehouse.NewID(), tx.now
	_, err := tx.exec("INSERT INTO contact_methods ("+contactMethodColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.UserID, c.Type, c.Label, c.Address, nullCountryCode(c.CountryCode), c.SendShortEmail, micros(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("create contact method: %w", err)
	}
	return nil
}

func nullCountryCode(code int) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(code), Valid: code != 0}
}

func scanContactMethod(row scanner) (*gatehouse.ContactMethod, error) {
	var c gatehouse.ContactMethod
	var code sql.NullInt64
	var created int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.UserID, &c.Type, &c.Label, &c.Address, &code, &c.SendShortEmail, &created); err != nil {
		return nil, err
	}
	c.CountryCode = int(code.Int64)
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

func contactMethodRef(c *gatehouse.ContactMethod) gatehouse.Ref {
	return gatehouse.Ref{Type: c.Type + "_reference", ID: c.ID, Summary: c.Label}
}

// contactMethodFields are the audited fields of a contact method, named
// after it, as they belong to its user's record.
func contactMethodFields(c *gatehouse.ContactMethod) fieldValues {
	prefix := "contact_methods." + c.ID + "."
	return fieldValues{
		{prefix + "type", c.Type}, {prefix + "label", c.Label}, {prefix + "address", c.Address},
		{prefix + "country_code", strconv.Itoa(c.CountryCode)}, {prefix + "send_short_email", strconv.FormatBool(c.SendShortEmail)},
	}
}
