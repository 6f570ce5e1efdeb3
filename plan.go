package gatehouse

import (
	"slices"
	"sort"
)

// Abilities an account may have. PagerDuty lists them at GET /abilities.
const (
	AbilityRESTAPI             = "rest_api"
	AbilityTeams               = "teams"
	AbilityReadOnlyUsers       = "read_only_users"
	AbilityAdvancedPermissions = "advanced_permissions"
)

// KnownAbilities lists every ability Gatehouse knows, sorted.
var KnownAbilities = []string{AbilityAdvancedPermissions, AbilityReadOnlyUsers, AbilityRESTAPI, AbilityTeams}

// Plan is an account's pricing plan, which presets its abilities.
type Plan string

// The plans Gatehouse knows; lite and basic are PagerDuty's legacy plans.
const (
	PlanLite         Plan = "lite"
	PlanBasic        Plan = "basic"
	PlanFree         Plan = "free"
	PlanProfessional Plan = "professional"
	PlanBusiness     Plan = "business"
	PlanEnterprise   Plan = "enterprise"
)

// Plans lists every plan, from smallest to largest.
var Plans = []Plan{PlanLite, PlanBasic, PlanFree, PlanProfessional, PlanBusiness, PlanEnterprise}

var planAbilities = map[Plan][]string{
	PlanLite:         {},
	PlanBasic:        {AbilityRESTAPI},
	PlanFree:         {AbilityRESTAPI, AbilityTeams, AbilityReadOnlyUsers},
	PlanProfessional: {AbilityRESTAPI, AbilityTeams, AbilityReadOnlyUsers},
	PlanBusiness:     {AbilityRESTAPI, AbilityTeams, AbilityReadOnlyUsers, AbilityAdvancedPermissions},
	PlanEnterprise:   {AbilityRESTAPI, AbilityTeams, AbilityReadOnlyUsers, AbilityAdvancedPermissions},
}

// ParsePlan returns the plan named s, or a 2001 error naming the valid plans.
func ParsePlan(s string) (Plan, error) {
	p := Plan(s)
	if _, ok := planAbilities[p]; !ok {
		return "", notOneOf("Plan", s, Plans)
	}
	return p, nil
}

// Abilities returns the abilities the plan presets, sorted.
func (p Plan) Abilities() []string {
	a := slices.Clone(planAbilities[p])
	sort.Strings(a)
	return a
}

// IsKnownAbility reports whether name is an ability Gatehouse knows.
func IsKnownAbility(name string) bool {
	_, found := slices.BinarySearch(KnownAbilities, name)
	return found
}
