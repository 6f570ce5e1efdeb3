package ratelimit

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// DefaultMaxAddrs is how many client addresses NewFailures tracks when told
// no number: about 5 MB at most.
const DefaultMaxAddrs = 100_000

const (
	// failSweepInterval is how often a full shard of Failures may look for
	// addresses whose failures have all lapsed, before it evicts one.
	failSweepInterval = int64(time.Second)
	// evictSample is how many addresses an eviction compares.
	evictSample = 8
)

// Failures limits failed authentications per client address, so that a
// client trying made-up credentials is answered 429 before its next try
// reaches the credential cache or the database. A door asks Blocked before
// it authenticates, and calls Fail when authentication fails:
//
//	if retry, blocked := failures.Blocked(addr, now); blocked {
//		// 429, Retry-After: retry rounded up to seconds
//	}
//	...
//	if unauthenticated {
//		failures.Fail(addr, now)
//	}
//
// An address may fail Limit.Rate times at once, then once every
// Limit.Period/Limit.Rate (the GCRA, as for requests). IPv4 addresses count
// one by one; IPv6 addresses count by /64, the block one host usually has,
// so a host cannot rotate its way around the limit. Clients behind one
// address (a NAT, a proxy) share its allowance: a door behind a proxy should
// pass the client's address, not the proxy's.
//
// State is in memory, per node: an address that fails against N nodes gets
// N times the limit, which still bounds what it costs each node and its
// database. Sharing it through Redis would put a round trip on the path of
// every failure, during the very floods it is meant to absorb.
//
// Memory is bounded: at most maxAddrs addresses are tracked, under 50 bytes
// each. An address that has failed half its allowance is protected (up to
// half of maxAddrs), so a flood of addresses that fail a few times each can
// only evict one another, never an address that is blocked or nearly so.
// When the protected half is full, an address that failed more takes the
// place of one that failed less, when it has failed half its allowance or
// is blocked. An address whose failures have all lapsed
// is forgotten.
//
// Blocked makes no heap allocation. Failures is safe for concurrent use; a
// nil *Failures is off.
type Failures struct {
	limit    Limit
	epoch    time.Time
	seed     uint64
	shards   []failShard
	perShard int // the most addresses a shard tracks
	heavyCap int // the most protected addresses a shard tracks
}

// failShard is a part of the addresses under one lock.
type failShard struct {
	mu      sync.Mutex
	addrs   map[uint64]failState
	heavy   int   // protected addresses
	sweepAt int64 // the earliest time a full shard sweeps again
	stats   FailureStats
	_       [64]byte // keeps neighbouring shards' locks off one cache line
}

// failState is an address's TAT, in nanoseconds since the epoch (which
// leaves 73 years either side), shifted left by one bit to make room for
// whether the address is protected.
type failState int64

func (s failState) tat() int64      { return int64(s) >> 1 }
func (s failState) protected() bool { return s&1 == 1 }

func packFail(tat int64, protected bool) failState {
	s := failState(tat << 1)
	if protected {
		s |= 1
	}
	return s
}

// FailureStats are the counters of a Failures, for metrics.
type FailureStats struct {
	Addresses int    // addresses tracked now
	Protected int    // of which protected
	Failures  uint64 // failures recorded
	Blocked   uint64 // Blocked calls that answered blocked
	Evicted   uint64 // addresses forgotten for room before their failures lapsed
}

// NewFailures returns a limiter of failed authentications under limit per
// address, tracking at most maxAddrs addresses (DefaultMaxAddrs when 0 or
// less). A limit whose Rate is 0 or less turns it off. It panics on a
// positive Rate with a Period that is not positive.
func NewFailures(limit Limit, maxAddrs int) *Failures {
	if limit.Rate <= 0 {
		return &Failures{}
	}
	if err := limit.validate(); err != nil {
		panic("ratelimit.NewFailures: " + err.Error())
	}
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxAddrs
	}
	// Shards of at least 128 addresses, at most 64 shards.
	n := 1 << min(max(bits.Len(uint(maxAddrs/128))-1, 0), 6)
	f := &Failures{
		limit:    limit,
		epoch:    time.Now(),
		seed:     rand.Uint64(),
		shards:   make([]failShard, n),
		perShard: (maxAddrs + n - 1) / n,
	}
	f.heavyCap = f.perShard / 2
	for i := range f.shards {
		f.shards[i].addrs = make(map[uint64]failState)
		f.shards[i].sweepAt = math.MinInt64
	}
	return f
}

// Blocked reports whether addr has no failure left in its allowance at now,
// and if so how long until it has one. An invalid address is never blocked.
func (f *Failures) Blocked(addr netip.Addr, now time.Time) (retryAfter time.Duration, blocked bool) {
	if f == nil || f.limit.Rate <= 0 {
		return 0, false
	}
	key, ok := addrKey(addr)
	if !ok {
		return 0, false
	}
	t := int64(now.Sub(f.epoch))
	s := f.shard(key)
	s.mu.Lock()
	st, ok := s.addrs[key]
	// Blocked when one more failure would take the debt past the period.
	wait := st.tat() + f.limit.interval() - int64(f.limit.Period) - t
	blocked = ok && wait > 0
	if blocked {
		s.stats.Blocked++
	}
	s.mu.Unlock()
	if !blocked {
		return 0, false
	}
	return time.Duration(wait), true
}

// Fail records a failed authentication from addr at now. An invalid address
// is not recorded.
func (f *Failures) Fail(addr netip.Addr, now time.Time) {
	if f == nil || f.limit.Rate <= 0 {
		return
	}
	key, ok := addrKey(addr)
	if !ok {
		return
	}
	t := int64(now.Sub(f.epoch))
	interval, period := f.limit.interval(), int64(f.limit.Period)
	s := f.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Failures++

	st, ok := s.addrs[key]
	if ok && st.tat() <= t {
		// Its failures have lapsed: it starts again unprotected.
		if st.protected() {
			s.heavy--
		}
		st = packFail(t, false)
	}
	if !ok {
		if len(s.addrs) >= f.perShard {
			s.makeRoom(t, f.perShard)
		}
		st = packFail(t, false)
	}
	before := max(st.tat(), t)
	// A failure past the limit (Fail without Blocked) does not lengthen the
	// block beyond a period.
	tat := min(before+interval, t+period)
	// An unprotected address asks for protection when it has failed half its
	// allowance, and again when it is blocked: only twice, as asking may
	// scan the shard.
	protected := st.protected()
	if !protected && (crosses(before-t, tat-t, period/2) || crosses(before-t, tat-t, period-interval+1)) {
		protected = s.protect(tat, f.heavyCap)
	}
	s.addrs[key] = packFail(tat, protected)
}

// crosses reports whether a debt going from before to after reaches level.
func crosses(before, after, level int64) bool {
	return before < level && after >= level
}

// makeRoom makes room in a full shard for one more address: it forgets the
// lapsed addresses if it has not looked for them lately, else the
// unprotected address with the least debt among a few.
func (s *failShard) makeRoom(now int64, perShard int) {
	if now >= s.sweepAt {
		s.sweepAt = now + failSweepInterval
		for k, st := range s.addrs {
			if st.tat() <= now {
				if st.protected() {
					s.heavy--
				}
				delete(s.addrs, k)
			}
		}
		if len(s.addrs) < perShard {
			return
		}
	}
	// Map iteration starts at a random place: the sample is random.
	var victim uint64
	least, seen := int64(0), 0
	for k, st := range s.addrs {
		if st.protected() {
			continue
		}
		if seen == 0 || st.tat() < least {
			victim, least = k, st.tat()
		}
		if seen++; seen == evictSample {
			break
		}
	}
	if seen > 0 {
		delete(s.addrs, victim)
		s.stats.Evicted++
	}
}

// protect makes room for one more protected address whose TAT is tat, and
// reports whether it did: there is room, or a protected address with less
// debt gives up its protection.
func (s *failShard) protect(tat int64, heavyCap int) bool {
	if s.heavy < heavyCap {
		s.heavy++
		return true
	}
	var lightest uint64
	least, found := tat, false
	for k, st := range s.addrs {
		if st.protected() && st.tat() < least {
			lightest, least, found = k, st.tat(), true
		}
	}
	if !found {
		return false
	}
	s.addrs[lightest] = packFail(least, false)
	return true
}

// Stats returns the counters summed over the shards.
func (f *Failures) Stats() FailureStats {
	var st FailureStats
	if f == nil {
		return st
	}
	for i := range f.shards {
		s := &f.shards[i]
		s.mu.Lock()
		st.Addresses += len(s.addrs)
		st.Protected += s.heavy
		st.Failures += s.stats.Failures
		st.Blocked += s.stats.Blocked
		st.Evicted += s.stats.Evicted
		s.mu.Unlock()
	}
	return st
}

// shard returns the shard that holds key.
func (f *Failures) shard(key uint64) *failShard {
	// murmur3's finalizer spreads the bits; the seed keeps which addresses
	// share a shard unknown to clients.
	h := key ^ f.seed
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return &f.shards[h&uint64(len(f.shards)-1)]
}

// addrKey is the 64 bits an address counts under: an IPv6 address's /64
// prefix, or an IPv4 address (also one mapped into IPv6) below 0xffff in the
// top 16 bits. No client sends from an IPv6 address there: ffff::/16 is
// multicast.
func addrKey(addr netip.Addr) (uint64, bool) {
	if !addr.IsValid() {
		return 0, false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		return 0xffff<<48 | uint64(binary.BigEndian.Uint32(b[:])), true
	}
	b := addr.As16()
	return binary.BigEndian.Uint64(b[:8]), true
}
