package sqlstore

import (
	"context"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

const userColumns = "id, account_id, email, name, role, time_zone, password_hash, created_at, color, description, job_title, license_allocated_at"

// CreateUser validates u against its account, gives it an ID and a creation
// time, and stores it, as the operator at the command line (see
// Scope.CreateUser). It returns 2001 errors for invalid input, a taken
// email, and the owner role (an account has one owner, made with it), and
// 2100 for an unknown account.
func (s *Store) CreateUser(ctx context.Context, u *gatehouse.User) error {
	return s.Scope(u.AccountID, commandLine(gatehouse.CLIActor)).CreateUser(ctx, u)
}

func (tx *Tx) createUser(u *gatehouse.User) error {
	u.Normalize()
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM users WHERE account_id = ? AND email = ?", u.AccountID, u.Email).Scan(&n); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput(emailTaken)
	}
	u.ID, u.CreatedAt, u.LicenseAllocatedAt = gatehouse.NewID(), tx.now, tx.now
	_, err := tx.exec("INSERT INTO users ("+userColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.AccountID, u.Email, u.Name, string(u.Role), u.TimeZone, u.PasswordHash, micros(u.CreatedAt),
		u.Color, u.Description, u.JobTitle, micros(u.LicenseAllocatedAt))
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return tx.createDefaultContact(u)
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

// SetUserRole changes a user's base role, as the operator at the command
// line (see Scope.UpdateUser). It returns 2001 errors for a role the account
// does not allow and for making or unmaking the owner, and 2100 for an
// unknown user.
func (s *Store) SetUserRole(ctx context.Context, accountID, userID string, role gatehouse.Role) error {
	_, err := s.Scope(accountID, commandLine(gatehouse.CLIActor)).UpdateUser(ctx, userID, func(u *gatehouse.User) { u.Role = role })
	return err
}

// DeleteUser removes a user and everything that is theirs (see
// Scope.DeleteUser), naming by in the audit trail. The owner cannot be
// removed. It returns 2001 for the owner and for the only target of an
// escalation rule, and 2100 for an unknown user.
func (s *Store) DeleteUser(ctx context.Context, accountID, userID string, by gatehouse.Actor) error {
	return s.Scope(accountID, commandLine(by)).DeleteUser(ctx, userID)
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
	u                 gatehouse.User
	created, licensed int64
}

func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.u.AccountID, &r.u.Email, &r.u.Name, &r.u.Role, &r.u.TimeZone, &r.u.PasswordHash, &r.created,
		&r.u.Color, &r.u.Description, &r.u.JobTitle, &r.licensed}
}

func (r *userRow) user() *gatehouse.User {
	u := r.u
	u.CreatedAt = fromMicros(r.created)
	u.LicenseAllocatedAt = fromMicros(r.licensed)
	return &u
}
