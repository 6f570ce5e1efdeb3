package fault

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
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
