package restapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// FuzzFrontDoor sends whatever request the fuzzer makes up through the whole
// REST door, with a real store behind it, and checks what any client may
// rely on: no panic, no 500, a status of PagerDuty's REST API, and a JSON
// body of PagerDuty's error shape for every error.
func FuzzFrontDoor(f *testing.F) {
	s := storetest.OpenSQLite(f)
	a, _ := storetest.MustCreateAccount(f, s, "acme", gatehouse.PlanBusiness)
	key, _ := mustKey(f, s, a, nil, false)
	readOnly, _ := mustKey(f, s, a, nil, true)
	srv := New(Config{Store: s, ExternalURL: "http://gatehouse.test"})
	srv.keys.TrustUntil(time.Unix(0, 1<<62)) // the feed counts as current

	for _, seed := range []struct{ method, path, auth, body string }{
		{"GET", "/abilities", "Token token=" + key, ""},
		{"HEAD", "/abilities/teams", "Token token=" + readOnly, ""},
		{"POST", "/teams", "Token token=" + key, `{"team":{"name":"Ops"}}`},
		{"PUT", "/teams/PNOPE00", "Token token=" + key, `{"team":{"name":1}}`},
		{"POST", "/teams", "Token token=" + readOnly, `{"team":{}}`},
		{"GET", "/teams?limit=-1&offset=x&total=maybe", "Token token=" + key, ""},
		{"DELETE", "/teams/x/users/y", "Token token=" + key, "not json"},
		{"GET", "/audit/records?since=x&cursor=%%", "Token token=" + key, ""},
		{"GET", "//abilities", "", ""},
		{"PATCH", "/users/me", "Bearer abc", "{}"},
	} {
		f.Add(seed.method, seed.path, seed.auth, seed.body)
	}
	statuses := map[int]bool{200: true, 201: true, 204: true, 400: true, 401: true, 402: true, 403: true, 404: true, 409: true, 429: true}
	f.Fuzz(func(t *testing.T, method, path, auth, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") || strings.ContainsAny(auth, "\r\n") {
			return // no HTTP client could send it: net/http refuses it before any handler
		}
		req := httptest.NewRequest("GET", "/", strings.NewReader(body))
		req.Method = method
		u, err := req.URL.Parse(path)
		if err != nil {
			return
		}
		req.URL, req.RequestURI = u, path
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if !statuses[w.Code] {
			t.Fatalf("%s %q with %q → %d %s", method, path, auth, w.Code, w.Body)
		}
		if w.Code < 400 {
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %q → %d with Content-Type %q", method, path, w.Code, ct)
		}
		var e struct {
			Error *struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			if path == "/users/me" && w.Code == http.StatusBadRequest {
				return // PagerDuty's bare-string answer to an account-level key
			}
			t.Fatalf("%s %q → %d %s: %v", method, path, w.Code, w.Body, err)
		}
		if e.Error == nil || e.Error.Message == "" || e.Error.Code < 2000 {
			t.Fatalf("%s %q → %d %s: not PagerDuty's error shape", method, path, w.Code, w.Body)
		}
	})
}

// validMethod reports whether m is an HTTP token, as net/http requires of a
// method.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}
