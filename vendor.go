package gatehouse

import "strings"

// Vendor is a kind of tool that sends events, such as Prometheus or Datadog.
// An integration made with a vendor takes the vendor's integration type.
type Vendor struct {
	// ID never changes: clients keep vendor IDs in their configuration.
	ID          string
	Name        string
	Description string
	WebsiteURL  string
	// IntegrationType is the type of the vendor's integrations, one of
	// IntegrationTypes: the Events API version the tool speaks.
	IntegrationType string
}

// Vendors are the vendors every account may use, by name. Amazon CloudWatch
// and Datadog have the IDs PagerDuty gives them (its Terraform provider's
// tests name them); the others have Gatehouse's own.
var Vendors = []Vendor{
	{ID: "PVNDALM", Name: "Alertmanager", WebsiteURL: "https://prometheus.io/docs/alerting/latest/alertmanager/", IntegrationType: IntegrationEventsV2,
		Description: "Prometheus Alertmanager routes alerts to PagerDuty through the Events API v2 (pagerduty_configs with a routing_key)."},
	{ID: "PZQ6AUS", Name: "Amazon CloudWatch", WebsiteURL: "https://aws.amazon.com/cloudwatch", IntegrationType: IntegrationEventsV2,
		Description: "Amazon CloudWatch alarms, sent as Events API v2 events (through EventBridge or a small forwarder)."},
	{ID: "PAM4FGS", Name: "Datadog", WebsiteURL: "https://www.datadoghq.com", IntegrationType: IntegrationGenericEvents,
		Description: "Datadog monitors notify PagerDuty services through the Events API."},
	{ID: "PVNDEV1", Name: "Events API V1", WebsiteURL: "https://developer.pagerduty.com/docs/events-api-v1-overview", IntegrationType: IntegrationGenericEvents,
		Description: "Any tool that sends Events API v1 events (service_key, event_type)."},
	{ID: "PVNDEV2", Name: "Events API V2", WebsiteURL: "https://developer.pagerduty.com/docs/events-api-v2-overview", IntegrationType: IntegrationEventsV2,
		Description: "Any tool that sends Events API v2 events (routing_key, event_action, payload)."},
	{ID: "PVNDGRF", Name: "Grafana", WebsiteURL: "https://grafana.com", IntegrationType: IntegrationEventsV2,
		Description: "Grafana alerting's PagerDuty contact point, which sends Events API v2 events."},
	{ID: "PVNDNAG", Name: "Nagios", WebsiteURL: "https://www.nagios.org", IntegrationType: IntegrationGenericEvents,
		Description: "Nagios notifications sent by PagerDuty's Nagios agent through the Events API v1."},
	{ID: "PVNDPRM", Name: "Prometheus", WebsiteURL: "https://prometheus.io", IntegrationType: IntegrationEventsV2,
		Description: "Prometheus alerts, routed by Alertmanager through the Events API v2."},
}

// VendorByID returns the vendor with that ID.
func VendorByID(id string) (*Vendor, bool) {
	for i := range Vendors {
		if Vendors[i].ID == id {
			return &Vendors[i], true
		}
	}
	return nil, false
}

// VendorsMatching returns the vendors whose name contains query, ignoring
// the case of ASCII letters as the stores' queries do; all of them for "".
func VendorsMatching(query string) []Vendor {
	q := asciiLower(query)
	var out []Vendor
	for _, v := range Vendors {
		if strings.Contains(asciiLower(v.Name), q) {
			out = append(out, v)
		}
	}
	return out
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
