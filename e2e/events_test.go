package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// These tests send events to the real server with PagerDuty's Go client
// and raw HTTP, and read what they made from the server's database: the
// REST API's incidents come later. Services and integrations are made with
// SQL (storetest.MustCreateService) until the REST API makes them.

// eventsTarget is a service of the default account of a running server,
// with its integration key, and the server's database opened beside it.
type eventsTarget struct {
	store   *sqlstore.Store
	account *gatehouse.Account
	owner   *gatehouse.User
	svc     *storetest.Service
}

func newEventsTarget(t *testing.T, dataDir, ownerEmail string) *eventsTarget {
	t.Helper()
	ctx := context.Background()
	cfg := sqlstore.Config{DataDir: dataDir}
	store, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	account, err := store.AccountBySubdomain(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := store.UserByEmail(ctx, account.ID, ownerEmail)
	if err != nil {
		t.Fatal(err)
	}
	svc := storetest.MustCreateService(t, cfg, account.ID, "Checkout", storetest.ServiceOptions{Targets: []*gatehouse.User{owner}})
	return &eventsTarget{store: store, account: account, owner: owner, svc: svc}
}

// eventsClient is go-pagerduty's client pointed at the server's Events API.
func eventsClient(url string) *pagerduty.Client {
	c := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(url))
	c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	return c
}

// incidentsWhen waits until the account's incidents satisfy ok, as the
// server applies the events it took, and returns them.
func (et *eventsTarget) incidentsWhen(t *testing.T, ok func([]*gatehouse.Incident) bool) []*gatehouse.Incident {
	t.Helper()
	sc := et.store.Scope(et.account.ID, sqlstore.CLI(et.account))
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := sc.Incidents(context.Background(), sqlstore.IncidentQuery{Page: sqlstore.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if ok(list.Items) {
			return list.Items
		}
		if time.Now().After(deadline) {
			var got []string
			for _, inc := range list.Items {
				got = append(got, fmt.Sprintf("#%d %s %s", inc.Number, inc.IncidentKey, inc.Status))
			}
			t.Fatalf("incidents never came to the state wanted; they are %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statuses(incs []*gatehouse.Incident) string {
	var s []string
	for _, inc := range incs {
		s = append(s, string(inc.Status))
	}
	return strings.Join(s, ",")
}

var generatedDedupKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestClientManageEvents plays trigger, trigger again, acknowledge,
// resolve and trigger again with go-pagerduty's ManageEventWithContext, and
// checks what its users see and the incidents the events make.
func TestClientManageEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	et := newEventsTarget(t, s.DataDir, s.OwnerEmail)
	c := eventsClient(s.URL)
	ctx := context.Background()
	send := func(action, dedupKey string) *pagerduty.V2EventResponse {
		t.Helper()
		resp, err := c.ManageEventWithContext(ctx, &pagerduty.V2Event{
			RoutingKey: et.svc.IntegrationKey, Action: action, DedupKey: dedupKey,
			Client: "e2e", ClientURL: "https://e2e.example",
			Links: []any{map[string]any{"href": "https://e2e.example/graph", "text": "Graph"}},
			Payload: &pagerduty.V2Payload{
				Summary: "Checkout p99 above 2s", Source: "web-01", Severity: "critical",
				Timestamp: time.Now().UTC().Format(time.RFC3339), Component: "nginx", Group: "web", Class: "latency",
				Details: map[string]any{"p99_ms": 2300},
			},
		})
		if err != nil {
			t.Fatalf("ManageEventWithContext(%s): %v", action, err)
		}
		if resp.Status != "success" || resp.Message != "Event processed" {
			t.Errorf("ManageEventWithContext(%s) = %+v, want success, Event processed", action, resp)
		}
		return resp
	}
	first := send("trigger", "")
	if !generatedDedupKey.MatchString(first.DedupKey) {
		t.Fatalf("the dedup key given to a trigger without one = %q, want 32 hex characters", first.DedupKey)
	}
	key := first.DedupKey
	if got := send("trigger", key); got.DedupKey != key {
		t.Errorf("trigger again: dedup key %q, want %q", got.DedupKey, key)
	}
	et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "triggered" })
	send("acknowledge", key)
	et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "acknowledged" })
	send("resolve", key)
	et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "resolved" })
	send("trigger", key)
	incs := et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "resolved,triggered" })
	if incs[0].IncidentKey != key || incs[1].IncidentKey != key || incs[0].Number+1 != incs[1].Number ||
		incs[1].Title != "Checkout p99 above 2s" || len(incs[1].Assignees) != 1 || incs[1].Assignees[0] != et.owner.ID {
		t.Errorf("incidents = %+v and %+v, want two of key %s, the second assigned to the owner", incs[0], incs[1], key)
	}
	entries, err := et.store.Scope(et.account.ID, sqlstore.CLI(et.account)).IncidentLogEntries(ctx, incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []gatehouse.LogEntryType
	for _, e := range entries {
		types = append(types, e.Type)
	}
	want := []gatehouse.LogEntryType{gatehouse.LogTrigger, gatehouse.LogAssign, gatehouse.LogAcknowledge, gatehouse.LogResolve}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("the first incident's log (-want +got):\n%s", diff)
	}
	alerts, err := et.store.Scope(et.account.ID, sqlstore.CLI(et.account)).IncidentAlerts(ctx, incs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || string(alerts[0].Body.Details) != `{"p99_ms":2300}` || alerts[0].Body.CEF.Component != "nginx" ||
		len(alerts[0].Body.Contexts) != 1 || alerts[0].Body.Contexts[0].Text != "Graph" {
		t.Errorf("the second incident's alerts = %+v", alerts)
	}
}

// TestClientEventErrors checks the errors go-pagerduty's users see: those
// PagerDuty's Events API gives it, whose body is not the REST API's.
func TestClientEventErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--events-rate-limit", "1")
	et := newEventsTarget(t, s.DataDir, s.OwnerEmail)
	c := eventsClient(s.URL)
	ctx := context.Background()
	event := func(routingKey string) *pagerduty.V2Event {
		return &pagerduty.V2Event{RoutingKey: routingKey, Action: "trigger",
			Payload: &pagerduty.V2Payload{Summary: "s", Source: "h", Severity: "info"}}
	}
	apiError := func(err error) pagerduty.APIError {
		t.Helper()
		var apiErr pagerduty.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("error = %v (%T), want the client's APIError", err, err)
		}
		return apiErr
	}
	// A REST API key as routing key.
	_, err := c.ManageEventWithContext(ctx, event(s.Key))
	if e := apiError(err); e.StatusCode != http.StatusBadRequest || e.Temporary() || e.RateLimited() {
		t.Errorf("a REST key as routing key: %+v, want a 400 that is not worth retrying", e)
	}
	if _, err := c.ManageEventWithContext(ctx, event(et.svc.IntegrationKey)); err != nil {
		t.Fatalf("the first event: %v", err)
	}
	_, err = c.ManageEventWithContext(ctx, event(et.svc.IntegrationKey))
	if e := apiError(err); !e.RateLimited() || !e.Temporary() {
		t.Errorf("the second event of a minute with --events-rate-limit 1: %+v, want RateLimited", e)
	}
	_, err = c.CreateChangeEventWithContext(ctx, pagerduty.ChangeEvent{RoutingKey: "R0ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
		Payload: pagerduty.ChangeEventPayload{Summary: "deploy"}})
	if e := apiError(err); e.StatusCode != http.StatusBadRequest {
		t.Errorf("a change event with an event orchestration's key: %+v, want 400", e)
	}
}

func TestClientChangeEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	et := newEventsTarget(t, s.DataDir, s.OwnerEmail)
	ctx := context.Background()
	resp, err := eventsClient(s.URL).CreateChangeEventWithContext(ctx, pagerduty.ChangeEvent{
		RoutingKey: et.svc.IntegrationKey,
		Payload: pagerduty.ChangeEventPayload{
			Summary: "Build Success: Increase snapshot create timeout to 30 seconds", Source: "prod-build-agent-i-0b148d1040d565540",
			Timestamp: "2015-07-17T08:42:58.315+0000", CustomDetails: map[string]any{"build_state": "passed", "build_number": "220"},
		},
		Links: []pagerduty.ChangeEventLink{{Href: "https://buildpipeline.com/pagerduty/deployment/builds/220", Text: "View in Build Pipeline"}},
	})
	if err != nil {
		t.Fatalf("CreateChangeEventWithContext: %v", err)
	}
	if resp.Status != "success" || resp.Message != "Change event processed" {
		t.Errorf("CreateChangeEventWithContext = %+v, want success, Change event processed", resp)
	}
	sc := et.store.Scope(et.account.ID, sqlstore.CLI(et.account))
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := sc.ChangeEvents(ctx, sqlstore.ChangeEventQuery{Page: sqlstore.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 1 {
			c := list.Items[0]
			if c.ServiceID != et.svc.ID || c.Source != "prod-build-agent-i-0b148d1040d565540" ||
				!c.Timestamp.Equal(time.Date(2015, 7, 17, 8, 42, 58, 315e6, time.UTC)) || len(c.Links) != 1 {
				t.Errorf("change event = %+v", c)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d change events, want 1", len(list.Items))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMonitoringToolsBodies posts what Alertmanager (v2 and v1) and Grafana
// send, byte for byte, to the real server.
func TestMonitoringToolsBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	et := newEventsTarget(t, s.DataDir, s.OwnerEmail)
	post := func(path, fixture string, wantStatus int) {
		t.Helper()
		b, err := os.ReadFile("../eventsapi/testdata/" + fixture)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(b), "ROUTING_KEY", et.svc.IntegrationKey)
		resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus || !strings.HasPrefix(string(got), `{"status":"success","message":"Event processed",`) {
			t.Errorf("POST %s (%s) = %d %s, want %d", path, fixture, resp.StatusCode, got, wantStatus)
		}
	}
	post("/v2/enqueue", "alertmanager-v2-trigger.json", http.StatusAccepted)
	post("/generic/2010-04-15/create_event.json", "alertmanager-v1-trigger.json", http.StatusOK)
	// A trailing slash, as an operator may type it, is the same door.
	post("/v2/enqueue/", "grafana-v2-trigger.json", http.StatusAccepted)
	// Alertmanager's v1 and v2 events share their dedup key, and one
	// integration: they name one alert.
	et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "triggered,triggered" })
	post("/generic/2010-04-15/create_event.json", "alertmanager-v1-resolve.json", http.StatusOK)
	post("/v2/enqueue", "grafana-v2-resolve.json", http.StatusAccepted)
	et.incidentsWhen(t, func(incs []*gatehouse.Incident) bool { return statuses(incs) == "resolved,resolved" })

	// The applier counts what is left after each pass.
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if metrics = string(b); strings.Contains(metrics, "\ngatehouse_events_pending 0\n") {
			break
		}
	}
	for _, want := range []string{"\ngatehouse_events_written_total 5\n", "\ngatehouse_events_pending 0\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics after five events, all applied, has no line %q", strings.TrimSpace(want))
		}
	}
}

// crashable is a `gatehouse serve` the test may kill with SIGKILL.
type crashable struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *output
}

// crashOwner is the owner of the account of crashable servers.
const crashOwner = "owner@crash.example"

// startCrashable runs `gatehouse serve` on dataDir. Unlike startServer, it
// expects nothing of how the process ends.
func startCrashable(t *testing.T, dataDir string) *crashable {
	t.Helper()
	cmd := exec.Command(gatehouseBin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--events-rate-limit", "0", "--owner-email", crashOwner)
	cmd.Env = hermeticEnv()
	stdout, stderr := newOutput(), newOutput()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &crashable{cmd: cmd, exited: make(chan struct{}), stderr: stderr}
	go func() {
		cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.exited
	})
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	m, err := stderr.waitFor(ctx, c.exited, listeningLine)
	if err != nil {
		t.Fatalf("gatehouse serve: %v; stderr:\n%s", err, stderr)
	}
	c.url = "http://" + m[1]
	return c
}

// TestEventsSurviveKill9 sends events from several clients, kills the
// server with SIGKILL while they send, starts it again on the same data,
// and checks that every event answered 202 is there and applied.
func TestEventsSurviveKill9(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	a := startCrashable(t, dataDir)
	et := newEventsTarget(t, dataDir, crashOwner)

	client := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	var answered []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for sender := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("crash-%d-%d", sender, i)
				body := `{"routing_key":"` + et.svc.IntegrationKey + `","event_action":"trigger","dedup_key":"` + key +
					`","payload":{"summary":"s","source":"h","severity":"info"}}`
				resp, err := client.Post(a.url+"/v2/enqueue", "application/json", strings.NewReader(body))
				if err != nil {
					continue // the server is gone: this event was never answered
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					answered = append(answered, key)
					mu.Unlock()
				}
			}
		})
	}
	// Kill it in mid-stream, once a good number of events were answered.
	for {
		mu.Lock()
		n := len(answered)
		mu.Unlock()
		if n >= 400 {
			break
		}
		select {
		case <-a.exited:
			t.Fatalf("the server exited before it was killed; stderr:\n%s", a.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	close(stop)
	wg.Wait()
	t.Logf("%d events answered 202 before SIGKILL", len(answered))

	startCrashable(t, dataDir)
	// Every answered event is in the log, and the restarted server applies
	// it: one incident per dedup key.
	want := map[string]bool{}
	for _, k := range answered {
		want[k] = true
	}
	sc := et.store.Scope(et.account.ID, sqlstore.CLI(et.account))
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := et.store.EventLog(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server left %d events unapplied", st.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	found := map[string]int{}
	for offset := 0; ; offset += 100 {
		list, err := sc.Incidents(context.Background(), sqlstore.IncidentQuery{Page: sqlstore.Page{Limit: 100, Offset: offset}})
		if err != nil {
			t.Fatal(err)
		}
		for _, inc := range list.Items {
			found[inc.IncidentKey]++
		}
		if !list.More {
			break
		}
	}
	missing := 0
	for k := range want {
		if found[k] != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("event %s was answered 202 but has %d incidents after the restart, want 1", k, found[k])
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d answered events lost to SIGKILL", missing, len(want))
	}
}
