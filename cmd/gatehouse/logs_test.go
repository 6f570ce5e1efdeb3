package main

import (
	"bytes"
	"context"
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
	logger, logs, err := newLogger("json", out)
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
	if _, _, err := newLogger("yaml", out); err == nil {
		t.Error(`newLogger("yaml") succeeded, want a usage error`)
	}
}
