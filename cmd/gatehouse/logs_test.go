package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/edge"
)

// lockedWriter is a bytes.Buffer safe for the flusher's goroutine.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *lockedWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Split(strings.TrimSpace(w.buf.String()), "\n")
}

func TestAccessLogIsBufferedOtherLinesAreNot(t *testing.T) {
	t.Parallel()
	out := &lockedWriter{}
	logger, logs, err := newLogger("json", "info", out)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		logger.Info(edge.AccessLogMessage, "status", 200)
	}
	if out.buf.Len() != 0 {
		t.Fatalf("access log lines were written before a flush: %q", out.buf.String())
	}
	logger.With("request_id", "r1").Warn("database failing")
	lines := out.lines()
	if len(lines) != 4 || !strings.Contains(lines[3], "database failing") {
		t.Fatalf("after a warning, written %q; want the 3 access lines, then the warning", lines)
	}
	logger.Info(edge.AccessLogMessage, "status", 404)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { logs.Run(ctx); close(done) }()
	cancel()
	<-done
	if lines := out.lines(); len(lines) != 5 || !strings.Contains(lines[4], "404") {
		t.Errorf("after the flusher stopped, written %q; want the last access line too", lines)
	}
	if _, _, err := newLogger("yaml", "info", out); err == nil {
		t.Error(`newLogger("yaml") succeeded, want a usage error`)
	}
}

func TestLogLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level string
		want  string // the messages written of debug, info, warn, error
	}{
		{"debug", "d i w e"},
		{"info", "i w e"},
		{"WARN", "w e"},
		{"error", "e"},
	} {
		var out bytes.Buffer
		logger, logs, err := newLogger("text", tc.level, &out)
		if err != nil {
			t.Fatalf("newLogger(%q): %v", tc.level, err)
		}
		logger.Debug("d")
		logger.Info("i")
		logger.Warn("w")
		logger.Error("e")
		logs.Flush()
		var got []string
		for _, m := range regexp.MustCompile(`msg=(\w)`).FindAllStringSubmatch(out.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("--log-level %s wrote %q, want %q", tc.level, got, tc.want)
		}
	}
}
