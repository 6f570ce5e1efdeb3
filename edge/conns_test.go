package edge

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// startCapped serves h behind a cap of max connections.
func startCapped(t *testing.T, max int, h http.Handler) (*httptest.Server, *Conns) {
	t.Helper()
	conns := NewConns(max, slog.New(slog.DiscardHandler))
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = conns.Listener(srv.Listener)
	srv.Config.ConnState = conns.ConnState
	srv.Config.ConnContext = conns.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns
}

func dialServer(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// isClosed reports whether the server closed c, waiting up to 10 s.
func isClosed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	return !isTimeout(err)
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func TestConnsShedTheLongestWaiting(t *testing.T) {
	t.Parallel()
	srv, conns := startCapped(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	oldest := dialServer(t, srv)
	io.WriteString(oldest, "GET / HTTP/1.1\r\n") // half a request
	time.Sleep(50 * time.Millisecond)            // accepted in this order
	second := dialServer(t, srv)
	time.Sleep(50 * time.Millisecond)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with the cap reached by two waiting connections: %v", err)
	}
	resp.Body.Close()
	if !isClosed(oldest) {
		t.Error("the connection waiting longest is still open, want it shed")
	}
	second.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := second.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("the second connection: read = %v, want it still open", err)
	}
	if got := conns.shed.Load(); got != 1 {
		t.Errorf("shed = %d, want 1", got)
	}
}

func TestConnsRefuseWhenEveryConnectionIsBusy(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	srv, conns := startCapped(t, 2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "ok")
	}))
	busy := make([]net.Conn, 2)
	for i := range busy {
		busy[i] = dialServer(t, srv)
		io.WriteString(busy[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		<-started
	}
	refused := dialServer(t, srv)
	if !isClosed(refused) {
		t.Error("a third connection while two requests are in progress is open, want it refused")
	}
	if got := conns.refused.Load(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
	close(release)
	for i, c := range busy {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 200)
		n, _ := io.ReadAtLeast(c, buf, 1)
		if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
			t.Errorf("busy connection %d got %q, want its answer", i, buf[:n])
		}
	}
	if got := conns.Open(); got != 2 {
		t.Errorf("Open() = %d, want 2 (the two busy ones, now idle)", got)
	}
}

func TestConnsShedTheLongestDrippingBody(t *testing.T) {
	t.Parallel()
	door := &Door{Name: "rest", MaxBody: 1 << 20, Error: RESTError,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				RESTError(w, http.StatusBadRequest, "the body could not be read")
				return
			}
			io.WriteString(w, "ok")
		})}
	e := New(Config{Handler: door, Default: door, Logger: slog.New(slog.DiscardHandler)})
	srv, conns := startCapped(t, 2, e)

	drippers := make([]net.Conn, 2)
	for i := range drippers {
		drippers[i] = dialServer(t, srv)
		io.WriteString(drippers[i], "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
		waitFor(t, func() bool { return conns.countReading() == i+1 })
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with the cap reached by two requests dripping their bodies: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET: status %d, want 200", resp.StatusCode)
	}
	if !isClosed(drippers[0]) {
		t.Error("the request reading its body longest is still open, want it shed")
	}
	drippers[1].SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := drippers[1].Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("the second dripping request: read = %v, want it still open", err)
	}
	io.WriteString(drippers[1], strings.Repeat(" ", 98)+"}")
	drippers[1].SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 200)
	n, _ := io.ReadAtLeast(drippers[1], buf, 1)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Errorf("the second dripping request, its body complete, got %q, want its answer", buf[:n])
	}
	if got := conns.countReading(); got != 0 {
		t.Errorf("%d connections still counted as reading a body, want 0", got)
	}
}

// countReading returns how many connections read a request body.
func (c *Conns) countReading() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for tc := c.reading.head; tc != nil; tc = tc.next {
		n++
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10 s")
		}
	}
}
