package sqlstore

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

func TestMatchRules(t *testing.T) {
	t.Parallel()
	rules := func(ids ...string) []gatehouse.EscalationRule {
		out := make([]gatehouse.EscalationRule, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out
	}
	const fresh = "new"
	tests := []struct {
		name         string
		before, sent []gatehouse.EscalationRule
		want         []string // fresh for a new ID
	}{
		{"sent back in order", rules("PR1", "PR2"), rules("PR1", "PR2"), []string{"PR1", "PR2"}},
		{"sent back reordered", rules("PR1", "PR2"), rules("PR2", "PR1"), []string{"PR2", "PR1"}},
		{"sent without IDs", rules("PR1", "PR2"), rules("", ""), []string{"PR1", "PR2"}},
		{"one more, without an ID", rules("PR1"), rules("PR1", ""), []string{"PR1", fresh}},
		{"the first dropped", rules("PR1", "PR2"), rules("PR2"), []string{"PR2"}},
		{"a new rule before a sent-back one", rules("PR1", "PR2"), rules("", "PR1"), []string{fresh, "PR1"}},
		{"an ID twice", rules("PR1", "PR2"), rules("PR1", "PR1"), []string{"PR1", "PR2"}},
		{"an ID of no rule of the policy", rules("PR1"), rules("POTHER1"), []string{"PR1"}},
		{"an unknown ID past the old rules", rules("PR1"), rules("PR1", "POTHER1"), []string{"PR1", fresh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matchRules(tt.sent, tt.before)
			seen := map[string]bool{}
			for i, r := range tt.sent {
				if seen[r.ID] || r.ID == "" {
					t.Errorf("rule %d has ID %q, which is empty or given twice", i, r.ID)
				}
				seen[r.ID] = true
				switch want := tt.want[i]; {
				case want == fresh && (r.ID == "POTHER1" || len(r.ID) != 7 || r.ID == "PR1" || r.ID == "PR2"):
					t.Errorf("rule %d has ID %q, want a new one", i, r.ID)
				case want != fresh && r.ID != want:
					t.Errorf("rule %d has ID %q, want %q", i, r.ID, want)
				}
			}
		})
	}
}

func TestMatchRulesKeepsStrategies(t *testing.T) {
	t.Parallel()
	before := []gatehouse.EscalationRule{{ID: "PR1", AssignmentStrategy: "round_robin"}, {ID: "PR2", AssignmentStrategy: "round_robin"}}
	sent := []gatehouse.EscalationRule{{ID: "PR1"}, {ID: "PR2", AssignmentStrategy: "assign_to_everyone"}, {}}
	matchRules(sent, before)
	for i, want := range []string{"round_robin", "assign_to_everyone", ""} {
		if got := sent[i].AssignmentStrategy; got != want {
			t.Errorf("rule %d's strategy = %q, want %q", i, got, want)
		}
	}
}
