package access

import (
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	const key = "y_hgyKEgwHWwTb5y8Gno"
	tests := []struct {
		name    string
		values  []string
		scheme  Scheme
		secret  string
		problem HeaderProblem
	}{
		{"token", []string{"Token token=" + key}, SchemeToken, key, ""},
		{"quoted token", []string{`Token token="` + key + `"`}, SchemeToken, key, ""},
		{"generated key with plus", []string{"Token token=a+bcdefghijklmnopqrs"}, SchemeToken, "a+bcdefghijklmnopqrs", ""},
		{"bearer", []string{"Bearer abc.def"}, SchemeBearer, "abc.def", ""},
		{"missing", nil, 0, "", ProblemMissing},
		{"blank", []string{"  "}, 0, "", ProblemMissing},
		{"two headers", []string{"Token token=" + key, "Token token=" + key}, 0, "", ProblemRepeated},
		{"no token=", []string{"Token " + key}, 0, "", ProblemMalformed},
		{"lower-case scheme", []string{"token token=" + key}, 0, "", ProblemMalformed},
		{"lower-case bearer", []string{"bearer abc"}, 0, "", ProblemMalformed},
		{"basic auth", []string{"Basic dXNlcjpwYXNz"}, 0, "", ProblemMalformed},
		{"bare key", []string{key}, 0, "", ProblemMalformed},
		{"empty key", []string{"Token token="}, 0, "", ProblemEmpty},
		{"empty bearer", []string{"Bearer "}, 0, "", ProblemEmpty},
		{"19 characters", []string{"Token token=" + key[:19]}, 0, "", ProblemKeyShape},
		{"21 characters", []string{"Token token=" + key + "x"}, 0, "", ProblemKeyShape},
		{"non-ASCII", []string{"Token token=y_hgyKEgwHWwTb5y8Gé"}, 0, "", ProblemKeyShape},
		{"integration key", []string{"Token token=0123456789abcdef0123456789abcdef"}, 0, "", ProblemKeyShape},
	}
	for _, tt := range tests {
		scheme, secret, problem := ParseAuthorization(tt.values)
		if scheme != tt.scheme || secret != tt.secret || problem != tt.problem {
			t.Errorf("%s: ParseAuthorization(%q) = %v, %q, %q; want %v, %q, %q", tt.name, tt.values, scheme, secret, problem, tt.scheme, tt.secret, tt.problem)
		}
	}
}

func TestParseAuthorizationDoesNotAllocate(t *testing.T) {
	values := []string{"Token token=y_hgyKEgwHWwTb5y8Gno"}
	if n := testing.AllocsPerRun(100, func() { ParseAuthorization(values) }); n != 0 {
		t.Errorf("ParseAuthorization allocates %v times, want 0", n)
	}
}

func BenchmarkParseAndHash(b *testing.B) {
	values := []string{"Token token=y_hgyKEgwHWwTb5y8Gno"}
	b.ReportAllocs()
	for b.Loop() {
		_, key, _ := ParseAuthorization(values)
		HashKey(key)
	}
}

// FuzzParseAuthorization: whatever the header, the parser returns either a
// problem or a credential that is a part of the header with the shape its
// scheme demands, and never panics.
func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"Token token=y_hgyKEgwHWwTb5y8Gno", `Token token="a+bcdefghijklmnopqrs"`, "Token  token=x ", "Bearer abc.def",
		"Bearer ", "token token=x", "Token y_hgyKEgwHWwTb5y8Gno", "", " ", "Token token=\"", "Token token=\"\"",
		"Basic dXNlcjpwYXNz", "Token token=0123456789abcdef0123456789abcdef", "Token token=é123456789012345678",
	} {
		f.Add(seed, "")
	}
	f.Add("Token token=y_hgyKEgwHWwTb5y8Gno", "Token token=y_hgyKEgwHWwTb5y8Gno")
	f.Fuzz(func(t *testing.T, first, second string) {
		values := []string{first}
		if second != "" {
			values = append(values, second)
		}
		scheme, secret, problem := ParseAuthorization(values)
		if problem != "" {
			if scheme != 0 || secret != "" {
				t.Fatalf("ParseAuthorization(%q) = %d, %q with problem %q", values, scheme, secret, problem)
			}
			return
		}
		if len(values) != 1 || !strings.Contains(first, secret) {
			t.Fatalf("ParseAuthorization(%q) = %q, not a part of one header", values, secret)
		}
		switch scheme {
		case SchemeToken:
			if !ValidKeyChars(secret) {
				t.Fatalf("ParseAuthorization(%q) = token %q, not 20 key characters", values, secret)
			}
		case SchemeBearer:
			if secret == "" || strings.HasPrefix(secret, " ") || strings.HasSuffix(secret, " ") {
				t.Fatalf("ParseAuthorization(%q) = bearer %q", values, secret)
			}
		default:
			t.Fatalf("ParseAuthorization(%q) = scheme %d without a problem", values, scheme)
		}
	})
}
