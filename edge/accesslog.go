package edge

import (
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// AccessLine is one request's access log line: never a secret, only the
// credential's kind and last four characters.
type AccessLine struct {
	Time        time.Time
	RequestID   string
	Method      string
	Path        string
	Status      int
	Duration    time.Duration
	Bytes       int64
	Door        string
	Client      netip.Addr
	Route       string
	Credential  string
	Last4       string
	AuthFailure string
	Aborted     bool
}

// accessLineBuffers hold lines while they are formatted.
var accessLineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendAccessLine formats l as log/slog's JSON or text handler would
// format the same record (level INFO, message AccessLogMessage), without its
// allocations and its copy of every attribute: there is one line a request.
func appendAccessLine(b []byte, l *AccessLine, json bool) []byte {
	f := lineFormat{b: b, json: json}
	if json {
		f.b = append(f.b, '{')
	}
	f.time("time", l.Time)
	f.str("level", "INFO")
	f.str("msg", AccessLogMessage)
	f.str("request_id", l.RequestID)
	f.str("method", l.Method)
	f.str("path", logPath(l.Path))
	f.int("status", int64(l.Status))
	f.duration("duration", l.Duration)
	f.int("bytes", l.Bytes)
	f.str("door", l.Door)
	f.addr("client", l.Client)
	if l.Route != "" {
		f.str("route", l.Route)
	}
	if l.Credential != "" {
		f.str("credential", l.Credential)
		f.str("last4", l.Last4)
	}
	if l.AuthFailure != "" {
		f.str("auth_failure", l.AuthFailure)
	}
	if l.Aborted {
		f.key("aborted")
		f.b = append(f.b, "true"...)
	}
	if json {
		f.b = append(f.b, '}')
	}
	return append(f.b, '\n')
}

// lineFormat appends the attributes of one line, JSON or text.
type lineFormat struct {
	b     []byte
	json  bool
	count int
}

func (f *lineFormat) key(k string) {
	if f.count > 0 {
		if f.json {
			f.b = append(f.b, ',')
		} else {
			f.b = append(f.b, ' ')
		}
	}
	f.count++
	if f.json {
		f.b = append(f.b, '"')
		f.b = append(f.b, k...)
		f.b = append(f.b, '"', ':')
	} else {
		f.b = append(f.b, k...)
		f.b = append(f.b, '=')
	}
}

func (f *lineFormat) str(k, v string) {
	f.key(k)
	switch {
	case f.json:
		f.b = appendJSONString(f.b, v)
	case needsQuoting(v):
		f.b = strconv.AppendQuote(f.b, v)
	default:
		f.b = append(f.b, v...)
	}
}

func (f *lineFormat) int(k string, v int64) {
	f.key(k)
	f.b = strconv.AppendInt(f.b, v, 10)
}

func (f *lineFormat) time(k string, t time.Time) {
	f.key(k)
	if f.json {
		// slog's JSON handler writes every digit; its text handler, the
		// milliseconds.
		f.b = append(f.b, '"')
		f.b = t.AppendFormat(f.b, time.RFC3339Nano)
		f.b = append(f.b, '"')
		return
	}
	f.b = t.AppendFormat(f.b, "2006-01-02T15:04:05.000Z07:00")
}

// duration is written as slog writes one: nanoseconds in JSON, Go's
// notation in text.
func (f *lineFormat) duration(k string, d time.Duration) {
	if f.json {
		f.int(k, int64(d))
		return
	}
	f.key(k)
	f.b = append(f.b, d.String()...)
}

func (f *lineFormat) addr(k string, a netip.Addr) {
	if !a.IsValid() {
		f.str(k, "")
		return
	}
	f.key(k)
	if f.json {
		f.b = append(f.b, '"')
	}
	f.b = a.AppendTo(f.b)
	if f.json {
		f.b = append(f.b, '"')
	}
}

// needsQuoting reports whether a text value must be quoted, as slog's text
// handler decides: empty, or holding a space, '=', '"', or a character that
// is not printable.
func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8, as encoding/json does (without HTML
// escaping, as slog's JSON handler).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
