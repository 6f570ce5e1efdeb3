package eventsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse"
)

// What the three doors take, field by field, PagerDuty's bodies. Unknown
// fields are ignored: Alertmanager sends v1 events with "event_action":""
// and "payload":null, and clients send fields PagerDuty added since.

type v2Event struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *v2Payload `json:"payload"`
	Images      []v2Image  `json:"images"`
	Links       []v2Link   `json:"links"`
	Client      string     `json:"client"`
	ClientURL   string     `json:"client_url"`
}

type v2Payload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

type v2Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

type v2Image struct {
	Src  string `json:"src"`
	Href string `json:"href"`
	Alt  string `json:"alt"`
}

type changeEvent struct {
	RoutingKey string         `json:"routing_key"`
	Payload    *changePayload `json:"payload"`
	Links      []v2Link       `json:"links"`
	Images     []v2Image      `json:"images"`
}

type changePayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Timestamp     string          `json:"timestamp"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

type v1Event struct {
	ServiceKey  string          `json:"service_key"`
	EventType   string          `json:"event_type"`
	IncidentKey string          `json:"incident_key"`
	Description string          `json:"description"`
	Details     json.RawMessage `json:"details"`
	Client      string          `json:"client"`
	ClientURL   string          `json:"client_url"`
	Contexts    []v1Context     `json:"contexts"`
}

type v1Context struct {
	Type string `json:"type"`
	Href string `json:"href"`
	Text string `json:"text"`
	Src  string `json:"src"`
	Alt  string `json:"alt"`
}

// The names of the fields in the doors' error lines: v2's quote the JSON
// field, v1's name it as PagerDuty's v1 errors do ("Description is missing
// or blank").
var (
	v2Names = gatehouse.EventFieldNames{
		Action: "'event_action'", DedupKey: "'dedup_key'",
		Summary: "'payload.summary'", Source: "'payload.source'", Severity: "'payload.severity'",
		Component: "'payload.component'", Group: "'payload.group'", Class: "'payload.class'",
		CustomDetails: "'payload.custom_details'", Client: "'client'", ClientURL: "'client_url'",
		Links: "'links'", LinkHref: "'link href'", LinkText: "'link text'",
		ImageSrc: "'image src'", ImageHref: "'image href'", ImageAlt: "'image alt'",
	}
	changeNames = gatehouse.EventFieldNames{
		Summary: "'payload.summary'", Source: "'payload.source'", CustomDetails: "'payload.custom_details'",
		Links: "'links'", LinkHref: "'link href'", LinkText: "'link text'",
		ImageSrc: "'image src'", ImageHref: "'image href'", ImageAlt: "'image alt'",
	}
	v1Names = gatehouse.EventFieldNames{
		Action: "Event type", DedupKey: "Incident key", Summary: "Description",
		CustomDetails: "Details", Client: "Client", ClientURL: "Client URL",
		LinkHref: "Context href", LinkText: "Context text",
		ImageSrc: "Context src", ImageHref: "Context href", ImageAlt: "Context alt",
	}
)

// errUnrecognized is a body that is not a JSON object.
var errUnrecognized = errors.New("event object format is unrecognized")

// decode reads body into v. It returns errUnrecognized for a body that is
// not a JSON object, and the problems with the types of its fields, one line
// each.
func decode(body []byte, v any) (problems []string, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errUnrecognized
	}
	// Unmarshal checks the whole body is JSON before it decodes any of it.
	err = json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return []string{fmt.Sprintf("'%s' must be %s", typeErr.Field, jsonKind(typeErr.Type))}, nil
	}
	return nil, errUnrecognized
}

// jsonKind names the kind of JSON value a Go type takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "JSON"
		}
		return "an array"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// details returns custom details as the client sent them, or nil for none
// or null.
func details(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func links(in []v2Link) []gatehouse.Link {
	if len(in) == 0 {
		return nil
	}
	out := make([]gatehouse.Link, len(in))
	for i, l := range in {
		out[i] = gatehouse.Link{Href: l.Href, Text: l.Text}
	}
	return out
}

func images(in []v2Image) []gatehouse.Image {
	if len(in) == 0 {
		return nil
	}
	out := make([]gatehouse.Image, len(in))
	for i, img := range in {
		out[i] = gatehouse.Image{Src: img.Src, Href: img.Href, Alt: img.Alt}
	}
	return out
}

// routingKeyProblems returns what is wrong with the form of a routing key
// (v2) or service key (v1), named name: PagerDuty's keys are 32 letters and
// digits.
func routingKeyProblems(key, name string, v1 bool) []string {
	if key == "" {
		if v1 {
			return []string{"Service key is missing or blank"}
		}
		return []string{"'" + name + "' is missing or blank"}
	}
	var problems []string
	if utf8.RuneCountInString(key) != routingKeyLength {
		if v1 {
			problems = append(problems, fmt.Sprintf("Service key is the wrong length (should be %d characters)", routingKeyLength))
		} else {
			problems = append(problems, fmt.Sprintf("Length of '%s' is incorrect (should be %d characters)", name, routingKeyLength))
		}
	}
	for _, c := range []byte(key) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			if v1 {
				problems = append(problems, "Service key must contain only letters and digits")
			} else {
				problems = append(problems, "'"+name+"' cannot contain non-alphanumeric characters.")
			}
			break
		}
	}
	return problems
}

// routingKeyLength is the length of integration keys and orchestration
// routing keys.
const routingKeyLength = 32
