package gatehouse

import "time"

// AuditRecord is one entry of an account's audit trail, shaped as
// PagerDuty's AuditRecord: who changed what, how, and which fields.
type AuditRecord struct {
	ID            string
	AccountID     string
	ExecutionTime time.Time
	// RequestID and RemoteAddress are the execution context: the request's
	// X-Request-Id and the client's address; empty for the command line.
	RequestID     string
	RemoteAddress string
	// Actor is who acted: a user, a general access key or an app; CLIActor
	// for the operator at the command line.
	Actor  Actor
	Method AuditMethod
	// RootResource is the object changed, such as a user or a service.
	RootResource Ref
	// Action is "create", "update" or "delete"; keys also know "disable"
	// and "enable".
	Action     string
	Fields     []AuditField
	References []AuditReference
}

// Ref names an object without its URLs: its reference type (such as
// "user_reference"), ID and summary. The HTTP doors add the URLs.
type Ref struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// AuditMethod is how an audited change was made.
type AuditMethod struct {
	// Type is one of the AuditMethod constants.
	Type string
	// TruncatedToken is the last four characters of the credential used.
	TruncatedToken string
	// Description says more, such as "gatehouse CLI".
	Description string
}

// The methods of PagerDuty's audit records.
const (
	MethodAPIToken = "api_token"
	MethodOAuth    = "oauth"
	MethodBrowser  = "browser"
	// MethodOther is Gatehouse's command line.
	MethodOther = "other"
)

// AuditField is a field an audited change touched. Value is what it became
// (nil on delete), BeforeValue what it was (nil on create). Secrets never
// appear: a key is named by its last four characters.
type AuditField struct {
	Name        string  `json:"name"`
	Value       *string `json:"value,omitempty"`
	BeforeValue *string `json:"before_value,omitempty"`
}

// AuditReference is a list of references an audited change touched, such as
// the members of a team.
type AuditReference struct {
	Name    string `json:"name"`
	Added   []Ref  `json:"added,omitempty"`
	Removed []Ref  `json:"removed,omitempty"`
}

// Changed returns the field name going from before to after, or false when
// they are equal: the way updates list what they changed.
func Changed(name, before, after string) (AuditField, bool) {
	if before == after {
		return AuditField{}, false
	}
	return AuditField{Name: name, Value: &after, BeforeValue: &before}, true
}

// Created returns the field name of a new object with its value.
func Created(name, value string) AuditField {
	return AuditField{Name: name, Value: &value}
}

// Deleted returns the field name of a removed object with its last value.
func Deleted(name, value string) AuditField {
	return AuditField{Name: name, BeforeValue: &value}
}
