package gatehouse

import (
	"fmt"
	"time"
)

// Integration is a way into a service for events: its integration key is the
// routing key the Events API takes them with.
type Integration struct {
	ID        string
	AccountID string
	// Service names the integration's service: writes read its ID, reads
	// also give its name as the summary.
	Service Ref
	Name    string
	// Type is one of IntegrationTypes.
	Type string
	// VendorID is the integration's vendor (one of Vendors), or "".
	VendorID string
	// Key is the integration key: 32 lower-case hexadecimal characters.
	Key       string
	CreatedAt time.Time
}

// The integration types whose events Gatehouse takes.
const (
	// IntegrationEventsV2 takes Events API v2 events.
	IntegrationEventsV2 = "events_api_v2_inbound_integration"
	// IntegrationGenericEvents takes Events API v1 events.
	IntegrationGenericEvents = "generic_events_api_inbound_integration"
)

// IntegrationTypes are the values of Integration.Type.
var IntegrationTypes = []string{IntegrationEventsV2, IntegrationGenericEvents}

// placeholderIntegrationType is the type PagerDuty's Terraform provider sends
// with a vendor when it was given none: the vendor's type is meant.
const placeholderIntegrationType = "service_integration"

const maxIntegrationName = 255

// NewIntegrationKey returns a fresh integration key: 32 lower-case
// hexadecimal characters, 128 random bits.
func NewIntegrationKey() string {
	return RandomString(32, "0123456789abcdef")
}

// Normalize gives an integration with a vendor and no type of its own the
// vendor's type, and an integration without a name its vendor's or its
// type's. A name or type given is kept exactly.
func (i *Integration) Normalize() {
	v, known := VendorByID(i.VendorID)
	if known && (i.Type == "" || i.Type == placeholderIntegrationType) {
		i.Type = v.IntegrationType
	}
	if i.Name == "" {
		switch {
		case known:
			i.Name = v.Name
		case i.Type == IntegrationEventsV2:
			i.Name = "Events API V2"
		case i.Type == IntegrationGenericEvents:
			i.Name = "Events API V1"
		}
	}
}

// Validate returns a 2001 error listing every problem with the integration.
// Call Normalize first.
func (i *Integration) Validate() error {
	var problems []string
	if i.VendorID != "" {
		if _, known := VendorByID(i.VendorID); !known {
			problems = append(problems, fmt.Sprintf("Vendor %s not found: GET /vendors lists them", i.VendorID))
		}
	}
	switch {
	case i.Type == "" || i.Type == placeholderIntegrationType:
		problems = append(problems, "Type must be given, or a vendor: "+joinTypes())
	case !contains(IntegrationTypes, i.Type):
		problems = append(problems, fmt.Sprintf("Type %q is not one Gatehouse takes events for: %s", i.Type, joinTypes()))
	}
	if i.Name != "" { // else Normalize found no type to name it after
		problems = append(problems, NameProblems("Name", i.Name, maxIntegrationName)...)
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

func joinTypes() string {
	return IntegrationEventsV2 + " or " + IntegrationGenericEvents
}
