package gatehouse

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Service is something an account monitors, such as a web application: the
// integrations its alerts come through, and the escalation policy that says
// who is notified of its incidents.
type Service struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	// Status is "active" or "disabled": see Normalize.
	Status string
	// EscalationPolicy names the service's policy; writes read only its ID,
	// reads also give its name as the summary.
	EscalationPolicy Ref
	// AcknowledgementTimeout and AutoResolveTimeout are in seconds; nil is
	// off.
	AcknowledgementTimeout *int
	AutoResolveTimeout     *int
	AlertCreation          string
	AlertGrouping          AlertGroupingParameters
	AutoPause              AutoPauseParameters
	UrgencyRule            IncidentUrgencyRule
	// LastIncidentAt is zero while the service has had no incident.
	LastIncidentAt time.Time
	CreatedAt      time.Time

	// Teams are the teams of the service's escalation policy, and
	// Integrations the service's integrations, oldest first: reads fill
	// them, writes ignore them.
	Teams        []*Team
	Integrations []*Integration
}

// The limits of a service's fields.
const (
	maxServiceName        = 255
	maxServiceDescription = 1024
)

// The statuses of a service. A client may set active or disabled; PagerDuty
// derives the others from incidents and maintenance windows.
const (
	ServiceActive   = "active"
	ServiceDisabled = "disabled"
)

// ServiceStatuses are every status PagerDuty shows.
var ServiceStatuses = []string{ServiceActive, "warning", "critical", "maintenance", ServiceDisabled}

// AlertCreations are the values of Service.AlertCreation.
var AlertCreations = []string{"create_incidents", "create_alerts_and_incidents"}

// DefaultAlertCreation is a new service's AlertCreation unless another is
// given: PagerDuty's.
const DefaultAlertCreation = "create_alerts_and_incidents"

// AlertGroupingParameters says how a service groups alerts into incidents:
// PagerDuty's alert_grouping_parameters, as the REST API shows them and the
// store keeps them.
type AlertGroupingParameters struct {
	// Type is "time", "intelligent" or "content_based"; nil groups nothing.
	Type   *string              `json:"type"`
	Config *AlertGroupingConfig `json:"config,omitempty"`
}

// AlertGroupingConfig is the configuration of a kind of alert grouping; each
// kind uses some of the fields.
type AlertGroupingConfig struct {
	// Timeout is how many minutes alerts are grouped for, for "time": 1 to
	// 1440, or 0 to group until the incident is resolved.
	Timeout *int `json:"timeout,omitempty"`
	// Aggregate ("all" or "any") and Fields say which fields of alerts
	// must match, for "content_based".
	Aggregate string   `json:"aggregate,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	// TimeWindow is the most seconds between grouped alerts, for
	// "intelligent" (300 to 3600) and "content_based" (300 to 86400); 0
	// lets PagerDuty recommend one.
	TimeWindow *int `json:"time_window,omitempty"`
}

// AlertGroupingTypes are the values of AlertGroupingParameters.Type.
var AlertGroupingTypes = []string{"time", "intelligent", "content_based"}

// AutoPauseParameters says whether a service pauses the notifications of
// transient alerts: PagerDuty's auto_pause_notifications_parameters.
type AutoPauseParameters struct {
	Enabled bool `json:"enabled"`
	// Timeout is how many seconds alerts are paused, one of
	// AutoPauseTimeouts (0 lets PagerDuty recommend one); nil when
	// disabled.
	Timeout *int `json:"timeout,omitempty"`
}

// AutoPauseTimeouts are the values of AutoPauseParameters.Timeout.
var AutoPauseTimeouts = []int{0, 120, 180, 300, 600, 900}

// IncidentUrgencyRule is the urgency of a service's new incidents. Only the
// "constant" type exists until services have support hours.
type IncidentUrgencyRule struct {
	Type    string `json:"type"`
	Urgency string `json:"urgency"`
}

// ServiceUrgencies are the values of IncidentUrgencyRule.Urgency.
var ServiceUrgencies = []string{"high", "low", "severity_based"}

// Normalize trims the service's name, fills in the defaults of what was not
// given, and puts the JSON parameters in the one form each has, so that what
// a client sends back unchanged compares equal to what is stored.
//
// Statuses warning, critical and maintenance become active: they say that
// an enabled service has incidents or is under maintenance, which a client
// that echoes a service it read does not mean to change.
func (s *Service) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	switch s.Status {
	case "", "warning", "critical", "maintenance":
		s.Status = ServiceActive
	}
	if s.AlertCreation == "" {
		s.AlertCreation = DefaultAlertCreation
	}
	for _, t := range []**int{&s.AcknowledgementTimeout, &s.AutoResolveTimeout} {
		if *t != nil && **t == 0 {
			*t = nil
		}
	}
	s.AlertGrouping.normalize()
	if !s.AutoPause.Enabled {
		s.AutoPause.Timeout = nil
	} else if s.AutoPause.Timeout == nil {
		s.AutoPause.Timeout = new(int)
	}
	if s.UrgencyRule.Type == "" {
		s.UrgencyRule.Type = "constant"
	}
	if s.UrgencyRule.Urgency == "" {
		s.UrgencyRule.Urgency = "high"
	}
}

// normalize keeps of the configuration only the fields the grouping's type
// uses: clients such as Terraform send the others empty.
func (p *AlertGroupingParameters) normalize() {
	if p.Type != nil && *p.Type == "" {
		p.Type = nil
	}
	c := p.Config
	p.Config = nil
	if p.Type == nil {
		return
	}
	if c == nil {
		c = &AlertGroupingConfig{}
	}
	switch *p.Type {
	case "time":
		timeout := 0
		if c.Timeout != nil {
			timeout = *c.Timeout
		}
		p.Config = &AlertGroupingConfig{Timeout: &timeout}
	case "intelligent":
		if c.TimeWindow != nil {
			p.Config = &AlertGroupingConfig{TimeWindow: c.TimeWindow}
		}
	case "content_based":
		p.Config = &AlertGroupingConfig{Aggregate: c.Aggregate, Fields: c.Fields, TimeWindow: c.TimeWindow}
	default:
		p.Config = c
	}
}

// Validate returns a 2001 error listing every problem with the service.
// Call Normalize first.
func (s *Service) Validate() error {
	var problems []string
	problems = append(problems, NameProblems("Name", s.Name, maxServiceName)...)
	problems = append(problems, DescriptionProblems("Description", s.Description, maxServiceDescription)...)
	if s.Status != ServiceActive && s.Status != ServiceDisabled {
		problems = append(problems, notOneOf("Status", s.Status, ServiceStatuses).Errors...)
	}
	if s.EscalationPolicy.ID == "" {
		problems = append(problems, "Escalation policy must be given")
	}
	problems = append(problems, timeoutProblems("Acknowledgement timeout", s.AcknowledgementTimeout)...)
	problems = append(problems, timeoutProblems("Auto resolve timeout", s.AutoResolveTimeout)...)
	if !contains(AlertCreations, s.AlertCreation) {
		problems = append(problems, notOneOf("Alert creation", s.AlertCreation, AlertCreations).Errors...)
	}
	problems = append(problems, s.AlertGrouping.problems()...)
	if s.AutoPause.Enabled && !contains(AutoPauseTimeouts, *s.AutoPause.Timeout) {
		problems = append(problems, fmt.Sprintf("Auto pause notifications timeout %d is not one of 0, 120, 180, 300, 600, 900", *s.AutoPause.Timeout))
	}
	switch {
	case s.UrgencyRule.Type == "use_support_hours":
		problems = append(problems, "Incident urgency rule use_support_hours needs support hours, which Gatehouse does not have yet: use constant")
	case s.UrgencyRule.Type != "constant":
		problems = append(problems, notOneOf("Incident urgency rule type", s.UrgencyRule.Type, []string{"constant", "use_support_hours"}).Errors...)
	}
	if !contains(ServiceUrgencies, s.UrgencyRule.Urgency) {
		problems = append(problems, notOneOf("Incident urgency", s.UrgencyRule.Urgency, ServiceUrgencies).Errors...)
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// timeoutProblems says what is wrong with a timeout in seconds: the stores
// keep 32-bit integers.
func timeoutProblems(field string, seconds *int) []string {
	if seconds != nil && (*seconds < 0 || *seconds > math.MaxInt32) {
		return []string{fmt.Sprintf("%s must be between 0 and %d seconds", field, math.MaxInt32)}
	}
	return nil
}

func (p *AlertGroupingParameters) problems() []string {
	if p.Type == nil {
		return nil
	}
	c := p.Config
	var problems []string
	switch *p.Type {
	case "time":
		if *c.Timeout < 0 || *c.Timeout > 1440 {
			problems = append(problems, "Alert grouping timeout must be between 0 and 1440 minutes")
		}
	case "intelligent":
		if c != nil && *c.TimeWindow != 0 && (*c.TimeWindow < 300 || *c.TimeWindow > 3600) {
			problems = append(problems, "Alert grouping time window must be 0 or between 300 and 3600 seconds")
		}
	case "content_based":
		if c.Aggregate != "all" && c.Aggregate != "any" {
			problems = append(problems, notOneOf("Alert grouping aggregate", c.Aggregate, []string{"all", "any"}).Errors...)
		}
		if len(c.Fields) == 0 {
			problems = append(problems, "Alert grouping fields must name at least one field")
		}
		for _, f := range c.Fields {
			if p := NameProblems("Alert grouping field", f, 255); p != nil {
				problems = append(problems, p...)
				break
			}
		}
		if c.TimeWindow != nil && *c.TimeWindow != 0 && (*c.TimeWindow < 300 || *c.TimeWindow > 86400) {
			problems = append(problems, "Alert grouping time window must be 0 or between 300 and 86400 seconds")
		}
	default:
		problems = append(problems, notOneOf("Alert grouping type", *p.Type, AlertGroupingTypes).Errors...)
	}
	return problems
}
