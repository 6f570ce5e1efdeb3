package gatehouse

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validService is a service Validate accepts; each case changes one thing.
func validService() Service {
	return Service{Name: "Checkout", EscalationPolicy: Ref{ID: "PPOLICY"}}
}

func TestServiceNormalize(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Service)
		want   func(*Service)
	}{
		{"defaults", func(s *Service) {}, func(s *Service) {
			s.Status, s.AlertCreation = "active", "create_alerts_and_incidents"
			s.UrgencyRule = IncidentUrgencyRule{Type: "constant", Urgency: "high"}
		}},
		{"name trimmed", func(s *Service) { s.Name = "  Checkout \t" }, nil},
		{"derived statuses keep the service enabled", func(s *Service) { s.Status = "critical" }, nil},
		{"disabled stays disabled", func(s *Service) { s.Status = "disabled" }, func(s *Service) { s.Status = "disabled" }},
		{"a zero timeout is off", func(s *Service) { s.AcknowledgementTimeout, s.AutoResolveTimeout = new(0), new(0) }, nil},
		{"a timeout is kept", func(s *Service) { s.AutoResolveTimeout = new(14400) }, func(s *Service) { s.AutoResolveTimeout = new(14400) }},
		{"auto pause off has no timeout", func(s *Service) { s.AutoPause = AutoPauseParameters{Timeout: new(300)} }, nil},
		{"auto pause on without a timeout is recommended", func(s *Service) { s.AutoPause = AutoPauseParameters{Enabled: true} },
			func(s *Service) { s.AutoPause = AutoPauseParameters{Enabled: true, Timeout: new(0)} }},
		{"an empty grouping type is none", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new(""), Config: &AlertGroupingConfig{Timeout: new(3)}}
		}, nil},
		{"time grouping keeps only its timeout", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("time"), Config: &AlertGroupingConfig{Timeout: new(3), Fields: []string{}}}
		}, func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("time"), Config: &AlertGroupingConfig{Timeout: new(3)}}
		}},
		{"time grouping without a config groups until resolved", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("time")}
		}, func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("time"), Config: &AlertGroupingConfig{Timeout: new(0)}}
		}},
		{"intelligent grouping without a window has no config", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("intelligent"), Config: &AlertGroupingConfig{Aggregate: ""}}
		}, func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("intelligent")}
		}},
		{"content grouping keeps its fields", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("content_based"), Config: &AlertGroupingConfig{Aggregate: "all", Fields: []string{"source"}, Timeout: new(4)}}
		}, func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("content_based"), Config: &AlertGroupingConfig{Aggregate: "all", Fields: []string{"source"}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validService()
			tt.change(&got)
			got.Normalize()
			want := validService()
			want.Status, want.AlertCreation = "active", "create_alerts_and_incidents"
			want.UrgencyRule = IncidentUrgencyRule{Type: "constant", Urgency: "high"}
			if tt.want != nil {
				tt.want(&want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Normalize() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Service)
		want   []string // nil: valid
	}{
		{"valid", func(s *Service) {}, nil},
		{"every setting", func(s *Service) {
			s.Status, s.AcknowledgementTimeout, s.AutoResolveTimeout = "disabled", new(600), new(14400)
			s.AlertCreation = "create_incidents"
			s.AutoPause = AutoPauseParameters{Enabled: true, Timeout: new(300)}
			s.UrgencyRule = IncidentUrgencyRule{Type: "constant", Urgency: "severity_based"}
			s.AlertGrouping = AlertGroupingParameters{Type: new("content_based"), Config: &AlertGroupingConfig{Aggregate: "any", Fields: []string{"source", "component"}, TimeWindow: new(86400)}}
		}, nil},
		{"no name", func(s *Service) { s.Name = " " }, []string{"Name must not be empty"}},
		{"long name", func(s *Service) { s.Name = strings.Repeat("x", 256) }, []string{"Name must be at most 255 characters"}},
		{"control characters", func(s *Service) { s.Name = "a\x00b" }, []string{"Name must not contain control characters"}},
		{"long description", func(s *Service) { s.Description = strings.Repeat("x", 1025) }, []string{"Description must be at most 1024 characters"}},
		{"unknown status", func(s *Service) { s.Status = "paused" }, []string{`Status "paused" is not one of active, warning, critical, maintenance, disabled`}},
		{"no policy", func(s *Service) { s.EscalationPolicy.ID = "" }, []string{"Escalation policy must be given"}},
		{"negative timeout", func(s *Service) { s.AcknowledgementTimeout = new(-1) }, []string{"Acknowledgement timeout must be between 0 and 2147483647 seconds"}},
		{"huge timeout", func(s *Service) { s.AutoResolveTimeout = new(1 << 40) }, []string{"Auto resolve timeout must be between 0 and 2147483647 seconds"}},
		{"unknown alert creation", func(s *Service) { s.AlertCreation = "never" }, []string{`Alert creation "never" is not one of create_incidents, create_alerts_and_incidents`}},
		{"unknown grouping", func(s *Service) { s.AlertGrouping.Type = new("rules") }, []string{`Alert grouping type "rules" is not one of time, intelligent, content_based`}},
		{"grouping timeout", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("time"), Config: &AlertGroupingConfig{Timeout: new(1441)}}
		}, []string{"Alert grouping timeout must be between 0 and 1440 minutes"}},
		{"intelligent window", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("intelligent"), Config: &AlertGroupingConfig{TimeWindow: new(299)}}
		}, []string{"Alert grouping time window must be 0 or between 300 and 3600 seconds"}},
		{"content grouping without fields", func(s *Service) {
			s.AlertGrouping = AlertGroupingParameters{Type: new("content_based"), Config: &AlertGroupingConfig{Aggregate: "some", TimeWindow: new(100)}}
		}, []string{`Alert grouping aggregate "some" is not one of all, any`, "Alert grouping fields must name at least one field",
			"Alert grouping time window must be 0 or between 300 and 86400 seconds"}},
		{"auto pause timeout", func(s *Service) { s.AutoPause = AutoPauseParameters{Enabled: true, Timeout: new(60)} },
			[]string{"Auto pause notifications timeout 60 is not one of 0, 120, 180, 300, 600, 900"}},
		{"support hours", func(s *Service) { s.UrgencyRule.Type = "use_support_hours" },
			[]string{"Incident urgency rule use_support_hours needs support hours, which Gatehouse does not have yet: use constant"}},
		{"unknown urgency rule", func(s *Service) { s.UrgencyRule = IncidentUrgencyRule{Type: "random", Urgency: "medium"} },
			[]string{`Incident urgency rule type "random" is not one of constant, use_support_hours`, `Incident urgency "medium" is not one of high, low, severity_based`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validService()
			tt.change(&s)
			s.Normalize()
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeInvalidInput {
				t.Fatalf("Validate() = %v, want a 2001 error", err)
			}
			if diff := cmp.Diff(tt.want, e.Errors); diff != "" {
				t.Errorf("Validate() problems (-want +got):\n%s", diff)
			}
		})
	}
}
