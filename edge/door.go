package edge

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse"
)

// Door is one door of the server as the edge sees it: mount it on the
// ServeMux the Edge wraps under each of the door's paths, and it tags the
// request with its name, caps its body and answers the edge's own errors
// (a panic, a path not served yet) in the door's shape.
type Door struct {
	// Name is the door's name in Info, the access log and the metrics:
	// "rest", "events", "oauth", "web" or "ops".
	Name string
	// Handler is the door itself.
	Handler http.Handler
	// MaxBody caps the request body, in bytes; 0 leaves it unlimited. A
	// door that reads past it gets an error for which
	// errors.As(err, new(*http.MaxBytesError)) holds, and decides how to
	// answer; the connection is closed after the answer.
	MaxBody int64
	// Error writes an error answer in the door's shape, such as RESTError.
	Error func(w http.ResponseWriter, status int, message string)
}

// ServeHTTP serves a request of the door.
func (d *Door) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rq, ok := r.Context().Value(requestKey{}).(*request); ok {
		rq.info.Door = d.Name
		rq.door = d
		if rq.hasBody && d.MaxBody > 0 {
			// net/http's writer, not ours: MaxBytesReader tells it to close
			// the connection once the limit is hit.
			rq.body.r = http.MaxBytesReader(rq.w, rq.body.r, d.MaxBody)
		}
	} else if d.MaxBody > 0 && r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, d.MaxBody)
	}
	d.Handler.ServeHTTP(w, r)
}

// NotServed answers 404 in the shape of the request's door, for the paths a
// door claims before it serves them.
var NotServed http.Handler = http.HandlerFunc(notServed)

func notServed(w http.ResponseWriter, r *http.Request) {
	rq, ok := r.Context().Value(requestKey{}).(*request)
	if !ok || rq.door == nil {
		PlainError(w, http.StatusNotFound, "Not Found")
		return
	}
	rq.door.Error(w, http.StatusNotFound, "Not Found")
}

// RESTError writes PagerDuty's REST API error body,
// {"error":{"message":…,"code":…}}, with the code of status.
func RESTError(w http.ResponseWriter, status int, message string) {
	code, ok := restCodeOf[status]
	if !ok {
		code = gatehouse.CodeInternal
	}
	writeJSON(w, status, restErrorBody{restErrorObject{Message: message, Code: code}})
}

type restErrorBody struct {
	Error restErrorObject `json:"error"`
}

type restErrorObject struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// restCodeOf is the PagerDuty error code of each status the edge may
// answer.
var restCodeOf = map[int]int{
	http.StatusBadRequest:            gatehouse.CodeInvalidInput,
	http.StatusUnauthorized:          gatehouse.CodeUnauthorized,
	http.StatusPaymentRequired:       gatehouse.CodeAbilityMissing,
	http.StatusForbidden:             gatehouse.CodeForbidden,
	http.StatusNotFound:              gatehouse.CodeNotFound,
	http.StatusConflict:              gatehouse.CodeConflict,
	http.StatusRequestEntityTooLarge: gatehouse.CodeInvalidInput,
	http.StatusTooManyRequests:       gatehouse.CodeRateLimited,
	http.StatusServiceUnavailable:    gatehouse.CodeUnavailable,
}

// EventsError writes the Events API's error body,
// {"status":…,"message":…,"errors":[…]}.
func EventsError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, eventsErrorBody{
		Status:  strings.ToLower(http.StatusText(status)),
		Message: message,
		Errors:  []string{message},
	})
}

type eventsErrorBody struct {
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
}

// OAuthError writes an RFC 6749 error body, {"error":…,"error_description":…}.
func OAuthError(w http.ResponseWriter, status int, message string) {
	code := "invalid_request"
	if status >= 500 {
		code = "server_error"
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": message})
}

// PlainError writes message as plain text, for the operations endpoints and
// the web app.
func PlainError(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(message + "\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"Internal Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
