package authn

import (
	"net/netip"
	"sync"
)

// addrTable numbers the client addresses of recorded uses, so that an entry
// keeps 4 bytes for its last use's address instead of 16. A number is good
// until the table fills and starts again (a new generation): a use recorded
// before then and not yet flushed loses its address, not its time.
type addrTable struct {
	mu    sync.Mutex
	ids   map[netip.Addr]uint32
	addrs []netip.Addr
	gen   uint32
}

const (
	// addrBits is the bits of a number that index the table; the others
	// hold its generation.
	addrBits = 20
	addrMask = 1<<addrBits - 1
)

// id returns the number of addr ("ip" or "ip:port"); 0 when it is not an IP
// address.
func (t *addrTable) id(addr string) uint32 {
	a := parseAddr(addr)
	if !a.IsValid() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[a]; ok {
		return id
	}
	if t.ids == nil || len(t.addrs) == addrMask {
		t.ids, t.addrs, t.gen = map[netip.Addr]uint32{}, nil, t.gen+1
	}
	t.addrs = append(t.addrs, a)
	id := t.gen<<addrBits | uint32(len(t.addrs))
	t.ids[a] = id
	return id
}

// addr returns the address numbered id; the zero Addr when it is unknown or
// of a past generation.
func (t *addrTable) addr(id uint32) netip.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == 0 || id>>addrBits != t.gen&(1<<(32-addrBits)-1) {
		return netip.Addr{}
	}
	return t.addrs[id&addrMask-1]
}

// parseAddr returns addr, with or without a port, without an IPv4-in-IPv6
// prefix or a zone; the zero Addr when it is not an IP address.
func parseAddr(addr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}
