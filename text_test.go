package gatehouse

import "testing"

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
