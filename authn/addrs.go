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

// id returns the number of addr; 0 for the zero Addr.
func (t *addrTable) id(addr netip.Addr) uint32 {
	if !addr.IsValid() {
		return 0
	}
	a := addr.Unmap().WithZone("")
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
