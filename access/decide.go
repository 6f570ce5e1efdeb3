package access

import (
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

// Action is an operation on one object that Decide rules on, on top of the
// role's permission that each route checks.
type Action uint8

// The actions with rules of their own.
const (
	// CreateUser adds a user to the account.
	CreateUser Action = iota + 1
	// UpdateUser changes a user's profile: name, email, time zone, color,
	// description, job title.
	UpdateUser
	// ChangeUserRole changes a user's base role.
	ChangeUserRole
	// DeleteUser removes a user.
	DeleteUser
	// ManageUserContact changes a user's contact methods and notification
	// rules.
	ManageUserContact
)

var actionNames = map[Action]string{
	CreateUser:        "add users",
	UpdateUser:        "change this user's profile",
	ChangeUserRole:    "change this user's role",
	DeleteUser:        "remove this user",
	ManageUserContact: "change this user's contact methods and notification rules",
}

// String says the action for people, such as "remove this user".
func (a Action) String() string { return actionNames[a] }

// Target is the object an action is on.
type Target struct {
	// User is the user acted on, for the user actions.
	User *gatehouse.User
}

// Decide decides whether p may perform action on target. Stores call it
// inside the transaction that loaded the target, so that what is checked is
// what is written. It returns nil to allow, or a 403 (code 2010) error that
// names the rule.
//
// The rules: account-level credentials (general keys, OAuth apps, the
// command line) may do every action. No user changes their own role, so
// that an Admin cannot demote the last Admin by mistake from a script.
// Admins and the Account Owner may act on every user but an Admin not on
// the Owner. Everyone else may change only their own profile, contact
// methods and notification rules.
func Decide(p *Principal, action Action, target Target) error {
	if p.User == nil {
		return nil
	}
	actor := p.User
	switch action {
	case CreateUser:
		if actor.Role.IsAdmin() {
			return nil
		}
		return forbidden("Only Admins and the Account Owner can %s", action)
	case UpdateUser, ChangeUserRole, DeleteUser, ManageUserContact:
		u := target.User
		switch {
		case action == ChangeUserRole && u.ID == actor.ID:
			return forbidden("You cannot change your own role; another Admin or the Account Owner can")
		case actor.Role == gatehouse.RoleOwner:
			return nil
		case actor.Role == gatehouse.RoleAdmin:
			if u.Role == gatehouse.RoleOwner {
				return forbidden("An Admin cannot %s: the user is the Account Owner", action)
			}
			return nil
		case u.ID == actor.ID && (action == UpdateUser || action == ManageUserContact):
			return nil
		case u.ID == actor.ID:
			return forbidden("Only Admins and the Account Owner can %s", action)
		}
		return forbidden("Your role, %s (%s), may only change your own profile: it cannot %s", actor.Role.UIName(), actor.Role, action)
	}
	return fmt.Errorf("access: Decide of unknown action %d", action)
}

func forbidden(format string, args ...any) error {
	return gatehouse.Errorf(gatehouse.CodeForbidden, format, args...)
}
