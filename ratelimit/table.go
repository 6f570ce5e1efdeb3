package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

const (
	// shardCount spreads keys over this many locks and maps; a power of two.
	shardCount = 256
	// sweepInterval is how often a shard in use looks for idle keys.
	sweepInterval = time.Minute
	// minSweepLen is the smallest shard size that makes an insert sweep.
	minSweepLen = 64
	// minRebuildPeak is the smallest peak size worth giving memory back for.
	minRebuildPeak = 256
)

// state is what a table holds per key.
type state interface {
	// idle reports whether the state at now is what a new key would get, so
	// that it can be dropped.
	idle(now int64) bool
}

// table holds per-key state, keyed by a 64-bit hash of the key under a
// per-process seed, so the map holds no string per key. Two keys with the
// same hash would share their state: at n keys that happens with a
// probability of about n²/2⁶⁵ (3·10⁻⁸ at a million keys), differs from one
// process to the next, and only makes both keys count against one
// allowance.
//
// State is dropped once idle, so memory follows the keys in use. Dropping
// happens as keys are used, amortised: a shard sweeps its idle keys once a
// minute and whenever it has doubled in size since its last sweep, and it
// rebuilds its map when most keys are gone, since Go maps never shrink.
type table[S state] struct {
	seed   maphash.Seed
	shards [shardCount]shard[S]
}

// shard is a part of a table's keys under one lock, with the counters of
// the decisions made under it.
type shard[S state] struct {
	mu               sync.Mutex
	states           map[uint64]S
	sweepAt          int64 // the next sweep due to time
	sweepLen         int   // the size at which an insert sweeps
	peak             int   // the largest size since the map was made
	allowed, refused uint64
	_                [64]byte // keeps neighbouring shards' locks off one cache line
}

func (t *table[S]) init() {
	t.seed = maphash.MakeSeed()
	for i := range t.shards {
		s := &t.shards[i]
		s.states = make(map[uint64]S)
		s.sweepAt = math.MinInt64
		s.sweepLen = minSweepLen
	}
}

// shard returns the shard that holds key, and key's hash.
func (t *table[S]) shard(key string) (*shard[S], uint64) {
	h := maphash.String(t.seed, key)
	return &t.shards[h&(shardCount-1)], h
}

// stats sums the shards' counters and sizes.
func (t *table[S]) stats() Stats {
	var st Stats
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		st.Allowed += s.allowed
		st.Refused += s.refused
		st.Keys += len(s.states)
		s.mu.Unlock()
	}
	return st
}

// get returns the state of the key with hash h, and whether it has one;
// it sweeps first when a sweep is due. Call it with s.mu held.
func (s *shard[S]) get(h uint64, now int64) (S, bool) {
	if now >= s.sweepAt {
		s.sweep(now)
	}
	v, ok := s.states[h]
	return v, ok
}

// put stores the state of the key with hash h; existed says whether get
// found one. Call it with s.mu held.
func (s *shard[S]) put(h uint64, v S, existed bool, now int64) {
	if !existed && len(s.states) >= s.sweepLen {
		s.sweep(now)
	}
	s.states[h] = v
	if !existed {
		s.peak = max(s.peak, len(s.states))
	}
}

// sweep drops the idle states, and makes a new map when most of the old one
// is empty.
func (s *shard[S]) sweep(now int64) {
	for h, v := range s.states {
		if v.idle(now) {
			delete(s.states, h)
		}
	}
	n := len(s.states)
	if s.peak >= minRebuildPeak && n < s.peak/4 {
		states := make(map[uint64]S, n)
		for h, v := range s.states {
			states[h] = v
		}
		s.states = states
		s.peak = n
	}
	s.sweepAt = now + int64(sweepInterval)
	s.sweepLen = max(2*n, minSweepLen)
}
