package gatehouse

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccountOverride(t *testing.T) {
	tests := []struct {
		name      string
		plan      Plan
		before    map[string]bool
		ability   string
		granted   bool
		overrides map[string]bool
		abilities []string
	}{
		{"grant beyond the plan", PlanBasic, nil, AbilityTeams, true,
			map[string]bool{AbilityTeams: true}, []string{AbilityRESTAPI, AbilityTeams}},
		{"withdraw from the plan", PlanBasic, nil, AbilityRESTAPI, false,
			map[string]bool{AbilityRESTAPI: false}, []string{}},
		{"grant what the plan gives", PlanBasic, map[string]bool{AbilityRESTAPI: false}, AbilityRESTAPI, true,
			nil, []string{AbilityRESTAPI}},
		{"withdraw what the plan lacks", PlanBasic, map[string]bool{AbilityTeams: true, AbilityRESTAPI: false}, AbilityTeams, false,
			map[string]bool{AbilityRESTAPI: false}, []string{}},
		{"grant what the plan gives, no overrides", PlanBusiness, nil, AbilityTeams, true,
			nil, []string{AbilityAdvancedPermissions, AbilityReadOnlyUsers, AbilityRESTAPI, AbilityTeams}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Account{Plan: tt.plan, AbilityOverrides: tt.before}
			a.Override(tt.ability, tt.granted)
			if diff := cmp.Diff(tt.overrides, a.AbilityOverrides); diff != "" {
				t.Errorf("AbilityOverrides (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.abilities, a.Abilities()); diff != "" {
				t.Errorf("Abilities() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccountLacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		plan      Plan
		overrides map[string]bool
		want      string // "" for nil
	}{
		{"the plan has it", PlanFree, nil, ""},
		{"granted beyond the plan", PlanLite, map[string]bool{AbilityTeams: true}, ""},
		{"the plan lacks it", PlanLite, nil, "The lite plan lacks teams"},
		{"withdrawn", PlanFree, map[string]bool{AbilityTeams: false}, "The teams ability has been withdrawn from this account, although the free plan has it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Account{Plan: tt.plan, AbilityOverrides: tt.overrides}
			err := a.Lacks(AbilityTeams, "The "+string(a.Plan)+" plan lacks teams")
			got := ""
			if err != nil {
				e := err.(*Error)
				if e.Code != CodeAbilityMissing {
					t.Errorf("code = %d, want %d", e.Code, CodeAbilityMissing)
				}
				got = e.Message
			}
			if got != tt.want {
				t.Errorf("Lacks = %q, want %q", got, tt.want)
			}
		})
	}
}
