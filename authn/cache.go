package authn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/fault"
)

// Loader reads a credential from the store on a cache miss: what it resolves
// to, and the tags of what that depends on (its account, its user…). It
// returns ErrUnknown when no credential has the hash. A credential that
// exists but must be refused (a disabled key) is best returned as a value
// the door refuses, with its tags, so that it is cached too. The cache calls
// it under a deadline, detached from the request that missed.
type Loader[V any] func(ctx context.Context, hash Hash) (V, []Tag, error)

// Config configures a Cache. Load is required; the rest has defaults.
type Config[V any] struct {
	Load Loader[V]
	// Size bounds the entries of known credentials; DefaultSize when zero.
	Size int
	// TTL is how long a known credential is trusted without a word from the
	// change feed; DefaultTTL when zero. Each entry's lifetime is shortened
	// by up to a tenth, at random, so entries loaded together are not
	// reloaded together.
	TTL time.Duration
	// UnknownSize bounds the hashes remembered as unknown; Size/8 (at least
	// 1) when zero. They evict only each other.
	UnknownSize int
	// UnknownTTL is how long a hash is remembered as unknown; DefaultUnknownTTL
	// when zero. A credential created meanwhile drops its hash's entry
	// through the change feed, which carries it.
	UnknownTTL time.Duration
	// MaxLookups bounds the store lookups in progress at once, so that a
	// flood of misses cannot take every database connection;
	// DefaultMaxLookups when zero.
	MaxLookups int
	// LookupTimeout bounds a lookup, waiting for a turn included; beyond it
	// the caller gets a 2901 error (unavailable). DefaultLookupTimeout when
	// zero.
	LookupTimeout time.Duration
	// BeforeLookup, when set, is asked before a miss goes to the store, with
	// the client's address; its error is Get's answer instead. The doors
	// refuse there the addresses that failed to authenticate too often:
	// the credentials they use from memory still work.
	BeforeLookup func(ctx context.Context, from netip.Addr) error
	// UseID names what a use of a value is recorded under, such as a key's
	// ID, or "" for none. When nil, no use is recorded.
	UseID func(V) string
	// What names the credentials in log lines, such as "REST API key".
	What   string
	Logger *slog.Logger
}

// The defaults of Config.
const (
	DefaultSize          = 1_000_000
	DefaultTTL           = 5 * time.Minute
	DefaultUnknownTTL    = 30 * time.Second
	DefaultMaxLookups    = 8
	DefaultLookupTimeout = 2 * time.Second
)

// Cache resolves credential hashes to values of type V (a principal, an
// integration…), from memory when it can. Misses of one hash share one store
// lookup; lookups run under a deadline, a few at a time. Entries carry tags,
// and a change to a tag drops its entries at once (Apply, Invalidate); a
// change of a credential drops its hash's entry, known or unknown. The cache
// is trusted only for a while after each good read of the change feed
// (TrustUntil); the rest of the time every Get asks the store, so a cache
// that may have missed a change is bypassed rather than believed.
//
// A Cache is safe for concurrent use. Make one with New.
type Cache[V any] struct {
	cfg       Config[V]
	seed      [2]uint64
	shards    []*shard[V]
	shardBits uint
	tags      *tagIndex
	// tagGen counts tag invalidations and clears: a lookup's answer is cached
	// only if it did not move (see shard.gen).
	tagGen atomic.Uint64
	// known counts the known entries, bounded by Size.
	known atomic.Int64
	// trustedUntil is when the cache stops being trusted, in Unix
	// nanoseconds; 0 until the feed has been read once.
	trustedUntil atomic.Int64
	lookups      chan struct{}
	lookupFault  fault.Tracker
	// unknownPerShard is each shard's share of UnknownSize.
	unknownPerShard int
	// unsaved are uses whose flush failed, kept for the next one.
	unsaved *unsavedUses
	addrs   addrTable
}

// New returns an empty cache, not trusted until TrustUntil.
func New[V any](cfg Config[V]) *Cache[V] {
	if cfg.Load == nil {
		panic("authn: Config.Load is nil")
	}
	if cfg.Size <= 0 {
		cfg.Size = DefaultSize
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.UnknownSize <= 0 {
		cfg.UnknownSize = max(cfg.Size/8, 1)
	}
	if cfg.UnknownTTL <= 0 {
		cfg.UnknownTTL = DefaultUnknownTTL
	}
	if cfg.MaxLookups <= 0 {
		cfg.MaxLookups = DefaultMaxLookups
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultLookupTimeout
	}
	if cfg.What == "" {
		cfg.What = "credential"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache[V]{
		cfg:     cfg,
		tags:    newTagIndex(),
		lookups: make(chan struct{}, cfg.MaxLookups),
		unsaved: &unsavedUses{m: map[string]Use{}},
	}
	c.lookupFault = fault.Tracker{Logger: cfg.Logger, What: cfg.What + " lookups"}
	var seed [16]byte
	rand.Read(seed[:])
	c.seed = [2]uint64{binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])}
	// Shards spread the lock of a big cache; a small one keeps one, so its
	// bounds hold exactly.
	if cfg.Size >= 16*1024 {
		c.shardBits = 4
	}
	n := 1 << c.shardBits
	c.unknownPerShard = (cfg.UnknownSize + n - 1) / n
	for range n {
		c.shards = append(c.shards, newShard(c, c.unknownPerShard))
	}
	return c
}

// locate returns the shard of a hash, its mixed hash and its two halves.
func (c *Cache[V]) locate(hash *Hash) (s *shard[V], m, h0, h1 uint64) {
	h0, h1 = split(hash)
	m = mix(h0, h1, c.seed)
	return c.shards[m>>(64-c.shardBits)&(1<<c.shardBits-1)], m, h0, h1
}

// Get returns what hash resolves to: from memory when the cache is trusted
// and holds a live entry, else from the store (one lookup for all the
// concurrent misses of a hash). It returns ErrUnknown for a hash no
// credential has, and a 2901 error when the store did not answer in time.
// now is the request's time; from, the client's address, recorded with the
// use when Config.UseID is set.
//
// A hit takes a read lock and makes no allocation.
func (c *Cache[V]) Get(ctx context.Context, hash Hash, now time.Time, from netip.Addr) (V, error) {
	s, m, h0, h1 := c.locate(&hash)
	trusted := now.UnixNano() < c.trustedUntil.Load()
	if trusted {
		sec, minute := c.second(now), unixMinute(now)
		s.mu.RLock()
		pos := s.find(m, h0, h1)
		if pos >= 0 {
			if cell := s.cells[pos]; cell > 0 {
				e := s.entry(cell - 1)
				meta := e.meta.Load()
				if meta&expiryMask > sec && !e.tags.isDead() {
					if meta&referenced == 0 {
						e.meta.Or(referenced)
					}
					v, record := e.value, c.cfg.UseID != nil && e.used&minuteMask != minute
					s.mu.RUnlock()
					s.hits.Add(1)
					if record {
						c.recordUse(s, m, h0, h1, minute, from)
					}
					return v, nil
				}
			} else if s.unknown[-cell-1].expires > sec {
				s.mu.RUnlock()
				s.hits.Add(1)
				var zero V
				return zero, ErrUnknown
			}
		}
		s.mu.RUnlock()
	}
	s.misses.Add(1)
	return c.miss(ctx, s, m, h0, h1, hash, now, from)
}

// Stats are a cache's figures for metrics.
type Stats struct {
	// Hits and Misses count Gets answered from memory and from the store.
	Hits, Misses uint64
	// Known and Unknown are the entries held now: credentials, and hashes
	// no credential has.
	Known, Unknown int
}

// Stats returns the cache's figures.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	for _, s := range c.shards {
		st.Hits += s.hits.Load()
		st.Misses += s.misses.Load()
	}
	st.Known, st.Unknown = c.Len()
	return st
}

// miss looks hash up in the store, or waits for the lookup of it in
// progress, and caches the answer if nothing changed meanwhile.
func (c *Cache[V]) miss(ctx context.Context, s *shard[V], m, h0, h1 uint64, hash Hash, now time.Time, from netip.Addr) (V, error) {
	if c.cfg.BeforeLookup != nil {
		if err := c.cfg.BeforeLookup(ctx, from); err != nil {
			var zero V
			return zero, err
		}
	}
	s.mu.Lock()
	f, waiting := s.flights[hash]
	if !waiting {
		f = &flight[V]{done: make(chan struct{})}
		s.flights[hash] = f
	}
	gen := s.gen
	s.mu.Unlock()
	if waiting {
		// The lookup is bounded by LookupTimeout, so waiting for it is too,
		// even when this request's client has gone.
		<-f.done
		return f.value, f.err
	}

	// The cache may keep the answer only if it was trusted before the
	// store was read, and no change came in since.
	trusted := now.UnixNano() < c.trustedUntil.Load()
	tagGen := c.tagGen.Load()
	var tags []Tag
	f.value, tags, f.err = c.load(ctx, hash)
	unknown := errors.Is(f.err, ErrUnknown)
	var set *tagSet
	if trusted && f.err == nil {
		set = c.tags.acquire(tags)
	}

	s.mu.Lock()
	if s.flights[hash] == f {
		delete(s.flights, hash)
	}
	keep := trusted && s.gen == gen && (unknown || f.err == nil && c.tagGen.Load() == tagGen)
	if keep {
		sec := c.second(now)
		if pos := s.find(m, h0, h1); pos >= 0 {
			if cell := s.cells[pos]; cell > 0 {
				s.removeKnown(cell - 1)
				s.free = append(s.free, cell-1)
			} else {
				s.removeUnknown(int(-cell - 1))
			}
		}
		if unknown {
			s.putUnknown(m, h0, h1, sec+seconds(c.cfg.UnknownTTL), c.unknownPerShard)
		} else {
			i := s.allocate(sec)
			e := s.entry(i)
			e.h0, e.h1, e.value, e.tags = h0, h1, f.value, set
			ttl := seconds(c.cfg.TTL)
			e.meta.Store(min(sec+ttl-uint32(h1%uint64(ttl/10+1)), expiryMask))
			if c.cfg.UseID != nil {
				e.used, e.from = unixMinute(now)|unflushed, c.addrs.id(from)
			}
			s.insertCell(m, i+1)
			s.live++
			c.known.Add(1)
			set = nil
		}
	} else if f.err == nil && c.cfg.UseID != nil {
		c.recordUseLocked(s, m, h0, h1, unixMinute(now), from)
	}
	s.mu.Unlock()
	c.tags.release(set) // the answer was not kept
	close(f.done)
	return f.value, f.err
}

// load asks the store under the lookup bound and deadline, detached from the
// request's cancellation: other requests may be waiting for the answer, and
// a client that half-closed its connection still waits for it.
func (c *Cache[V]) load(ctx context.Context, hash Hash) (v V, tags []Tag, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.LookupTimeout)
	defer cancel()
	select {
	case c.lookups <- struct{}{}:
		defer func() { <-c.lookups }()
	case <-ctx.Done():
		c.lookupFault.Fail(fmt.Errorf("%d lookups in progress for %s", c.cfg.MaxLookups, c.cfg.LookupTimeout))
		return v, nil, errUnavailable
	}
	v, tags, err = c.loadOnce(ctx, hash)
	switch {
	case err == nil, errors.Is(err, ErrUnknown):
		c.lookupFault.OK()
		return v, tags, err
	case gatehouse.ErrorCode(err) == gatehouse.CodeUnavailable:
		c.lookupFault.Fail(err)
		return v, nil, err
	}
	// Whatever else went wrong, the credential could not be checked: the
	// client may try again, and the fault is logged once, not per request.
	c.lookupFault.Fail(err)
	return v, nil, errUnavailable
}

// loadOnce calls the loader, turning a panic into an error: waiters must
// be told, and the lookup must end.
func (c *Cache[V]) loadOnce(ctx context.Context, hash Hash) (v V, tags []Tag, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s lookup panicked: %v", c.cfg.What, p)
		}
	}()
	return c.cfg.Load(ctx, hash)
}

var errUnavailable = &gatehouse.Error{
	Code:    gatehouse.CodeUnavailable,
	Message: "Service Unavailable",
	Errors:  []string{"Credentials cannot be checked right now; try again shortly"},
}

// recordUse notes that the entry of a hash was used in minute from addr.
// It runs once per entry and minute, so the write lock is cheap here.
func (c *Cache[V]) recordUse(s *shard[V], m, h0, h1 uint64, minute uint32, from netip.Addr) {
	s.mu.Lock()
	c.recordUseLocked(s, m, h0, h1, minute, from)
	s.mu.Unlock()
}

func (c *Cache[V]) recordUseLocked(s *shard[V], m, h0, h1 uint64, minute uint32, from netip.Addr) {
	pos := s.find(m, h0, h1)
	if pos < 0 || s.cells[pos] < 0 {
		return
	}
	e := s.entry(s.cells[pos] - 1)
	if e.used&minuteMask < minute {
		e.used, e.from = minute|unflushed, c.addrs.id(from)
	}
}

// Apply drops what a change makes stale: the entry of the credential whose
// hash it carries, and the entries tagged with its subject (TagOf). A change
// of a key that carries no hash (recorded by an older Gatehouse) clears the
// cache, since its entry cannot be found otherwise.
func (c *Cache[V]) Apply(ch gatehouse.Change) {
	switch {
	case ch.Hash != Hash{}:
		c.InvalidateHash(ch.Hash)
	case ch.Kind == gatehouse.ChangeKey:
		c.Clear()
		return
	}
	c.Invalidate(TagOf(ch.Kind, ch.SubjectID))
}

// InvalidateHash drops the entry of hash, known or unknown, and makes
// lookups of it in progress start again for later callers.
func (c *Cache[V]) InvalidateHash(hash Hash) {
	s, m, h0, h1 := c.locate(&hash)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	delete(s.flights, hash)
	if pos := s.find(m, h0, h1); pos >= 0 {
		if cell := s.cells[pos]; cell > 0 {
			s.removeKnown(cell - 1)
			s.free = append(s.free, cell-1)
		} else {
			s.removeUnknown(int(-cell - 1))
		}
	}
}

// Invalidate drops every entry tagged with tag, without a scan: they are
// dead at once, and freed when next read or evicted. Lookups in progress
// start again for later callers.
func (c *Cache[V]) Invalidate(tag Tag) {
	c.tagGen.Add(1)
	c.tags.invalidate(tag)
	c.detachFlights()
}

// Clear drops every entry, for when changes may have been missed.
func (c *Cache[V]) Clear() {
	c.tagGen.Add(1)
	c.tags.clear()
	for _, s := range c.shards {
		s.mu.Lock()
		s.gen++
		clear(s.flights)
		for i := range s.high {
			if e := s.entry(int32(i)); e.meta.Load() != 0 {
				s.keepUse(e)
			}
		}
		s.cells, s.used = make([]int32, 64), 0
		c.known.Add(-int64(s.live))
		s.chunks, s.high, s.live, s.free, s.hand = nil, 0, 0, nil, 0
		s.unknown, s.unknownHand = s.unknown[:0], 0
		s.mu.Unlock()
	}
}

func (c *Cache[V]) detachFlights() {
	for _, s := range c.shards {
		s.mu.Lock()
		clear(s.flights)
		s.mu.Unlock()
	}
}

// TrustUntil lets Get answer from memory until t. The change feed calls it
// after each good read.
func (c *Cache[V]) TrustUntil(t time.Time) {
	c.trustedUntil.Store(t.UnixNano())
}

// Len returns the number of entries, known and unknown credentials, dead
// ones not yet freed included.
func (c *Cache[V]) Len() (known, unknown int) {
	for _, s := range c.shards {
		s.mu.RLock()
		known += s.live
		unknown += s.used - s.live
		s.mu.RUnlock()
	}
	return known, unknown
}

// second returns now on the cache's clock: seconds since 2020, in 31 bits.
func (c *Cache[V]) second(now time.Time) uint32 {
	return uint32(min(max(now.Unix()-epochOffset, 1), expiryMask-1))
}

// epochOffset is 2020-01-01 in Unix seconds, so the cache's 31 bits of
// seconds last until 2088.
const epochOffset = 1577836800

func seconds(d time.Duration) uint32 {
	return uint32(max(d/time.Second, 1))
}

func unixMinute(t time.Time) uint32 {
	return uint32(t.Unix()/60) & minuteMask
}

func minuteTime(used uint32) time.Time {
	return time.Unix(int64(used&minuteMask)*60, 0).UTC()
}
