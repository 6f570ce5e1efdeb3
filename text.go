package gatehouse

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// TextProblem returns why s cannot be the value of a one-line text field
// such as a name or a description, or "" if it can: it must be valid UTF-8
// without control characters, which both databases store alike.
func TextProblem(field, s string) string {
	if !utf8.ValidString(s) {
		return fmt.Sprintf("%s must be valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("%s must not contain control characters", field)
		}
	}
	return ""
}
