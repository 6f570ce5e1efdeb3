package gatehouse

import (
	"strings"
	"time"
)

// Team is a group of users, and of the escalation policies (and through them
// the services) they look after.
type Team struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	// DefaultRole is what users outside the team may do with its objects:
	// "manager" (a public team) or "none" (a private one).
	DefaultRole string
	CreatedAt   time.Time
}

// The limits of a team's fields, PagerDuty's.
const (
	maxTeamName        = 100
	maxTeamDescription = 1024
)

// TeamDefaultRoles are the values of Team.DefaultRole.
var TeamDefaultRoles = []string{"manager", "none"}

// Normalize trims the team's name and gives it its default role if it has
// none.
func (t *Team) Normalize() {
	t.Name = strings.TrimSpace(t.Name)
	if t.DefaultRole == "" {
		t.DefaultRole = "manager"
	}
}

// Validate returns a 2001 error listing every problem with the team.
func (t *Team) Validate() error {
	var problems []string
	problems = append(problems, NameProblems("Name", t.Name, maxTeamName)...)
	problems = append(problems, DescriptionProblems("Description", t.Description, maxTeamDescription)...)
	if !contains(TeamDefaultRoles, t.DefaultRole) {
		problems = append(problems, notOneOf("Default role", t.DefaultRole, TeamDefaultRoles).Errors...)
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TeamMember is a user's membership of a team, with their role in it.
type TeamMember struct {
	User *User
	Role string
}

// TeamRoles are the roles a member may have in a team.
var TeamRoles = []string{"observer", "responder", "manager"}

// ValidateTeamRole returns a 2001 error unless role is one of TeamRoles.
func ValidateTeamRole(role string) error {
	if !contains(TeamRoles, role) {
		return notOneOf("Role", role, TeamRoles)
	}
	return nil
}
