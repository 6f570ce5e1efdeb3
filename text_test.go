package gatehouse

import (
	"slices"
	"strings"
	"testing"
)

func TestTextProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, want string
	}{
		{"CI pipeline", ""},
		{"Zoë's laptop — 東京", ""},
		{"bad\xff", "Description must be valid UTF-8"},
		{"two\nlines", "Description must not contain control characters"},
		{"nul\x00", "Description must not contain control characters"},
		{"del\x7f", "Description must not contain control characters"},
	}
	for _, tt := range tests {
		if got := TextProblem("Description", tt.s); got != tt.want {
			t.Errorf("TextProblem(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestNameAndDescriptionProblems(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, value string
		want        []string
	}{
		{"name", "Ops", nil},
		{"name", "  ", []string{"Name must not be empty"}},
		{"name", strings.Repeat("é", 11), []string{"Name must be at most 10 characters"}},
		{"name", "a\nb", []string{"Name must not contain control characters"}},
		{"description", "", nil},
		{"description", "a\nb\tc\r\n", nil},
		{"description", strings.Repeat("é", 11), []string{"Description must be at most 10 characters"}},
		{"description", "bell\a", []string{"Description must not contain control characters other than tabs and line breaks"}},
		{"description", "\xff", []string{"Description must be valid UTF-8"}},
	} {
		var got []string
		if tt.name == "name" {
			got = NameProblems("Name", tt.value, 10)
		} else {
			got = DescriptionProblems("Description", tt.value, 10)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%sProblems(%q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}
