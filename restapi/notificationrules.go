package restapi

import (
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// notificationRuleBody is PagerDuty's NotificationRule object. Its contact
// method is a reference, or the whole object with include[]=contact_methods.
type notificationRuleBody struct {
	ID                  string `json:"id"`
	Type                string `json:"type"`
	Summary             string `json:"summary"`
	Self                string `json:"self"`
	HTMLURL             string `json:"html_url"`
	StartDelayInMinutes int    `json:"start_delay_in_minutes"`
	ContactMethod       any    `json:"contact_method"`
	Urgency             string `json:"urgency"`
	CreatedAt           string `json:"created_at"`
}

// notificationRuleBody is n's object; methods are its user's contact
// methods, among which its own.
func (r *request) notificationRuleBody(n *gatehouse.NotificationRule, methods []*gatehouse.ContactMethod, expand bool) notificationRuleBody {
	ref := r.notificationRuleRef(n)
	b := notificationRuleBody{
		ID: n.ID, Type: "assignment_notification_rule", Summary: ref.Summary, Self: ref.Self, HTMLURL: ref.HTMLURL,
		StartDelayInMinutes: n.StartDelayInMinutes, Urgency: n.Urgency, CreatedAt: n.CreatedAt.Format(time.RFC3339),
	}
	for _, c := range methods {
		if c.ID == n.ContactMethodID {
			if expand {
				b.ContactMethod = r.contactMethodBody(c)
			} else {
				b.ContactMethod = r.contactMethodRef(c)
			}
		}
	}
	return b
}

func (r *request) notificationRuleRef(n *gatehouse.NotificationRule) reference {
	return r.nestedRef("user", n.UserID, "assignment_notification_rule", "notification_rules", n.ID, n.Summary())
}

// notificationRuleInput is a notification rule in a request body: only the
// fields a client sets. Of the contact method only the ID counts: clients
// send its type with or without "_reference", and some send more.
type notificationRuleInput struct {
	StartDelayInMinutes opt[int]    `json:"start_delay_in_minutes"`
	Urgency             opt[string] `json:"urgency"`
	ContactMethod       opt[struct {
		ID string `json:"id"`
	}] `json:"contact_method"`
}

// apply sets on n the fields the client gave.
func (in *notificationRuleInput) apply(n *gatehouse.NotificationRule) {
	if in.StartDelayInMinutes.Set {
		n.StartDelayInMinutes = in.StartDelayInMinutes.Value
	}
	if in.Urgency.Set {
		n.Urgency = in.Urgency.Value
	}
	if in.ContactMethod.Set {
		n.ContactMethodID = in.ContactMethod.Value.ID
	}
}

// ruleUrgencies maps the urgency parameter of GET …/notification_rules to
// the urgency the store filters by: high when absent, as PagerDuty does.
var ruleUrgencies = map[string]string{"": "high", "high": "high", "low": "low", "all": ""}

// ruleBodies are the bodies of a user's rules, with their contact methods
// loaded once.
func (r *request) ruleBodies(userID string, rules []*gatehouse.NotificationRule) ([]notificationRuleBody, error) {
	methods, err := r.scope().ContactMethods(r.ctx, userID)
	if err != nil {
		return nil, err
	}
	expand := r.includes()["contact_methods"]
	bodies := make([]notificationRuleBody, len(rules))
	for i, n := range rules {
		bodies[i] = r.notificationRuleBody(n, methods, expand)
	}
	return bodies, nil
}

func (r *request) oneRule(status int, n *gatehouse.NotificationRule) (int, any, error) {
	bodies, err := r.ruleBodies(n.UserID, []*gatehouse.NotificationRule{n})
	if err != nil {
		return 0, nil, err
	}
	return status, map[string]notificationRuleBody{"notification_rule": bodies[0]}, nil
}

func listNotificationRules(r *request) (int, any, error) {
	urgency, ok := ruleUrgencies[r.query("urgency")]
	if !ok {
		return 0, nil, gatehouse.InvalidInput(`urgency must be high, low or all, not "` + r.query("urgency") + `"`)
	}
	userID := r.http.PathValue("id")
	rules, err := r.scope().NotificationRules(r.ctx, userID, urgency)
	if err != nil {
		return 0, nil, err
	}
	bodies, err := r.ruleBodies(userID, rules)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]notificationRuleBody{"notification_rules": bodies}, nil
}

func createNotificationRule(r *request) (int, any, error) {
	in, err := decode[notificationRuleInput](r, "notification_rule")
	if err != nil {
		return 0, nil, err
	}
	n := &gatehouse.NotificationRule{}
	in.apply(n)
	if err := r.scope().CreateNotificationRule(r.ctx, r.http.PathValue("id"), n); err != nil {
		return 0, nil, err
	}
	return r.oneRule(http.StatusCreated, n)
}

func getNotificationRule(r *request) (int, any, error) {
	n, err := r.scope().NotificationRule(r.ctx, r.http.PathValue("id"), r.http.PathValue("notification_rule_id"))
	if err != nil {
		return 0, nil, err
	}
	return r.oneRule(http.StatusOK, n)
}

func updateNotificationRule(r *request) (int, any, error) {
	in, err := decode[notificationRuleInput](r, "notification_rule")
	if err != nil {
		return 0, nil, err
	}
	n, err := r.scope().UpdateNotificationRule(r.ctx, r.http.PathValue("id"), r.http.PathValue("notification_rule_id"), in.apply)
	if err != nil {
		return 0, nil, err
	}
	return r.oneRule(http.StatusOK, n)
}

func deleteNotificationRule(r *request) (int, any, error) {
	err := r.scope().DeleteNotificationRule(r.ctx, r.http.PathValue("id"), r.http.PathValue("notification_rule_id"))
	return http.StatusNoContent, nil, err
}
