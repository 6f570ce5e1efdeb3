package storetest

import (
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// Proxy is a loopback TCP proxy in front of a database server, which a test
// pauses to make the database hang, or drops to make it go away, and then
// resumes. Tests of other packages may use it for any TCP server.
type Proxy struct {
	// Addr is the host:port clients dial instead of the server's.
	Addr   string
	target string

	mu       sync.Mutex
	ln       net.Listener          // nil while dropped
	conns    map[net.Conn]struct{} // both ends of every proxied connection
	resumed  chan struct{}         // closed on Resume; nil while bytes flow
	closed   bool
	accepted sync.WaitGroup // accept loops and pipes
}

// NewProxy starts a proxy to target (host:port) on a free loopback port. It
// is closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.accepted.Go(func() { p.accept(ln) })
	t.Cleanup(p.Close)
	return p
}

// Pause stops every byte in both directions, on open connections and on new
// ones, which are accepted but get no answer: the server seems to hang.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resumed == nil {
		p.resumed = make(chan struct{})
	}
}

// Drop closes every connection and stops listening, so that new
// connections are refused: the server seems gone.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// Resume undoes Pause and Drop: held bytes flow again, and the proxy
// listens again on Addr.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resumed != nil {
		close(p.resumed)
		p.resumed = nil
	}
	if p.ln == nil && !p.closed {
		ln, err := net.Listen("tcp", p.Addr)
		if err != nil {
			panic("proxy: listen again on " + p.Addr + ": " + err.Error())
		}
		p.ln = ln
		p.accepted.Go(func() { p.accept(ln) })
	}
}

// Close stops the proxy and closes every connection, and returns when all
// its goroutines have ended.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	if p.resumed != nil {
		close(p.resumed)
		p.resumed = nil
	}
	p.mu.Unlock()
	p.Drop()
	p.accepted.Wait()
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, server) {
			return
		}
		p.accepted.Go(func() { p.pipe(client, server) })
		p.accepted.Go(func() { p.pipe(server, client) })
	}
}

// track registers a new connection's two ends, or closes them and reports
// false if the proxy was dropped or closed meanwhile.
func (p *Proxy) track(client, server net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		client.Close()
		server.Close()
		return false
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	return true
}

// pipe copies from src to dst, holding what it read while the proxy is
// paused, until either end closes; then it closes both.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer func() {
		src.Close()
		dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			resumed := p.resumed
			p.mu.Unlock()
			if resumed != nil {
				<-resumed
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// PostgresBehindProxy returns the configuration of a fresh PostgreSQL
// database reached through a Proxy, and the proxy. It skips the test when
// PostgresURLVar is unset.
func PostgresBehindProxy(t testing.TB) (sqlstore.Config, *Proxy) {
	t.Helper()
	cfg := Config(t, "postgres")
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLVar, err)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr
	cfg.DatabaseURL = u.String()
	return cfg, p
}
