package restapi

import (
	"context"
	"maps"
	"sync"
	"time"
)

// usageTracker keeps when keys were last used, to the minute, in memory, and
// hands the changes to the store in batches: never a write per request.
type usageTracker struct {
	mu sync.RWMutex
	// minute is the last minute (Unix seconds / 60) each key was seen in.
	minute map[string]int64
	// dirty holds the keys seen in a new minute since the last flush.
	dirty map[string]time.Time
}

func newUsageTracker() *usageTracker {
	return &usageTracker{minute: map[string]int64{}, dirty: map[string]time.Time{}}
}

// record notes that keyID was used at now. Within a minute already recorded
// it only takes a read lock.
func (u *usageTracker) record(keyID string, now time.Time) {
	m := now.Unix() / 60
	u.mu.RLock()
	seen := u.minute[keyID] == m
	u.mu.RUnlock()
	if seen {
		return
	}
	u.mu.Lock()
	u.minute[keyID] = m
	u.dirty[keyID] = time.Unix(m*60, 0).UTC()
	u.mu.Unlock()
}

// flush writes the keys used since the last flush with touch. On failure the
// batch is kept for the next flush.
func (u *usageTracker) flush(ctx context.Context, touch func(context.Context, map[string]time.Time) error) error {
	u.mu.Lock()
	batch := u.dirty
	u.dirty = map[string]time.Time{}
	if len(u.minute) > 4*len(batch)+1024 {
		// Forget keys idle for a while, so memory follows the keys in use.
		u.minute = map[string]int64{}
		for id, t := range batch {
			u.minute[id] = t.Unix() / 60
		}
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := touch(ctx, batch); err != nil {
		u.mu.Lock()
		for id, t := range batch {
			if old, ok := u.dirty[id]; !ok || old.Before(t) {
				u.dirty[id] = t
			}
		}
		u.mu.Unlock()
		return err
	}
	return nil
}

func (u *usageTracker) pending() map[string]time.Time {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return maps.Clone(u.dirty)
}
