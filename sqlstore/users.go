package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

const userColumns = "id, account_id, email, name, role, time_zone, password_hash, created_at"

// CreateUser validates u against its account, gives it an ID and a creation
// time, and stores it. It returns 2001 errors for invalid input, a taken
// email, and the owner role (an account has one owner, made with it), and
// 2100 for an unknown account.
func (s *Store) CreateUser(ctx context.Context, u *gatehouse.User) error {
	u.Email = gatehouse.NormalizeEmail(u.Email)
	if u.Role == gatehouse.RoleOwner {
		return gatehouse.InvalidInput("An account has one owner, created with the account; choose another role")
	}
	restore := keep(u)
	err := s.inTx(ctx, func(tx *Tx) error {
		restore()
		a, err := tx.account(u.AccountID)
		if err != nil {
			return err
		}
		if err := u.ValidateFor(a); err != nil {
			return err
		}
		if err := tx.createUser(u); err != nil {
			return err
		}
		return tx.recordChange(u.AccountID, gatehouse.ChangeUser, u.ID)
	})
	if err != nil {
		restore()
	}
	return err
}

func (tx *Tx) createUser(u *gatehouse.User) error {
	if u.TimeZone == "" {
		u.TimeZone = gatehouse.DefaultTimeZone
	}
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM users WHERE account_id = ? AND email = ?", u.AccountID, u.Email).Scan(&n); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput(fmt.Sprintf("Email %q is already taken in this account", u.Email))
	}
	u.ID, u.CreatedAt = gatehouse.NewID(), tx.now
	_, err := tx.exec("INSERT INTO users ("+userColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.AccountID, u.Email, u.Name, string(u.Role), u.TimeZone, u.PasswordHash, micros(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// UserByID returns the user of the account with that ID, or a 2100 error.
func (s *Store) UserByID(ctx context.Context, accountID, id string) (*gatehouse.User, error) {
	return get(ctx, s, "find user", "User "+id, scanUser,
		"SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?", accountID, id)
}

// UserByEmail returns the user of the account with that email, or a 2100
// error.
func (s *Store) UserByEmail(ctx context.Context, accountID, email string) (*gatehouse.User, error) {
	email = gatehouse.NormalizeEmail(email)
	return get(ctx, s, "find user", fmt.Sprintf("User %q", email), scanUser,
		"SELECT "+userColumns+" FROM users WHERE account_id = ? AND email = ?", accountID, email)
}

// Users returns the users of the account, ordered by email.
func (s *Store) Users(ctx context.Context, accountID string) ([]*gatehouse.User, error) {
	return list(ctx, s, "list users", scanUser,
		"SELECT "+userColumns+" FROM users WHERE account_id = ? ORDER BY "+s.byteOrder("email"), accountID)
}

// SetUserRole changes a user's base role. It returns 2001 errors for a role
// the account does not allow and for making or unmaking the owner, and 2100
// for an unknown user.
func (s *Store) SetUserRole(ctx context.Context, accountID, userID string, role gatehouse.Role) error {
	return s.inTx(ctx, func(tx *Tx) error {
		u, err := scanUser(tx.queryRow("SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?", accountID, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("User " + userID)
		}
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		if u.Role == gatehouse.RoleOwner || role == gatehouse.RoleOwner {
			return gatehouse.InvalidInput("The account owner's role cannot be given or taken")
		}
		a, err := tx.account(accountID)
		if err != nil {
			return err
		}
		u.Role = role
		if err := u.ValidateFor(a); err != nil {
			return err
		}
		if _, err := tx.exec("UPDATE users SET role = ? WHERE id = ?", string(role), userID); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		return tx.recordChange(accountID, gatehouse.ChangeUser, userID)
	})
}

// DeleteUser removes a user, and with them everything that is theirs: each
// of their tokens is deleted with an audit record naming by. The owner cannot
// be removed. It returns 2001 for the owner and 2100 for an unknown user.
func (s *Store) DeleteUser(ctx context.Context, accountID, userID string, by gatehouse.Actor) error {
	return s.inTx(ctx, func(tx *Tx) error {
		var role string
		err := tx.queryRow("SELECT role FROM users WHERE account_id = ? AND id = ?", accountID, userID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("User " + userID)
		}
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if gatehouse.Role(role) == gatehouse.RoleOwner {
			return gatehouse.InvalidInput("The account owner cannot be removed")
		}
		if err := tx.deleteUserTokens(accountID, userID, by); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM users WHERE id = ?", userID); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return tx.recordChange(accountID, gatehouse.ChangeUser, userID)
	})
}

func scanUser(row scanner) (*gatehouse.User, error) {
	var r userRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.user(), nil
}

// userRow holds the columns of a users row while they are scanned.
type userRow struct {
	u       gatehouse.User
	created int64
}

func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.u.AccountID, &r.u.Email, &r.u.Name, &r.u.Role, &r.u.TimeZone, &r.u.PasswordHash, &r.created}
}

func (r *userRow) user() *gatehouse.User {
	u := r.u
	u.CreatedAt = fromMicros(r.created)
	return &u
}
