package gatehouse

import (
	"fmt"
	"strings"
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

// NameProblems returns what is wrong with a required one-line text field
// such as a name: empty, longer than max characters, or not a valid one-line
// text (see TextProblem).
func NameProblems(field, value string, max int) []string {
	switch {
	case strings.TrimSpace(value) == "":
		return []string{field + " must not be empty"}
	case utf8.RuneCountInString(value) > max:
		return []string{fmt.Sprintf("%s must be at most %d characters", field, max)}
	}
	if p := TextProblem(field, value); p != "" {
		return []string{p}
	}
	return nil
}

// DescriptionProblems returns what is wrong with an optional free text such
// as a description, which may span lines: longer than max characters, not
// valid UTF-8, or holding control characters other than tabs and line
// breaks.
func DescriptionProblems(field, value string, max int) []string {
	if utf8.RuneCountInString(value) > max {
		return []string{fmt.Sprintf("%s must be at most %d characters", field, max)}
	}
	if !utf8.ValidString(value) {
		return []string{field + " must be valid UTF-8"}
	}
	for _, r := range value {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return []string{field + " must not contain control characters other than tabs and line breaks"}
		}
	}
	return nil
}
