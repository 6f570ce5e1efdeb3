package gatehouse

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ContactMethod is a way to reach a user: an email address, or a phone
// number for calls or text messages.
type ContactMethod struct {
	ID        string
	AccountID string
	UserID    string
	// Type is one of ContactMethodTypes.
	Type    string
	Label   string
	Address string
	// CountryCode is a phone or SMS number's calling code, such as 1 or 44;
	// 0 for other types.
	CountryCode int
	// SendShortEmail asks for abbreviated emails (email-to-SMS gateways).
	SendShortEmail bool
	CreatedAt      time.Time
}

// The contact method types Gatehouse stores.
const (
	ContactEmail = "email_contact_method"
	ContactPhone = "phone_contact_method"
	ContactSMS   = "sms_contact_method"
)

// ContactMethodTypes are the types of contact method a client may create.
// Push notification methods are made by PagerDuty's mobile app, never
// through the API.
var ContactMethodTypes = []string{ContactEmail, ContactPhone, ContactSMS}

// DefaultContactLabel is the label of the email contact method every user
// gets with their account.
const DefaultContactLabel = "Default"

const (
	maxContactLabel   = 100
	maxPhoneNumber    = 40
	maxCountryCode    = 1999
	maxContactAddress = 100
)

// Normalize trims the label and the address.
func (c *ContactMethod) Normalize() {
	c.Label = strings.TrimSpace(c.Label)
	c.Address = strings.TrimSpace(c.Address)
	if c.Type != ContactEmail {
		c.SendShortEmail = false
	}
	if c.Type == ContactEmail {
		c.CountryCode = 0
	}
}

// Validate returns a 2001 error listing every problem with the contact
// method.
func (c *ContactMethod) Validate() error {
	var problems []string
	switch c.Type {
	case ContactEmail:
		if err := ValidateEmail(c.Address); err != nil {
			problems = append(problems, fmt.Sprintf("Address %q is not a valid email address", c.Address))
		} else if utf8.RuneCountInString(c.Address) > maxContactAddress {
			problems = append(problems, fmt.Sprintf("Address must be at most %d characters", maxContactAddress))
		}
	case ContactPhone, ContactSMS:
		if p := phoneProblem(c.Address); p != "" {
			problems = append(problems, p)
		}
		if c.CountryCode < 1 || c.CountryCode > maxCountryCode {
			problems = append(problems, fmt.Sprintf("Country code must be a calling code from 1 to %d", maxCountryCode))
		}
	case "push_notification_contact_method":
		problems = append(problems, "Push notification contact methods are added by PagerDuty's mobile app, not through the API")
	default:
		problems = append(problems, notOneOf("Type", c.Type, ContactMethodTypes).Errors...)
	}
	problems = append(problems, NameProblems("Label", c.Label, maxContactLabel)...)
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// phoneProblem returns why address is not a phone number as PagerDuty takes
// it (digits, and the symbols , * and # for pauses and extensions, without
// the trunk prefix), or "".
func phoneProblem(address string) string {
	switch {
	case address == "":
		return "Address must not be empty"
	case len(address) > maxPhoneNumber:
		return fmt.Sprintf("Phone numbers must be at most %d characters", maxPhoneNumber)
	case address[0] < '0' || address[0] > '9':
		return fmt.Sprintf("Phone number %q must start with a digit", address)
	}
	for _, r := range address {
		if (r < '0' || r > '9') && r != ',' && r != '*' && r != '#' {
			return fmt.Sprintf("Phone number %q may only hold the digits 0-9 and the symbols , * and #", address)
		}
	}
	return ""
}

// ContactMethodTypeOf returns the type a contact method reference names:
// clients send "email_contact_method" or "email_contact_method_reference".
func ContactMethodTypeOf(refType string) string {
	return strings.TrimSuffix(refType, "_reference")
}
