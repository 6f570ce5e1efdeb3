package gatehouse

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"time"
)

// Account is one tenant of a Gatehouse server. Nothing of one account is ever
// visible to another.
type Account struct {
	ID        string
	Subdomain string
	Name      string
	Plan      Plan
	// AbilityOverrides grants (true) or withdraws (false) abilities on top of
	// what the plan presets.
	AbilityOverrides map[string]bool
	CreatedAt        time.Time
}

// Abilities returns the account's abilities: the plan's, with the overrides
// applied, sorted.
func (a *Account) Abilities() []string {
	abilities := a.Plan.Abilities()
	for name, granted := range a.AbilityOverrides {
		i, found := slices.BinarySearch(abilities, name)
		switch {
		case granted && !found:
			abilities = slices.Insert(abilities, i, name)
		case !granted && found:
			abilities = slices.Delete(abilities, i, i+1)
		}
	}
	sort.Strings(abilities)
	return abilities
}

// Has reports whether the account has the named ability.
func (a *Account) Has(ability string) bool {
	if granted, ok := a.AbilityOverrides[ability]; ok {
		return granted
	}
	return slices.Contains(planAbilities[a.Plan], ability)
}

// Lacks returns nil when the account has ability, else its 402 (code 2014)
// error: planMessage when the plan lacks the ability, or a message saying
// it was withdrawn from this account, whose plan has it.
func (a *Account) Lacks(ability, planMessage string) error {
	if a.Has(ability) {
		return nil
	}
	if granted, ok := a.AbilityOverrides[ability]; ok && !granted {
		return Errorf(CodeAbilityMissing, "The %s ability has been withdrawn from this account, although the %s plan has it", ability, a.Plan)
	}
	return Errorf(CodeAbilityMissing, "%s", planMessage)
}

// LacksAbility is Lacks with the plan's message "The <plan> plan does not
// have the <ability> ability".
func (a *Account) LacksAbility(ability string) error {
	return a.Lacks(ability, fmt.Sprintf("The %s plan does not have the %s ability", a.Plan, ability))
}

// Override grants (true) or withdraws (false) an ability on top of the
// plan. An override of what the plan already presets is dropped instead, so
// that the account follows its plan for that ability again.
func (a *Account) Override(ability string, granted bool) {
	if slices.Contains(planAbilities[a.Plan], ability) == granted {
		delete(a.AbilityOverrides, ability)
		if len(a.AbilityOverrides) == 0 {
			a.AbilityOverrides = nil
		}
		return
	}
	if a.AbilityOverrides == nil {
		a.AbilityOverrides = map[string]bool{}
	}
	a.AbilityOverrides[ability] = granted
}

var subdomainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// Validate checks the account's subdomain, name and plan, and returns a 2001
// error listing every problem.
func (a *Account) Validate() error {
	var problems []string
	if !subdomainPattern.MatchString(a.Subdomain) {
		problems = append(problems, fmt.Sprintf("Subdomain %q must be 1 to 63 lower-case letters, digits and inner hyphens", a.Subdomain))
	}
	if a.Name == "" {
		problems = append(problems, "Name must not be empty")
	} else if p := TextProblem("Name", a.Name); p != "" {
		problems = append(problems, p)
	}
	if _, err := ParsePlan(string(a.Plan)); err != nil {
		problems = append(problems, err.(*Error).Errors...)
	}
	for name := range a.AbilityOverrides {
		if !IsKnownAbility(name) {
			problems = append(problems, fmt.Sprintf("Ability %q is unknown", name))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return InvalidInput(problems...)
	}
	return nil
}
