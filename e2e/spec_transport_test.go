package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// newClient returns PagerDuty's official client, pointed at s and carrying
// key. When GATEHOUSE_TEST_PD_SPEC is set, every answer it receives is
// checked against PagerDuty's OpenAPI description of its operation, and a
// mismatch fails t: so the whole compatibility suite is a schema test too.
func newClient(t *testing.T, s *server, key string) *pagerduty.Client {
	t.Helper()
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if os.Getenv("GATEHOUSE_TEST_PD_SPEC") != "" {
		httpClient.Transport = &checkingTransport{t: t, router: specRouter(t, s)}
	}
	c := pagerduty.NewClient(key, pagerduty.WithAPIEndpoint(s.URL))
	c.HTTPClient = httpClient
	return c
}

// routersByServer holds one router per test server, built once.
var routersByServer sync.Map // *server → routers.Router

func specRouter(t *testing.T, s *server) routers.Router {
	t.Helper()
	if r, ok := routersByServer.Load(s); ok {
		return r.(routers.Router)
	}
	r := newSpecClient(t, loadSpec(t), s).router
	routersByServer.Store(s, r)
	return r
}

// checkingTransport sends each request and checks the answer against the
// description of the request's operation.
type checkingTransport struct {
	t      *testing.T
	router routers.Router
}

// unlisted are operations Gatehouse serves that PagerDuty's description
// does not list; their answers are checked only for PagerDuty's error shape.
var unlisted = map[string]string{
	"DELETE /services/{id}/integrations/{integration_id}": "PagerDuty serves it and its Terraform provider calls it",
}

// disagreements are answers where Gatehouse follows PagerDuty's service,
// not its description: the operation and status, and why.
var disagreements = map[string]string{
	"GET /users/me 400":     `DESIGN §4: an account-level key gets {"error": "<string>"}, as PagerDuty answers; the description's ArgumentError has error as an object`,
	"GET /vendors/{id} 200": `the description has {"vendor": [Vendor]}; PagerDuty answers {"vendor": Vendor}, which go-pagerduty and the Terraform provider decode`,
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := c.t
	t.Helper()
	route, pathParams, findErr := c.router.FindRoute(req)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if findErr != nil {
		if !errors.Is(findErr, routers.ErrPathNotFound) && !errors.Is(findErr, routers.ErrMethodNotAllowed) {
			t.Errorf("%s %s: %v", req.Method, req.URL.Path, findErr)
		}
		checkErrorShape(t, req, resp.StatusCode, body)
		return resp, nil
	}
	if why, ok := disagreements[req.Method+" "+route.Path+" "+strconv.Itoa(resp.StatusCode)]; ok {
		t.Logf("%s %s → %d not checked against PagerDuty's description: %s", req.Method, req.URL.Path, resp.StatusCode, why)
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: validationOptions},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                validationOptions,
	}
	if _, listed := route.Operation.Responses.Map()[http.StatusText(resp.StatusCode)]; !listed && route.Operation.Responses.Status(resp.StatusCode) == nil && resp.StatusCode >= 400 {
		// An error status the operation does not list (many list no 404 or
		// 429): PagerDuty's error shape is what clients read.
		checkErrorShape(t, req, resp.StatusCode, body)
		return resp, nil
	}
	checked := body
	if len(req.URL.Query()["include[]"]) > 0 {
		checked = referenceExpansions(body)
	}
	in.SetBodyBytes(checked)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		t.Errorf("%s %s → %d %s\n%s\ndoes not conform to PagerDuty's description of %s:\n%v",
			req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), body, route.Operation.OperationID, err)
	}
	return resp, nil
}

// checkErrorShape fails t unless an error answer is PagerDuty's error
// object: {"error":{"message":…,"code":…}} as JSON.
func checkErrorShape(t *testing.T, req *http.Request, status int, body []byte) {
	t.Helper()
	if status < 400 {
		return
	}
	var e struct {
		Error *struct {
			Message *string `json:"message"`
			Code    *int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil || e.Error.Message == nil || e.Error.Code == nil {
		t.Errorf("%s %s → %d %s: not PagerDuty's error object", req.Method, req.URL.Path, status, body)
	}
}

// referenceExpansions turns back into references the objects that
// include[] expanded in a response, so that the rest of the response is
// checked against the description: PagerDuty answers include[] with whole
// objects where its description (and so kin-openapi) only knows references,
// and its clients read the whole objects. An expanded object is one nested
// in a response's main objects with an "id" and a "type" that is no
// "…_reference".
func referenceExpansions(body []byte) []byte {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return body
	}
	for key, v := range doc {
		switch main := v.(type) {
		case map[string]any:
			doc[key] = referenceFields(main)
		case []any:
			for i, item := range main {
				if obj, ok := item.(map[string]any); ok {
					main[i] = referenceFields(obj)
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// referenceFields replaces the expanded objects among obj's fields, at any
// depth, by references.
func referenceFields(obj map[string]any) map[string]any {
	for k, v := range obj {
		obj[k] = referenced(v)
	}
	return obj
}

func referenced(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = referenced(x[i])
		}
	case map[string]any:
		id, hasID := x["id"].(string)
		typ, hasType := x["type"].(string)
		if hasID && hasType && !strings.HasSuffix(typ, "_reference") {
			ref := map[string]any{"id": id, "type": typ + "_reference"}
			for _, k := range []string{"summary", "self", "html_url"} {
				if v, ok := x[k]; ok {
					ref[k] = v
				}
			}
			return ref
		}
		return referenceFields(x)
	}
	return v
}
