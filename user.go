package gatehouse

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
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
	// PasswordHash is the argon2id hash of the web password, in PHC form.
	PasswordHash string
	CreatedAt    time.Time
}

// DefaultTimeZone is a new user's time zone unless another is given.
const DefaultTimeZone = "Etc/UTC"

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

// ValidateFor checks the user's fields and that account allows the user's
// role, and returns a 2001 error listing every problem.
func (u *User) ValidateFor(account *Account) error {
	var problems []string
	if err := ValidateEmail(u.Email); err != nil {
		problems = append(problems, err.(*Error).Errors...)
	}
	if strings.TrimSpace(u.Name) == "" {
		problems = append(problems, "Name must not be empty")
	} else if p := TextProblem("Name", u.Name); p != "" {
		problems = append(problems, p)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		problems = append(problems, err.(*Error).Errors...)
	} else if ability := u.Role.RequiredAbility(); ability != "" && !account.Has(ability) {
		problems = append(problems, fmt.Sprintf("Role %q needs the %s ability, which plan %q does not have", u.Role, ability, account.Plan))
	}
	if len(problems) > 0 {
		return InvalidInput(problems...)
	}
	return nil
}
