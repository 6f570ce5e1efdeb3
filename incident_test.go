package gatehouse_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

func TestEffectOf(t *testing.T) {
	t.Parallel()
	open := func(status gatehouse.IncidentStatus) *gatehouse.OpenAlert {
		return &gatehouse.OpenAlert{AlertID: "PALERT1", IncidentID: "PINC001", IncidentStatus: status}
	}
	tests := []struct {
		name   string
		action gatehouse.EventAction
		open   *gatehouse.OpenAlert
		want   gatehouse.EventEffect
	}{
		{"trigger opens an alert", gatehouse.EventTrigger, nil, gatehouse.EffectOpen},
		{"trigger again adds to the open alert", gatehouse.EventTrigger, open(gatehouse.IncidentTriggered), gatehouse.EffectDeduplicate},
		{"trigger of an acknowledged alert adds to it", gatehouse.EventTrigger, open(gatehouse.IncidentAcknowledged), gatehouse.EffectDeduplicate},
		{"acknowledge of a triggered alert", gatehouse.EventAcknowledge, open(gatehouse.IncidentTriggered), gatehouse.EffectAcknowledge},
		{"acknowledge again changes nothing", gatehouse.EventAcknowledge, open(gatehouse.IncidentAcknowledged), gatehouse.EffectNone},
		{"resolve of a triggered alert", gatehouse.EventResolve, open(gatehouse.IncidentTriggered), gatehouse.EffectResolve},
		{"resolve of an acknowledged alert", gatehouse.EventResolve, open(gatehouse.IncidentAcknowledged), gatehouse.EffectResolve},
		// A resolved alert is no longer open: the store removes it, so the
		// key finds nothing.
		{"acknowledge of a resolved alert changes nothing", gatehouse.EventAcknowledge, nil, gatehouse.EffectNone},
		{"resolve of an unknown dedup key changes nothing", gatehouse.EventResolve, nil, gatehouse.EffectNone},
		{"acknowledge of an unknown dedup key changes nothing", gatehouse.EventAcknowledge, nil, gatehouse.EffectNone},
		{"trigger after a resolve opens a new alert", gatehouse.EventTrigger, nil, gatehouse.EffectOpen},
		// An incident resolved through the REST API leaves its alert
		// behind only if a writer forgot it: it still counts as closed.
		{"trigger of an alert whose incident was resolved opens a new one", gatehouse.EventTrigger, open(gatehouse.IncidentResolved), gatehouse.EffectOpen},
		{"acknowledge of an alert whose incident was resolved changes nothing", gatehouse.EventAcknowledge, open(gatehouse.IncidentResolved), gatehouse.EffectNone},
		{"resolve of an alert whose incident was resolved changes nothing", gatehouse.EventResolve, open(gatehouse.IncidentResolved), gatehouse.EffectNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gatehouse.EffectOf(tt.action, tt.open); got != tt.want {
				t.Errorf("EffectOf(%s, %+v) = %v, want %v", tt.action, tt.open, got, tt.want)
			}
		})
	}
}

// TestEventSequences plays whole sequences of events on one dedup key
// through EffectOf, keeping the open alert as the store does.
func TestEventSequences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		actions []gatehouse.EventAction
		want    []gatehouse.EventEffect
		// incidents is how many incidents the sequence opens.
		incidents int
	}{
		{
			name:      "trigger, trigger again, acknowledge, resolve, trigger again",
			actions:   []gatehouse.EventAction{"trigger", "trigger", "acknowledge", "resolve", "trigger"},
			want:      []gatehouse.EventEffect{gatehouse.EffectOpen, gatehouse.EffectDeduplicate, gatehouse.EffectAcknowledge, gatehouse.EffectResolve, gatehouse.EffectOpen},
			incidents: 2,
		},
		{
			name:      "acknowledge and resolve before any trigger",
			actions:   []gatehouse.EventAction{"acknowledge", "resolve", "trigger"},
			want:      []gatehouse.EventEffect{gatehouse.EffectNone, gatehouse.EffectNone, gatehouse.EffectOpen},
			incidents: 1,
		},
		{
			name:      "acknowledge and resolve after a resolve",
			actions:   []gatehouse.EventAction{"trigger", "resolve", "acknowledge", "resolve"},
			want:      []gatehouse.EventEffect{gatehouse.EffectOpen, gatehouse.EffectResolve, gatehouse.EffectNone, gatehouse.EffectNone},
			incidents: 1,
		},
		{
			name:      "trigger after acknowledge stays acknowledged",
			actions:   []gatehouse.EventAction{"trigger", "acknowledge", "trigger", "acknowledge"},
			want:      []gatehouse.EventEffect{gatehouse.EffectOpen, gatehouse.EffectAcknowledge, gatehouse.EffectDeduplicate, gatehouse.EffectNone},
			incidents: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var open *gatehouse.OpenAlert
			incidents := 0
			for i, action := range tt.actions {
				got := gatehouse.EffectOf(action, open)
				if got != tt.want[i] {
					t.Fatalf("event %d (%s): EffectOf = %v, want %v", i+1, action, got, tt.want[i])
				}
				switch got {
				case gatehouse.EffectOpen:
					incidents++
					open = &gatehouse.OpenAlert{IncidentStatus: gatehouse.IncidentTriggered}
				case gatehouse.EffectAcknowledge:
					open.IncidentStatus = gatehouse.IncidentAcknowledged
				case gatehouse.EffectResolve:
					open = nil
				}
			}
			if incidents != tt.incidents {
				t.Errorf("incidents opened = %d, want %d", incidents, tt.incidents)
			}
		})
	}
}

func TestStatusChange(t *testing.T) {
	t.Parallel()
	const (
		triggered    = gatehouse.IncidentTriggered
		acknowledged = gatehouse.IncidentAcknowledged
		resolved     = gatehouse.IncidentResolved
	)
	tests := []struct {
		from, to    gatehouse.IncidentStatus
		wantChanged bool
		wantErr     string
	}{
		{triggered, acknowledged, true, ""},
		{triggered, resolved, true, ""},
		{acknowledged, resolved, true, ""},
		{acknowledged, acknowledged, false, ""},
		{resolved, resolved, false, ""},
		{resolved, acknowledged, false, "Incident Already Resolved"},
		{triggered, triggered, false, `Status "triggered" is not one of acknowledged, resolved`},
		{acknowledged, triggered, false, `Status "triggered" is not one of acknowledged, resolved`},
		{triggered, "snoozed", false, `Status "snoozed" is not one of acknowledged, resolved`},
	}
	for _, tt := range tests {
		changed, err := gatehouse.StatusChange(tt.from, tt.to)
		if changed != tt.wantChanged {
			t.Errorf("StatusChange(%s, %s) changed = %v, want %v", tt.from, tt.to, changed, tt.wantChanged)
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("StatusChange(%s, %s) = %v, want no error", tt.from, tt.to, err)
		case tt.wantErr != "":
			e, ok := err.(*gatehouse.Error)
			if !ok || e.Code != gatehouse.CodeInvalidInput || len(e.Errors) != 1 || e.Errors[0] != tt.wantErr {
				t.Errorf("StatusChange(%s, %s) = %#v, want a 2001 error %q", tt.from, tt.to, err, tt.wantErr)
			}
		}
	}
}

func TestUrgencyFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		sev  gatehouse.Severity
		want gatehouse.Urgency
	}{
		{"high", gatehouse.SeverityInfo, gatehouse.UrgencyHigh},
		{"low", gatehouse.SeverityCritical, gatehouse.UrgencyLow},
		{"severity_based", gatehouse.SeverityCritical, gatehouse.UrgencyHigh},
		{"severity_based", gatehouse.SeverityError, gatehouse.UrgencyHigh},
		{"severity_based", gatehouse.SeverityWarning, gatehouse.UrgencyLow},
		{"severity_based", gatehouse.SeverityInfo, gatehouse.UrgencyLow},
		{"", gatehouse.SeverityInfo, gatehouse.UrgencyHigh},
	}
	for _, tt := range tests {
		if got := gatehouse.UrgencyFor(tt.rule, tt.sev); got != tt.want {
			t.Errorf("UrgencyFor(%q, %s) = %s, want %s", tt.rule, tt.sev, got, tt.want)
		}
	}
}

func TestContextsOf(t *testing.T) {
	t.Parallel()
	e := &gatehouse.Event{
		Links:  []gatehouse.Link{{Href: "https://a.example/1", Text: "one"}},
		Images: []gatehouse.Image{{Src: "https://a.example/i.png", Href: "https://a.example/2", Alt: "graph"}},
	}
	got := gatehouse.ContextsOf(e)
	want := []gatehouse.Context{
		{Type: "link", Href: "https://a.example/1", Text: "one"},
		{Type: "image", Src: "https://a.example/i.png", Href: "https://a.example/2", Alt: "graph"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ContextsOf = %+v, want %+v", got, want)
	}
}
