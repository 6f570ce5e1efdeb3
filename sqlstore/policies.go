package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse"
)

const policyColumns = "id, account_id, name, description, num_loops, on_call_handoff_notifications, created_at"

// PolicyQuery selects a page of escalation policies.
type PolicyQuery struct {
	// Query matches part of a policy's name, whatever its case.
	Query string
	// UserIDs selects the policies that have one of these users as a
	// target; TeamIDs those that belong to one of these teams.
	UserIDs, TeamIDs []string
	// Descending sorts by name from Z to A.
	Descending bool
	Page       Page
}

// EscalationPolicies returns a page of the account's escalation policies,
// by name, with their rules, teams and services. Restricted Access users
// see only the policies of their teams. It returns 2014 for team IDs on an
// account without the teams ability.
func (sc *Scope) EscalationPolicies(ctx context.Context, q PolicyQuery) (List[*gatehouse.EscalationPolicy], error) {
	if len(q.TeamIDs) > 0 {
		if err := sc.needTeams(); err != nil {
			return List[*gatehouse.EscalationPolicy]{}, err
		}
	}
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.matches(sc.store, q.Query, "name")
	if len(q.UserIDs) > 0 {
		f.add("id IN (SELECT r.policy_id FROM escalation_rules r JOIN escalation_rule_targets t ON t.rule_id = r.id WHERE t.user_id IN ("+
			placeholders(len(q.UserIDs))+"))", anys(q.UserIDs)...)
	}
	if len(q.TeamIDs) > 0 {
		f.add("id IN (SELECT policy_id FROM escalation_policy_teams WHERE team_id IN ("+placeholders(len(q.TeamIDs))+"))", anys(q.TeamIDs)...)
	}
	sc.limitPoliciesToTeams(f)
	order := sc.store.byteOrder("name") + ", id"
	if q.Descending {
		order = sc.store.byteOrder("name") + " DESC, id DESC"
	}
	var policies List[*gatehouse.EscalationPolicy]
	err := sc.store.view(ctx, "list escalation policies", func(ctx context.Context) error {
		var err error
		policies, err = readPage(ctx, sc.store, policyColumns, "escalation_policies", f, order, q.Page, scanPolicy)
		if err != nil {
			return err
		}
		return sc.store.loadPolicyDetails(sc.store.reader(ctx), policies.Items)
	})
	return policies, err
}

// EscalationPolicy returns the escalation policy with that ID, with its
// rules, teams and services, or a 2100 error.
func (sc *Scope) EscalationPolicy(ctx context.Context, id string) (*gatehouse.EscalationPolicy, error) {
	f := &filter{}
	f.add("account_id = ?", sc.accountID)
	f.add("id = ?", id)
	sc.limitPoliciesToTeams(f)
	var p *gatehouse.EscalationPolicy
	err := sc.store.view(ctx, "find escalation policy", func(ctx context.Context) error {
		var err error
		p, err = scanPolicy(sc.store.queryRow(ctx, "SELECT "+policyColumns+" FROM escalation_policies"+f.where(), f.args...))
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("Escalation policy " + id)
		}
		if err != nil {
			return err
		}
		return sc.store.loadPolicyDetails(sc.store.reader(ctx), []*gatehouse.EscalationPolicy{p})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// limitPoliciesToTeams keeps to the policies of the actor's teams when the
// actor sees only those.
func (sc *Scope) limitPoliciesToTeams(f *filter) {
	if userID, limited := sc.teamLimited(); limited {
		f.add("id IN (SELECT pt.policy_id FROM escalation_policy_teams pt JOIN team_members m ON m.team_id = pt.team_id WHERE m.user_id = ?)", userID)
	}
}

// needTeams returns a 2014 error unless the account has the teams ability.
func (sc *Scope) needTeams() error {
	a := sc.actor.Principal.Account
	return a.LacksAbility(gatehouse.AbilityTeams)
}

// CreateEscalationPolicy validates p and adds it to the account, setting its
// ID, account, rule IDs and creation time, and loading its target users and
// teams. Rule IDs the client gave are ignored. It returns 2001 errors for
// invalid fields, a name already taken, and targets or teams that are not
// the account's, and 2014 for teams on an account without the teams
// ability.
func (sc *Scope) CreateEscalationPolicy(ctx context.Context, p *gatehouse.EscalationPolicy) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	if len(p.Teams) > 0 {
		if err := sc.needTeams(); err != nil {
			return err
		}
	}
	return sc.write(ctx, func(tx *Tx) error {
		if err := sc.resolvePolicyRefs(tx, p); err != nil {
			return err
		}
		if err := tx.policyNameFree(sc.accountID, p.Name, ""); err != nil {
			return err
		}
		p.ID, p.AccountID, p.CreatedAt, p.Services = gatehouse.NewID(), sc.accountID, tx.now, nil
		for i := range p.Rules {
			p.Rules[i].ID = gatehouse.NewID()
		}
		_, err := tx.exec("INSERT INTO escalation_policies ("+policyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			p.ID, p.AccountID, p.Name, p.Description, p.NumLoops, p.OnCallHandoffNotifications, micros(p.CreatedAt))
		if err != nil {
			return fmt.Errorf("create escalation policy: %w", err)
		}
		if err := tx.insertPolicyRules(p); err != nil {
			return err
		}
		if err := tx.insertPolicyTeams(p); err != nil {
			return err
		}
		if err := sc.audit(tx, "create", policyRef(p), createdFields(policyFields(p))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangePolicy, p.ID)
	})
}

// UpdateEscalationPolicy applies change to the escalation policy with that
// ID and stores it, and returns the policy as stored. change may run more
// than once (a write that lost a race is retried) and must only set fields.
//
// A rule keeps its ID when the client sends it back; a rule sent without one
// takes the ID of the rule it replaces at the same position, unless another
// rule claimed that ID; the others get new IDs. A rule that keeps an ID and
// has no assignment strategy keeps the one it had. It returns the errors of
// CreateEscalationPolicy, and 2100 for an unknown policy.
func (sc *Scope) UpdateEscalationPolicy(ctx context.Context, id string, change func(*gatehouse.EscalationPolicy)) (*gatehouse.EscalationPolicy, error) {
	var updated *gatehouse.EscalationPolicy
	err := sc.write(ctx, func(tx *Tx) error {
		before, err := tx.escalationPolicy(sc.accountID, id)
		if err != nil {
			return err
		}
		p := before.Clone()
		change(p)
		p.ID, p.AccountID, p.CreatedAt, p.Services = before.ID, before.AccountID, before.CreatedAt, before.Services
		matchRules(p.Rules, before.Rules)
		p.Normalize()
		if err := p.Validate(); err != nil {
			return err
		}
		teamsChanged := teamsText(p.Teams) != teamsText(before.Teams)
		if teamsChanged && len(p.Teams) > 0 {
			// An account that lost the ability keeps the teams it has.
			if err := sc.needTeams(); err != nil {
				return err
			}
		}
		if err := sc.resolvePolicyRefs(tx, p); err != nil {
			return err
		}
		if p.Name != before.Name {
			if err := tx.policyNameFree(sc.accountID, p.Name, id); err != nil {
				return err
			}
		}
		fields := changedFields(policyFields(before), policyFields(p))
		updated = p
		if len(fields) == 0 {
			return nil
		}
		if _, err := tx.exec("UPDATE escalation_policies SET name = ?, description = ?, num_loops = ?, on_call_handoff_notifications = ? WHERE id = ?",
			p.Name, p.Description, p.NumLoops, p.OnCallHandoffNotifications, id); err != nil {
			return fmt.Errorf("update escalation policy: %w", err)
		}
		if rulesText(p.Rules) != rulesText(before.Rules) {
			// The rules are written anew, with the IDs kept above.
			if _, err := tx.exec("DELETE FROM escalation_rules WHERE policy_id = ?", id); err != nil {
				return fmt.Errorf("update escalation rules: %w", err)
			}
			if err := tx.insertPolicyRules(p); err != nil {
				return err
			}
		}
		if teamsChanged {
			if _, err := tx.exec("DELETE FROM escalation_policy_teams WHERE policy_id = ?", id); err != nil {
				return fmt.Errorf("update escalation policy teams: %w", err)
			}
			if err := tx.insertPolicyTeams(p); err != nil {
				return err
			}
		}
		if err := sc.audit(tx, "update", policyRef(p), fields); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangePolicy, id)
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// DeleteEscalationPolicy removes the escalation policy with that ID, with
// its rules and its links to teams. It returns a 2001 error naming the
// services that use the policy, which keep it, and 2100 for an unknown
// policy.
func (sc *Scope) DeleteEscalationPolicy(ctx context.Context, id string) error {
	return sc.write(ctx, func(tx *Tx) error {
		p, err := tx.escalationPolicy(sc.accountID, id)
		if err != nil {
			return err
		}
		if len(p.Services) > 0 {
			names := make([]string, len(p.Services))
			for i, s := range p.Services {
				names[i] = fmt.Sprintf("%q (%s)", s.Summary, s.ID)
			}
			return gatehouse.InvalidInput(fmt.Sprintf("Escalation policy %q cannot be deleted while services use it: %s; give them another escalation policy first",
				p.Name, strings.Join(names, ", ")))
		}
		if _, err := tx.exec("DELETE FROM escalation_policies WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete escalation policy: %w", err)
		}
		if err := sc.audit(tx, "delete", policyRef(p), deletedFields(policyFields(p))); err != nil {
			return err
		}
		return sc.changed(tx, gatehouse.ChangePolicy, id)
	})
}

// AddTeamEscalationPolicy makes the escalation policy one of the team's;
// it is no change if it is already. It returns a 2001 error if the policy
// belongs to another team (a policy belongs to at most one), and 2100 for
// an unknown team or policy.
func (sc *Scope) AddTeamEscalationPolicy(ctx context.Context, teamID, policyID string) error {
	return sc.write(ctx, func(tx *Tx) error {
		team, err := tx.team(sc.accountID, teamID)
		if err != nil {
			return err
		}
		p, err := tx.escalationPolicy(sc.accountID, policyID)
		if err != nil {
			return err
		}
		for _, t := range p.Teams {
			if t.ID == teamID {
				return nil
			}
		}
		if len(p.Teams) >= gatehouse.MaxPolicyTeams {
			other := p.Teams[0]
			return gatehouse.InvalidInput(fmt.Sprintf("Escalation policy %q already belongs to team %q (%s), and a policy belongs to at most %d team: remove it from that team first",
				p.Name, other.Name, other.ID, gatehouse.MaxPolicyTeams))
		}
		if _, err := tx.exec("INSERT INTO escalation_policy_teams (policy_id, team_id) VALUES (?, ?)", policyID, teamID); err != nil {
			return fmt.Errorf("add escalation policy to team: %w", err)
		}
		return sc.teamPoliciesChanged(tx, team, p, gatehouse.AuditReference{Name: "escalation_policies", Added: []gatehouse.Ref{policyRef(p)}})
	})
}

// RemoveTeamEscalationPolicy takes the escalation policy out of the team.
// It returns 2100 for an unknown team or policy, or a policy that is not the
// team's.
func (sc *Scope) RemoveTeamEscalationPolicy(ctx context.Context, teamID, policyID string) error {
	return sc.write(ctx, func(tx *Tx) error {
		team, err := tx.team(sc.accountID, teamID)
		if err != nil {
			return err
		}
		p, err := tx.escalationPolicy(sc.accountID, policyID)
		if err != nil {
			return err
		}
		res, err := tx.exec("DELETE FROM escalation_policy_teams WHERE policy_id = ? AND team_id = ?", policyID, teamID)
		if err != nil {
			return fmt.Errorf("remove escalation policy from team: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("remove escalation policy from team: %w", err)
			}
			return gatehouse.NotFound(fmt.Sprintf("Escalation policy %s in team %s", policyID, teamID))
		}
		return sc.teamPoliciesChanged(tx, team, p, gatehouse.AuditReference{Name: "escalation_policies", Removed: []gatehouse.Ref{policyRef(p)}})
	})
}

// teamPoliciesChanged audits a change to the team's escalation policies, on
// the team, and tells the feed of the team and the policy.
func (sc *Scope) teamPoliciesChanged(tx *Tx, team *gatehouse.Team, p *gatehouse.EscalationPolicy, ref gatehouse.AuditReference) error {
	if err := sc.audit(tx, "update", teamRef(team), nil, ref); err != nil {
		return err
	}
	if err := sc.changed(tx, gatehouse.ChangeTeam, team.ID); err != nil {
		return err
	}
	return sc.changed(tx, gatehouse.ChangePolicy, p.ID)
}

// resolvePolicyRefs loads in tx the users p's rules target and the teams it
// names, which must be the account's. It returns a 2001 error naming each
// that is not, or that cannot be a target (stakeholders).
func (sc *Scope) resolvePolicyRefs(tx *Tx, p *gatehouse.EscalationPolicy) error {
	var userIDs []string
	for _, r := range p.Rules {
		for _, t := range r.Targets {
			userIDs = append(userIDs, t.ID)
		}
	}
	byID := make(map[string]*gatehouse.User, len(userIDs))
	if len(userIDs) > 0 {
		rows, err := tx.query("SELECT "+userColumns+" FROM users WHERE account_id = ? AND id IN ("+placeholders(len(userIDs))+")",
			append([]any{sc.accountID}, anys(userIDs)...)...)
		if err != nil {
			return fmt.Errorf("find target users: %w", err)
		}
		users, err := scanAll(rows, scanUser)
		if err != nil {
			return fmt.Errorf("find target users: %w", err)
		}
		for _, u := range users {
			byID[u.ID] = u
		}
	}
	var problems []string
	for i := range p.Rules {
		for j := range p.Rules[i].Targets {
			t := &p.Rules[i].Targets[j]
			u, ok := byID[t.ID]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("Escalation rule %d, target %d: user %s not found", i+1, j+1, t.ID))
			case u.Role == gatehouse.RoleReadOnlyUser || u.Role == gatehouse.RoleReadOnlyLimitedUser:
				problems = append(problems, fmt.Sprintf("Escalation rule %d, target %d: %s (%s) is a stakeholder (%s), and stakeholders cannot be escalation targets",
					i+1, j+1, u.Name, u.ID, u.Role))
			}
			t.User = u
		}
	}
	for i, ref := range p.Teams {
		team, err := tx.team(sc.accountID, ref.ID)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			problems = append(problems, fmt.Sprintf("Team %s not found", ref.ID))
			continue
		}
		if err != nil {
			return err
		}
		p.Teams[i] = team
	}
	if len(problems) > 0 {
		return gatehouse.InvalidInput(problems...)
	}
	return nil
}

// removeTargetUser takes the user out of every escalation rule that targets
// them, in tx, for the user's removal from the account; each policy changed
// gets its audit record and its change. It returns a 2001 error naming the
// rules of which the user is the only target, and which would be left with
// none, changing nothing.
func (sc *Scope) removeTargetUser(tx *Tx, u *gatehouse.User) error {
	rows, err := tx.query("SELECT DISTINCT r.policy_id FROM escalation_rules r JOIN escalation_rule_targets t ON t.rule_id = r.id "+
		"WHERE r.account_id = ? AND t.user_id = ? ORDER BY r.policy_id", sc.accountID, u.ID)
	if err != nil {
		return fmt.Errorf("find the user's escalation rules: %w", err)
	}
	ids, err := scanAll(rows, func(row scanner) (string, error) {
		var id string
		return id, row.Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("find the user's escalation rules: %w", err)
	}
	var befores, afters []*gatehouse.EscalationPolicy
	var problems []string
	for _, id := range ids {
		before, err := tx.escalationPolicy(sc.accountID, id)
		if err != nil {
			return err
		}
		after := before.Clone()
		for i := range after.Rules {
			r := &after.Rules[i]
			r.Targets = slices.DeleteFunc(r.Targets, func(t gatehouse.EscalationTarget) bool { return t.ID == u.ID })
			if len(r.Targets) == 0 {
				problems = append(problems, fmt.Sprintf("%s cannot be removed: they are the only target of rule %d of escalation policy %q (%s); give that rule another target or delete the policy first",
					u.Name, i+1, before.Name, before.ID))
			}
		}
		befores, afters = append(befores, before), append(afters, after)
	}
	if len(problems) > 0 {
		return gatehouse.InvalidInput(problems...)
	}
	for i, p := range afters {
		if _, err := tx.exec("DELETE FROM escalation_rule_targets WHERE user_id = ? AND rule_id IN (SELECT id FROM escalation_rules WHERE policy_id = ?)", u.ID, p.ID); err != nil {
			return fmt.Errorf("remove the user from escalation rules: %w", err)
		}
		removed := gatehouse.AuditReference{Name: "escalation_rules.targets", Removed: []gatehouse.Ref{userRef(u)}}
		if err := sc.audit(tx, "update", policyRef(p), changedFields(policyFields(befores[i]), policyFields(p)), removed); err != nil {
			return err
		}
		if err := sc.changed(tx, gatehouse.ChangePolicy, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// policyNameFree returns a 2001 error if another escalation policy of the
// account than exceptID has name.
func (tx *Tx) policyNameFree(accountID, name, exceptID string) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM escalation_policies WHERE account_id = ? AND name = ? AND id <> ?", accountID, name, exceptID).Scan(&n); err != nil {
		return fmt.Errorf("check escalation policy name: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput("Name has already been taken")
	}
	return nil
}

// insertPolicyRules stores p's rules and their targets, in order.
func (tx *Tx) insertPolicyRules(p *gatehouse.EscalationPolicy) error {
	for i, r := range p.Rules {
		if _, err := tx.exec("INSERT INTO escalation_rules (id, account_id, policy_id, position, escalation_delay_in_minutes, assignment_strategy) VALUES (?, ?, ?, ?, ?, ?)",
			r.ID, p.AccountID, p.ID, i, r.DelayInMinutes, r.AssignmentStrategy); err != nil {
			return fmt.Errorf("create escalation rule: %w", err)
		}
		for j, t := range r.Targets {
			if _, err := tx.exec("INSERT INTO escalation_rule_targets (rule_id, position, target_type, user_id) VALUES (?, ?, ?, ?)",
				r.ID, j, t.Type, t.ID); err != nil {
				return fmt.Errorf("create escalation rule target: %w", err)
			}
		}
	}
	return nil
}

// insertPolicyTeams links p to its teams.
func (tx *Tx) insertPolicyTeams(p *gatehouse.EscalationPolicy) error {
	for _, t := range p.Teams {
		if _, err := tx.exec("INSERT INTO escalation_policy_teams (policy_id, team_id) VALUES (?, ?)", p.ID, t.ID); err != nil {
			return fmt.Errorf("link escalation policy to team: %w", err)
		}
	}
	return nil
}

// matchRules gives each of rules an ID: the one it was sent back with if
// that names one of before (and no earlier rule took it); else the ID of the
// rule of before at its position, if no rule took that; else a new one. A
// rule that keeps the ID of one of before keeps its assignment strategy too
// unless it has one (go-pagerduty's rules have none to send back).
func matchRules(rules, before []gatehouse.EscalationRule) {
	existing := make(map[string]bool, len(before))
	for _, r := range before {
		existing[r.ID] = true
	}
	taken := make(map[string]bool, len(rules))
	for i := range rules {
		if id := rules[i].ID; existing[id] && !taken[id] {
			taken[id] = true
		} else {
			rules[i].ID = ""
		}
	}
	strategies := make(map[string]string, len(before))
	for _, r := range before {
		strategies[r.ID] = r.AssignmentStrategy
	}
	for i := range rules {
		r := &rules[i]
		switch {
		case r.ID != "":
		case i < len(before) && !taken[before[i].ID]:
			r.ID = before[i].ID
			taken[before[i].ID] = true
		default:
			r.ID = gatehouse.NewID()
		}
		if r.AssignmentStrategy == "" {
			r.AssignmentStrategy = strategies[r.ID]
		}
	}
}

// escalationPolicy loads the account's escalation policy with that ID in tx
// for the transaction to change, with its rules, teams and services, or
// returns a 2100 error. It first writes the policy's row, unchanged: so two
// writers of one policy take turns on PostgreSQL as on SQLite, and the
// second reads what the first wrote (its rules, its team) rather than what
// was there before.
func (tx *Tx) escalationPolicy(accountID, id string) (*gatehouse.EscalationPolicy, error) {
	res, err := tx.exec("UPDATE escalation_policies SET name = name WHERE account_id = ? AND id = ?", accountID, id)
	if err != nil {
		return nil, fmt.Errorf("lock escalation policy: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("lock escalation policy: %w", err)
	} else if n == 0 {
		return nil, gatehouse.NotFound("Escalation policy " + id)
	}
	p, err := scanPolicy(tx.queryRow("SELECT "+policyColumns+" FROM escalation_policies WHERE id = ?", id))
	if err != nil {
		return nil, fmt.Errorf("find escalation policy: %w", err)
	}
	if err := tx.store.loadPolicyDetails(tx.query, []*gatehouse.EscalationPolicy{p}); err != nil {
		return nil, fmt.Errorf("find escalation policy: %w", err)
	}
	return p, nil
}

// querier runs a query, on the read pool or in a transaction.
type querier func(query string, args ...any) (*sql.Rows, error)

// reader is the querier of the read pool, to call inside view.
func (s *Store) reader(ctx context.Context) querier {
	return func(query string, args ...any) (*sql.Rows, error) { return s.query(ctx, query, args...) }
}

// loadPolicyDetails loads the rules with their target users, the teams and
// the services of policies: one query for each kind, whatever their number.
func (s *Store) loadPolicyDetails(query querier, policies []*gatehouse.EscalationPolicy) error {
	if len(policies) == 0 {
		return nil
	}
	byID := make(map[string]*gatehouse.EscalationPolicy, len(policies))
	ids := make([]any, len(policies))
	for i, p := range policies {
		byID[p.ID], ids[i] = p, p.ID
		p.Rules, p.Teams, p.Services = []gatehouse.EscalationRule{}, []*gatehouse.Team{}, []gatehouse.Ref{}
	}
	in := "(" + placeholders(len(ids)) + ")"

	type ruleRow struct {
		policyID string
		rule     gatehouse.EscalationRule
	}
	rows, err := query("SELECT policy_id, id, escalation_delay_in_minutes, assignment_strategy FROM escalation_rules WHERE policy_id IN "+in+" ORDER BY position", ids...)
	if err != nil {
		return fmt.Errorf("load escalation rules: %w", err)
	}
	rules, err := scanAll(rows, func(row scanner) (ruleRow, error) {
		var r ruleRow
		err := row.Scan(&r.policyID, &r.rule.ID, &r.rule.DelayInMinutes, &r.rule.AssignmentStrategy)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("load escalation rules: %w", err)
	}
	type ruleAt struct {
		p *gatehouse.EscalationPolicy
		i int
	}
	ruleByID := make(map[string]ruleAt, len(rules))
	for _, r := range rules {
		p := byID[r.policyID]
		ruleByID[r.rule.ID] = ruleAt{p, len(p.Rules)}
		r.rule.Targets = []gatehouse.EscalationTarget{}
		p.Rules = append(p.Rules, r.rule)
	}

	// The targets, then their users: each user once, however many rules
	// name them.
	type targetRow struct {
		ruleID string
		target gatehouse.EscalationTarget
	}
	targetsOf := " FROM escalation_rule_targets t JOIN escalation_rules r ON r.id = t.rule_id WHERE r.policy_id IN " + in
	rows, err = query("SELECT t.rule_id, t.target_type, t.user_id"+targetsOf+" ORDER BY t.position", ids...)
	if err != nil {
		return fmt.Errorf("load escalation rule targets: %w", err)
	}
	targets, err := scanAll(rows, func(row scanner) (targetRow, error) {
		var t targetRow
		return t, row.Scan(&t.ruleID, &t.target.Type, &t.target.ID)
	})
	if err != nil {
		return fmt.Errorf("load escalation rule targets: %w", err)
	}
	rows, err = query("SELECT "+userColumns+" FROM users WHERE id IN (SELECT t.user_id"+targetsOf+")", ids...)
	if err != nil {
		return fmt.Errorf("load escalation rule target users: %w", err)
	}
	users, err := scanAll(rows, scanUser)
	if err != nil {
		return fmt.Errorf("load escalation rule target users: %w", err)
	}
	userByID := make(map[string]*gatehouse.User, len(users))
	for _, u := range users {
		userByID[u.ID] = u
	}
	for _, t := range targets {
		// The reads are not one snapshot: a rule added, or a user removed,
		// between two of them is left out, as if read a moment earlier.
		at, ok := ruleByID[t.ruleID]
		if t.target.User = userByID[t.target.ID]; !ok || t.target.User == nil {
			continue
		}
		at.p.Rules[at.i].Targets = append(at.p.Rules[at.i].Targets, t.target)
	}

	type teamRow struct {
		policyID string
		team     *gatehouse.Team
	}
	rows, err = query("SELECT pt.policy_id, "+qualify("t.", teamColumns)+" FROM escalation_policy_teams pt JOIN teams t ON t.id = pt.team_id"+
		" WHERE pt.policy_id IN "+in+" ORDER BY "+s.byteOrder("t.name")+", t.id", ids...)
	if err != nil {
		return fmt.Errorf("load escalation policy teams: %w", err)
	}
	teams, err := scanAll(rows, func(row scanner) (teamRow, error) {
		var r teamRow
		var err error
		r.team, err = scanTeam(leading{row, []any{&r.policyID}})
		return r, err
	})
	if err != nil {
		return fmt.Errorf("load escalation policy teams: %w", err)
	}
	for _, t := range teams {
		p := byID[t.policyID]
		p.Teams = append(p.Teams, t.team)
	}

	type serviceRow struct {
		policyID string
		ref      gatehouse.Ref
	}
	rows, err = query("SELECT escalation_policy_id, id, name FROM services WHERE escalation_policy_id IN "+in+" ORDER BY "+s.byteOrder("name")+", id", ids...)
	if err != nil {
		return fmt.Errorf("load escalation policy services: %w", err)
	}
	services, err := scanAll(rows, func(row scanner) (serviceRow, error) {
		r := serviceRow{ref: gatehouse.Ref{Type: "service_reference"}}
		err := row.Scan(&r.policyID, &r.ref.ID, &r.ref.Summary)
		return r, err
	})
	if err != nil {
		return fmt.Errorf("load escalation policy services: %w", err)
	}
	for _, s := range services {
		p := byID[s.policyID]
		p.Services = append(p.Services, s.ref)
	}
	return nil
}

func scanPolicy(row scanner) (*gatehouse.EscalationPolicy, error) {
	var p gatehouse.EscalationPolicy
	var created int64
	if err := row.Scan(&p.ID, &p.AccountID, &p.Name, &p.Description, &p.NumLoops, &p.OnCallHandoffNotifications, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	return &p, nil
}

func policyRef(p *gatehouse.EscalationPolicy) gatehouse.Ref {
	return gatehouse.Ref{Type: "escalation_policy_reference", ID: p.ID, Summary: p.Name}
}

// policyFields are the audited fields of p: its rules and teams as text.
func policyFields(p *gatehouse.EscalationPolicy) fieldValues {
	return fieldValues{
		{"name", p.Name},
		{"description", p.Description},
		{"num_loops", strconv.Itoa(p.NumLoops)},
		{"on_call_handoff_notifications", p.OnCallHandoffNotifications},
		{"escalation_rules", rulesText(p.Rules)},
		{"teams", teamsText(p.Teams)},
	}
}

// rulesText is rules as one line, such as
// "PRULE01: 30 min, assign_to_everyone, PUSER01 PUSER02; PRULE02: …".
func rulesText(rules []gatehouse.EscalationRule) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		ids := make([]string, len(r.Targets))
		for j, t := range r.Targets {
			ids[j] = t.ID
		}
		parts[i] = fmt.Sprintf("%s: %d min, %s, %s", r.ID, r.DelayInMinutes, r.AssignmentStrategy, strings.Join(ids, " "))
	}
	return strings.Join(parts, "; ")
}

// teamsText is the IDs of teams, separated by spaces.
func teamsText(teams []*gatehouse.Team) string {
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	return strings.Join(ids, " ")
}

// leading scans a row whose first columns go to dests, and the others to
// what Scan is given: so a row's scan function serves a query that selects
// more before its columns.
type leading struct {
	row   scanner
	dests []any
}

func (l leading) Scan(dest ...any) error {
	return l.row.Scan(append(l.dests[:len(l.dests):len(l.dests)], dest...)...)
}

// anys returns values as query arguments.
func anys(values []string) []any {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return args
}
