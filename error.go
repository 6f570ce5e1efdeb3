package gatehouse

import (
	"errors"
	"fmt"
	"strings"
)

// PagerDuty's error codes, as the REST API returns them in error.code.
const (
	CodeInternal          = 2000 // Internal Error
	CodeInvalidInput      = 2001 // Invalid Input Provided
	CodeUnauthorized      = 2006 // Authentication failed
	CodeForbidden         = 2010 // Access Denied
	CodeAbilityMissing    = 2014 // The requested action is not available on the account's plan
	CodeFromHeaderMissing = 2016 // Requester user (From header) missing
	CodeRateLimited       = 2020 // Rate limit exceeded
	CodeNotFound          = 2100 // Not Found

	// Gatehouse's own codes, for answers PagerDuty documents no code for.

	// CodeConflict is a write that lost a race with another writer more
	// times than the store retries it (HTTP 409): the client may try again.
	CodeConflict = 2900
	// CodeUnavailable is a store that could not answer in time or at all
	// (HTTP 503, with Retry-After): nothing the client did.
	CodeUnavailable = 2901
	// CodeTooLarge is a request that asks too much at once, such as more
	// than MaxBulkUpdate incidents (HTTP 413).
	CodeTooLarge = 2902
)

// Error is the one error type of Gatehouse: a PagerDuty code, a message meant
// for the client, and one line per problem with the input.
type Error struct {
	Code    int
	Message string
	Errors  []string
}

// Error returns the message followed by the problems, if any.
func (e *Error) Error() string {
	if len(e.Errors) == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s: %v", e.Message, e.Errors)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidInput returns a 2001 error listing each problem.
func InvalidInput(problems ...string) *Error {
	return &Error{Code: CodeInvalidInput, Message: "Invalid Input Provided", Errors: problems}
}

// NotFound returns a 2100 error naming what was not found.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: "Not Found", Errors: []string{what + " not found"}}
}

// ErrorCode returns the code of err if it is or wraps an *Error, and
// CodeInternal otherwise.
func ErrorCode(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

// notOneOf is the 2001 error for a value outside a fixed list, naming the
// list.
func notOneOf[T ~string](field, value string, valid []T) *Error {
	names := make([]string, len(valid))
	for i, v := range valid {
		names[i] = string(v)
	}
	return InvalidInput(fmt.Sprintf("%s %q is not one of %s", field, value, strings.Join(names, ", ")))
}
