package gatehouse

import (
	"fmt"
	"math"
	"time"
)

// NotificationRule says when and how a user is told of an incident assigned
// to them: after StartDelayInMinutes, through one of their contact methods,
// for incidents of one urgency.
type NotificationRule struct {
	ID                  string
	AccountID           string
	UserID              string
	ContactMethodID     string
	StartDelayInMinutes int
	// Urgency is "high" or "low".
	Urgency   string
	CreatedAt time.Time
}

// Urgencies are the urgencies of incidents a notification rule applies to.
var Urgencies = []string{"high", "low"}

// Validate returns a 2001 error listing every problem with the rule.
func (n *NotificationRule) Validate() error {
	var problems []string
	if n.StartDelayInMinutes < 0 || n.StartDelayInMinutes > math.MaxInt32 {
		problems = append(problems, fmt.Sprintf("Start delay in minutes must be from 0 to %d", math.MaxInt32))
	}
	if !contains(Urgencies, n.Urgency) {
		problems = append(problems, notOneOf("Urgency", n.Urgency, Urgencies).Errors...)
	}
	if n.ContactMethodID == "" {
		problems = append(problems, "Contact method must name one of the user's contact methods")
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// Summary says the rule for people, as PagerDuty does: "0 minutes: channel
// PXXXXXX".
func (n *NotificationRule) Summary() string {
	return fmt.Sprintf("%d minutes: channel %s", n.StartDelayInMinutes, n.ContactMethodID)
}
