package eventsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/eventsapi"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// testServer is the Events API over real HTTP, on a fresh SQLite store with
// one account and one service whose integration key is svc.IntegrationKey.
type testServer struct {
	url     string
	cfg     sqlstore.Config
	store   *sqlstore.Store
	account *gatehouse.Account
	owner   *gatehouse.User
	svc     *storetest.Service
}

type serverOptions struct {
	rateLimit int
	limiter   ratelimit.Limiter
	writer    eventsapi.EventWriter
	logger    *slog.Logger
}

func newTestServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	cfg := storetest.Config(t, "sqlite")
	ts := &testServer{cfg: cfg, store: storetest.Open(t, cfg)}
	ts.account, ts.owner = storetest.MustCreateAccount(t, ts.store, "acme", gatehouse.PlanBusiness)
	ts.svc = storetest.MustCreateService(t, cfg, ts.account.ID, "Checkout", storetest.ServiceOptions{Targets: []*gatehouse.User{ts.owner}})
	if opts.writer == nil {
		w := eventsapi.NewWriter(eventsapi.WriterConfig{Store: ts.store})
		go w.Run()
		t.Cleanup(w.Stop)
		opts.writer = w
	}
	if opts.limiter == nil {
		opts.limiter = ratelimit.NewMemory()
	}
	// Routing keys are cached as the server caches them, following the
	// change feed.
	routes := eventsapi.NewRouteCache(ts.store, 1000, nil)
	feed := authn.NewFeed(authn.FeedConfig{Store: ts.store, Poll: 20 * time.Millisecond})
	feed.Follow(routes.Follower())
	ts.store.OnChange(feed.Apply)
	ctx, cancel := context.WithCancel(context.Background())
	fed := make(chan struct{})
	go func() { feed.Run(ctx); close(fed) }()
	t.Cleanup(func() { cancel(); <-fed })
	<-feed.Ready()
	h := eventsapi.New(eventsapi.Config{
		Routes:    routes,
		Writer:    opts.writer,
		Limiter:   opts.limiter,
		RateLimit: opts.rateLimit,
		Logger:    opts.logger,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

type response struct {
	status int
	header http.Header
	body   string
}

func (ts *testServer) post(t *testing.T, path, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s: Content-Type %q, want application/json", path, ct)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// fixture returns a body from testdata with the routing key put in.
func fixture(t *testing.T, name, routingKey string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "ROUTING_KEY", routingKey)
}

func (ts *testServer) applyAll(t *testing.T) {
	t.Helper()
	for {
		n, err := ts.store.ApplyEvents(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (ts *testServer) incidents(t *testing.T) []*gatehouse.Incident {
	t.Helper()
	ts.applyAll(t)
	list, err := ts.store.Scope(ts.account.ID, sqlstore.CLI(ts.account)).Incidents(context.Background(), sqlstore.IncidentQuery{Page: sqlstore.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (ts *testServer) eventCount(t *testing.T) int64 {
	t.Helper()
	st, err := ts.store.EventLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Last
}

func wantResponse(t *testing.T, got response, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("answer = %d %s\nwant     %d %s", got.status, got.body, status, body)
	}
}

const alertmanagerDedupKey = "b6a2e0b3f1c94a6e8d7f00112233445566778899aabbccddeeff001122334455"

func TestAlertmanagerV2(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	got := ts.post(t, eventsapi.PathV2, fixture(t, "alertmanager-v2-trigger.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"`+alertmanagerDedupKey+`"}`)
	incs := ts.incidents(t)
	if len(incs) != 1 || incs[0].Status != gatehouse.IncidentTriggered || incs[0].IncidentKey != alertmanagerDedupKey ||
		incs[0].Title != "[FIRING:1] HighLatency (api prod critical)" {
		t.Fatalf("incidents after Alertmanager's trigger = %+v", incs)
	}
	alerts, err := ts.store.Scope(ts.account.ID, sqlstore.CLI(ts.account)).IncidentAlerts(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var det map[string]string
	if err := json.Unmarshal(alerts[0].Body.Details, &det); err != nil || det["num_firing"] != "1" || !strings.Contains(det["firing"], "&g0.tab=1") {
		t.Errorf("alert details = %s (%v), want Alertmanager's custom details", alerts[0].Body.Details, err)
	}
	got = ts.post(t, eventsapi.PathV2, fixture(t, "alertmanager-v2-resolve.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"`+alertmanagerDedupKey+`"}`)
	if incs := ts.incidents(t); len(incs) != 1 || incs[0].Status != gatehouse.IncidentResolved {
		t.Errorf("incidents after Alertmanager's resolve = %+v, want the one resolved", incs)
	}
}

func TestAlertmanagerV1(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	got := ts.post(t, eventsapi.PathV1, fixture(t, "alertmanager-v1-trigger.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusOK, `{"status":"success","message":"Event processed","incident_key":"`+alertmanagerDedupKey+`"}`)
	incs := ts.incidents(t)
	if len(incs) != 1 || incs[0].Status != gatehouse.IncidentTriggered || incs[0].IncidentKey != alertmanagerDedupKey {
		t.Fatalf("incidents after Alertmanager's v1 trigger = %+v", incs)
	}
	got = ts.post(t, eventsapi.PathV1, fixture(t, "alertmanager-v1-resolve.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusOK, `{"status":"success","message":"Event processed","incident_key":"`+alertmanagerDedupKey+`"}`)
	if incs := ts.incidents(t); len(incs) != 1 || incs[0].Status != gatehouse.IncidentResolved {
		t.Errorf("incidents after Alertmanager's v1 resolve = %+v, want the one resolved", incs)
	}
}

func TestGrafanaV2(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	const key = "6e3538104c14b583da237e9693b76debbc17f0f8058ef20492e5853096cf8733"
	got := ts.post(t, eventsapi.PathV2, fixture(t, "grafana-v2-trigger.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"`+key+`"}`)
	incs := ts.incidents(t)
	if len(incs) != 1 || incs[0].Title != "[FIRING:1]  (val1)" || incs[0].Urgency != gatehouse.UrgencyHigh {
		t.Fatalf("incidents after Grafana's trigger = %+v", incs)
	}
	got = ts.post(t, eventsapi.PathV2, fixture(t, "grafana-v2-resolve.json", ts.svc.IntegrationKey))
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"`+key+`"}`)
	if incs := ts.incidents(t); len(incs) != 1 || incs[0].Status != gatehouse.IncidentResolved {
		t.Errorf("incidents after Grafana's resolve = %+v, want the one resolved", incs)
	}
}

var dedupKeyAnswer = regexp.MustCompile(`^\{"status":"success","message":"Event processed","dedup_key":"([0-9a-f]{32})"\}$`)

func TestTriggerWithoutDedupKey(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	// Fields PagerDuty added since, or a client's own, are ignored.
	body := `{"routing_key":"` + ts.svc.IntegrationKey + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","extra":[1]},"x":{"y":null}}`
	got := ts.post(t, eventsapi.PathV2, body)
	m := dedupKeyAnswer.FindStringSubmatch(got.body)
	if got.status != http.StatusAccepted || m == nil {
		t.Fatalf("answer = %d %s, want 202 with a generated 32-character dedup key", got.status, got.body)
	}
	got = ts.post(t, eventsapi.PathV2, `{"routing_key":"`+ts.svc.IntegrationKey+`","event_action":"acknowledge","dedup_key":"`+m[1]+`"}`)
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"`+m[1]+`"}`)
	if incs := ts.incidents(t); len(incs) != 1 || incs[0].Status != gatehouse.IncidentAcknowledged || incs[0].IncidentKey != m[1] {
		t.Errorf("incidents = %+v, want one acknowledged with the generated key", incs)
	}
}

func TestChangeEvent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	body := `{"routing_key":"` + ts.svc.IntegrationKey + `","payload":{"summary":"Build Success: Increase snapshot create timeout to 30 seconds",` +
		`"timestamp":"2015-07-17T08:42:58.315+0000","source":"prod-build-agent-i-0b148d1040d565540","custom_details":{"build_state":"passed","build_number":"220"}},` +
		`"links":[{"href":"https://buildpipeline.com/pagerduty/deployment/builds/220","text":"View in Build Pipeline"}]}`
	got := ts.post(t, eventsapi.PathChange, body)
	wantResponse(t, got, http.StatusAccepted, `{"status":"success","message":"Change event processed"}`)
	ts.applyAll(t)
	list, err := ts.store.Scope(ts.account.ID, sqlstore.CLI(ts.account)).ChangeEvents(context.Background(), sqlstore.ChangeEventQuery{Page: sqlstore.Page{Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)
	if len(list.Items) != 1 || list.Items[0].ServiceID != ts.svc.ID || !list.Items[0].Timestamp.Equal(want) ||
		list.Items[0].Links[0].Text != "View in Build Pipeline" || string(list.Items[0].CustomDetails) != `{"build_state":"passed","build_number":"220"}` {
		t.Errorf("change events = %+v", list.Items)
	}
	if n := len(ts.incidents(t)); n != 0 {
		t.Errorf("a change event opened %d incidents, want none", n)
	}
}

// The routing keys of the tests of refusals: each is tried as a routing
// key of every door.
const (
	restKey        = "u+Ab3dEf6hIj9lMn_pQr"                  // a 20-character REST key
	oauthToken     = "pdus+_0XBPWQQ_c2a6f8e1-4e5d-4c8b-9f0a" // an OAuth access token's form
	orchestration  = "R0ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"      // an event orchestration's routing key
	unknownKey     = "0123456789abcdef0123456789abcdef"
	thirtyTwoDash  = "0123456789abcdef-123456789abcdef"
	routingKeyLine = "Length of 'routing_key' is incorrect (should be 32 characters)"
	alnumLine      = "'routing_key' cannot contain non-alphanumeric characters."
)

func invalidBody(lines ...string) string {
	b, _ := json.Marshal(lines)
	return `{"status":"invalid event","message":"Event object is invalid","errors":` + string(b) + `}`
}

func TestV2Refusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	disabled := storetest.MustCreateService(t, ts.cfg, ts.account.ID, "Disabled", storetest.ServiceOptions{})
	storetest.MustSetServiceStatus(t, ts.cfg, disabled.ID, "disabled")
	deleted := storetest.MustCreateService(t, ts.cfg, ts.account.ID, "Deleted", storetest.ServiceOptions{})
	storetest.MustDeleteIntegration(t, ts.cfg, deleted.IntegrationID)
	key := ts.svc.IntegrationKey
	trigger := func(routingKey, payload string) string {
		return `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"k","payload":` + payload + `}`
	}
	const payload = `{"summary":"s","source":"h","severity":"critical"}`
	unrecognized := `{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}`
	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"routing_key":`, unrecognized},
		{"not an object", `[{"routing_key":"` + key + `"}]`, unrecognized},
		{"empty body", ``, unrecognized},
		{"a REST API key", trigger(restKey, payload), invalidBody(routingKeyLine, alnumLine)},
		{"an OAuth token", trigger(oauthToken, payload), invalidBody(routingKeyLine, alnumLine)},
		{"an event orchestration's key", trigger(orchestration, payload), invalidBody("Invalid routing key")},
		{"an unknown key", trigger(unknownKey, payload), invalidBody("Invalid routing key")},
		{"a disabled service's key", trigger(disabled.IntegrationKey, payload), invalidBody("Invalid routing key")},
		{"a deleted integration's key", trigger(deleted.IntegrationKey, payload), invalidBody("Invalid routing key")},
		{"a key with a dash", trigger(thirtyTwoDash, payload), invalidBody(alnumLine)},
		{"a short hex key", trigger(key[:31], payload), invalidBody(routingKeyLine)},
		{"no routing key", `{"event_action":"trigger","payload":` + payload + `}`, invalidBody("'routing_key' is missing or blank")},
		{"a routing key that is a number", `{"routing_key":12,"event_action":"resolve","dedup_key":"k"}`,
			invalidBody("'routing_key' is missing or blank", "'routing_key' must be a string")},
		{"no event action", `{"routing_key":"` + key + `","dedup_key":"k"}`, invalidBody("'event_action' is missing or blank")},
		{"an unknown event action", `{"routing_key":"` + key + `","event_action":"snooze","dedup_key":"k"}`,
			invalidBody("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")},
		{"a resolve without dedup key", `{"routing_key":"` + key + `","event_action":"resolve"}`, invalidBody("'dedup_key' is missing or blank")},
		{"an acknowledge without dedup key", `{"routing_key":"` + key + `","event_action":"acknowledge","dedup_key":""}`, invalidBody("'dedup_key' is missing or blank")},
		{"a dedup key of 256 characters", `{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"` + strings.Repeat("k", 256) + `"}`,
			invalidBody("'dedup_key' is too long (maximum is 255 characters)")},
		{"a trigger without payload", `{"routing_key":"` + key + `","event_action":"trigger"}`,
			invalidBody("'payload.summary' is missing or blank", "'payload.source' is missing or blank", "'payload.severity' is missing or blank")},
		{"an unknown severity", trigger(key, `{"summary":"s","source":"h","severity":"fatal"}`),
			invalidBody("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")},
		{"a summary of 1025 characters", trigger(key, `{"summary":"`+strings.Repeat("s", 1025)+`","source":"h","severity":"info"}`),
			invalidBody("'payload.summary' is too long (maximum is 1024 characters)")},
		{"a summary that is a number", trigger(key, `{"summary":5,"source":"h","severity":"info"}`),
			invalidBody("'payload.summary' must be a string", "'payload.summary' is missing or blank")},
		{"links without href, images without src", `{"routing_key":"` + key + `","event_action":"trigger","payload":` + payload +
			`,"links":[{"text":"t"}],"images":[{"alt":"a"}]}`, invalidBody("'link href' is missing or blank", "'image src' is missing or blank")},
		{"a NUL character", trigger(key, `{"summary":"a\u0000b","source":"h","severity":"info"}`),
			invalidBody("'payload.summary' must not contain the NUL character")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResponse(t, ts.post(t, eventsapi.PathV2, tt.body), http.StatusBadRequest, tt.want)
		})
	}
	if n := ts.eventCount(t); n != 0 {
		t.Errorf("%d events in the log after refusals, want none", n)
	}
}

func TestV1Refusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	key := ts.svc.IntegrationKey
	trigger := func(serviceKey string) string {
		return `{"service_key":"` + serviceKey + `","event_type":"trigger","description":"d"}`
	}
	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"service_key"`, `{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}`},
		{"a REST API key", trigger(restKey), invalidBody("Service key is the wrong length (should be 32 characters)", "Service key must contain only letters and digits")},
		{"an OAuth token", trigger(oauthToken), invalidBody("Service key is the wrong length (should be 32 characters)", "Service key must contain only letters and digits")},
		{"an unknown key", trigger(unknownKey), invalidBody("Service key is invalid")},
		{"an event orchestration's key", trigger(orchestration), invalidBody("Service key is invalid")},
		{"no service key", `{"event_type":"trigger","description":"d"}`, invalidBody("Service key is missing or blank")},
		{"no description", `{"service_key":"` + key + `","event_type":"trigger"}`, invalidBody("Description is missing or blank")},
		{"no event type", `{"service_key":"` + key + `","description":"d"}`, invalidBody("Event type is missing or blank")},
		{"a resolve without incident key", `{"service_key":"` + key + `","event_type":"resolve"}`, invalidBody("Incident key is missing or blank")},
		{"a description of 1025 characters", `{"service_key":"` + key + `","event_type":"trigger","description":"` + strings.Repeat("d", 1025) + `"}`,
			invalidBody("Description is too long (maximum is 1024 characters)")},
		{"an unknown context", `{"service_key":"` + key + `","event_type":"trigger","description":"d","contexts":[{"type":"video"},{"type":"link"}]}`,
			invalidBody("Context type is invalid (must be one of the following: 'link' or 'image')", "Context href is missing or blank")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResponse(t, ts.post(t, eventsapi.PathV1, tt.body), http.StatusBadRequest, tt.want)
		})
	}
	if n := ts.eventCount(t); n != 0 {
		t.Errorf("%d events in the log after refusals, want none", n)
	}
}

func TestChangeEventRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	key := ts.svc.IntegrationKey
	links := strings.TrimSuffix(strings.Repeat(`{"href":"https://ci.example"},`, 51), ",")
	tests := []struct {
		name string
		body string
		want string
	}{
		{"a REST API key", `{"routing_key":"` + restKey + `","payload":{"summary":"s"}}`, invalidBody(routingKeyLine, alnumLine)},
		{"an event orchestration's key", `{"routing_key":"` + orchestration + `","payload":{"summary":"s"}}`, invalidBody("Invalid routing key")},
		{"no payload", `{"routing_key":"` + key + `"}`, invalidBody("'payload.summary' is missing or blank")},
		{"51 links", `{"routing_key":"` + key + `","payload":{"summary":"s"},"links":[` + links + `]}`, invalidBody("'links' has too many items (maximum is 50)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResponse(t, ts.post(t, eventsapi.PathChange, tt.body), http.StatusBadRequest, tt.want)
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	details := strings.Repeat("x", eventsapi.MaxBody)
	body := `{"routing_key":"` + ts.svc.IntegrationKey + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":{"x":"` + details + `"}}}`
	for _, path := range eventsapi.Paths {
		wantResponse(t, ts.post(t, path, body), http.StatusBadRequest, invalidBody("Event object is too large (the most is 512 KB)"))
	}
	// Just under the cap is taken.
	body = `{"routing_key":"` + ts.svc.IntegrationKey + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":{"x":"`
	body += strings.Repeat("x", eventsapi.MaxBody-len(body)-len(`"}}}`)) + `"}}}`
	if got := ts.post(t, eventsapi.PathV2, body); got.status != http.StatusAccepted {
		t.Errorf("an event of exactly %d bytes: %d %s, want 202", len(body), got.status, got.body)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	resp, err := http.Get(ts.url + eventsapi.PathV2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" ||
		string(b) != `{"status":"method not allowed","message":"Events are sent with POST"}` {
		t.Errorf("GET %s = %d %s (Allow %q), want 405", eventsapi.PathV2, resp.StatusCode, b, resp.Header.Get("Allow"))
	}
	wantResponse(t, ts.post(t, "/v2/enqueue/extra", `{}`), http.StatusNotFound, `{"status":"not found","message":"Not Found"}`)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{rateLimit: 2})
	other := storetest.MustCreateService(t, ts.cfg, ts.account.ID, "Other", storetest.ServiceOptions{})
	v2 := func(key, dedup string) string {
		return `{"routing_key":"` + key + `","event_action":"trigger","dedup_key":"` + dedup + `","payload":{"summary":"s","source":"h","severity":"info"}}`
	}
	for i := range 2 {
		if got := ts.post(t, eventsapi.PathV2, v2(ts.svc.IntegrationKey, fmt.Sprint(i))); got.status != http.StatusAccepted {
			t.Fatalf("event %d: %d %s, want 202", i+1, got.status, got.body)
		}
	}
	throttled := `{"status":"throttle exceeded","message":"Requests for this service are arriving too quickly. Please retry later."}`
	got := ts.post(t, eventsapi.PathV2, v2(ts.svc.IntegrationKey, "refused"))
	wantResponse(t, got, http.StatusTooManyRequests, throttled)
	if ra := got.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want a number of seconds", ra)
	}
	got = ts.post(t, eventsapi.PathV1, `{"service_key":"`+ts.svc.IntegrationKey+`","event_type":"trigger","description":"d"}`)
	wantResponse(t, got, http.StatusForbidden, throttled)
	got = ts.post(t, eventsapi.PathChange, `{"routing_key":"`+ts.svc.IntegrationKey+`","payload":{"summary":"s"}}`)
	wantResponse(t, got, http.StatusTooManyRequests, throttled)
	// Another routing key has its own allowance.
	if got := ts.post(t, eventsapi.PathV2, v2(other.IntegrationKey, "other")); got.status != http.StatusAccepted {
		t.Errorf("another key's event: %d %s, want 202", got.status, got.body)
	}
	if n := ts.eventCount(t); n != 3 {
		t.Errorf("%d events in the log, want the 3 accepted: refused events are not ingested", n)
	}
	var keys []string
	for _, inc := range ts.incidents(t) {
		keys = append(keys, inc.IncidentKey)
	}
	if strings.Join(keys, ",") != "0,1,other" {
		t.Errorf("incidents' keys = %v, want 0, 1 and other", keys)
	}
}

// brokenLimiter is a limiter that cannot reach its state.
type brokenLimiter struct{}

func (brokenLimiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	return ratelimit.Result{}, errors.New("redis: connection refused")
}

func TestBrokenLimiterLetsEventsThrough(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	ts := newTestServer(t, serverOptions{rateLimit: 1, limiter: brokenLimiter{}, logger: slog.New(slog.NewTextHandler(lockedWriter{&logs, &mu}, nil))})
	for i := range 3 {
		body := `{"routing_key":"` + ts.svc.IntegrationKey + `","event_action":"trigger","dedup_key":"` + fmt.Sprint(i) + `","payload":{"summary":"s","source":"h","severity":"info"}}`
		if got := ts.post(t, eventsapi.PathV2, body); got.status != http.StatusAccepted {
			t.Errorf("event %d with the limiter down: %d %s, want 202", i+1, got.status, got.body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "events rate limiter failing"); n != 1 {
		t.Errorf("logs:\n%s\nwant one line saying the limiter fails", logs.String())
	}
}

// stuckWriter is a writer whose every write fails with err.
type stuckWriter struct{ err error }

func (w stuckWriter) Write(ctx context.Context, e *gatehouse.Event) error { return w.err }

func TestWriterFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		v1Status   int
		retryAfter bool
		body       string
	}{
		{"queue full", eventsapi.ErrQueueFull, http.StatusTooManyRequests, http.StatusForbidden, true,
			`{"status":"throttle exceeded","message":"Too many events are waiting to be written. Please retry in a second."}`},
		{"applier behind", eventsapi.ErrBehind, http.StatusTooManyRequests, http.StatusForbidden, true,
			`{"status":"throttle exceeded","message":"Events arrive faster than they are processed. Please retry in a few seconds."}`},
		{"stopping", eventsapi.ErrStopped, http.StatusServiceUnavailable, http.StatusServiceUnavailable, true,
			`{"status":"unavailable","message":"The server is shutting down. Please retry in a few seconds."}`},
		{"database unavailable", &gatehouse.Error{Code: gatehouse.CodeUnavailable, Message: "Service Unavailable"}, http.StatusServiceUnavailable, http.StatusServiceUnavailable, true,
			`{"status":"unavailable","message":"The event could not be committed in time. Please retry in a few seconds."}`},
		{"commit timed out", fmt.Errorf("append events: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, http.StatusServiceUnavailable, true,
			`{"status":"unavailable","message":"The event could not be committed in time. Please retry in a few seconds."}`},
		{"internal", fmt.Errorf("append events: disk I/O error"), http.StatusInternalServerError, http.StatusInternalServerError, false,
			`{"status":"error","message":"Internal error: the event was not committed. Please retry."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, serverOptions{writer: stuckWriter{tt.err}})
			for _, c := range []struct {
				path, body string
				status     int
			}{
				{eventsapi.PathV2, `{"routing_key":"` + ts.svc.IntegrationKey + `","event_action":"resolve","dedup_key":"k"}`, tt.status},
				{eventsapi.PathChange, `{"routing_key":"` + ts.svc.IntegrationKey + `","payload":{"summary":"s"}}`, tt.status},
				{eventsapi.PathV1, `{"service_key":"` + ts.svc.IntegrationKey + `","event_type":"resolve","incident_key":"k"}`, tt.v1Status},
			} {
				got := ts.post(t, c.path, c.body)
				wantResponse(t, got, c.status, tt.body)
				if ra := got.header.Get("Retry-After"); (ra != "") != tt.retryAfter {
					t.Errorf("%s: Retry-After %q, want one: %v", c.path, ra, tt.retryAfter)
				}
			}
		})
	}
}

// TestRoutingKeyChangesTakeEffectAtOnce: routing keys are cached, yet a
// service disabled, a key regenerated or an integration deleted refuses the
// old key on the very next event.
func TestRoutingKeyChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	ctx := context.Background()
	sc := ts.store.Scope(ts.account.ID, sqlstore.CLI(ts.account))
	trigger := func(key string) response {
		return ts.post(t, eventsapi.PathV2, `{"routing_key":"`+key+`","event_action":"trigger","payload":{"summary":"s","source":"src","severity":"info"}}`)
	}
	const refused = `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`
	for range 2 { // the second from the cache
		if got := trigger(ts.svc.IntegrationKey); got.status != http.StatusAccepted {
			t.Fatalf("trigger = %d %s", got.status, got.body)
		}
	}

	setStatus := func(status string) {
		t.Helper()
		if _, err := sc.UpdateService(ctx, ts.svc.ID, func(s *gatehouse.Service) { s.Status = status }); err != nil {
			t.Fatal(err)
		}
	}
	setStatus("disabled")
	wantResponse(t, trigger(ts.svc.IntegrationKey), http.StatusBadRequest, refused)
	setStatus("active")
	if got := trigger(ts.svc.IntegrationKey); got.status != http.StatusAccepted {
		t.Errorf("trigger after the service is active again = %d %s", got.status, got.body)
	}

	in, err := sc.UpdateIntegration(ctx, ts.svc.ID, ts.svc.IntegrationID, func(in *gatehouse.Integration) { in.Key = "" })
	if err != nil {
		t.Fatal(err)
	}
	wantResponse(t, trigger(ts.svc.IntegrationKey), http.StatusBadRequest, refused)
	if got := trigger(in.Key); got.status != http.StatusAccepted {
		t.Errorf("trigger with the new key = %d %s", got.status, got.body)
	}
	if err := sc.DeleteIntegration(ctx, ts.svc.ID, ts.svc.IntegrationID); err != nil {
		t.Fatal(err)
	}
	wantResponse(t, trigger(in.Key), http.StatusBadRequest, refused)
}
