package access

import "strings"

// Scheme is the kind of credential an Authorization header carries.
type Scheme uint8

// The schemes of the REST API.
const (
	// SchemeToken is "Token token=<20-character REST API key>".
	SchemeToken Scheme = iota + 1
	// SchemeBearer is "Bearer <OAuth access token>".
	SchemeBearer
)

// HeaderProblem says why an Authorization header was refused.
type HeaderProblem string

// The ways an Authorization header can be wrong.
const (
	ProblemMissing   HeaderProblem = "The Authorization header is missing"
	ProblemRepeated  HeaderProblem = "The Authorization header must be given once"
	ProblemMalformed HeaderProblem = `The Authorization header must be "Token token=<API key>" or "Bearer <OAuth token>"`
	ProblemKeyShape  HeaderProblem = "A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -"
	ProblemEmpty     HeaderProblem = "The Authorization header carries no credential"
)

// ParseAuthorization reads the values of a request's Authorization header
// and returns the scheme and the credential, a substring of the header (no
// allocation). The scheme names are matched exactly, as PagerDuty does:
// "token token=…" and "Token <key>" without "token=" are refused. The key of
// a Token header may be quoted. A key that is not 20 key characters — such as
// a 32-character Events API integration key — is refused here, before any
// lookup.
func ParseAuthorization(values []string) (Scheme, string, HeaderProblem) {
	switch len(values) {
	case 0:
		return 0, "", ProblemMissing
	case 1:
	default:
		return 0, "", ProblemRepeated
	}
	h := values[0]
	if rest, ok := strings.CutPrefix(h, "Token "); ok {
		rest = strings.TrimLeft(rest, " ")
		key, ok := strings.CutPrefix(rest, "token=")
		if !ok {
			return 0, "", ProblemMalformed
		}
		key = strings.TrimRight(key, " ")
		if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
			key = key[1 : len(key)-1]
		}
		if key == "" {
			return 0, "", ProblemEmpty
		}
		if !ValidKeyChars(key) {
			return 0, "", ProblemKeyShape
		}
		return SchemeToken, key, ""
	}
	if token, ok := strings.CutPrefix(h, "Bearer "); ok {
		token = strings.Trim(token, " ")
		if token == "" {
			return 0, "", ProblemEmpty
		}
		return SchemeBearer, token, ""
	}
	if strings.TrimSpace(h) == "" {
		return 0, "", ProblemMissing
	}
	return 0, "", ProblemMalformed
}
