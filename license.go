package gatehouse

import "strings"

// License is what a user holds to use the account, PagerDuty's way: one per
// group of roles, Full User or Stakeholder, named after the plan. Every user
// holds the license of their role's group (LicenseOf), allocated when they
// are made and again when their role changes.
type License struct {
	ID          string
	Name        string
	Description string
	// RoleGroup is LicenseFullUser or LicenseStakeholder.
	RoleGroup string
	// ValidRoles are the roles a holder may have on the account's plan.
	ValidRoles []Role
}

// The role groups of licenses.
const (
	LicenseFullUser    = "FullUser"
	LicenseStakeholder = "Stakeholder"
)

// Licenses returns the licenses of the account: Full User, and Stakeholder
// when the plan has read-only users.
func Licenses(a *Account) []License {
	out := []License{licenseOf(a, LicenseFullUser)}
	if a.Has(AbilityReadOnlyUsers) {
		out = append(out, licenseOf(a, LicenseStakeholder))
	}
	return out
}

// LicenseOf returns the license a user with role holds on the account.
func LicenseOf(a *Account, role Role) License {
	return licenseOf(a, roleGroup(role))
}

func roleGroup(r Role) string {
	if r == RoleReadOnlyUser || r == RoleReadOnlyLimitedUser {
		return LicenseStakeholder
	}
	return LicenseFullUser
}

func licenseOf(a *Account, group string) License {
	plan := string(a.Plan)
	title := strings.ToUpper(plan[:1]) + plan[1:]
	l := License{RoleGroup: group, ValidRoles: []Role{}}
	// IDs are stable for a plan and group, in PagerDuty's form: P and six
	// upper-case letters and digits.
	code := strings.ToUpper(plan[:3])
	if group == LicenseFullUser {
		l.ID, l.Name = "PL"+code+"FU", title+" (Full User)"
	} else {
		l.ID, l.Name = "PL"+code+"SH", title+" (Stakeholder)"
	}
	for _, r := range Roles {
		if roleGroup(r) == group && (r.RequiredAbility() == "" || a.Has(r.RequiredAbility())) {
			l.ValidRoles = append(l.ValidRoles, r)
		}
	}
	return l
}
