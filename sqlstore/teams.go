package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse"
)

const teamColumns = "id, account_id, name, description, default_role, created_at"

// TeamQuery selects a page of teams.
type TeamQuery struct {
	// Query matches part of a team's name, whatever its case.
	Query string
	Page  Page
}

// Teams returns a page of the account's teams, by name. Restricted Access
// users see only their own teams.
func (sc *Scope) Teams(ctx context.Context, q TeamQuery) (List[*gatehouse.Team], error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.matches(sc.store, q.Query, "name")
	if userID, limited := sc.teamLimited(); limited {
		f.add("id IN (SELECT team_id FROM team_members WHERE user_id = ?)", userID)
	}
	return listPage(ctx, sc.store, "list teams", teamColumns, "teams", f, sc.store.byteOrder("name")+", id", q.Page, scanTeam)
}

// Team returns the team with that ID, or a 2100 error.
func (sc *Scope) Team(ctx context.Context, id string) (*gatehouse.Team, error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.add("id = ?", id)
	if userID, limited := sc.teamLimited(); limited {
		f.add("id IN (SELECT team_id FROM team_members WHERE user_id = ?)", userID)
	}
	return get(ctx, sc.store, "find team", "Team "+id, scanTeam, "SELECT "+teamColumns+" FROM teams"+f.where(), f.args...)
}

// CreateTeam validates t and adds it to the account, setting its ID,
// account and creation time. It returns 2001 errors for invalid fields and a
// name already taken.
func (sc *Scope) CreateTeam(ctx context.Context, t *gatehouse.Team) error {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	return sc.write(ctx, func(tx *Tx) error {
		if err := tx.teamNameFree(sc.accountID, t.Name, ""); err != nil {
			return err
		}
		t.ID, t.AccountID, t.CreatedAt = gatehouse.NewID(), sc.accountID, tx.now
		_, err := tx.exec("INSERT INTO teams ("+teamColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			t.ID, t.AccountID, t.Name, t.Description, t.DefaultRole, micros(t.CreatedAt))
		if err != nil {
			return fmt.Errorf("create team: %w", err)
		}
		if err := sc.audit(tx, "create", teamRef(t), createdFields(teamFields(t))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeTeam, t.ID)
	})
}

// UpdateTeam applies change to the team with that ID and stores it, and
// returns the team as stored. change may run more than once (a write that
// lost a race is retried) and must only set fields. It returns 2001 errors
// for invalid fields and a name already taken, and 2100 for an unknown team.
func (sc *Scope) UpdateTeam(ctx context.Context, id string, change func(*gatehouse.Team)) (*gatehouse.Team, error) {
	var updated *gatehouse.Team
	err := sc.write(ctx, func(tx *Tx) error {
		before, err := tx.team(sc.accountID, id)
		if err != nil {
			return err
		}
		t := *before
		change(&t)
		t.Normalize()
		if err := t.Validate(); err != nil {
			return err
		}
		if t.Name != before.Name {
			if err := tx.teamNameFree(sc.accountID, t.Name, id); err != nil {
				return err
			}
		}
		fields := changedFields(teamFields(before), teamFields(&t))
		updated = &t
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE teams SET name = ?, description = ?, default_role = ? WHERE id = ?",
			t.Name, t.Description, t.DefaultRole, id); err != nil {
			return fmt.Errorf("update team: %w", err)
		}
		if err := sc.audit(tx, "update", teamRef(&t), fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeTeam, id)
	})
	return updated, err
}

// DeleteTeam removes the team with that ID, and with it its memberships and
// its links to escalation policies. It returns 2100 for an unknown team.
func (sc *Scope) DeleteTeam(ctx context.Context, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		t, err := tx.team(sc.accountID, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM teams WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete team: %w", err)
		}
		if err := sc.audit(tx, "delete", teamRef(t), deletedFields(teamFields(t))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeTeam, id)
	})
}

// team loads the account's team with that ID in tx, or returns a 2100 error.
func (tx *Tx) team(accountID, id string) (*gatehouse.Team, error) {
	t, err := scanTeam(tx.queryRow("SELECT "+teamColumns+" FROM teams WHERE account_id = ? AND id = ?", accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("Team " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find team: %w", err)
	}
	return t, nil
}

// teamNameFree returns a 2001 error if another team of the account than
// exceptID has name.
func (tx *Tx) teamNameFree(accountID, name, exceptID string) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM teams WHERE account_id = ? AND name = ? AND id <> ?", accountID, name, exceptID).Scan(&n); err != nil {
		return fmt.Errorf("check team name: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput("Name has already been taken")
	}
	return nil
}

func teamRef(t *gatehouse.Team) gatehouse.Ref {
	return gatehouse.Ref{Type: "team_reference", ID: t.ID, Summary: t.Name}
}

func teamFields(t *gatehouse.Team) fieldValues {
	return fieldValues{{"name", t.Name}, {"description", t.Description}, {"default_role", t.DefaultRole}}
}

func scanTeam(row scanner) (*gatehouse.Team, error) {
	var t gatehouse.Team
	var created int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Name, &t.Description, &t.DefaultRole, &created); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// TeamMembers returns a page of the team's members with their roles, by
// the users' names. It returns 2100 for an unknown team.
func (sc *Scope) TeamMembers(ctx context.Context, teamID string, p Page) (List[gatehouse.TeamMember], error) {
	if _, err := sc.Team(ctx, teamID); err != nil {
		return List[gatehouse.TeamMember]{}, err
	}
	f := &filter{}
	f.add("m.team_id = ?", teamID)
	return listPage(ctx, sc.store, "list team members", qualify("u.", userColumns)+", m.role", "team_members m JOIN users u ON u.id = m.user_id",
		f, sc.store.byteOrder("u.name")+", u.id", p, func(row scanner) (gatehouse.TeamMember, error) {
			var r userRow
			var m gatehouse.TeamMember
			if err := row.Scan(append(r.dest(), &m.Role)...); err != nil {
				return m, err
			}
			m.User = r.user()
			return m, nil
		})
}

// SetTeamMember adds the user to the team with role, or changes their role
// in it. It returns 2001 errors for an unknown role and for a stakeholder
// (who cannot be a member), and 2100 for an unknown team or user.
func (sc *Scope) SetTeamMember(ctx context.Context, teamID, userID, role string) error {
	if err := gatehouse.ValidateTeamRole(role); err != nil {
		return err
	}
	return sc.write(ctx, func(tx *Tx) error {
		team, err := tx.team(sc.accountID, teamID)
		if err != nil {
			return err
		}
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		if u.Role == gatehouse.RoleReadOnlyUser || u.Role == gatehouse.RoleReadOnlyLimitedUser {
			return gatehouse.InvalidInput(fmt.Sprintf("%s is a stakeholder (%s): stakeholders cannot be members of a team", u.Name, u.Role))
		}
		var before string
		err = tx.queryRow("SELECT role FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID).Scan(&before)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.exec("INSERT INTO team_members (account_id, team_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)",
				sc.accountID, teamID, userID, role, micros(tx.now))
		case err == nil && before == role:
			return nil
		case err == nil:
			_, err = tx.exec("UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?", role, teamID, userID)
		}
		if err != nil {
			return fmt.Errorf("set team member: %w", err)
		}
		var refs []gatehouse.AuditReference
		if before == "" {
			refs = append(refs, gatehouse.AuditReference{Name: "members", Added: []gatehouse.Ref{userRef(u)}})
		}
		field, _ := gatehouse.Changed("member_role", before, role)
		if before == "" {
			field = gatehouse.Created("member_role", role)
		}
		field.Name = "role of " + u.ID
		if err := sc.audit(tx, "update", teamRef(team), []gatehouse.AuditField{field}, refs...); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeTeam, teamID)
	})
}

// memberInTeamPolicy is the problem of a member who cannot leave a team
// because an escalation policy of the team has them as a target:
// PagerDuty's words, which its Terraform provider matches.
const memberInTeamPolicy = "User cannot be removed as they belong to an escalation policy on this team"

// RemoveTeamMember takes the user out of the team. It returns a 2001 error
// when an escalation policy of the team has the user as a target (naming
// the policies), and 2100 for an unknown team or user, or a user who is not
// a member.
func (sc *Scope) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	return sc.write(ctx, func(tx *Tx) error {
		team, err := tx.team(sc.accountID, teamID)
		if err != nil {
			return err
		}
		u, err := tx.user(sc.accountID, userID)
		if err != nil {
			return err
		}
		var role string
		err = tx.queryRow("SELECT role FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound(fmt.Sprintf("User %s in team %s", userID, teamID))
		}
		if err != nil {
			return fmt.Errorf("find team member: %w", err)
		}
		if err := sc.notTargetOfTeamPolicies(tx, team, u); err != nil {
			return err
		}
		if _, err := tx.exec("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID); err != nil {
			return fmt.Errorf("remove team member: %w", err)
		}
		if err := sc.audit(tx, "update", teamRef(team), nil, gatehouse.AuditReference{Name: "members", Removed: []gatehouse.Ref{userRef(u)}}); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangeTeam, teamID)
	})
}

// notTargetOfTeamPolicies returns a 2001 error, PagerDuty's words and a
// line for each policy, when escalation policies of the team have u as a
// target.
func (sc *Scope) notTargetOfTeamPolicies(tx *Tx, team *gatehouse.Team, u *gatehouse.User) error {
	rows, err := tx.query("SELECT p.id, p.name FROM escalation_policies p JOIN escalation_policy_teams pt ON pt.policy_id = p.id"+
		" WHERE pt.team_id = ? AND p.id IN (SELECT r.policy_id FROM escalation_rules r JOIN escalation_rule_targets t ON t.rule_id = r.id WHERE t.user_id = ?)"+
		" ORDER BY "+sc.store.byteOrder("p.name")+", p.id", team.ID, u.ID)
	if err != nil {
		return fmt.Errorf("find the team's escalation policies targeting the user: %w", err)
	}
	policies, err := scanAll(rows, func(row scanner) (p gatehouse.Ref, err error) {
		return p, row.Scan(&p.ID, &p.Summary)
	})
	if err != nil {
		return fmt.Errorf("find the team's escalation policies targeting the user: %w", err)
	}
	if len(policies) == 0 {
		return nil
	}
	problems := []string{memberInTeamPolicy}
	for _, p := range policies {
		problems = append(problems, fmt.Sprintf("Escalation policy %q (%s) of team %q has %s as a target: take them out of its rules, or the policy out of the team, first",
			p.Summary, p.ID, team.Name, u.Name))
	}
	return gatehouse.InvalidInput(problems...)
}

func userRef(u *gatehouse.User) gatehouse.Ref {
	return gatehouse.Ref{Type: "user_reference", ID: u.ID, Summary: u.Name}
}
