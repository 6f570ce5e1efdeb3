package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/edge"
)

// The access log's lines are buffered and written together, every
// logFlushEvery or when logBufferSize is reached, rather than one write a
// request: a write costs more than the rest of a small request's work on the
// server. Every other line is written at once, and flushes the lines before
// it.
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

// newLogger returns the server's logger in format from level up, writing
// to w, and its flusher, which the caller runs until the server stops.
func newLogger(format, level string, w io.Writer) (*slog.Logger, *logBuffer, error) {
	var lowest slog.Level
	if err := lowest.UnmarshalText([]byte(level)); err != nil || !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(level)) {
		return nil, nil, usagef("--log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lowest}
	buf := &logBuffer{out: w}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(buf, opts)
	case "json":
		h = slog.NewJSONHandler(buf, opts)
	default:
		return nil, nil, usagef("--log-format must be text or json, not %q", format)
	}
	return slog.New(flushingHandler{h, buf}), buf, nil
}

// logBuffer holds whole log lines (each Write of a slog handler is one)
// until Flush writes them in one go.
type logBuffer struct {
	mu  sync.Mutex
	out io.Writer
	buf []byte
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) >= logBufferSize {
		b.flushLocked()
	}
	return len(p), nil
}

// Flush writes the buffered lines.
func (b *logBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *logBuffer) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	b.out.Write(b.buf) // nowhere to report a failing stderr
	b.buf = b.buf[:0]
}

// Run flushes the buffer every logFlushEvery until ctx ends, then once more.
func (b *logBuffer) Run(ctx context.Context) {
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.Flush()
			return
		case <-t.C:
			b.Flush()
		}
	}
}

// flushingHandler flushes the log buffer after every line but the access
// log's, so that warnings and errors are written at once, in order.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level != slog.LevelInfo || r.Message != edge.AccessLogMessage {
		h.buf.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
