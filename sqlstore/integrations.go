package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

const integrationColumns = "id, account_id, service_id, name, type, vendor_id, integration_key, created_at"

// An integration is read with its service's name, for the service's
// reference.
var (
	integrationReadColumns = qualify("i.", integrationColumns) + ", s.name"
	integrationFrom        = "integrations i JOIN services s ON s.id = i.service_id"
)

// Integration returns the integration with that ID of the service with
// serviceID, or a 2100 error. Restricted Access users find only the
// integrations of the services they see.
func (sc *Scope) Integration(ctx context.Context, serviceID, id string) (*gatehouse.Integration, error) {
	f := &filter{}
	f.add("i.account_id = ?", sc.accountID)
	f.add("i.service_id = ?", serviceID)
	f.add("i.id = ?", id)
	sc.limitServicesToTeams(f)
	return get(ctx, sc.store, "find integration", fmt.Sprintf("Integration %s of service %s", id, serviceID), scanIntegrationWithService,
		"SELECT "+integrationReadColumns+" FROM "+integrationFrom+f.where(), f.args...)
}

// CreateIntegration validates in and adds it to the service with serviceID,
// setting its ID, account, service, creation time and a fresh integration
// key. It returns 2001 errors for invalid fields and an unknown vendor, and
// 2100 for an unknown service.
func (sc *Scope) CreateIntegration(ctx context.Context, serviceID string, in *gatehouse.Integration) error {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return err
	}
	restore := keep(in)
	return sc.write(ctx, func(tx *Tx) error {
		restore()
		svc, err := tx.serviceRef(sc.accountID, serviceID)
		if err != nil {
			return err
		}
		// Drawn inside the transaction: a retry after the rare collision on
		// the unique key draws another.
		in.ID, in.AccountID, in.Service, in.CreatedAt = gatehouse.NewID(), sc.accountID, svc, tx.now
		in.Key = gatehouse.NewIntegrationKey()
		if _, err := tx.exec("INSERT INTO integrations ("+integrationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			in.ID, in.AccountID, in.Service.ID, in.Name, in.Type, in.VendorID, in.Key, micros(in.CreatedAt)); err != nil {
			return fmt.Errorf("create integration: %w", err)
		}
		added := gatehouse.AuditReference{Name: "integrations", Added: []gatehouse.Ref{integrationRef(in)}}
		if err := sc.audit(tx, "update", svc, createdFields(integrationFields(in)), added); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeIntegration, in.ID)
	})
}

// UpdateIntegration applies change to the integration with that ID of the
// service with serviceID and stores it, and returns it as stored. change
// may run more than once and must only set fields; an integration whose key
// it empties gets a fresh one, and a key it sets to anything else is
// ignored. It returns 2001 errors for invalid fields and an unknown vendor,
// and 2100 for an unknown service or integration.
func (sc *Scope) UpdateIntegration(ctx context.Context, serviceID, id string, change func(*gatehouse.Integration)) (*gatehouse.Integration, error) {
	var updated *gatehouse.Integration
	err := sc.write(ctx, func(tx *Tx) error {
		svc, err := tx.serviceRef(sc.accountID, serviceID)
		if err != nil {
			return err
		}
		before, err := tx.integration(sc.accountID, serviceID, id)
		if err != nil {
			return err
		}
		in := *before
		change(&in)
		in.ID, in.AccountID, in.Service, in.CreatedAt = before.ID, before.AccountID, svc, before.CreatedAt
		in.Normalize()
		if err := in.Validate(); err != nil {
			return err
		}
		if in.Key == "" {
			in.Key = gatehouse.NewIntegrationKey()
		} else {
			in.Key = before.Key
		}
		updated = &in
		fields := changedFields(integrationFields(before), integrationFields(&in))
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE integrations SET name = ?, type = ?, vendor_id = ?, integration_key = ? WHERE id = ?",
			in.Name, in.Type, in.VendorID, in.Key, id); err != nil {
			return fmt.Errorf("update integration: %w", err)
		}
		if err := sc.audit(tx, "update", svc, fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeIntegration, id)
	})
	return updated, err
}

// DeleteIntegration removes the integration with that ID from the service
// with serviceID: its key stops working. It returns 2100 for an unknown
// service or integration.
func (sc *Scope) DeleteIntegration(ctx context.Context, serviceID, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		svc, err := tx.serviceRef(sc.accountID, serviceID)
		if err != nil {
			return err
		}
		in, err := tx.integration(sc.accountID, serviceID, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM integrations WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete integration: %w", err)
		}
		removed := gatehouse.AuditReference{Name: "integrations", Removed: []gatehouse.Ref{integrationRef(in)}}
		if err := sc.audit(tx, "update", svc, deletedFields(integrationFields(in)), removed); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeIntegration, id)
	})
}

// serviceRef loads the reference of the account's service with that ID in
// tx, or returns a 2100 error.
func (tx *Tx) serviceRef(accountID, id string) (gatehouse.Ref, error) {
	ref := gatehouse.Ref{Type: "service_reference", ID: id}
	err := tx.queryRow("SELECT name FROM services WHERE account_id = ? AND id = ?", accountID, id).Scan(&ref.Summary)
	if errors.Is(err, sql.ErrNoRows) {
		return ref, gatehouse.NotFound("Service " + id)
	}
	if err != nil {
		return ref, fmt.Errorf("find service: %w", err)
	}
	return ref, nil
}

// integration loads the integration with that ID of the account's service
// with serviceID in tx, or returns a 2100 error.
func (tx *Tx) integration(accountID, serviceID, id string) (*gatehouse.Integration, error) {
	in, err := scanIntegration(tx.queryRow("SELECT "+integrationColumns+" FROM integrations WHERE account_id = ? AND service_id = ? AND id = ?", accountID, serviceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound(fmt.Sprintf("Integration %s of service %s", id, serviceID))
	}
	if err != nil {
		return nil, fmt.Errorf("find integration: %w", err)
	}
	return in, nil
}

// integrationRef names an integration in audit records: PagerDuty's
// reference type is its type's.
func integrationRef(in *gatehouse.Integration) gatehouse.Ref {
	return gatehouse.Ref{Type: in.Type + "_reference", ID: in.ID, Summary: in.Name}
}

// integrationFields are the audited fields of an integration, under the
// service's record: the key by its last four characters only.
func integrationFields(in *gatehouse.Integration) fieldValues {
	prefix := "integrations." + in.ID + "."
	return fieldValues{
		{prefix + "name", in.Name}, {prefix + "type", in.Type}, {prefix + "vendor", in.VendorID},
		{prefix + "integration_key", "…" + in.Key[max(len(in.Key)-4, 0):]},
	}
}

func scanIntegration(row scanner) (*gatehouse.Integration, error) {
	var in gatehouse.Integration
	var created int64
	if err := row.Scan(&in.ID, &in.AccountID, &in.Service.ID, &in.Name, &in.Type, &in.VendorID, &in.Key, &created); err != nil {
		return nil, err
	}
	in.Service.Type, in.CreatedAt = "service_reference", fromMicros(created)
	return &in, nil
}

func scanIntegrationWithService(row scanner) (*gatehouse.Integration, error) {
	var in gatehouse.Integration
	var created int64
	if err := row.Scan(&in.ID, &in.AccountID, &in.Service.ID, &in.Name, &in.Type, &in.VendorID, &in.Key, &created, &in.Service.Summary); err != nil {
		return nil, err
	}
	in.Service.Type, in.CreatedAt = "service_reference", fromMicros(created)
	return &in, nil
}
