package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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
	return s.inTx(ctx, func(tx *Tx) error { return tx.createAccount(a, owner) })
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
	overrides, err := json.Marshal(a.AbilityOverrides)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	if a.AbilityOverrides == nil {
		overrides = []byte("{}")
	}
	a.ID, a.CreatedAt = gatehouse.NewID(), tx.now
	_, err = tx.exec("INSERT INTO accounts ("+accountColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		a.ID, a.Subdomain, a.Name, string(a.Plan), string(overrides), micros(a.CreatedAt))
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
	err = s.tryTx(ctx, func(tx *Tx) error {
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
	if isUniqueViolation(err) {
		// Another node bootstrapped between our count and our insert.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return created, nil
}

// HasAccounts reports whether the database holds any account, so that a
// start can skip the costly preparation of a Bootstrap that would change
// nothing.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	var one int
	err := s.queryRow(ctx, "SELECT 1 FROM accounts LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for accounts: %w", err)
	}
	return true, nil
}

// AccountBySubdomain returns the account with that subdomain, or a 2100 error.
func (s *Store) AccountBySubdomain(ctx context.Context, subdomain string) (*gatehouse.Account, error) {
	return s.account(ctx, "subdomain = ?", subdomain, fmt.Sprintf("Account %q", subdomain))
}

// AccountByID returns the account with that ID, or a 2100 error.
func (s *Store) AccountByID(ctx context.Context, id string) (*gatehouse.Account, error) {
	return s.account(ctx, "id = ?", id, fmt.Sprintf("Account %s", id))
}

func (s *Store) account(ctx context.Context, where string, arg any, what string) (*gatehouse.Account, error) {
	a, err := scanAccount(s.queryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound(what)
	}
	if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	return a, nil
}

// Accounts returns every account, ordered by subdomain.
func (s *Store) Accounts(ctx context.Context) ([]*gatehouse.Account, error) {
	rows, err := s.query(ctx, "SELECT "+accountColumns+" FROM accounts ORDER BY "+s.byteOrder("subdomain"))
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var accounts []*gatehouse.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		accounts = append(accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return accounts, nil
}

// SetAbility grants or withdraws an ability of the account on top of its plan.
// It returns a 2001 error for an unknown ability and 2100 for an unknown
// account.
func (s *Store) SetAbility(ctx context.Context, accountID, ability string, granted bool) error {
	if !gatehouse.IsKnownAbility(ability) {
		return gatehouse.InvalidInput(fmt.Sprintf("Ability %q is unknown", ability))
	}
	return s.inTx(ctx, func(tx *Tx) error {
		a, err := scanAccount(tx.queryRow("SELECT "+accountColumns+" FROM accounts WHERE id = ?", accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("Account " + accountID)
		}
		if err != nil {
			return fmt.Errorf("set ability: %w", err)
		}
		if a.AbilityOverrides == nil {
			a.AbilityOverrides = map[string]bool{}
		}
		a.AbilityOverrides[ability] = granted
		overrides, err := json.Marshal(a.AbilityOverrides)
		if err != nil {
			return fmt.Errorf("set ability: %w", err)
		}
		if _, err := tx.exec("UPDATE accounts SET ability_overrides = ? WHERE id = ?", string(overrides), accountID); err != nil {
			return fmt.Errorf("set ability: %w", err)
		}
		return tx.recordChange(accountID, gatehouse.ChangeAccount, accountID)
	})
}

type scanner interface{ Scan(dest ...any) error }

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
