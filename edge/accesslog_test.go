package edge

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"
)

// slogLine is what log/slog writes for the same line: the format
// appendAccessLine must keep.
func slogLine(l *AccessLine, json bool) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	r := slog.NewRecord(l.Time, slog.LevelInfo, AccessLogMessage, 0)
	client := ""
	if l.Client.IsValid() {
		client = l.Client.String()
	}
	r.AddAttrs(slog.String("request_id", l.RequestID), slog.String("method", l.Method), slog.String("path", logPath(l.Path)),
		slog.Int("status", l.Status), slog.Duration("duration", l.Duration), slog.Int64("bytes", l.Bytes),
		slog.String("door", l.Door), slog.String("client", client))
	if l.Route != "" {
		r.AddAttrs(slog.String("route", l.Route))
	}
	if l.Credential != "" {
		r.AddAttrs(slog.String("credential", l.Credential), slog.String("last4", l.Last4))
	}
	if l.AuthFailure != "" {
		r.AddAttrs(slog.String("auth_failure", l.AuthFailure))
	}
	if l.Aborted {
		r.AddAttrs(slog.Bool("aborted", true))
	}
	h.Handle(context.Background(), r)
	return buf.String()
}

func TestAccessLineIsSlogs(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 6, 42, 39, 123456789, time.UTC)
	base := AccessLine{Time: at, RequestID: "0123456789abcdef", Method: "GET", Path: "/abilities", Status: 200,
		Duration: 1234567 * time.Nanosecond, Bytes: 77, Door: "rest", Client: netip.MustParseAddr("192.0.2.1"),
		Route: "GET /abilities", Credential: "general access key", Last4: "x_+-"}
	lines := []AccessLine{base}
	for _, path := range []string{"/a b", `/"quoted"`, "/a=b", "/\xff\xfe", "/\n\r\t\x00\x1f\x7f", "/東京/é", "/\u2028", `/back\slash`, ""} {
		l := base
		l.Path = path
		lines = append(lines, l)
	}
	failed := base
	failed.Route, failed.Credential, failed.Last4, failed.AuthFailure, failed.Status, failed.Aborted = "", "", "", "unknown_key", 401, true
	failed.Client = netip.Addr{}
	v6 := base
	v6.Client = netip.MustParseAddr("2001:db8::1")
	lines = append(lines, failed, v6)
	for _, l := range lines {
		for _, json := range []bool{true, false} {
			got := string(appendAccessLine(nil, &l, json))
			if want := slogLine(&l, json); got != want {
				t.Errorf("json=%t, path %q:\n got %s\nwant %s", json, l.Path, got, want)
			}
		}
	}
}

func BenchmarkAccessLine(b *testing.B) {
	l := AccessLine{Time: time.Now(), RequestID: "0123456789abcdef0123456789abcdef", Method: "GET", Path: "/abilities", Status: 200,
		Duration: time.Millisecond, Bytes: 77, Door: "rest", Client: netip.MustParseAddr("192.0.2.1"),
		Route: "GET /abilities", Credential: "general access key", Last4: "x_+-"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendAccessLine(buf[:0], &l, true)
	}
}
