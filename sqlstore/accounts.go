package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse"
)

const accountColumns = "id, subdomain, name, plan, ability_overrides, created_at"

// CreateAccount validates a, gives it an ID and a creation time, and stores
// it with owner, its Account Owner, whose ID and creation time are set too.
// It returns 2001 errors for invalid input and a taken subdomain.
func (s *Store) CreateAccount(ctx context.Context, a *gatehouse.Account, owner *gatehouse.User) error {
	if owner.Role != gatehouse.RoleOwner {
		return gatehouse.InvalidInput(fmt.Sprintf("The first user of an account is its owner, not %q", owner.Role))
	}
	if err := validateAccount(a, owner); err != nil {
		return err
	}
	restoreAccount, restoreOwner := keep(a), keep(owner)
	err := s.inTx(ctx, func(tx *Tx) error {
		restoreAccount()
		restoreOwner()
		return tx.createAccount(a, owner)
	})
	if err != nil {
		restoreAccount()
		restoreOwner()
	}
	return err
}

func validateAccount(a *gatehouse.Account, owner *gatehouse.User) error {
	owner.Email = gatehouse.NormalizeEmail(owner.Email)
	if err := a.Validate(); err != nil {
		return err
	}
	return owner.ValidateFor(a)
}

func (tx *Tx) createAccount(a *gatehouse.Account, owner *gatehouse.User) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM accounts WHERE subdomain = ?", a.Subdomain).Scan(&n); err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput(fmt.Sprintf("Subdomain %q is already taken", a.Subdomain))
	}
	overrides, err := marshalOverrides(a.AbilityOverrides)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	a.ID, a.CreatedAt = gatehouse.NewID(), tx.now
	_, err = tx.exec("INSERT INTO accounts ("+accountColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		a.ID, a.Subdomain, a.Name, string(a.Plan), overrides, micros(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	owner.AccountID = a.ID
	if err := tx.createUser(owner); err != nil {
		return err
	}
	return tx.recordChange(a.ID, gatehouse.ChangeAccount, a.ID)
}

// Bootstrap creates a and its owner if the database holds no account yet, and
// reports whether it did. Several nodes may call it at once: one creates.
// When key is not nil it is created with the account, in the same
// transaction, as a general key of the account (see CreateKey: the caller sets
// Hash, Last4, Description, ReadOnly and CreatedBy). It returns 2001 errors
// for invalid input.
func (s *Store) Bootstrap(ctx context.Context, a *gatehouse.Account, owner *gatehouse.User, key *gatehouse.APIKey) (created bool, err error) {
	if err := validateAccount(a, owner); err != nil {
		return false, err
	}
	if key != nil {
		if key.Kind == "" {
			key.Kind = gatehouse.KeyGeneral
		}
		if key.Kind != gatehouse.KeyGeneral {
			return false, gatehouse.InvalidInput("The first key of an account is a general access key")
		}
		if err := validateKey(key); err != nil {
			return false, err
		}
	}
	restoreAccount, restoreOwner := keep(a), keep(owner)
	restoreKey := func() {}
	if key != nil {
		restoreKey = keep(key)
	}
	restore := func() { restoreAccount(); restoreOwner(); restoreKey() }
	err = s.inTx(ctx, func(tx *Tx) error {
		restore()
		created = false
		var n int
		if err := tx.queryRow("SELECT COUNT(*) FROM accounts").Scan(&n); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if n > 0 {
			return nil
		}
		if err := tx.createAccount(a, owner); err != nil {
			return err
		}
		if key != nil {
			key.AccountID = a.ID
			if err := tx.createKey(key); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	if err != nil || !created {
		restore()
		return false, err
	}
	return true, nil
}

// HasAccounts reports whether the database holds any account, so that a
// start can skip the costly preparation of a Bootstrap that would change
// nothing.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	var has bool
	err := s.view(ctx, "look for accounts", func(ctx context.Context) error {
		var one int
		err := s.queryRow(ctx, "SELECT 1 FROM accounts LIMIT 1").Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		has = err == nil
		return err
	})
	return has, err
}

// AccountBySubdomain returns the account with that subdomain, or a 2100 error.
func (s *Store) AccountBySubdomain(ctx context.Context, subdomain string) (*gatehouse.Account, error) {
	return get(ctx, s, "find account", fmt.Sprintf("Account %q", subdomain), scanAccount,
		"SELECT "+accountColumns+" FROM accounts WHERE subdomain = ?", subdomain)
}

// AccountByID returns the account with that ID, or a 2100 error.
func (s *Store) AccountByID(ctx context.Context, id string) (*gatehouse.Account, error) {
	return get(ctx, s, "find account", "Account "+id, scanAccount,
		"SELECT "+accountColumns+" FROM accounts WHERE id = ?", id)
}

// Accounts returns every account, ordered by subdomain.
func (s *Store) Accounts(ctx context.Context) ([]*gatehouse.Account, error) {
	return list(ctx, s, "list accounts", scanAccount, "SELECT "+accountColumns+" FROM accounts ORDER BY "+s.byteOrder("subdomain"))
}

// SetPlan moves the account to plan, and returns the account as it is then.
// The abilities it was granted or withdrew on top of its plan stay so. Users
// keep their roles, also those the new plan would not let them be given.
// Moving an account to its own plan changes nothing. It returns a 2001 error
// for an unknown plan and 2100 for an unknown account.
func (s *Store) SetPlan(ctx context.Context, accountID string, plan gatehouse.Plan, by gatehouse.Actor) (*gatehouse.Account, error) {
	if _, err := gatehouse.ParsePlan(string(plan)); err != nil {
		return nil, err
	}
	var a *gatehouse.Account
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		if a, err = tx.account(accountID); err != nil {
			return err
		}
		if a.Plan == plan {
			return nil
		}
		before := a.Plan
		a.Plan = plan
		if _, err := tx.exec("UPDATE accounts SET plan = ? WHERE id = ?", string(plan), accountID); err != nil {
			return fmt.Errorf("set plan: %w", err)
		}
		field, _ := gatehouse.Changed("plan", string(before), string(plan))
		return tx.accountChanged(a, by, field)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// SetAbilities grants (true) or withdraws (false) each ability of
// abilities on top of the account's plan, and returns the account as it is
// then. Granting or withdrawing what the plan presets drops the override,
// so that the account follows its plan for that ability again. It returns a
// 2001 error for an unknown ability and 2100 for an unknown account.
func (s *Store) SetAbilities(ctx context.Context, accountID string, abilities map[string]bool, by gatehouse.Actor) (*gatehouse.Account, error) {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(abilities)) {
		if !gatehouse.IsKnownAbility(name) {
			problems = append(problems, fmt.Sprintf("Ability %q is not one of %s", name, strings.Join(gatehouse.KnownAbilities, ", ")))
		}
	}
	if len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	var a *gatehouse.Account
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		if a, err = tx.account(accountID); err != nil {
			return err
		}
		before := maps.Clone(a.AbilityOverrides)
		abilitiesBefore := strings.Join(a.Abilities(), ", ")
		var details []string
		for _, name := range slices.Sorted(maps.Keys(abilities)) {
			a.Override(name, abilities[name])
			was, overridden := before[name]
			switch is, overrides := a.AbilityOverrides[name]; {
			case overrides && is && (!overridden || !was):
				details = append(details, "granted "+name)
			case overrides && !is && (!overridden || was):
				details = append(details, "withdrew "+name)
			case !overrides && overridden:
				details = append(details, name+" as the plan presets")
			}
		}
		if len(details) == 0 {
			return nil
		}
		overrides, err := marshalOverrides(a.AbilityOverrides)
		if err != nil {
			return fmt.Errorf("set abilities: %w", err)
		}
		if _, err := tx.exec("UPDATE accounts SET ability_overrides = ? WHERE id = ?", overrides, accountID); err != nil {
			return fmt.Errorf("set abilities: %w", err)
		}
		field, _ := gatehouse.Changed("abilities", abilitiesBefore, strings.Join(a.Abilities(), ", "))
		if field.Name == "" {
			// Overrides that restate the plan change no ability.
			field = gatehouse.Created("abilities", abilitiesBefore)
		}
		field.Name = "abilities (" + strings.Join(details, ", ") + ")"
		return tx.accountChanged(a, by, field)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// account loads the account with that ID in the transaction, or returns a
// 2100 error.
func (tx *Tx) account(id string) (*gatehouse.Account, error) {
	a, err := scanAccount(tx.queryRow("SELECT "+accountColumns+" FROM accounts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Account " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	return a, nil
}

// accountChanged records a change of the account in the change feed, so
// that running servers drop what they cached of it, and in its audit trail.
func (tx *Tx) accountChanged(a *gatehouse.Account, by gatehouse.Actor, fields ...gatehouse.AuditField) error {
	if err := tx.recordChange(a.ID, gatehouse.ChangeAccount, a.ID); err != nil {
		return err
	}
	return tx.recordAudit(&gatehouse.AuditRecord{
		AccountID:    a.ID,
		Actor:        by,
		Method:       methodOf(by),
		RootResource: gatehouse.Ref{Type: "account_reference", ID: a.ID, Summary: a.Name},
		Action:       "update",
		Fields:       fields,
	})
}

// marshalOverrides is the stored form of an account's ability overrides:
// a JSON object, with its keys sorted, "{}" when there are none.
func marshalOverrides(overrides map[string]bool) (string, error) {
	if len(overrides) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(overrides)
	return string(b), err
}

func scanAccount(row scanner) (*gatehouse.Account, error) {
	var r accountRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.account()
}

// accountRow holds the columns of an accounts row while they are scanned.
type accountRow struct {
	a         gatehouse.Account
	overrides string
	created   int64
}

func (r *accountRow) dest() []any {
	return []any{&r.a.ID, &r.a.Subdomain, &r.a.Name, &r.a.Plan, &r.overrides, &r.created}
}

func (r *accountRow) account() (*gatehouse.Account, error) {
	a := r.a
	if err := json.Unmarshal([]byte(r.overrides), &a.AbilityOverrides); err != nil {
		return nil, fmt.Errorf("account %s ability overrides: %w", a.ID, err)
	}
	if len(a.AbilityOverrides) == 0 {
		a.AbilityOverrides = nil
	}
	a.CreatedAt = fromMicros(r.created)
	return &a, nil
}
