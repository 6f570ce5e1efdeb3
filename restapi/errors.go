package restapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gatehouse-dev/gatehouse"
)

// statusOf maps each PagerDuty error code to its HTTP status: the one table
// where codes become statuses.
var statusOf = map[int]int{
	gatehouse.CodeInternal:          http.StatusInternalServerError,
	gatehouse.CodeInvalidInput:      http.StatusBadRequest,
	gatehouse.CodeFromHeaderMissing: http.StatusBadRequest,
	gatehouse.CodeUnauthorized:      http.StatusUnauthorized,
	gatehouse.CodeAbilityMissing:    http.StatusPaymentRequired,
	gatehouse.CodeForbidden:         http.StatusForbidden,
	gatehouse.CodeRateLimited:       http.StatusTooManyRequests,
	gatehouse.CodeNotFound:          http.StatusNotFound,
	gatehouse.CodeConflict:          http.StatusConflict,
	gatehouse.CodeUnavailable:       http.StatusServiceUnavailable,
	gatehouse.CodeTooLarge:          http.StatusRequestEntityTooLarge,
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string   `json:"message"`
	Code    int      `json:"code"`
	Errors  []string `json:"errors,omitempty"`
}

// writeError answers with e as PagerDuty's error body.
func writeError(w http.ResponseWriter, e *gatehouse.Error) {
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{errorObject{Message: e.Message, Code: e.Code, Errors: e.Errors}})
}

// writeJSON answers with v as JSON, leaving < > & as they are, as PagerDuty
// does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer jsonBuffers.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	body := []byte(`{"error":{"message":"Internal Error","code":2000}}`)
	var err error
	if l, ok := v.(list); ok {
		err = l.encode(buf)
	} else {
		err = enc.Encode(v)
	}
	if err != nil {
		status = http.StatusInternalServerError
	} else {
		body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// rawJSON is a body already encoded, written as it is. Handlers return a
// pointer to it, which an interface holds without an allocation.
type rawJSON struct{ b []byte }

var (
	jsonBuffers     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	jsonContentType = []string{"application/json"}
)

var (
	errNotFound     = &gatehouse.Error{Code: gatehouse.CodeNotFound, Message: "Not Found"}
	errInternal     = &gatehouse.Error{Code: gatehouse.CodeInternal, Message: "Internal Error"}
	errRateLimited  = &gatehouse.Error{Code: gatehouse.CodeRateLimited, Message: "Rate Limit Exceeded"}
	errBearerNotYet = unauthorized("OAuth access tokens are not accepted by this server yet; use a REST API key")
	errUnknownKey   = unauthorized("The API key is unknown, disabled or deleted")
	// errClientGone answers a request whose client hung up: 400, as nginx's
	// 499 is no HTTP status, though the client will not read it.
	errClientGone = gatehouse.Errorf(gatehouse.CodeInvalidInput, "The client closed the request")
)

// unauthorized is a 401 (code 2006) error explaining what was wrong.
func unauthorized(why string) *gatehouse.Error {
	return &gatehouse.Error{Code: gatehouse.CodeUnauthorized, Message: "Authentication failed", Errors: []string{why}}
}
