package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests hold connections open the way slow or hostile clients do,
// over real sockets against the built server, and check that the server
// closes them in time, keeps serving everyone else and stops when told.

// clientWait bounds how long a test waits for something the server should
// do at once; it is far longer than the server needs, and far shorter than
// the timeouts the server would otherwise wait out.
const clientWait = 5 * time.Second

// dial opens a raw connection to s.
func dial(t *testing.T, s *server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), clientWait)
	if err != nil {
		t.Fatalf("dial %s: %v", s.URL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// holdConnections opens n connections to s that never finish a request:
// a third send nothing, a third half their headers, a third full headers
// promising a body that never comes.
func holdConnections(t *testing.T, s *server, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c := dial(t, s)
		var err error
		switch i % 3 {
		case 1:
			_, err = io.WriteString(c, "GET /abilities HTTP/1.1\r\nHost: x\r\nAuthori")
		case 2:
			_, err = io.WriteString(c, "POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		}
		if err != nil {
			t.Fatalf("hold connection %d: %v", i, err)
		}
		conns[i] = c
	}
	return conns
}

// waitClosed reads c until the server closes it, and fails the test if it
// is still open after d.
func waitClosed(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Errorf("%s: the connection was still open after %v", what, d)
	}
}

// getStatus does one GET on a fresh connection and returns the status.
func getStatus(s *server, path, key string) (int, error) {
	client := &http.Client{Timeout: clientWait, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest("GET", s.URL+path, nil)
	if err != nil {
		return 0, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Token token="+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestHeldConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--read-header-timeout", "1s", "--read-timeout", "2s", "--idle-timeout", "1s")

	silent := dial(t, s)
	// A slowloris: headers trickle in, a byte at a time.
	trickle := dial(t, s)
	go func() {
		for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1234567890\r\n") {
			if _, err := trickle.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	// A keep-alive connection left idle after one request.
	idle := dial(t, s)
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz on a keep-alive connection = %v, %v", resp, err)
	}
	// Each is closed by its timeout (1 s here); clientWait is far longer.
	waitClosed(t, silent, clientWait, "a connection that sends nothing (--read-header-timeout 1s)")
	waitClosed(t, trickle, clientWait, "a connection trickling its headers (--read-header-timeout 1s)")
	waitClosed(t, idle, clientWait, "an idle keep-alive connection (--idle-timeout 1s)")
}

func TestUnneededBodyIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	// The read timeout is long: an answer within clientWait means the
	// server did not wait for the body.
	s := startServer(t, "--read-timeout", "60s")
	for _, tc := range []struct {
		name, request string
		wantStatus    int
	}{
		{"GET /abilities with a key", "GET /abilities HTTP/1.1\r\nHost: x\r\nAuthorization: Token token=" + s.Key + "\r\n", http.StatusOK},
		{"GET /abilities without a key", "GET /abilities HTTP/1.1\r\nHost: x\r\n", http.StatusUnauthorized},
		{"GET /healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\n", http.StatusOK},
		{"chunked GET /abilities", "GET /abilities HTTP/1.1\r\nHost: x\r\nAuthorization: Token token=" + s.Key + "\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, s)
			req := tc.request
			if !strings.Contains(req, "chunked") {
				req += "Content-Length: 1000\r\n\r\n{"
			}
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(clientWait))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer within %v while the promised body never came: %v", clientWait, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if !resp.Close {
				t.Errorf("the answer does not say Connection: close, yet the rest of the body is not read")
			}
			waitClosed(t, c, clientWait, "after the answer")
		})
	}
}

// prlimit returns the command that runs another with at most n open files.
func prlimit(t *testing.T, n int) []string {
	t.Helper()
	path, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed to run the server with few file descriptors: %v", err)
	}
	return []string{path, fmt.Sprintf("--nofile=%d:%d", n, n), "--"}
}

func TestServesWhileConnectionsAreHeld(t *testing.T) {
	t.Parallel()
	// 256 open files, as a small container might allow; the default cap
	// is then 192 connections. The timeouts are long, so that the held
	// connections stay for the whole test.
	s := startServerUnder(t, prlimit(t, 256), "--read-header-timeout", "60s", "--read-timeout", "60s", "--write-timeout", "60s")
	held := holdConnections(t, s, 400)
	for i := range 20 {
		for _, tc := range []struct{ path, key string }{{"/healthz", ""}, {"/abilities", s.Key}} {
			status, err := getStatus(s, tc.path, tc.key)
			if err != nil || status != http.StatusOK {
				t.Fatalf("GET %s #%d with %d connections held = %d, %v; want 200", tc.path, i+1, len(held), status, err)
			}
		}
	}
	metrics := scrape(t, s)
	if metrics["gatehouse_connections_shed_total"] == 0 {
		t.Errorf("gatehouse_connections_shed_total = 0, want the held connections shed for the new ones")
	}
	if open, max := metrics["gatehouse_connections_open"], metrics["gatehouse_connections_max"]; open > max || max != 192 {
		t.Errorf("gatehouse_connections_open = %v, gatehouse_connections_max = %v; want at most 192 of 192", open, max)
	}
}

var sampleLine = regexp.MustCompile(`(?m)^(\w+) (\S+)$`)

// scrape reads the server's unlabelled metrics.
func scrape(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	client := &http.Client{Timeout: clientWait}
	resp, err := client.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	values := map[string]float64{}
	for _, m := range sampleLine.FindAllStringSubmatch(string(body), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			values[m[1]] = v
		}
	}
	return values
}

// pipelineMetrics sends n pipelined GET /metrics (about 12 KB each) on c
// without reading the answers: a client too slow to read.
func pipelineMetrics(t *testing.T, c net.Conn, n int) {
	t.Helper()
	c.(*net.TCPConn).SetReadBuffer(4096)
	req := strings.Repeat("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", n)
	c.SetWriteDeadline(time.Now().Add(clientWait))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("pipeline %d requests: %v", n, err)
	}
}

func TestSlowReaderIsCutOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--write-timeout", "1s")
	c := dial(t, s)
	const n = 2000 // about 24 MB of answers, more than socket buffers hold
	pipelineMetrics(t, c, n)
	// Let the server fill the buffers and give up on its write timeout.
	time.Sleep(3 * time.Second)
	if status, err := getStatus(s, "/healthz", ""); err != nil || status != http.StatusOK {
		t.Errorf("GET /healthz beside a slow reader = %d, %v; want 200", status, err)
	}
	c.SetReadDeadline(time.Now().Add(clientWait))
	br := bufio.NewReader(c)
	answers := 0
	for {
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Fatalf("after %d answers the connection was still open: the server waits on a client that does not read", answers)
			}
			break
		}
		answers++
	}
	if answers >= n {
		t.Errorf("the slow reader got all %d answers, want the server to cut it off after --write-timeout", n)
	}
}

func TestShutdownWithSlowClients(t *testing.T) {
	t.Parallel()
	const deadline = 2 * time.Second
	s := startServer(t, "--shutdown-timeout", deadline.String(),
		"--read-header-timeout", "60s", "--read-timeout", "60s", "--write-timeout", "60s", "--idle-timeout", "60s")
	holdConnections(t, s, 30)
	slow := dial(t, s)
	pipelineMetrics(t, slow, 2000)
	// A request in flight must still be answered.
	var wg sync.WaitGroup
	var inFlight int
	var inFlightErr error
	wg.Go(func() { inFlight, inFlightErr = getStatus(s, "/healthz", "") })
	wg.Wait()
	took, err := s.terminate(t)
	if err != nil {
		t.Errorf("gatehouse serve exited with %v after SIGTERM, want status 0; stderr:\n%s", err, s.Stderr)
	}
	if took > deadline+3*time.Second {
		t.Errorf("gatehouse serve took %v to exit after SIGTERM with --shutdown-timeout %v", took, deadline)
	}
	if inFlightErr != nil || inFlight != http.StatusOK {
		t.Errorf("GET /healthz before SIGTERM = %d, %v", inFlight, inFlightErr)
	}
	if !strings.Contains(s.Stderr.String(), "shutdown deadline passed") {
		t.Errorf("log lacks the line about closing the connections left at the deadline:\n%s", s.Stderr)
	}
}

func TestDoorsByPath(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	client := &http.Client{
		Timeout:       clientWait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, tc := range []struct {
		method, path string
		wantStatus   int
		wantBody     string // a JSON object's keys, in any order, or the plain text
	}{
		// The Events door answers an empty body in its own shape.
		{"POST", "/v2/enqueue", 400, "errors message status"},
		{"POST", "/v2/change/enqueue", 400, "errors message status"},
		{"POST", "/generic/2010-04-15/create_event.json", 400, "errors message status"},
		{"POST", "/oauth/token", 404, "error error_description"},
		{"GET", "/app/incidents", 404, "Not Found\n"},
		{"GET", "/abilities", 401, "error"},
		{"GET", "//abilities", 404, "error"},
		{"GET", "/v2/../abilities", 404, "error"},
		{"GET", "/healthz", 200, "ok\n"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tc.method, s.URL+tc.path, nil)
			req.Header.Set("X-Request-Id", "e2e-"+strings.ReplaceAll(tc.path, "/", "_"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			if got, want := resp.Header.Get("X-Request-Id"), req.Header.Get("X-Request-Id"); got != want {
				t.Errorf("X-Request-Id = %q, want %q echoed", got, want)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				if string(body) != tc.wantBody {
					t.Errorf("body = %q, want %q", body, tc.wantBody)
				}
				return
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(body, &obj); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			var keys []string
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if got := strings.Join(keys, " "); got != tc.wantBody {
				t.Errorf("body %s has keys %q, want %q", body, got, tc.wantBody)
			}
		})
	}
}

func TestAccessLogAndTrustedProxies(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--trusted-proxies", "127.0.0.0/8")
	client := &http.Client{Timeout: clientWait}
	for _, tc := range []struct{ path, id string }{{"/abilities", "e2e-access-key"}, {"/healthz", "e2e-access-health"}} {
		req, _ := http.NewRequest("GET", s.URL+tc.path, nil)
		req.Header.Set("Authorization", "Token token="+s.Key)
		req.Header.Set("X-Request-Id", tc.id)
		// The client, then a proxy of its own; the peer (loopback) is trusted.
		req.Header.Set("X-Forwarded-For", "192.0.2.1, 198.51.100.7")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(t.Context(), clientWait)
	defer cancel()
	line := regexp.MustCompile(`(?m)^.*msg=request request_id=e2e-access-health .*$`)
	if _, err := s.Stderr.waitFor(ctx, s.exited, line); err != nil {
		t.Fatalf("no access line for GET /healthz: %v; stderr:\n%s", err, s.Stderr)
	}
	log := s.Stderr.String()
	for _, want := range []string{
		`msg=request request_id=e2e-access-key method=GET path=/abilities status=200 `,
		`door=rest client=198.51.100.7`,
		`msg=request request_id=e2e-access-health method=GET path=/healthz status=200 `,
		`door=ops client=198.51.100.7 route="GET /healthz"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, s.Key[1:]) {
		t.Errorf("log shows the key:\n%s", log)
	}
}
