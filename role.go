package gatehouse

// Role is a user's base role, by its API value.
type Role string

// The eight base roles, from most to least powerful.
const (
	RoleOwner               Role = "owner"
	RoleAdmin               Role = "admin"
	RoleUser                Role = "user"
	RoleLimitedUser         Role = "limited_user"
	RoleObserver            Role = "observer"
	RoleRestrictedAccess    Role = "restricted_access"
	RoleReadOnlyUser        Role = "read_only_user"
	RoleReadOnlyLimitedUser Role = "read_only_limited_user"
)

// Roles lists every base role, from most to least powerful.
var Roles = []Role{
	RoleOwner, RoleAdmin, RoleUser, RoleLimitedUser,
	RoleObserver, RoleRestrictedAccess, RoleReadOnlyUser, RoleReadOnlyLimitedUser,
}

var roleUINames = map[Role]string{
	RoleOwner:               "Account Owner",
	RoleAdmin:               "Global Admin",
	RoleUser:                "Manager",
	RoleLimitedUser:         "Responder",
	RoleObserver:            "Observer",
	RoleRestrictedAccess:    "Restricted Access",
	RoleReadOnlyUser:        "Full Stakeholder",
	RoleReadOnlyLimitedUser: "Limited Stakeholder",
}

// ParseRole returns the role whose API value is s, or a 2001 error naming the
// valid values.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := roleUINames[r]; !ok {
		return "", notOneOf("Role", s, Roles)
	}
	return r, nil
}

// UIName is the role's name in PagerDuty's web app, such as "Global Admin".
func (r Role) UIName() string { return roleUINames[r] }

// IsAdmin reports whether the role is admin or owner.
func (r Role) IsAdmin() bool { return r == RoleOwner || r == RoleAdmin }

// RequiredAbility is the ability an account needs before a user may hold the
// role, or "" when every account may have it.
func (r Role) RequiredAbility() string {
	switch r {
	case RoleObserver, RoleRestrictedAccess:
		return AbilityAdvancedPermissions
	case RoleReadOnlyUser, RoleReadOnlyLimitedUser:
		return AbilityReadOnlyUsers
	}
	return ""
}
