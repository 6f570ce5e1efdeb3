package fault

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTrackerLogsOnceAtStartAndOnceAtEnd(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(0, 0)
	tr := &Tracker{Logger: slog.New(slog.NewTextHandler(&logs, nil)), What: "database", Now: func() time.Time { return now }}
	tr.OK()
	for range 100 {
		tr.Fail(errors.New("connection refused"))
	}
	if !tr.Failing() {
		t.Fatal("Failing() = false after failures, want true")
	}
	now = now.Add(3 * time.Second)
	tr.OK()
	tr.OK()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "database failing") || !strings.Contains(lines[0], "connection refused") {
		t.Errorf("first line = %q, want the failure and its error", lines[0])
	}
	if !strings.Contains(lines[1], "database recovered") || !strings.Contains(lines[1], "after=3s") || !strings.Contains(lines[1], "failures=100") {
		t.Errorf("second line = %q, want the recovery with its length and count", lines[1])
	}
	if tr.Failing() {
		t.Error("Failing() = true after recovery, want false")
	}
}

// TestTrackerConcurrent: many goroutines failing and succeeding at once
// leave the log with whole pairs of lines and the tracker consistent.
func TestTrackerConcurrent(t *testing.T) {
	var logs syncBuffer
	tr := &Tracker{Logger: slog.New(slog.NewTextHandler(&logs, nil)), What: "database"}
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 1000 {
				if i%3 == 0 {
					tr.Fail(errors.New("refused"))
				} else {
					tr.OK()
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	tr.OK()
	if tr.Failing() {
		t.Fatal("Failing() = true after a final OK, want false")
	}
	failing, recovered := strings.Count(logs.String(), "database failing"), strings.Count(logs.String(), "database recovered")
	if failing == 0 || failing != recovered {
		t.Errorf("logged %d failing and %d recovered lines, want as many of each, at least one", failing, recovered)
	}
}

// BenchmarkTrackerOK is the cost of OK on a healthy dependency, which the
// store pays on every call.
func BenchmarkTrackerOK(b *testing.B) {
	tr := &Tracker{Logger: slog.New(slog.DiscardHandler), What: "database"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr.OK()
		}
	})
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
