package edge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/metrics"
)

// logBuffer collects JSON log lines written by concurrent requests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the log lines decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// linesWith returns the log lines whose msg is msg.
func (b *logBuffer) linesWith(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range b.lines(t) {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// testEdge is an edge in front of doors like serve's, whose handlers the
// test chooses, served over real HTTP.
type testEdge struct {
	URL     string
	log     *logBuffer
	metrics *metrics.Registry
}

// doorHandlers are the handlers of the test's doors; nil ones answer
// NotServed.
type doorHandlers struct {
	rest, events, ops http.Handler
	maxBody           int64
	trusted           []netip.Prefix
	configure         func(*http.Server)
}

func startEdge(t *testing.T, h doorHandlers) *testEdge {
	t.Helper()
	orNotServed := func(h http.Handler) http.Handler {
		if h == nil {
			return NotServed
		}
		return h
	}
	maxBody := h.maxBody
	if maxBody == 0 {
		maxBody = 1 << 20
	}
	rest := &Door{Name: "rest", Handler: orNotServed(h.rest), MaxBody: maxBody, Error: RESTError}
	events := &Door{Name: "events", Handler: orNotServed(h.events), MaxBody: maxBody, Error: EventsError}
	oauth := &Door{Name: "oauth", Handler: NotServed, MaxBody: maxBody, Error: OAuthError}
	ops := &Door{Name: "ops", Handler: orNotServed(h.ops), Error: PlainError}
	mux := http.NewServeMux()
	mux.Handle("/", rest)
	mux.Handle("/v2/enqueue", events)
	mux.Handle("/oauth/", oauth)
	mux.Handle("/healthz", ops)
	te := &testEdge{log: &logBuffer{}, metrics: metrics.New()}
	e := New(Config{
		Handler:        mux,
		Default:        rest,
		Logger:         slog.New(slog.NewJSONHandler(te.log, nil)),
		Metrics:        te.metrics,
		TrustedProxies: h.trusted,
	})
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	if h.configure != nil {
		h.configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	te.URL = srv.URL
	return te
}

type answer struct {
	status  int
	header  http.Header
	body    string
	errText string
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return answer{errText: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if err != nil {
		a.errText = err.Error()
	}
	return a
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// annotate is a door handler that sets Info as a door does and answers 200.
var annotate = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	info := InfoOf(r.Context())
	info.Route = "GET /abilities"
	info.Credential = "general access key"
	info.Last4 = "wxyz"
	Logger(r.Context()).Info("door says hello")
	w.Write([]byte(`{"abilities":[]}`))
})

func TestRequestID(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{rest: annotate})
	for _, tc := range []struct {
		name   string
		header []string
		echo   bool
	}{
		{"none", nil, false},
		{"a UUID", []string{"3f2b1c9e-0d4a-4b6e-9c1f-2a7d8e5b6c4d"}, true},
		{"a proxy's", []string{"req:abc/def+ghi=@host.example_1"}, true},
		{"empty", []string{""}, false},
		{"with a space", []string{"abc def"}, false},
		{"with a quote", []string{`abc"def`}, false},
		{"too long", []string{strings.Repeat("a", 129)}, false},
		{"the longest", []string{strings.Repeat("a", 128)}, true},
		{"two", []string{"one", "two"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, "GET", te.URL+"/abilities", nil)
			req.Header["X-Request-Id"] = tc.header
			got := do(t, req).header.Get("X-Request-Id")
			switch {
			case tc.echo && got != tc.header[0]:
				t.Errorf("X-Request-Id = %q, want %q echoed", got, tc.header[0])
			case !tc.echo && (len(got) != 32 || strings.Trim(got, "0123456789abcdef") != ""):
				t.Errorf("X-Request-Id = %q, want a new ID of 32 hex digits", got)
			}
			// The access line and the door's own line carry it.
			var seen int
			for _, l := range te.log.lines(t) {
				if l["request_id"] == got {
					seen++
				}
			}
			if seen != 2 {
				t.Errorf("%d log lines carry request_id %q, want 2 (the door's and the access line)", seen, got)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{rest: annotate})
	req := newRequest(t, "GET", te.URL+"/abilities?token=nothere", nil)
	req.Header.Set("Authorization", "Token token=a+abcdefghijklmnwxyz")
	req.Header.Set("X-Request-Id", "access-1")
	if a := do(t, req); a.status != 200 {
		t.Fatalf("GET /abilities = %+v", a)
	}
	lines := te.log.linesWith(t, "request")
	if len(lines) != 1 {
		t.Fatalf("%d access lines, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	if _, ok := l["duration"].(float64); !ok {
		t.Errorf("access line has duration %v, want a number", l["duration"])
	}
	delete(l, "time")
	delete(l, "duration")
	want := map[string]any{
		"level": "INFO", "msg": "request", "request_id": "access-1", "method": "GET", "path": "/abilities",
		"status": 200.0, "bytes": 16.0, "door": "rest", "route": "GET /abilities", "client": "127.0.0.1",
		"credential": "general access key", "last4": "wxyz",
	}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("access line (-want +got):\n%s", diff)
	}
	door := te.log.linesWith(t, "door says hello")
	if len(door) != 1 || door[0]["request_id"] != "access-1" || door[0]["door"] != "rest" {
		t.Errorf("the door's log line = %v, want request_id access-1 and door rest", door)
	}
}

func TestDoorsByPath(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{
		rest: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			RESTError(w, 401, "Authentication failed")
		}),
		ops: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }),
	})
	for _, tc := range []struct {
		method, path string
		wantStatus   int
		wantBody     string
		wantDoor     string
	}{
		{"POST", "/v2/enqueue", 404, `{"status":"not found","message":"Not Found","errors":["Not Found"]}`, "events"},
		{"POST", "/oauth/token", 404, `{"error":"invalid_request","error_description":"Not Found"}`, "oauth"},
		{"GET", "/healthz", 200, "ok\n", "ops"},
		{"GET", "/abilities", 401, `{"error":{"message":"Authentication failed","code":2006}}`, "rest"},
		// Unclean paths reach the default door as they are, never a
		// redirect.
		{"GET", "//abilities", 401, `{"error":{"message":"Authentication failed","code":2006}}`, "rest"},
		{"GET", "/abilities/../users", 401, `{"error":{"message":"Authentication failed","code":2006}}`, "rest"},
		// One trailing slash is taken by the door of the path without.
		{"POST", "/v2/enqueue/", 404, `{"status":"not found","message":"Not Found","errors":["Not Found"]}`, "events"},
		{"GET", "/healthz/", 200, "ok\n", "ops"},
		{"POST", "/v2/enqueue//", 401, `{"error":{"message":"Authentication failed","code":2006}}`, "rest"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, tc.method, te.URL+tc.path, nil)
			id := "doors" + strings.NewReplacer("/", "_", ".", "-").Replace(tc.path)
			req.Header.Set("X-Request-Id", id)
			a := do(t, req)
			if a.status != tc.wantStatus || a.body != tc.wantBody {
				t.Errorf("%s %s = %d %s, want %d %s", tc.method, tc.path, a.status, a.body, tc.wantStatus, tc.wantBody)
			}
			for _, l := range te.log.linesWith(t, "request") {
				if l["request_id"] == id && l["door"] != tc.wantDoor {
					t.Errorf("access line door = %v, want %s", l["door"], tc.wantDoor)
				}
			}
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{
		rest: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/before":
				w.Header().Set("Ratelimit-Limit", "960")
				panic("boom before")
			case "/after":
				w.Write([]byte(`{"partial":`))
				w.(http.Flusher).Flush()
				panic("boom after")
			case "/abort":
				panic(http.ErrAbortHandler)
			}
		}),
	})
	before := newRequest(t, "GET", te.URL+"/before", nil)
	before.Header.Set("X-Request-Id", "panic-before")
	a := do(t, before)
	if a.status != 500 || a.body != `{"error":{"message":"Internal Error","code":2000}}` || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("a panic before answering = %d %s, want 500 and the REST door's code 2000", a.status, a.body)
	}
	if a := do(t, newRequest(t, "GET", te.URL+"/after", nil)); a.errText == "" {
		t.Errorf("a panic after answering began = %+v, want the connection cut", a)
	}
	if a := do(t, newRequest(t, "GET", te.URL+"/abort", nil)); a.errText == "" {
		t.Errorf("http.ErrAbortHandler = %+v, want the connection cut", a)
	}
	panics := te.log.linesWith(t, "panic serving request")
	if len(panics) != 2 {
		t.Fatalf("%d panic lines, want 2 (none for http.ErrAbortHandler): %v", len(panics), panics)
	}
	p := panics[0]
	if p["request_id"] != "panic-before" || p["level"] != "ERROR" || p["panic"] != "boom before" || !strings.Contains(p["stack"].(string), "edge_test.go") {
		t.Errorf("panic line = %v, want the request's ID, the panic and the stack", p)
	}
	var statuses []float64
	for _, l := range te.log.linesWith(t, "request") {
		statuses = append(statuses, l["status"].(float64))
	}
	if diff := cmp.Diff([]float64{500, 200, 500}, statuses); diff != "" {
		t.Errorf("access lines' statuses (-want +got):\n%s", diff)
	}
}

func TestClientHungUp(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	te := startEdge(t, doorHandlers{
		rest: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-r.Context().Done()
			RESTError(w, 500, "Internal Error")
		}),
	})
	ctx, cancel := context.WithCancel(context.Background())
	req := newRequest(t, "GET", te.URL+"/slow", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(t, req)
	}()
	<-entered
	cancel()
	<-done
	deadline := time.Now().Add(10 * time.Second)
	for len(te.log.linesWith(t, "request")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lines := te.log.lines(t)
	if len(lines) != 1 || lines[0]["status"] != float64(StatusClientClosed) || lines[0]["level"] != "INFO" {
		t.Errorf("log after the client hung up = %v, want one INFO access line with status 499", lines)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{
		maxBody: 10,
		events: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if tooLarge, ok := errors.AsType[*http.MaxBytesError](err); ok {
				EventsError(w, http.StatusRequestEntityTooLarge, "at most "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
				return
			}
			w.Write(body)
		}),
	})
	for _, tc := range []struct {
		body       string
		wantStatus int
		wantBody   string
	}{
		{"0123456789", 200, "0123456789"},
		{"0123456789a", 413, `{"status":"request entity too large","message":"at most 10 bytes","errors":["at most 10 bytes"]}`},
	} {
		a := do(t, newRequest(t, "POST", te.URL+"/v2/enqueue", strings.NewReader(tc.body)))
		if a.status != tc.wantStatus || a.body != tc.wantBody {
			t.Errorf("POST /v2/enqueue with %d bytes = %d %s, want %d %s", len(tc.body), a.status, a.body, tc.wantStatus, tc.wantBody)
		}
	}
}

// A door that needs the body waits for it only as long as the server's read
// timeout; one that does not is not held up by a body that never comes.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	readAll := func(errorOf func(http.ResponseWriter, int, string)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				msg := "the body could not be read"
				if TimedOut(err) {
					msg = "the body did not arrive in time"
				}
				errorOf(w, http.StatusBadRequest, msg)
			}
		})
	}
	te := startEdge(t, doorHandlers{
		events: readAll(EventsError),
		rest:   readAll(RESTError),
		// The write deadline passes with the read's: the edge gives the
		// door time to answer.
		configure: func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = time.Second, time.Second },
	})
	for _, path := range []string{"/v2/enqueue", "/abilities"} {
		c, err := net.Dial("tcp", strings.TrimPrefix(te.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		id := "slow" + strings.ReplaceAll(path, "/", "_")
		io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nX-Request-Id: "+id+"\r\nContent-Length: 100\r\n\r\n{")
		// Far longer than the read timeout of 1 s.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("POST %s with a body that never comes: %v, want a 400", path, err)
			continue
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), "the body did not arrive in time") {
			t.Errorf("POST %s with a body that never comes: %d %s, want 400 saying so", path, resp.StatusCode, got)
		}
		_, err = io.Copy(io.Discard, br)
		if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
			t.Errorf("POST %s with a body that never comes: connection still open after 10 s", path)
		}
		for _, l := range te.log.linesWith(t, "request") {
			if l["request_id"] == id && l["status"] != float64(http.StatusBadRequest) {
				t.Errorf("POST %s: access line status %v, want 400 (the client was there to read it)", path, l["status"])
			}
		}
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted", "203.0.113.5:4000", []string{"198.51.100.1"}, nil, "203.0.113.5"},
		{"an untrusted peer's header is ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, trusted, "203.0.113.5"},
		{"one trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"the client's own entries are skipped", "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"two trusted hops", "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1, 192.168.1.7"}, trusted, "198.51.100.1"},
		{"hops in several headers", "10.1.2.3:4000", []string{"1.1.1.1", "198.51.100.1", "10.9.9.9"}, trusted, "198.51.100.1"},
		{"only trusted hops", "10.1.2.3:4000", []string{"10.0.0.1, 192.168.1.7"}, trusted, "10.0.0.1"},
		{"no header", "10.1.2.3:4000", nil, trusted, "10.1.2.3"},
		{"garbage stops the walk", "10.1.2.3:4000", []string{"198.51.100.1, nonsense, 10.0.0.9"}, trusted, "10.0.0.9"},
		{"an entry with a port", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, trusted, "198.51.100.1"},
		{"IPv6 entries", "[fd00::1]:4000", []string{"[2001:db8::1]:80, fd00::2"}, trusted, "2001:db8::1"},
		{"an IPv4-mapped peer", "[::ffff:10.1.2.3]:4000", []string{"::ffff:198.51.100.1"}, trusted, "198.51.100.1"},
		{"an unreadable peer", "pipe", []string{"198.51.100.1"}, trusted, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			r.Header["X-Forwarded-For"] = tc.xff
			if got := clientAddr(r, tc.trusted).String(); got != tc.want {
				t.Errorf("clientAddr(%s, X-Forwarded-For %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" 10.0.0.0/8 ,192.168.1.7,, ", []string{"10.0.0.0/8", "192.168.1.7/32"}, false},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, false},
		{"::1, fd00::/8", []string{"::1/128", "fd00::/8"}, false},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"example.com", nil, true},
		{"fe80::1%eth0", nil, true},
	} {
		got, err := ParseTrustedProxies(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseTrustedProxies(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if diff := cmp.Diff(tc.want, gotS); diff != "" {
			t.Errorf("ParseTrustedProxies(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestInfoOutsideTheEdge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	info := InfoOf(ctx)
	if info == nil {
		t.Fatal("InfoOf(context without a request) = nil, want a throwaway Info")
	}
	info.Route = "set"
	if InfoOf(ctx).Route != "" {
		t.Error("InfoOf(context without a request) is shared, want a new one each time")
	}
	if Logger(ctx) == nil {
		t.Error("Logger(context without a request) = nil")
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	te := startEdge(t, doorHandlers{
		rest: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := InfoOf(r.Context())
			switch r.URL.Path {
			case "/abilities":
				info.Route = "GET /abilities"
				w.Write([]byte("{}"))
			case "/limited":
				info.Route = "GET /limited"
				RESTError(w, http.StatusTooManyRequests, "Rate Limit Exceeded")
			default:
				info.AuthFailure = "unknown key"
				RESTError(w, http.StatusUnauthorized, "Authentication failed")
			}
		}),
	})
	for _, path := range []string{"/abilities", "/abilities", "/limited", "/users/PABC123", "/users/PXYZ987"} {
		do(t, newRequest(t, "GET", te.URL+path, nil))
	}
	rec := httptest.NewRecorder()
	te.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`gatehouse_http_requests_total{door="rest",route="GET /abilities",status="200"} 2`,
		`gatehouse_http_requests_total{door="rest",route="GET /limited",status="429"} 1`,
		`gatehouse_http_requests_total{door="rest",route="none",status="401"} 2`,
		`gatehouse_http_request_duration_seconds_count{door="rest",route="GET /abilities"} 2`,
		`gatehouse_auth_failures_total{door="rest",reason="unknown key"} 2`,
		`gatehouse_rate_limited_total{door="rest"} 1`,
		`gatehouse_http_requests_in_flight 0`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "PABC123") {
		t.Error("metrics show a raw path; want route patterns only")
	}
}
