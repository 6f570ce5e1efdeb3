package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-dev/gatehouse/fault"
	"github.com/gatehouse-dev/gatehouse/metrics"
)

// Conns caps a server's open connections below what the process may open,
// so that a flood of connections cannot take the file descriptors the
// database and Redis need. When the cap is reached, or the process is out of
// descriptors anyway, a new connection takes the place of the connection
// that has waited longest without a request in progress: one that has sent
// no complete request headers yet, or sits idle between requests; failing
// that, the one whose request has waited longest for its body, so that
// bodies dripped a byte at a time cannot hold every slot. Only when every
// connection has a request being served is the new one refused (closed at
// once). Wire Listener, ConnState and ConnContext into the http.Server; the
// Edge tells the cap when a request waits for its body.
type Conns struct {
	max    int
	logger *slog.Logger
	cap    fault.Tracker // the cap is reached and no connection can be shed
	fds    fault.Tracker // accept fails for want of file descriptors

	mu   sync.Mutex
	open int
	// waiting lists the connections without a request in progress, the
	// one waiting longest first; reading, those whose request reads its
	// body, the one reading longest first.
	waiting, reading connList

	shed, refused atomic.Int64
}

// NewConns returns a cap of max open connections.
func NewConns(max int, logger *slog.Logger) *Conns {
	return &Conns{
		max:    max,
		logger: logger,
		cap:    fault.Tracker{Logger: logger, What: "admitting connections"},
		fds:    fault.Tracker{Logger: logger, What: "accepting connections"},
	}
}

// Register adds the connection figures to m.
func (c *Conns) Register(m *metrics.Registry) {
	m.GaugeFunc("connections_open", "Client connections open.", func() float64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return float64(c.open)
	})
	m.GaugeFunc("connections_max", "The cap on open client connections (--max-connections).", func() float64 {
		return float64(c.max)
	})
	m.CounterFunc("connections_shed_total", "Connections without a request in progress closed to make room for new ones.", func() float64 {
		return float64(c.shed.Load())
	})
	m.CounterFunc("connections_refused_total", "New connections closed at once because every open connection had a request in progress.", func() float64 {
		return float64(c.refused.Load())
	})
}

// Listener returns ln counting and capping the connections it accepts.
func (c *Conns) Listener(ln net.Listener) net.Listener {
	return &cappedListener{Listener: ln, conns: c, closed: make(chan struct{})}
}

// ConnState is the http.Server's ConnState hook: it follows which
// connections have a request in progress.
func (c *Conns) ConnState(nc net.Conn, state http.ConnState) {
	tc, ok := nc.(*trackedConn)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc.released {
		return
	}
	tc.unlist()
	if state == http.StateNew || state == http.StateIdle {
		c.waiting.pushBack(tc)
	}
}

type connKey struct{}

// ConnContext is the http.Server's ConnContext hook: it lets the Edge find
// the connection of a request.
func (c *Conns) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	if tc, ok := nc.(*trackedConn); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// connOf returns the capped connection a request came on, nil if none.
func connOf(ctx context.Context) *trackedConn {
	tc, _ := ctx.Value(connKey{}).(*trackedConn)
	return tc
}

// admit counts nc in, shedding a waiting connection if the cap is reached;
// it returns nil, having closed nc, when nothing can be shed.
func (c *Conns) admit(nc net.Conn) net.Conn {
	c.mu.Lock()
	if c.open >= c.max && !c.shedOldestLocked() {
		c.mu.Unlock()
		c.refused.Add(1)
		nc.Close()
		c.cap.Fail(fmt.Errorf("all %d connections (--max-connections) have a request in progress; new ones are refused", c.max))
		return nil
	}
	c.open++
	tc := &trackedConn{Conn: nc, conns: c}
	c.mu.Unlock()
	c.cap.OK()
	return tc
}

// shedOldestLocked closes the connection that has waited longest without a
// request, and reports whether there was one. c.mu is held.
func (c *Conns) shedOldestLocked() bool {
	victim := c.waiting.head
	if victim == nil {
		victim = c.reading.head
	}
	if victim == nil {
		return false
	}
	c.releaseLocked(victim)
	c.shed.Add(1)
	// Closing only wakes the goroutine that serves it; net/http cleans up.
	victim.Conn.Close()
	return true
}

// release uncounts a closed connection, once.
func (c *Conns) release(tc *trackedConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked(tc)
}

func (c *Conns) releaseLocked(tc *trackedConn) {
	if tc.released {
		return
	}
	tc.released = true
	tc.unlist()
	c.open--
}

// Open returns the number of connections counted open.
func (c *Conns) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

type cappedListener struct {
	net.Listener
	conns     *Conns
	closeOnce sync.Once
	closed    chan struct{}
}

// Accept returns the next connection admitted. When the process is out of
// file descriptors it sheds a waiting connection and tries again, backing
// off up to a second, rather than let net/http log every failure.
func (l *cappedListener) Accept() (net.Conn, error) {
	backoff := 5 * time.Millisecond
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
				return nil, err
			}
			l.conns.fds.Fail(err)
			l.conns.mu.Lock()
			l.conns.shedOldestLocked()
			l.conns.mu.Unlock()
			timer := time.NewTimer(backoff)
			select {
			case <-l.closed:
				timer.Stop()
				return nil, net.ErrClosed
			case <-timer.C:
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		l.conns.fds.OK()
		backoff = 5 * time.Millisecond
		if tc := l.conns.admit(nc); tc != nil {
			return tc, nil
		}
	}
}

func (l *cappedListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// trackedConn is a connection the cap counts.
type trackedConn struct {
	net.Conn
	conns *Conns
	// released, list, prev and next are guarded by conns.mu.
	released bool
	// list is the list tc is in, nil if none.
	list       *connList
	prev, next *trackedConn
}

// readingBody notes that a request on tc started reading its body.
func (tc *trackedConn) readingBody() {
	c := tc.conns
	c.mu.Lock()
	defer c.mu.Unlock()
	if !tc.released && tc.list == nil {
		c.reading.pushBack(tc)
	}
}

// bodyRead notes that the request on tc stopped reading its body.
func (tc *trackedConn) bodyRead() {
	c := tc.conns
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc.list == &c.reading {
		tc.unlist()
	}
}

// unlist takes tc out of its list. conns.mu is held.
func (tc *trackedConn) unlist() {
	if tc.list != nil {
		tc.list.remove(tc)
	}
}

func (tc *trackedConn) Close() error {
	err := tc.Conn.Close()
	tc.conns.release(tc)
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before closing
// one whose request it did not read to its end.
func (tc *trackedConn) CloseWrite() error {
	if cw, ok := tc.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// connList is a doubly linked list of connections, oldest first.
type connList struct{ head, tail *trackedConn }

func (l *connList) pushBack(tc *trackedConn) {
	tc.prev, tc.next, tc.list = l.tail, nil, l
	if l.tail != nil {
		l.tail.next = tc
	} else {
		l.head = tc
	}
	l.tail = tc
}

func (l *connList) remove(tc *trackedConn) {
	if tc.list != l {
		return
	}
	if tc.prev != nil {
		tc.prev.next = tc.next
	} else {
		l.head = tc.next
	}
	if tc.next != nil {
		tc.next.prev = tc.prev
	} else {
		l.tail = tc.prev
	}
	tc.prev, tc.next, tc.list = nil, nil, nil
}

// fallbackMaxConns is the cap when the open-file limit is unknown or
// unlimited.
const fallbackMaxConns = 10_000
