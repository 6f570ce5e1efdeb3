package gatehouse_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
)

// v2Names and v1Names are the field names of the two doors, as eventsapi
// gives them.
var (
	v2Names = gatehouse.EventFieldNames{
		Action: "'event_action'", DedupKey: "'dedup_key'",
		Summary: "'payload.summary'", Source: "'payload.source'", Severity: "'payload.severity'",
		Component: "'payload.component'", Group: "'payload.group'", Class: "'payload.class'",
		CustomDetails: "'payload.custom_details'", Client: "'client'", ClientURL: "'client_url'",
		Links: "'links'", LinkHref: "'link href'", LinkText: "'link text'",
		ImageSrc: "'image src'", ImageHref: "'image href'", ImageAlt: "'image alt'",
	}
	v1Names = gatehouse.EventFieldNames{
		Action: "Event type", DedupKey: "Incident key", Summary: "Description",
		CustomDetails: "Details", Client: "Client", ClientURL: "Client URL",
		LinkHref: "Context href", LinkText: "Context text", ImageSrc: "Context src", ImageHref: "Context href", ImageAlt: "Context alt",
	}
)

func validTrigger() *gatehouse.Event {
	return &gatehouse.Event{
		Kind: gatehouse.EventAlert, Action: gatehouse.EventTrigger, DedupKey: "srv01/mysql",
		Summary: "DISK at 99% on machine prod-datapipe03", Source: "prod-datapipe03", Severity: gatehouse.SeverityCritical,
	}
}

func TestEventProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		names gatehouse.EventFieldNames
		edit  func(e *gatehouse.Event)
		want  []string
	}{
		{"a valid trigger", v2Names, func(e *gatehouse.Event) {}, nil},
		{"an acknowledge needs no payload", v2Names, func(e *gatehouse.Event) {
			*e = gatehouse.Event{Kind: gatehouse.EventAlert, Action: gatehouse.EventAcknowledge, DedupKey: "k"}
		}, nil},
		{"no action", v2Names, func(e *gatehouse.Event) { e.Action = "" }, []string{"'event_action' is missing or blank"}},
		{"no action and no dedup key", v2Names, func(e *gatehouse.Event) { e.Action, e.DedupKey = "", "" }, []string{"'event_action' is missing or blank"}},
		{"an unknown action", v2Names, func(e *gatehouse.Event) { e.Action = "snooze" },
			[]string{"'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"}},
		{"a resolve without dedup key", v2Names, func(e *gatehouse.Event) { e.Action, e.DedupKey = gatehouse.EventResolve, "" },
			[]string{"'dedup_key' is missing or blank"}},
		{"a dedup key of 256 characters", v2Names, func(e *gatehouse.Event) { e.DedupKey = strings.Repeat("k", 256) },
			[]string{"'dedup_key' is too long (maximum is 255 characters)"}},
		{"a dedup key of 255 characters", v2Names, func(e *gatehouse.Event) { e.DedupKey = strings.Repeat("é", 255) }, nil},
		{"a trigger without payload", v2Names, func(e *gatehouse.Event) { e.Summary, e.Source, e.Severity = "", "", "" },
			[]string{"'payload.summary' is missing or blank", "'payload.source' is missing or blank", "'payload.severity' is missing or blank"}},
		{"a blank summary", v2Names, func(e *gatehouse.Event) { e.Summary = "  " }, []string{"'payload.summary' is missing or blank"}},
		{"a summary of 1025 characters", v2Names, func(e *gatehouse.Event) { e.Summary = strings.Repeat("s", 1025) },
			[]string{"'payload.summary' is too long (maximum is 1024 characters)"}},
		{"a summary of 1024 characters", v2Names, func(e *gatehouse.Event) { e.Summary = strings.Repeat("ü", 1024) }, nil},
		{"an unknown severity", v2Names, func(e *gatehouse.Event) { e.Severity = "Critical" },
			[]string{"'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"}},
		{"links and images without href and src", v2Names, func(e *gatehouse.Event) {
			e.Links = []gatehouse.Link{{Text: "a"}, {Text: "b"}}
			e.Images = []gatehouse.Image{{Alt: "c"}}
		}, []string{"'link href' is missing or blank", "'image src' is missing or blank"}},
		{"a NUL character", v2Names, func(e *gatehouse.Event) { e.Source = "a\x00b"; e.Links = []gatehouse.Link{{Href: "h", Text: "\x00"}} },
			[]string{"'payload.source' must not contain the NUL character", "'link text' must not contain the NUL character"}},
		{"custom details that are not UTF-8", v2Names, func(e *gatehouse.Event) { e.CustomDetails = json.RawMessage("\"\xff\"") },
			[]string{"'payload.custom_details' must be valid UTF-8"}},
		{"v1: a trigger without description", v1Names, func(e *gatehouse.Event) { e.Summary, e.Source, e.Severity = "", "", "" },
			[]string{"Description is missing or blank"}},
		{"v1: a resolve without incident key", v1Names, func(e *gatehouse.Event) { e.Action, e.DedupKey = gatehouse.EventResolve, "" },
			[]string{"Incident key is missing or blank"}},
		{"v1: an unknown event type", v1Names, func(e *gatehouse.Event) { e.Action = "" },
			[]string{"Event type is missing or blank"}},
		{"a change event", v2Names, func(e *gatehouse.Event) {
			*e = gatehouse.Event{Kind: gatehouse.EventChange, Summary: "Build 220 passed", Links: make([]gatehouse.Link, 50)}
			for i := range e.Links {
				e.Links[i].Href = "https://ci.example/220"
			}
		}, nil},
		{"a change event without summary, with 51 links", v2Names, func(e *gatehouse.Event) {
			*e = gatehouse.Event{Kind: gatehouse.EventChange, Links: make([]gatehouse.Link, 51)}
			for i := range e.Links {
				e.Links[i].Href = "https://ci.example/220"
			}
		}, []string{"'payload.summary' is missing or blank", "'links' has too many items (maximum is 50)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validTrigger()
			tt.edit(e)
			if diff := cmp.Diff(tt.want, e.Problems(tt.names)); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEventTimestamp(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"2015-07-17T08:42:58.315+0000", at("2015-07-17T08:42:58.315Z"), true},
		{"2015-07-17T08:42:58.315Z", at("2015-07-17T08:42:58.315Z"), true},
		{"2015-07-17T10:42:58+02:00", at("2015-07-17T08:42:58Z"), true},
		{"2015-07-17T10:42:58+02", at("2015-07-17T08:42:58Z"), true},
		{"2015-07-17 08:42:58Z", at("2015-07-17T08:42:58Z"), true},
		{"2015-07-17T08:42:58", at("2015-07-17T08:42:58Z"), true},
		{"2024-01-02T03:04:05.123456789-0130", at("2024-01-02T04:34:05.123456789Z"), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"1437122578", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := gatehouse.ParseEventTimestamp(tt.in)
		if ok != tt.wantOK || !got.Equal(tt.want) {
			t.Errorf("ParseEventTimestamp(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestNewDedupKey(t *testing.T) {
	t.Parallel()
	a, b := gatehouse.NewDedupKey(), gatehouse.NewDedupKey()
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" || a == b {
		t.Errorf("NewDedupKey() = %q, then %q; want two different 32-character hex keys", a, b)
	}
}
