package restapi

import (
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

// keyCache remembers what key hashes resolve to, so that verifying a key on
// every request costs a hash and a map lookup. A plain map under a RWMutex
// measured faster here than sync.Map for [32]byte keys.
type keyCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]cacheEntry
	max     int
	// unknown counts the entries of unknown hashes, which may fill at most
	// maxUnknown() of the cache, so a flood of made-up keys cannot push out
	// the keys in use.
	unknown int
	// gen counts invalidations. A lookup notes it before asking the store and
	// caches its answer only if no change came in between, so an answer read
	// before a change is never cached after it.
	gen uint64
}

// cacheEntry is a known key (principal set) or one that does not work: an
// unknown hash, or a disabled key (principal nil).
type cacheEntry struct {
	principal *access.Principal
	// keyID, userID and accountID let a change find the entries it touches.
	keyID, userID, accountID string
	// expires bounds how long an unknown hash is remembered; zero for keys
	// that exist, which live until a change drops them.
	expires time.Time
}

func newKeyCache(max int) *keyCache {
	return &keyCache{entries: make(map[[32]byte]cacheEntry), max: max}
}

// get returns the entry for hash, if a live one is cached.
func (c *keyCache) get(hash [32]byte, now time.Time) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if ok && !e.expires.IsZero() && now.After(e.expires) {
		return cacheEntry{}, false
	}
	return e, ok
}

// generation returns the current invalidation count, for put.
func (c *keyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches e under hash unless an invalidation happened since gen, first
// making room if the cache is full. Map iteration order is random, so the
// entries dropped are a random sample.
func (c *keyCache) put(hash [32]byte, e cacheEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.entries[hash]; ok && old.isUnknown() {
		c.unknown--
	}
	switch {
	case e.isUnknown() && c.unknown >= c.maxUnknown():
		c.evict(true)
	case len(c.entries) >= c.max:
		c.evict(false)
	}
	c.entries[hash] = e
	if e.isUnknown() {
		c.unknown++
	}
}

func (c *keyCache) maxUnknown() int { return max(c.max/4, 1) }

// evict drops a random sixteenth of the cache (map iteration order is
// random), or of its unknown hashes only.
func (c *keyCache) evict(unknownOnly bool) {
	drop := max(c.max/16, 1)
	for h, e := range c.entries {
		if unknownOnly && !e.isUnknown() {
			continue
		}
		c.delete(h, e)
		if drop--; drop == 0 {
			return
		}
	}
}

func (c *keyCache) delete(hash [32]byte, e cacheEntry) {
	delete(c.entries, hash)
	if e.isUnknown() {
		c.unknown--
	}
}

// isUnknown reports whether e stands for a hash no key has.
func (e cacheEntry) isUnknown() bool { return e.keyID == "" }

// apply drops what a change makes stale. A changed key also drops every
// unknown hash, since a key just created or imported may have one of them.
func (c *keyCache) apply(ch gatehouse.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		var stale bool
		switch ch.Kind {
		case gatehouse.ChangeKey:
			stale = e.keyID == ch.SubjectID || e.keyID == ""
		case gatehouse.ChangeUser:
			stale = e.userID == ch.SubjectID
		case gatehouse.ChangeAccount:
			stale = e.accountID == ch.SubjectID
		default:
			stale = true
		}
		if stale {
			c.delete(h, e)
		}
	}
}

// clear drops every entry, for when changes may have been missed.
func (c *keyCache) clear() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.unknown = 0
	c.mu.Unlock()
}

func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
