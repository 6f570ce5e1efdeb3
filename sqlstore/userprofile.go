package sqlstore

import (
	"context"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

// emailTaken is the problem of an email another user of the account has:
// PagerDuty's words, which clients match.
const emailTaken = "Email has already been taken"

// commandLine is the operator at the command line, named by in the audit
// trail, for the Store methods the CLI calls.
func commandLine(by gatehouse.Actor) Actor {
	return Actor{Principal: access.CLIPrincipal(nil), Ref: by, Method: methodOf(by)}
}

// UserQuery selects a page of users.
type UserQuery struct {
	// Query matches part of a user's name or email, whatever its case.
	Query string
	// TeamIDs keeps the members of any of these teams.
	TeamIDs []string
	Page    Page
}

// Users returns a page of the account's users, by name. Restricted Access
// users and Limited Stakeholders see themselves and the members of their
// teams.
func (sc *Scope) Users(ctx context.Context, q UserQuery) (List[*gatehouse.User], error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.matches(sc.store, q.Query, "name", "email")
	if len(q.TeamIDs) > 0 {
		args := make([]any, len(q.TeamIDs))
		for i, id := range q.TeamIDs {
			args[i] = id
		}
		f.add("id IN (SELECT user_id FROM team_members WHERE team_id IN ("+placeholders(len(args))+"))", args...)
	}
	sc.visibleUsers(f, "id")
	return listPage(ctx, sc.store, "list users", userColumns, "users", f, sc.store.byteOrder("name")+", id", q.Page, scanUser)
}

// visibleUsers limits f to the users the actor may see, by their column id.
func (sc *Scope) visibleUsers(f *filter, id string) {
	if userID, limited := sc.teamLimited(); limited {
		f.add("("+id+" = ? OR "+id+" IN (SELECT m.user_id FROM team_members m WHERE m.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?)))", userID, userID)
	}
}

// User returns the user with that ID, or a 2100 error.
func (sc *Scope) User(ctx context.Context, id string) (*gatehouse.User, error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.add("id = ?", id)
	sc.visibleUsers(f, "id")
	return get(ctx, sc.store, "find user", "User "+id, scanUser, "SELECT "+userColumns+" FROM users"+f.where(), f.args...)
}

// UserByEmail returns the account's user with that email, whoever the
// actor is, or a 2100 error: the REST API checks a From header with it.
func (sc *Scope) UserByEmail(ctx context.Context, email string) (*gatehouse.User, error) {
	email = gatehouse.NormalizeEmail(email)
	return get(ctx, sc.store, "find user", fmt.Sprintf("User %q", email), scanUser,
		"SELECT "+userColumns+" FROM users WHERE account_id = ? AND email = ?", sc.accountID, email)
}

// UserRoleCounts returns how many users of the account hold each role.
func (sc *Scope) UserRoleCounts(ctx context.Context) (map[gatehouse.Role]int, error) {
	type count struct {
		role gatehouse.Role
		n    int
	}
	counts, err := list(ctx, sc.store, "count users", func(row scanner) (c count, err error) { return c, row.Scan(&c.role, &c.n) },
		"SELECT role, COUNT(*) FROM users WHERE account_id = ? GROUP BY role", sc.accountID)
	if err != nil {
		return nil, err
	}
	out := make(map[gatehouse.Role]int, len(counts))
	for _, c := range counts {
		out[c.role] = c.n
	}
	return out, nil
}

// UserRelations are what belongs to some users, by user ID: their contact
// methods, notification rules and teams.
type UserRelations struct {
	ContactMethods    map[string][]*gatehouse.ContactMethod
	NotificationRules map[string][]*gatehouse.NotificationRule
	Teams             map[string][]*gatehouse.Team
}

// UserRelations loads the contact methods, notification rules and teams of
// the users with those IDs: one query for each kind, whatever the number of
// users.
func (sc *Scope) UserRelations(ctx context.Context, userIDs []string) (*UserRelations, error) {
	rel := &UserRelations{
		ContactMethods:    map[string][]*gatehouse.ContactMethod{},
		NotificationRules: map[string][]*gatehouse.NotificationRule{},
		Teams:             map[string][]*gatehouse.Team{},
	}
	if len(userIDs) == 0 {
		return rel, nil
	}
	args := make([]any, 0, len(userIDs)+1)
	args = append(args, sc.accountID)
	for _, id := range userIDs {
		args = append(args, id)
	}
	in := "(" + placeholders(len(userIDs)) + ")"

	type membership struct {
		userID string
		team   *gatehouse.Team
	}
	var (
		methods     []*gatehouse.ContactMethod
		rules       []*gatehouse.NotificationRule
		memberships []membership
	)
	err := sc.store.view(ctx, "load users' relations", func(ctx context.Context) error {
		rows, err := sc.store.query(ctx, "SELECT "+contactMethodColumns+" FROM contact_methods WHERE account_id = ? AND user_id IN "+in+
			" ORDER BY created_at, "+sc.store.byteOrder("id"), args...)
		if err != nil {
			return fmt.Errorf("list contact methods: %w", err)
		}
		if methods, err = scanAll(rows, scanContactMethod); err != nil {
			return fmt.Errorf("list contact methods: %w", err)
		}
		rows, err = sc.store.query(ctx, "SELECT "+notificationRuleColumns+" FROM notification_rules WHERE account_id = ? AND user_id IN "+in+
			" ORDER BY "+notificationRuleOrder(sc.store), args...)
		if err != nil {
			return fmt.Errorf("list notification rules: %w", err)
		}
		if rules, err = scanAll(rows, scanNotificationRule); err != nil {
			return fmt.Errorf("list notification rules: %w", err)
		}
		rows, err = sc.store.query(ctx, "SELECT m.user_id, "+qualify("t.", teamColumns)+" FROM team_members m JOIN teams t ON t.id = m.team_id"+
			" WHERE m.account_id = ? AND m.user_id IN "+in+" ORDER BY "+sc.store.byteOrder("t.name")+", t.id", args...)
		if err != nil {
			return fmt.Errorf("list teams of users: %w", err)
		}
		memberships, err = scanAll(rows, func(row scanner) (m membership, err error) {
			m.team, err = scanTeam(leading{row, []any{&m.userID}})
			return m, err
		})
		if err != nil {
			return fmt.Errorf("list teams of users: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range methods {
		rel.ContactMethods[c.UserID] = append(rel.ContactMethods[c.UserID], c)
	}
	for _, n := range rules {
		rel.NotificationRules[n.UserID] = append(rel.NotificationRules[n.UserID], n)
	}
	for _, m := range memberships {
		rel.Teams[m.userID] = append(rel.Teams[m.userID], m.team)
	}
	return rel, nil
}

// CreateUser validates u against the account and adds it, setting its ID,
// account, creation time and license, with an email contact method for its
// email and a notification rule that uses it. It returns a 403 error for an
// actor who may not add users, 2001 errors for invalid fields, a taken
// email, a role the plan lacks and the owner role (an account has one owner,
// made with it), and 2100 for an unknown account.
func (sc *Scope) CreateUser(ctx context.Context, u *gatehouse.User) error {
	if u.Role == gatehouse.RoleOwner {
		return gatehouse.InvalidInput("An account has one owner, created with the account; choose another role")
	}
	u.Normalize()
	return sc.write(ctx, func(tx *Tx) error {
		if err := access.Decide(sc.actor.Principal, access.CreateUser, access.Target{User: u}); err != nil {
			return err
		}
		a, err := tx.account(sc.accountID)
		if err != nil {
			return err
		}
		u.AccountID = sc.accountID
		if err := u.ValidateFor(a); err != nil {
			return err
		}
		if err := tx.createUser(u); err != nil {
			return err
		}
		if err := sc.audit(tx, "create", userRef(u), createdFields(userFields(u))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, u.ID)
	})
}

// createDefaultContact gives a new user an email contact method for their
// email and a high-urgency notification rule that uses it at once.
func (tx *Tx) createDefaultContact(u *gatehouse.User) error {
	c := &gatehouse.ContactMethod{AccountID: u.AccountID, UserID: u.ID, Type: gatehouse.ContactEmail,
		Label: gatehouse.DefaultContactLabel, Address: u.Email}
	if err := tx.insertContactMethod(c); err != nil {
		return err
	}
	return tx.insertNotificationRule(&gatehouse.NotificationRule{AccountID: u.AccountID, UserID: u.ID,
		ContactMethodID: c.ID, StartDelayInMinutes: 0, Urgency: "high"})
}

// UpdateUser applies change to the user with that ID and stores it, and
// returns the user as stored. change may run more than once (a write that
// lost a race is retried) and must only set fields. A change of role
// allocates the user's license anew. It returns 403 errors for an actor who
// may not change this user or their role, 2001 errors for invalid fields, a
// taken email, a role the plan lacks and giving or taking the owner's role,
// and 2100 for an unknown user.
func (sc *Scope) UpdateUser(ctx context.Context, id string, change func(*gatehouse.User)) (*gatehouse.User, error) {
	var updated *gatehouse.User
	err := sc.write(ctx, func(tx *Tx) error {
		before, err := tx.user(sc.accountID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.UpdateUser, access.Target{User: before}); err != nil {
			return err
		}
		u := *before
		change(&u)
		u.ID, u.AccountID, u.PasswordHash, u.CreatedAt = before.ID, before.AccountID, before.PasswordHash, before.CreatedAt
		u.Normalize()
		if u.Role != before.Role {
			if err := access.Decide(sc.actor.Principal, access.ChangeUserRole, access.Target{User: before}); err != nil {
				return err
			}
			if before.Role == gatehouse.RoleOwner || u.Role == gatehouse.RoleOwner {
				return gatehouse.InvalidInput("The account owner's role cannot be given or taken")
			}
			u.LicenseAllocatedAt = tx.now
		}
		a, err := tx.account(sc.accountID)
		if err != nil {
			return err
		}
		if err := u.ValidateFor(a); err != nil {
			return err
		}
		if u.Email != before.Email {
			var n int
			if err := tx.queryRow("SELECT COUNT(*) FROM users WHERE account_id = ? AND email = ? AND id <> ?", sc.accountID, u.Email, id).Scan(&n); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
			if n > 0 {
				return gatehouse.InvalidInput(emailTaken)
			}
		}
		fields := changedFields(userFields(before), userFields(&u))
		updated = &u
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE users SET email = ?, name = ?, role = ?, time_zone = ?, color = ?, description = ?, job_title = ?, license_allocated_at = ? WHERE id = ?",
			u.Email, u.Name, string(u.Role), u.TimeZone, u.Color, u.Description, u.JobTitle, micros(u.LicenseAllocatedAt), id); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if err := sc.audit(tx, "update", userRef(&u), fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, id)
	})
	return updated, err
}

// DeleteUser removes the user with that ID and everything that is theirs:
// their API user tokens, contact methods, notification rules and team
// memberships; and takes them out of the escalation rules that have other
// targets too. The owner cannot be removed, nor the only target of an
// escalation rule. It returns a 403 error for an actor who may not remove
// this user, 2001 errors for the owner and for the only target of a rule
// (naming its policy), and 2100 for an unknown user.
func (sc *Scope) DeleteUser(ctx context.Context, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		u, err := tx.user(sc.accountID, id)
		if err != nil {
			return err
		}
		if err := access.Decide(sc.actor.Principal, access.DeleteUser, access.Target{User: u}); err != nil {
			return err
		}
		if u.Role == gatehouse.RoleOwner {
			return gatehouse.InvalidInput("The account owner cannot be removed")
		}
		if err := sc.removeTargetUser(tx, u); err != nil {
			return err
		}
		if err := tx.deleteUserTokens(sc.accountID, id, sc.actor.Ref); err != nil {
			return err
		}
		if err := sc.leaveTeams(tx, u); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM notification_rules WHERE user_id = ?",
			"DELETE FROM contact_methods WHERE user_id = ?",
			"DELETE FROM users WHERE id = ?",
		} {
			if _, err := tx.exec(q, id); err != nil {
				return fmt.Errorf("delete user: %w", err)
			}
		}
		if err := sc.audit(tx, "delete", userRef(u), deletedFields(userFields(u))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeUser, id)
	})
}

// leaveTeams takes u out of every team, recording an update of each.
func (sc *Scope) leaveTeams(tx *Tx, u *gatehouse.User) error {
	rows, err := tx.query("SELECT "+qualify("t.", teamColumns)+" FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.id", u.ID)
	if err != nil {
		return fmt.Errorf("find teams of user: %w", err)
	}
	teams, err := scanAll(rows, scanTeam)
	if err != nil {
		return fmt.Errorf("find teams of user: %w", err)
	}
	if len(teams) == 0 {
		return nil
	}
	if _, err := tx.exec("DELETE FROM team_members WHERE user_id = ?", u.ID); err != nil {
		return fmt.Errorf("remove user from teams: %w", err)
	}
	for _, t := range teams {
		if err := sc.audit(tx, "update", teamRef(t), nil, gatehouse.AuditReference{Name: "members", Removed: []gatehouse.Ref{userRef(u)}}); err != nil {
			return err
		}
		if err := sc.changed(tx, gatehouse.ChangeTeam, t.ID); err != nil {
			return err
		}
	}
	return nil
}

// userFields are the audited fields of a user: never the password hash.
func userFields(u *gatehouse.User) fieldValues {
	return fieldValues{
		{"name", u.Name}, {"email", u.Email}, {"role", string(u.Role)}, {"time_zone", u.TimeZone},
		{"color", u.Color}, {"description", u.Description}, {"job_title", u.JobTitle},
	}
}
