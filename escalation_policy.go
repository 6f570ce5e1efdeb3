package gatehouse

import (
	"fmt"
	"strings"
	"time"
)

// EscalationPolicy says who is notified of a service's incidents, and when:
// its rules in order, each naming the targets that are notified and how long
// an unacknowledged incident waits before it escalates to the next rule.
type EscalationPolicy struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	// NumLoops is how many times the policy repeats its rules after the
	// last one.
	NumLoops int
	// OnCallHandoffNotifications is "if_has_services" or "always".
	OnCallHandoffNotifications string
	Rules                      []EscalationRule
	// Teams are the teams the policy belongs to (at most one). A client
	// names them by ID; the store loads the rest.
	Teams []*Team
	// Services are the services that use the policy, named by the store;
	// they are not set through the policy.
	Services  []Ref
	CreatedAt time.Time
}

// EscalationRule is one level of an escalation policy.
type EscalationRule struct {
	// ID is kept across updates when the client sends it back.
	ID             string
	DelayInMinutes int
	// AssignmentStrategy is "assign_to_everyone" or "round_robin".
	AssignmentStrategy string
	Targets            []EscalationTarget
}

// EscalationTarget is who a rule notifies: a user, until schedules exist.
type EscalationTarget struct {
	// Type is the reference type, TargetUser once normalized.
	Type string
	ID   string
	// User is the target user, loaded by the store; nil on input.
	User *User
}

// TargetUser is the type of a target that is a user.
const TargetUser = "user_reference"

// scheduleTargets are the target types that name schedules, which Gatehouse
// does not have yet.
var scheduleTargets = []string{"schedule_reference", "schedule", "schedule_v3_reference"}

// HandoffNotifications are the values of
// EscalationPolicy.OnCallHandoffNotifications, the first the default.
var HandoffNotifications = []string{"if_has_services", "always"}

// AssignmentStrategies are the values of EscalationRule.AssignmentStrategy,
// the first the default.
var AssignmentStrategies = []string{"assign_to_everyone", "round_robin"}

// The limits of an escalation policy. NumLoops and the number of targets
// are PagerDuty's; the others bound what one request may store.
const (
	maxPolicyName        = 255
	maxPolicyDescription = 1024
	maxNumLoops          = 9
	maxRules             = 50
	maxTargets           = 10
	// maxDelay is a week, in minutes.
	maxDelay = 7 * 24 * 60
	// MaxPolicyTeams is how many teams a policy may belong to.
	MaxPolicyTeams = 1
)

// Clone returns a copy of p that shares no slice with it, so that changing
// the copy's rules, targets or teams leaves p as it was.
func (p *EscalationPolicy) Clone() *EscalationPolicy {
	c := *p
	c.Rules = make([]EscalationRule, len(p.Rules))
	for i, r := range p.Rules {
		r.Targets = append([]EscalationTarget(nil), r.Targets...)
		c.Rules[i] = r
	}
	c.Teams = append([]*Team(nil), p.Teams...)
	c.Services = append([]Ref(nil), p.Services...)
	return &c
}

// Normalize trims the policy's name and gives its fields their defaults: the
// handoff notifications, each rule's assignment strategy, and the reference
// type "user_reference" to targets given as "user".
func (p *EscalationPolicy) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	if p.OnCallHandoffNotifications == "" {
		p.OnCallHandoffNotifications = HandoffNotifications[0]
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.AssignmentStrategy == "" {
			r.AssignmentStrategy = AssignmentStrategies[0]
		}
		for j := range r.Targets {
			if r.Targets[j].Type == "user" {
				r.Targets[j].Type = TargetUser
			}
		}
	}
}

// Validate returns a 2001 error listing every problem with the policy's own
// fields. Whether its targets and teams exist is the store's to check.
func (p *EscalationPolicy) Validate() error {
	var problems []string
	problems = append(problems, NameProblems("Name", p.Name, maxPolicyName)...)
	problems = append(problems, DescriptionProblems("Description", p.Description, maxPolicyDescription)...)
	if p.NumLoops < 0 || p.NumLoops > maxNumLoops {
		problems = append(problems, fmt.Sprintf("Num loops must be between 0 and %d, not %d", maxNumLoops, p.NumLoops))
	}
	if !contains(HandoffNotifications, p.OnCallHandoffNotifications) {
		problems = append(problems, notOneOf("On call handoff notifications", p.OnCallHandoffNotifications, HandoffNotifications).Errors...)
	}
	switch {
	case len(p.Rules) == 0:
		problems = append(problems, "An escalation policy must have at least one escalation rule")
	case len(p.Rules) > maxRules:
		problems = append(problems, fmt.Sprintf("An escalation policy may have at most %d escalation rules, not %d", maxRules, len(p.Rules)))
	default:
		for i := range p.Rules {
			problems = append(problems, p.Rules[i].problems(i+1)...)
		}
	}
	if len(p.Teams) > MaxPolicyTeams {
		problems = append(problems, fmt.Sprintf("An escalation policy may belong to at most %d team, not %d", MaxPolicyTeams, len(p.Teams)))
	}
	for i, t := range p.Teams {
		if t.ID == "" {
			problems = append(problems, fmt.Sprintf("Team %d has no id", i+1))
		}
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// problems lists what is wrong with the rule, the nth of its policy.
func (r *EscalationRule) problems(n int) []string {
	var problems []string
	if r.DelayInMinutes < 1 || r.DelayInMinutes > maxDelay {
		problems = append(problems, fmt.Sprintf("Escalation rule %d: the escalation delay must be between 1 and %d minutes, not %d", n, maxDelay, r.DelayInMinutes))
	}
	if !contains(AssignmentStrategies, r.AssignmentStrategy) {
		problems = append(problems, fmt.Sprintf("Escalation rule %d: assignment strategy %q is not one of %s", n, r.AssignmentStrategy, strings.Join(AssignmentStrategies, ", ")))
	}
	switch {
	case len(r.Targets) == 0:
		return append(problems, fmt.Sprintf("Escalation rule %d must have at least one target", n))
	case len(r.Targets) > maxTargets:
		return append(problems, fmt.Sprintf("Escalation rule %d may have at most %d targets, not %d", n, maxTargets, len(r.Targets)))
	}
	seen := make(map[string]bool, len(r.Targets))
	for j, t := range r.Targets {
		switch {
		case t.ID == "":
			problems = append(problems, fmt.Sprintf("Escalation rule %d, target %d has no id", n, j+1))
		case contains(scheduleTargets, t.Type):
			problems = append(problems, fmt.Sprintf("Escalation rule %d, target %d: schedule %s cannot be a target, as Gatehouse has no schedules yet; target users instead", n, j+1, t.ID))
		case t.Type != TargetUser:
			problems = append(problems, fmt.Sprintf("Escalation rule %d, target %d: type %q is not one of user_reference, user", n, j+1, t.Type))
		case seen[t.ID]:
			problems = append(problems, fmt.Sprintf("Escalation rule %d names user %s more than once", n, t.ID))
		}
		seen[t.ID] = true
	}
	return problems
}
