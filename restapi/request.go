package restapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/edge"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// request is what a route's handler is given: the HTTP request, who makes
// it, and what the handler needs to answer.
type request struct {
	http      *http.Request
	ctx       context.Context
	principal *access.Principal
	// externalURL is the server's URL as clients reach it, for links.
	externalURL string
	store       Store
	// sc is the account's store as the principal sees it; see scope.
	sc *sqlstore.Scope
	// from is the user an account-level credential names in the From
	// header; nil when it names none (see checkFrom).
	from *gatehouse.User
	// now is the server's clock.
	now func() time.Time
	// info is what the outer layer knows of the request, which the door
	// completes; own stands in for it when the door is served alone.
	info *edge.Info
	own  edge.Info
}

// requests are reused: a request lives only while its handler runs.
var requests = sync.Pool{New: func() any { return new(request) }}

// newRequest returns a request of the server for r, to give back with
// release once answered.
func (s *Server) newRequest(r *http.Request) *request {
	req := requests.Get().(*request)
	req.http, req.ctx, req.externalURL, req.store, req.now = r, r.Context(), s.cfg.ExternalURL, s.cfg.Store, s.cfg.Now
	if info, ok := edge.Lookup(req.ctx); ok {
		req.info = info
	} else {
		req.info = &req.own
	}
	return req
}

func (r *request) release() {
	*r = request{}
	requests.Put(r)
}

// scope returns the account's store as the request's principal sees it,
// naming the request in the audit records of its writes.
func (r *request) scope() *sqlstore.Scope {
	if r.sc == nil {
		r.sc = r.store.Scope(r.principal.Account.ID, actorOf(r.http, r.info, r.principal))
	}
	return r.sc
}

// actorOf is who makes r, as the audit trail names them.
func actorOf(r *http.Request, info *edge.Info, p *access.Principal) sqlstore.Actor {
	a := sqlstore.Actor{
		Principal: p,
		Method:    gatehouse.AuditMethod{Type: gatehouse.MethodAPIToken},
		RequestID: info.RequestID,
	}
	if info.ClientAddr.IsValid() {
		a.RemoteAddress = info.ClientAddr.String()
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		a.RemoteAddress = host // served without the outer layer
	}
	a.Method.TruncatedToken = info.Last4
	switch {
	case p.User != nil:
		a.Ref = gatehouse.UserActor(p.User)
	default:
		a.Ref = gatehouse.Actor{Type: "api_key_reference", ID: p.KeyID, Summary: "General access key …" + a.Method.TruncatedToken}
	}
	return a
}

// query returns the value of the query parameter name.
func (r *request) query(name string) string {
	return r.http.URL.Query().Get(name)
}

// maxBodyBytes caps a REST request's body. The outer layer caps it too; this
// holds when the door is served alone.
const maxBodyBytes = 1 << 20

// Classic pagination's limits: PagerDuty's.
const (
	defaultLimit = 25
	maxLimit     = 100
	maxOffset    = 10_000
)

// page parses limit, offset and total. A limit above 100 is lowered to
// 100, as PagerDuty does; offset+limit beyond 10 000 is a 2001 error.
func (r *request) page() (sqlstore.Page, error) {
	q := r.http.URL.Query()
	p := sqlstore.Page{Limit: defaultLimit}
	var problems []string
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			problems = append(problems, fmt.Sprintf("limit must be a positive integer, not %q", v))
		default:
			p.Limit = min(n, maxLimit)
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("offset must be a non-negative integer, not %q", v))
		} else {
			p.Offset = n
		}
	}
	if v := q.Get("total"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("total must be true or false, not %q", v))
		}
		p.Total = b
	}
	if len(problems) == 0 && p.Offset+p.Limit > maxOffset {
		problems = append(problems, fmt.Sprintf("Offset+limit must be at most %d; use filters to narrow the list", maxOffset))
	}
	if len(problems) > 0 {
		return sqlstore.Page{}, gatehouse.InvalidInput(problems...)
	}
	return p, nil
}

// list is a page of a classic-paginated list, written as
// {"<key>":[…],"limit":…,"offset":…,"more":…,"total":…}.
type list struct {
	key   string
	items any
	page  sqlstore.Page
	more  bool
	// total is written only when the page asked for it; null otherwise.
	total int
}

func (l list) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := l.encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encode writes the list as JSON to b. writeJSON calls it rather than
// MarshalJSON, which encoding/json would then scan and compact again: a
// page of 100 services is 140 kB.
func (l list) encode(b *bytes.Buffer) error {
	b.WriteString(`{`)
	b.WriteString(strconv.Quote(l.key))
	b.WriteString(`:`)
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l.items); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	fmt.Fprintf(b, `,"limit":%d,"offset":%d,"more":%t,"total":`, l.page.Limit, l.page.Offset, l.more)
	if l.page.Total {
		b.WriteString(strconv.Itoa(l.total))
	} else {
		b.WriteString("null")
	}
	b.WriteString(`}`)
	return nil
}

// values returns the values of an array query parameter, which clients
// send as name[] (PagerDuty's form) or name.
func (r *request) values(name string) []string {
	q := r.http.URL.Query()
	return append(q[name+"[]"], q[name]...)
}

// includes returns the include[] values of the request: those the handler
// knows are expanded, the others ignored, as clients send more than the
// spec lists.
func (r *request) includes() map[string]bool {
	vs := r.values("include")
	if len(vs) == 0 {
		return nil
	}
	set := make(map[string]bool, len(vs))
	for _, v := range vs {
		set[v] = true
	}
	return set
}

// decode reads a wrapped body, {"<wrapper>": {…}}, into a new T. Fields of T
// are decoded one by one, so that every field of the wrong type is a line of
// the 2001 error; fields T does not have (unknown or read-only) are ignored.
// A body without the wrapper is the object itself, as go-pagerduty sends
// teams and integrations and PagerDuty takes them.
func decode[T any](r *request, wrapper string) (*T, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	outer, err := bodyObject(body)
	if err != nil {
		return nil, err
	}
	raw, ok := outer[wrapper]
	switch {
	case !ok && !hasFieldOf[T](outer):
		// A misspelt wrapper would otherwise be a change of nothing.
		return nil, gatehouse.InvalidInput(fmt.Sprintf(`The request body must be {"%s": {…}} or the %s's fields themselves; it has neither`, wrapper, strings.ReplaceAll(wrapper, "_", " ")))
	case !ok:
		return decodeInto[T]("body", body)
	case string(raw) == "null":
		return nil, gatehouse.InvalidInput(fmt.Sprintf("%s must be an object, not null", wrapper))
	}
	return decodeInto[T](wrapper, raw)
}

// decodeBare reads a body that is the object itself, such as {"role": …},
// into a new T, as decode does.
func decodeBare[T any](r *request) (*T, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if _, err := bodyObject(body); err != nil {
		return nil, err
	}
	return decodeInto[T]("body", body)
}

// bodyObject parses body, which must be a JSON object.
func bodyObject(body []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, gatehouse.InvalidInput(malformed(body, err))
	}
	if obj == nil {
		return nil, gatehouse.InvalidInput("The request body must be a JSON object, not null")
	}
	return obj, nil
}

// hasFieldOf reports whether obj has a field of the struct T.
func hasFieldOf[T any](obj map[string]json.RawMessage) bool {
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if _, ok := obj[name]; ok && name != "" && name != "-" {
			return true
		}
	}
	return false
}

func decodeInto[T any](path string, raw json.RawMessage) (*T, error) {
	v := new(T)
	if problems := decodeFields(path, raw, reflect.ValueOf(v).Elem()); len(problems) > 0 {
		return nil, gatehouse.InvalidInput(problems...)
	}
	return v, nil
}

// readBody reads the request's body, up to maxBodyBytes, which must be
// UTF-8.
func readBody(r *request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.http.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, gatehouse.InvalidInput(fmt.Sprintf("The request body must be at most %d bytes", maxBodyBytes))
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, gatehouse.InvalidInput("The request body ended before its Content-Length")
		}
		if edge.TimedOut(err) {
			return nil, gatehouse.InvalidInput("The request body did not arrive in time")
		}
		return nil, gatehouse.InvalidInput("The request body could not be read")
	}
	if !utf8.Valid(body) {
		// JSON would keep it as U+FFFD, storing what was not sent.
		return nil, gatehouse.InvalidInput("The request body is not valid UTF-8")
	}
	return body, nil
}

// malformed says why a body is not a JSON object.
func malformed(body []byte, err error) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "The request body is empty; it must be a JSON object"
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return "The request body must be a JSON object"
	}
	return "The request body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// decodeFields decodes the JSON object raw into the struct v field by field
// and returns a line for each field that does not fit, named path.field.
func decodeFields(path string, raw json.RawMessage, v reflect.Value) []string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return []string{fmt.Sprintf("%s must be an object", path)}
	}
	var problems []string
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fieldRaw, ok := obj[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(fieldRaw, v.Field(i).Addr().Interface()); err != nil {
			problems = append(problems, fieldProblem(path+"."+name, err))
		}
	}
	return problems
}

// fieldProblem says what is wrong with the value of the field at path.
func fieldProblem(path string, err error) string {
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.Field != "" {
			path += "." + e.Field
		}
		return fmt.Sprintf("%s must be %s, not %s", path, jsonKind(e.Type), article(e.Value))
	}
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && len(e.Errors) > 0 {
		return path + ": " + e.Errors[0]
	}
	return fmt.Sprintf("%s is invalid: %s", path, strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON kind a Go type is decoded from, with its article.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// article puts "a" or "an" before a JSON kind as encoding/json names it
// ("string", "number 1.5", "object", "array", "bool").
func article(value string) string {
	if value == "" {
		return "that"
	}
	if strings.ContainsRune("aeiou", rune(value[0])) {
		return "an " + value
	}
	return "a " + value
}

// opt is a field of a request body that may be absent, null or a value, three
// different things on PUT: absent keeps what is there, null clears it.
type opt[T any] struct {
	Set   bool // the field was in the body
	Null  bool // it was null
	Value T
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}
