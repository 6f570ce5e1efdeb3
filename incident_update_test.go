package gatehouse_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

// problems returns the lines of a 2001 error, nil for nil, and fails the
// test for any other error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := errors.AsType[*gatehouse.Error](err)
	if !ok || e.Code != gatehouse.CodeInvalidInput {
		t.Fatalf("error = %v, want a 2001 error", err)
	}
	return e.Errors
}

func TestIncidentUpdateValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		u    gatehouse.IncidentUpdate
		want []string
	}{
		{"nothing", gatehouse.IncidentUpdate{}, nil},
		{"acknowledge", gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged}, nil},
		{"resolve with a resolution", gatehouse.IncidentUpdate{Status: gatehouse.IncidentResolved, Resolution: "Rotated\nthe logs"}, nil},
		{"trigger again", gatehouse.IncidentUpdate{Status: gatehouse.IncidentTriggered}, []string{`Status "triggered" is not one of acknowledged, resolved`}},
		{"resolution without resolve", gatehouse.IncidentUpdate{Status: gatehouse.IncidentAcknowledged, Resolution: "x"},
			[]string{"Resolution is the note of a resolve: give it with the status resolved"}},
		{"title too long", gatehouse.IncidentUpdate{Title: strings.Repeat("t", gatehouse.MaxIncidentTitle+1)}, []string{"Title must be at most 1024 characters"}},
		{"blank title", gatehouse.IncidentUpdate{Title: "  "}, []string{"Title must not be empty"}},
		{"urgency", gatehouse.IncidentUpdate{Urgency: "urgent"}, []string{`Urgency "urgent" is not one of high, low`}},
		{"assignees", gatehouse.IncidentUpdate{AssigneeIDs: []string{"PUSER01"}}, nil},
		{"no assignee", gatehouse.IncidentUpdate{AssigneeIDs: []string{}}, []string{"Assignments must name at least one user"}},
		{"negative level", gatehouse.IncidentUpdate{EscalationLevel: -1}, []string{"Escalation level must be a positive number"}},
		{"two ways to reassign", gatehouse.IncidentUpdate{EscalationPolicyID: "PPOL001", EscalationLevel: 2},
			[]string{"Give one of assignments, escalation_policy and escalation_level"}},
		{"every problem", gatehouse.IncidentUpdate{Status: "open", Urgency: "x", AssigneeIDs: []string{}, EscalationPolicyID: "P"}, []string{
			`Status "open" is not one of acknowledged, resolved`, `Urgency "x" is not one of high, low`,
			"Assignments must name at least one user", "Give one of assignments, escalation_policy and escalation_level",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(t, tt.u.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%+v) = %q, want %q", tt.u, got, tt.want)
			}
		})
	}
}

func TestManualIncidentValidate(t *testing.T) {
	t.Parallel()
	ok := gatehouse.ManualIncident{Title: "The server is on fire.", ServiceID: "PSVC001"}
	with := func(change func(*gatehouse.ManualIncident)) gatehouse.ManualIncident {
		m := ok
		change(&m)
		return m
	}
	tests := []struct {
		name string
		m    gatehouse.ManualIncident
		want []string
	}{
		{"title and service", ok, nil},
		{"everything", with(func(m *gatehouse.ManualIncident) {
			m.Urgency, m.IncidentKey, m.AssigneeIDs = gatehouse.UrgencyLow, "fire", []string{"PUSER01"}
		}), nil},
		{"nothing", gatehouse.ManualIncident{}, []string{"Title must not be empty", "Service must be given: a reference to the service the incident is on"}},
		{"title with a line break", with(func(m *gatehouse.ManualIncident) { m.Title = "a\nb" }), []string{"Title must not contain control characters"}},
		{"urgency", with(func(m *gatehouse.ManualIncident) { m.Urgency = "medium" }), []string{`Urgency "medium" is not one of high, low`}},
		{"key of 255", with(func(m *gatehouse.ManualIncident) { m.IncidentKey = strings.Repeat("é", 255) }), nil},
		{"key of 256", with(func(m *gatehouse.ManualIncident) { m.IncidentKey = strings.Repeat("é", 256) }), []string{"Incident key must be at most 255 characters"}},
		{"key with NUL", with(func(m *gatehouse.ManualIncident) { m.IncidentKey = "a\x00" }), []string{"Incident key must be valid UTF-8 without the NUL character"}},
		{"assignees and a policy", with(func(m *gatehouse.ManualIncident) {
			m.AssigneeIDs, m.EscalationPolicyID = []string{"PUSER01"}, "PPOL001"
		}),
			[]string{"Assignments cannot be given with an escalation policy: give one or the other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(t, tt.m.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%+v) = %q, want %q", tt.m, got, tt.want)
			}
		})
	}
}

func TestNoteAndAlertUpdateValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{"a note", (&gatehouse.IncidentNote{Content: "Firefighters are on the scene.\nMore soon."}).Validate(), nil},
		{"an empty note", (&gatehouse.IncidentNote{Content: " \n"}).Validate(), []string{"Content must not be empty"}},
		{"a long note", (&gatehouse.IncidentNote{Content: strings.Repeat("x", gatehouse.MaxNoteContent+1)}).Validate(), []string{"Content must be at most 25000 characters"}},
		{"a note with NUL", (&gatehouse.IncidentNote{Content: "a\x00"}).Validate(), []string{"Content must not contain control characters other than tabs and line breaks"}},
		{"resolve an alert", (&gatehouse.AlertUpdate{ID: "Q1", Status: gatehouse.AlertResolved}).Validate(), nil},
		{"trigger an alert", (&gatehouse.AlertUpdate{ID: "Q1", Status: gatehouse.AlertTriggered}).Validate(), []string{`Status "triggered" is not one of resolved`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(t, tt.err); !slices.Equal(got, tt.want) {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}
