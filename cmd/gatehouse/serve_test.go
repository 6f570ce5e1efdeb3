package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func TestRedisURLErrorsHidePassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"redis://user:s3cretpass@host:port/0",
		"redis://user:s3cretpass@127.0.0.1:6379/abc",
		"redis://:s3cretpass@127.0.0.1:6379/0/extra",
		"redis://user:s3cret/pass@127.0.0.1:6379/0",
		"redis://user:s3cret%zzpass@127.0.0.1:6379/0",
		"redis://user:s3cretpass@[::1/0",
		"rediss://user:s3cretpass@host:6379?dial_timeout=soon",
		"http://user:s3cretpass@127.0.0.1:6379/0",
	} {
		_, stderr, code := runCLI(t, "serve", "--data-dir", t.TempDir(), "--redis-url", url)
		if code != 2 || !strings.Contains(stderr, "--redis-url") {
			t.Errorf("serve --redis-url %s: exit %d, %q; want 2 and a message about --redis-url", url, code, stderr)
		}
		if strings.Contains(stderr, "s3cret") || strings.Contains(stderr, "pass@") {
			t.Errorf("serve --redis-url %s printed the password: %q", url, stderr)
		}
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

var jsonListeningLine = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// startJSONServer is startServer with --log-format json.
func startJSONServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...), noEnv, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() { s.shutdown(t) })
	for range 3000 {
		if m := jsonListeningLine.FindStringSubmatch(s.stderr.String()); m != nil {
			s.URL = "http://" + m[1]
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve ended before listening: %v\nstderr:\n%s", err, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen within 30s; stderr:\n%s", s.stderr)
	return nil
}

func TestRedisClientLogsInServerFormat(t *testing.T) {
	t.Parallel()
	s := startJSONServer(t, "--data-dir", t.TempDir(), "--redis-url", "redis://"+freePort(t)+"/0", "--log-level", "debug")
	key := regexp.MustCompile(`REST API key:\s+(\S+)`).FindStringSubmatch(s.stdout.String())
	if key == nil {
		t.Fatalf("no key printed:\n%s", s.stdout)
	}
	// Redis is down: the request is limited in memory, and go-redis
	// complains, at debug level.
	if code, body := getWithKey(t, s.URL+"/abilities", key[1]); code != http.StatusOK {
		t.Fatalf("GET /abilities with Redis down = %d %s, want 200", code, body)
	}
	if err := s.shutdown(t); err != nil {
		t.Fatal(err)
	}
	var sawRedis bool
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("with --log-format json, log line %q is not JSON", line)
			continue
		}
		if entry["msg"] == "redis client" && strings.Contains(entry["detail"].(string), "dial") {
			sawRedis = true
		}
	}
	if !sawRedis {
		t.Errorf("no JSON line with msg \"redis client\" and go-redis's dial error; log:\n%s", s.stderr)
	}
}

func TestBootstrapHashesOnlyWhatIsStored(t *testing.T) {
	t.Parallel()
	storetest.EachStore(t, func(t *testing.T, store *sqlstore.Store) {
		t.Parallel()
		cfg := serveConfig{ownerEmail: "owner@example.com", externalURL: "http://gatehouse.test"}
		var hashes int
		hash := func(pass string) string {
			hashes++
			return "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$" + pass
		}
		for i, want := range []struct {
			hashes  int
			printed bool
		}{{1, true}, {1, false}} {
			var out bytes.Buffer
			if err := bootstrap(context.Background(), store, cfg, hash, &out); err != nil {
				t.Fatalf("bootstrap #%d: %v", i+1, err)
			}
			if hashes != want.hashes || strings.Contains(out.String(), "REST API key:") != want.printed {
				t.Errorf("after bootstrap #%d: %d passwords hashed, printed %q; want %d hashed, credentials printed %v",
					i+1, hashes, out.String(), want.hashes, want.printed)
			}
		}
	})
}

func TestServeBadLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--read-timeout", "0s"}, "--read-timeout must be more than 0"},
		{[]string{"--write-timeout", "-1s"}, "--write-timeout must be more than 0"},
		{[]string{"--shutdown-timeout", "0"}, "--shutdown-timeout must be more than 0"},
		{[]string{"--read-header-timeout", "soon"}, "invalid value"},
		{[]string{"--max-header-bytes", "100"}, "--max-header-bytes must be at least 1024"},
		{[]string{"--max-connections", "-1"}, "--max-connections must be 0"},
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, `--trusted-proxies: "proxy.internal" is not a CIDR`},
		{[]string{"--log-level", "loud"}, `--log-level must be debug, info, warn or error, not "loud"`},
		{[]string{"--log-level", "info+2"}, `--log-level must be debug, info, warn or error, not "info+2"`},
	} {
		args := append([]string{"serve", "--data-dir", t.TempDir()}, tc.args...)
		_, stderr, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %s: exit %d, %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

var metricsListeningLine = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	both := startServer(t, "--data-dir", t.TempDir())
	if code, body := get(t, both.URL+"/metrics"); code != http.StatusOK || !strings.Contains(body, "gatehouse_connections_open") {
		t.Errorf("GET /metrics without --metrics-addr = %d, want 200 and the metrics", code)
	}

	apart := startServer(t, "--data-dir", t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	m := metricsListeningLine.FindStringSubmatch(apart.stderr.String())
	if m == nil {
		t.Fatalf("no %q line; stderr:\n%s", "serving metrics", apart.stderr)
	}
	metricsURL := "http://" + m[1]
	if code, _ := get(t, apart.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	if code, _ := get(t, apart.URL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on --addr with --metrics-addr set = %d, want 404", code)
	}
	code, body := get(t, metricsURL+"/metrics")
	if want := `gatehouse_http_requests_total{door="ops",route="GET /healthz",status="200"} 1`; code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("GET /metrics on --metrics-addr = %d, want 200 and %s in:\n%s", code, want, body)
	}
	if code, _ := get(t, metricsURL+"/healthz"); code != http.StatusNotFound {
		t.Errorf("GET /healthz on --metrics-addr = %d, want 404", code)
	}
}

func TestMetricsAddrTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	_, stderr, code := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", ln.Addr().String())
	if code != 1 || !strings.Contains(stderr, "listen for metrics") {
		t.Errorf("serve --metrics-addr on a taken port: exit %d, %q (after %v); want 1 and a listen error", code, stderr, time.Since(start))
	}
}

// TestMetricsNameTheInsides: /metrics shows the credential cache, the change
// feed and the store, not only the requests.
func TestMetricsNameTheInsides(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--data-dir", t.TempDir())
	key := regexp.MustCompile(`REST API key:\s+(\S+)`).FindStringSubmatch(s.stdout.String())[1]
	use := func() {
		req, _ := http.NewRequest("GET", s.URL+"/abilities", nil)
		req.Header.Set("Authorization", "Token token="+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The first use misses; once the feed has been read, uses hit.
	hits := regexp.MustCompile(`(?m)^gatehouse_rest_key_cache_hits_total [1-9]`)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		use()
		if _, body := get(t, s.URL+"/metrics"); hits.MatchString(body) {
			break
		}
	}
	_, body := get(t, s.URL+"/metrics")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^gatehouse_rest_key_cache_misses_total [1-9]`),
		regexp.MustCompile(`(?m)^gatehouse_rest_key_cache_hits_total [1-9]`),
		regexp.MustCompile(`(?m)^gatehouse_rest_key_cache_entries 1$`),
		regexp.MustCompile(`(?m)^gatehouse_change_feed_lag_seconds 0\.`),
		regexp.MustCompile(`(?m)^gatehouse_store_unavailable_total 0$`),
		regexp.MustCompile(`(?m)^gatehouse_store_retries_total \d`),
		regexp.MustCompile(`(?m)^gatehouse_events_written_total 0$`),
		regexp.MustCompile(`(?m)^gatehouse_events_pending 0$`),
	} {
		if !want.MatchString(body) {
			t.Errorf("/metrics has no line matching %s", want)
		}
	}
}

// TestFailedAuthLimit: an address that keeps sending made-up keys is told to
// come back later (429, Retry-After) once --failed-auth-limit is spent.
func TestFailedAuthLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--data-dir", t.TempDir(), "--failed-auth-limit", "3")
	var statuses []int
	var retryAfter string
	for i := range 5 {
		req, _ := http.NewRequest("GET", s.URL+"/abilities", nil)
		req.Header.Set("Authorization", fmt.Sprintf("Token token=a+madeUpKey%09d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		retryAfter = resp.Header.Get("Retry-After")
	}
	if want := []int{401, 401, 401, 429, 429}; !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
	if n, err := strconv.Atoi(retryAfter); err != nil || n < 1 || n > 20 {
		t.Errorf("Retry-After = %q, want the seconds until one more try (20 at 3 a minute)", retryAfter)
	}
}
