package authn

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// A shard holds the entries of the hashes that fall to it, under one lock:
// an open-addressing index (linear probing) from a hash to the entry, the
// entries of known credentials in fixed chunks, evicted by CLOCK (a second
// chance for each entry read since the hand last passed: an approximation of
// least recently used that readers can maintain under the read lock), and a
// ring of unknown hashes, which evict only each other, so a flood of made-up
// keys cannot push out the keys in use.
//
// Everything is stored compactly, without a pointer per entry but the
// value's and the tag set's, because a cache may hold millions of entries.
type shard[V any] struct {
	c  *Cache[V]
	mu sync.RWMutex
	// hits and misses count Gets answered from memory and from the store,
	// per shard so that cores do not fight over one counter.
	hits, misses atomic.Uint64

	// cells is the index: 0 is empty, k > 0 the known entry k-1, k < 0 the
	// unknown entry -k-1. Its length is a power of two.
	cells []int32
	// used counts the cells in use.
	used int

	// chunks hold the known entries; entry i is chunks[i/chunkLen][i%chunkLen].
	chunks [][]entry[V]
	// high is how many entries were ever handed out; live how many hold a
	// credential now; free lists the others below high.
	high, live int
	free       []int32
	hand       int // the CLOCK hand

	unknown     []unknownEntry
	unknownHand int

	// gen counts the invalidations of this shard's hashes (and clears). A
	// lookup notes it before reading the store and its answer is cached only
	// if it did not move, so an answer read before a change is never cached
	// after it.
	gen uint64
	// flights are the store lookups in progress, so that concurrent misses
	// on one hash make one lookup.
	flights map[Hash]*flight[V]
	// unsaved are uses of entries removed before their use was flushed.
	unsaved []Use

	_ [64]byte // keeps neighbouring shards' locks off one cache line
}

// chunkLen is the number of entries allocated at a time.
const chunkLen = 1024

// entry is a known credential: 48 bytes with a pointer value.
type entry[V any] struct {
	h0, h1 uint64 // the first 16 bytes of the hash
	value  V
	tags   *tagSet
	// meta holds the expiry (seconds of the cache's clock; 0 for a free
	// entry) in its low 31 bits and the CLOCK reference bit in its top bit,
	// which readers set under the read lock.
	meta atomic.Uint32
	// used is the Unix minute of the last use recorded, with unflushed set
	// until it is flushed.
	used uint32
	// from numbers the client address of that use in the cache's address
	// table; 0 when unknown.
	from uint32
}

const (
	referenced = 1 << 31
	expiryMask = referenced - 1
	unflushed  = 1 << 31
	minuteMask = unflushed - 1
)

// unknownEntry is a hash no credential has; expires 0 is a free entry.
type unknownEntry struct {
	h0, h1  uint64
	expires uint32
}

// flight is a store lookup in progress; its result is set before done is
// closed.
type flight[V any] struct {
	done  chan struct{}
	value V
	err   error
}

func newShard[V any](c *Cache[V], unknownCapacity int) *shard[V] {
	return &shard[V]{
		c:       c,
		cells:   make([]int32, 64),
		unknown: make([]unknownEntry, 0, min(unknownCapacity, 1024)),
		flights: map[Hash]*flight[V]{},
	}
}

// split returns the parts of a hash an entry keeps.
func split(h *Hash) (h0, h1 uint64) {
	return leUint64(h[0:8]), leUint64(h[8:16])
}

func leUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// mix spreads a hash over the index with a per-cache secret seed, so that
// no one can make up keys that crowd one part of the index (the hash's own
// bits are chosen by whoever makes up the key).
func mix(h0, h1 uint64, seed [2]uint64) uint64 {
	hi, lo := bits.Mul64(h0^seed[0], h1^seed[1])
	return hi ^ lo
}

func (s *shard[V]) entry(i int32) *entry[V] {
	return &s.chunks[i/chunkLen][i%chunkLen]
}

// find returns the position in cells of the hash, or -1.
func (s *shard[V]) find(m, h0, h1 uint64) int {
	mask := len(s.cells) - 1
	for pos := int(m) & mask; ; pos = (pos + 1) & mask {
		c := s.cells[pos]
		switch {
		case c == 0:
			return -1
		case c > 0:
			if e := s.entry(c - 1); e.h0 == h0 && e.h1 == h1 {
				return pos
			}
		default:
			if u := &s.unknown[-c-1]; u.h0 == h0 && u.h1 == h1 {
				return pos
			}
		}
	}
}

// keyOf returns the mixed hash of the entry in cell c.
func (s *shard[V]) keyOf(c int32) uint64 {
	if c > 0 {
		e := s.entry(c - 1)
		return mix(e.h0, e.h1, s.c.seed)
	}
	u := &s.unknown[-c-1]
	return mix(u.h0, u.h1, s.c.seed)
}

// insertCell adds cell c for the mixed hash m, which is not in the index.
func (s *shard[V]) insertCell(m uint64, c int32) {
	if (s.used+1)*4 > len(s.cells)*3 {
		s.grow()
	}
	mask := len(s.cells) - 1
	pos := int(m) & mask
	for s.cells[pos] != 0 {
		pos = (pos + 1) & mask
	}
	s.cells[pos] = c
	s.used++
}

func (s *shard[V]) grow() {
	old := s.cells
	s.cells = make([]int32, 2*len(old))
	mask := len(s.cells) - 1
	for _, c := range old {
		if c == 0 {
			continue
		}
		pos := int(s.keyOf(c)) & mask
		for s.cells[pos] != 0 {
			pos = (pos + 1) & mask
		}
		s.cells[pos] = c
	}
}

// deleteCell empties position pos, shifting back the cells after it that
// probed past it, so that no lookup stops early (no tombstones).
func (s *shard[V]) deleteCell(pos int) {
	mask := len(s.cells) - 1
	s.cells[pos] = 0
	s.used--
	for next := (pos + 1) & mask; s.cells[next] != 0; next = (next + 1) & mask {
		home := int(s.keyOf(s.cells[next])) & mask
		// The cell at next may move to pos unless its home lies cyclically
		// in (pos, next].
		if (next > pos && (home <= pos || home > next)) || (next < pos && home <= pos && home > next) {
			s.cells[pos], s.cells[next] = s.cells[next], 0
			pos = next
		}
	}
}

// positionOf returns the position of cell c in the index.
func (s *shard[V]) positionOf(c int32) int {
	mask := len(s.cells) - 1
	pos := int(s.keyOf(c)) & mask
	for s.cells[pos] != c {
		pos = (pos + 1) & mask
	}
	return pos
}

// allocate returns a free known entry, under the write lock. When the cache
// holds Size known entries, it evicts one of the shard's. The bound is the
// cache's, not each shard's, so that a cache of Size holds Size keys however
// they spread; shards racing past it may overshoot it by one entry each.
func (s *shard[V]) allocate(now uint32) int32 {
	if s.c.known.Load() < int64(s.c.cfg.Size) || s.live == 0 {
		if n := len(s.free); n > 0 {
			i := s.free[n-1]
			s.free = s.free[:n-1]
			return i
		}
		if s.high%chunkLen == 0 {
			s.chunks = append(s.chunks, make([]entry[V], min(chunkLen, s.c.cfg.Size)))
		}
		s.high++
		return int32(s.high - 1)
	}
	// CLOCK: the first entry not read since the hand last passed it goes;
	// expired and dead entries go first. Two turns at most.
	for {
		i := int32(s.hand)
		s.hand = (s.hand + 1) % s.high
		e := s.entry(i)
		meta := e.meta.Load()
		switch {
		case meta == 0: // free
			continue
		case meta&referenced != 0 && meta&expiryMask > now && !e.tags.isDead():
			e.meta.Store(meta &^ referenced)
			continue
		}
		s.removeKnown(i)
		return i
	}
}

// removeKnown empties known entry i, under the write lock: out of the
// index, its tags released, its unflushed use kept for the next flush.
func (s *shard[V]) removeKnown(i int32) {
	e := s.entry(i)
	s.deleteCell(s.positionOf(i + 1))
	s.keepUse(e)
	s.c.tags.release(e.tags)
	*e = entry[V]{}
	s.live--
	s.c.known.Add(-1)
}

// keepUse keeps the unflushed use of an entry about to be removed.
func (s *shard[V]) keepUse(e *entry[V]) {
	if e.used&unflushed == 0 || s.c.cfg.UseID == nil {
		return
	}
	if id := s.c.cfg.UseID(e.value); id != "" {
		s.unsaved = append(s.unsaved, Use{ID: id, At: minuteTime(e.used), From: s.c.addrs.addr(e.from)})
	}
}

// putUnknown remembers the hash as unknown until expires, evicting the
// oldest unknown hash if the shard holds its share, under the write lock.
func (s *shard[V]) putUnknown(m, h0, h1 uint64, expires uint32, capacity int) {
	var i int
	if len(s.unknown) < capacity {
		s.unknown = append(s.unknown, unknownEntry{})
		i = len(s.unknown) - 1
	} else {
		i = s.unknownHand
		s.unknownHand = (s.unknownHand + 1) % len(s.unknown)
		if s.unknown[i].expires != 0 {
			s.deleteCell(s.positionOf(int32(-i - 1)))
		}
	}
	s.unknown[i] = unknownEntry{h0: h0, h1: h1, expires: expires}
	s.insertCell(m, int32(-i-1))
}

// removeUnknown forgets unknown entry i, under the write lock.
func (s *shard[V]) removeUnknown(i int) {
	s.deleteCell(s.positionOf(int32(-i - 1)))
	s.unknown[i] = unknownEntry{}
}
