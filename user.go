package gatehouse

import (
	"crypto/md5"
	"fmt"
	"net/mail"
	"strings"
	"time"
	_ "time/tzdata" // time zones are checked alike on every host
	"unicode/utf8"
)

// User is a member of an account.
type User struct {
	ID        string
	AccountID string
	Email     string
	Name      string
	Role      Role
	TimeZone  string
	// Color is the user's color in schedules, such as "green".
	Color string
	// Description is the user's bio; JobTitle their title.
	Description string
	JobTitle    string
	// PasswordHash is the argon2id hash of the web password, in PHC form.
	PasswordHash string
	CreatedAt    time.Time
	// LicenseAllocatedAt is when the user's license (see LicenseOf) was
	// allocated: when they were made, and again at each change of role.
	LicenseAllocatedAt time.Time
}

// DefaultTimeZone is a new user's time zone unless another is given.
const DefaultTimeZone = "Etc/UTC"

// The limits of a user's fields: PagerDuty's for names, emails and job
// titles.
const (
	maxUserName        = 100
	maxUserEmail       = 100
	maxUserJobTitle    = 100
	maxUserDescription = 1024
	maxUserColor       = 50
)

// UserColors are the colors users are given when they choose none.
var UserColors = []string{"green", "red", "purple", "teal", "orange", "blue", "brown", "dark-slate-blue"}

// DefaultColor is the color of a user with that email who chose none: the
// same for the same email.
func DefaultColor(email string) string {
	sum := md5.Sum([]byte(email))
	return UserColors[int(sum[0])%len(UserColors)]
}

// NormalizeEmail trims and lower-cases an email address. Invalid UTF-8 is
// left as it is, for ValidateEmail to refuse, rather than silently replaced.
func NormalizeEmail(email string) string {
	if !utf8.ValidString(email) {
		return email
	}
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail returns a 2001 error if email is not a plain address such as
// "ada@example.com".
func ValidateEmail(email string) error {
	addr, err := mail.ParseAddress(email)
	if err != nil || TextProblem("Email", email) != "" || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		return InvalidInput(fmt.Sprintf("Email %q is not a valid address", email))
	}
	return nil
}

// Normalize trims the user's name, normalizes their email, and gives them
// the default time zone and color if they have none.
func (u *User) Normalize() {
	u.Name = strings.TrimSpace(u.Name)
	u.Email = NormalizeEmail(u.Email)
	if u.TimeZone == "" {
		u.TimeZone = DefaultTimeZone
	}
	if u.Color == "" {
		u.Color = DefaultColor(u.Email)
	}
}

// ValidateFor checks the user's fields and that account allows the user's
// role, and returns a 2001 error listing every problem.
func (u *User) ValidateFor(account *Account) error {
	var problems []string
	if err := ValidateEmail(u.Email); err != nil {
		problems = append(problems, err.(*Error).Errors...)
	} else if utf8.RuneCountInString(u.Email) > maxUserEmail {
		problems = append(problems, fmt.Sprintf("Email must be at most %d characters", maxUserEmail))
	}
	problems = append(problems, NameProblems("Name", u.Name, maxUserName)...)
	if _, err := ParseRole(string(u.Role)); err != nil {
		problems = append(problems, err.(*Error).Errors...)
	} else if ability := u.Role.RequiredAbility(); ability != "" && !account.Has(ability) {
		problems = append(problems, fmt.Sprintf("Role %q needs the %s ability, which plan %q does not have", u.Role, ability, account.Plan))
	}
	if u.TimeZone != "" {
		if p := TimeZoneProblem(u.TimeZone); p != "" {
			problems = append(problems, p)
		}
	}
	if u.Color != "" {
		problems = append(problems, optionalLineProblems("Color", u.Color, maxUserColor)...)
	}
	problems = append(problems, optionalLineProblems("Job title", u.JobTitle, maxUserJobTitle)...)
	problems = append(problems, DescriptionProblems("Description", u.Description, maxUserDescription)...)
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}

// TimeZoneProblem returns why tz is not a time zone of the IANA database
// such as "Europe/Paris", or "" if it is one.
func TimeZoneProblem(tz string) string {
	if tz == "" || tz == "Local" || TextProblem("Time zone", tz) != "" || len(tz) > 100 {
		return fmt.Sprintf("Time zone %q is not a time zone such as \"Europe/Paris\"", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Sprintf("Time zone %q is not a time zone such as \"Europe/Paris\"", tz)
	}
	return ""
}

// optionalLineProblems returns what is wrong with an optional one-line text
// field: longer than max characters, or not a valid one-line text.
func optionalLineProblems(field, value string, max int) []string {
	if utf8.RuneCountInString(value) > max {
		return []string{fmt.Sprintf("%s must be at most %d characters", field, max)}
	}
	if p := TextProblem(field, value); p != "" {
		return []string{p}
	}
	return nil
}
