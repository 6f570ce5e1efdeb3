package gatehouse

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validPolicy is a policy with one rule notifying one user.
func validPolicy() *EscalationPolicy {
	return &EscalationPolicy{
		Name:  "Ops",
		Rules: []EscalationRule{{DelayInMinutes: 30, Targets: []EscalationTarget{{Type: TargetUser, ID: "PUSER01"}}}},
	}
}

func TestEscalationPolicyNormalize(t *testing.T) {
	t.Parallel()
	p := validPolicy()
	p.Name = "  Ops  "
	p.Rules[0].Targets[0].Type = "user"
	p.Normalize()
	if p.Name != "Ops" || p.OnCallHandoffNotifications != "if_has_services" ||
		p.Rules[0].AssignmentStrategy != "assign_to_everyone" || p.Rules[0].Targets[0].Type != "user_reference" {
		t.Errorf("Normalize() = %+v, want a trimmed name, the defaults and a user_reference target", p)
	}
}

func TestEscalationPolicyValidate(t *testing.T) {
	t.Parallel()
	targets := func(ids ...string) []EscalationTarget {
		var out []EscalationTarget
		for _, id := range ids {
			out = append(out, EscalationTarget{Type: TargetUser, ID: id})
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*EscalationPolicy)
		want   []string // the problems; none when valid
	}{
		{"valid", func(*EscalationPolicy) {}, nil},
		{"every field set", func(p *EscalationPolicy) {
			p.Description, p.NumLoops, p.OnCallHandoffNotifications = "Pages\nthe team", 9, "always"
			p.Rules = append(p.Rules, EscalationRule{DelayInMinutes: 10080, AssignmentStrategy: "round_robin", Targets: targets("PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PI", "PJ")})
			p.Teams = []*Team{{ID: "PTEAM01"}}
		}, nil},
		{"empty name", func(p *EscalationPolicy) { p.Name = " " }, []string{"Name must not be empty"}},
		{"long name", func(p *EscalationPolicy) { p.Name = strings.Repeat("x", 256) }, []string{"Name must be at most 255 characters"}},
		{"long description", func(p *EscalationPolicy) { p.Description = strings.Repeat("x", 1025) }, []string{"Description must be at most 1024 characters"}},
		{"negative loops", func(p *EscalationPolicy) { p.NumLoops = -1 }, []string{"Num loops must be between 0 and 9, not -1"}},
		{"ten loops", func(p *EscalationPolicy) { p.NumLoops = 10 }, []string{"Num loops must be between 0 and 9, not 10"}},
		{"unknown handoff", func(p *EscalationPolicy) { p.OnCallHandoffNotifications = "never" },
			[]string{`On call handoff notifications "never" is not one of if_has_services, always`}},
		{"no rules", func(p *EscalationPolicy) { p.Rules = nil }, []string{"An escalation policy must have at least one escalation rule"}},
		{"too many rules", func(p *EscalationPolicy) {
			for len(p.Rules) <= 50 {
				p.Rules = append(p.Rules, p.Rules[0])
			}
		}, []string{"An escalation policy may have at most 50 escalation rules, not 51"}},
		{"no delay", func(p *EscalationPolicy) { p.Rules[0].DelayInMinutes = 0 },
			[]string{"Escalation rule 1: the escalation delay must be between 1 and 10080 minutes, not 0"}},
		{"delay over a week", func(p *EscalationPolicy) { p.Rules[0].DelayInMinutes = 10081 },
			[]string{"Escalation rule 1: the escalation delay must be between 1 and 10080 minutes, not 10081"}},
		{"unknown strategy", func(p *EscalationPolicy) { p.Rules[0].AssignmentStrategy = "random" },
			[]string{`Escalation rule 1: assignment strategy "random" is not one of assign_to_everyone, round_robin`}},
		{"no targets", func(p *EscalationPolicy) { p.Rules[0].Targets = nil }, []string{"Escalation rule 1 must have at least one target"}},
		{"eleven targets", func(p *EscalationPolicy) {
			p.Rules[0].Targets = targets("PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PI", "PJ", "PK")
		}, []string{"Escalation rule 1 may have at most 10 targets, not 11"}},
		{"target without id", func(p *EscalationPolicy) { p.Rules[0].Targets[0].ID = "" }, []string{"Escalation rule 1, target 1 has no id"}},
		{"schedule target", func(p *EscalationPolicy) {
			p.Rules[0].Targets = append(p.Rules[0].Targets, EscalationTarget{Type: "schedule_reference", ID: "PSCHED1"})
		}, []string{"Escalation rule 1, target 2: schedule PSCHED1 cannot be a target, as Gatehouse has no schedules yet; target users instead"}},
		{"unknown target type", func(p *EscalationPolicy) { p.Rules[0].Targets[0].Type = "team_reference" },
			[]string{`Escalation rule 1, target 1: type "team_reference" is not one of user_reference, user`}},
		{"a user twice", func(p *EscalationPolicy) { p.Rules[0].Targets = targets("PA", "PB", "PA") },
			[]string{"Escalation rule 1 names user PA more than once"}},
		{"two teams", func(p *EscalationPolicy) { p.Teams = []*Team{{ID: "PT1"}, {ID: "PT2"}} },
			[]string{"An escalation policy may belong to at most 1 team, not 2"}},
		{"team without id", func(p *EscalationPolicy) { p.Teams = []*Team{{}} }, []string{"Team 1 has no id"}},
		{"every problem at once", func(p *EscalationPolicy) {
			p.Name, p.NumLoops = "", 12
			p.Rules = append(p.Rules, EscalationRule{Targets: targets("PA")})
		}, []string{
			"Name must not be empty",
			"Num loops must be between 0 and 9, not 12",
			"Escalation rule 2: the escalation delay must be between 1 and 10080 minutes, not 0",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPolicy()
			tt.change(p)
			p.Normalize()
			err := p.Validate()
			var got []string
			if e, ok := errors.AsType[*Error](err); ok {
				if e.Code != CodeInvalidInput {
					t.Errorf("Validate() code = %d, want %d", e.Code, CodeInvalidInput)
				}
				got = e.Errors
			} else if err != nil {
				t.Fatalf("Validate() = %v, want an *Error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscalationPolicyClone(t *testing.T) {
	t.Parallel()
	p := validPolicy()
	p.Teams = []*Team{{ID: "PT1"}}
	c := p.Clone()
	c.Rules[0].Targets[0].ID = "PCHANGED"
	c.Rules[0].DelayInMinutes = 5
	c.Teams[0] = &Team{ID: "PT2"}
	if p.Rules[0].Targets[0].ID != "PUSER01" || p.Rules[0].DelayInMinutes != 30 || p.Teams[0].ID != "PT1" {
		t.Errorf("changing a clone changed the original: %+v", p)
	}
}
