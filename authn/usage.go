package authn

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/fault"
)

// Use is the last use of a credential: when, to the minute, and from which
// client address.
type Use struct {
	// ID is what Config.UseID named, such as a key's ID.
	ID string
	At time.Time
	// From is the client's address; the zero Addr when unknown.
	From netip.Addr
}

// unsavedUses are uses whose write failed, kept for the next flush: the
// latest per ID, so they cannot grow past the number of credentials.
type unsavedUses struct {
	mu sync.Mutex
	m  map[string]Use
}

func (u *unsavedUses) keep(uses []Use) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, use := range uses {
		if old, ok := u.m[use.ID]; !ok || old.At.Before(use.At) {
			u.m[use.ID] = use
		}
	}
}

func (u *unsavedUses) take() map[string]Use {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.m
	u.m = map[string]Use{}
	return m
}

// Flush hands the uses recorded since the last flush to write, the latest
// per ID; on failure they are kept for the next flush. Uses are kept in the
// entries themselves (4 bytes of minute, 4 of address), so a use costs no
// memory beyond its entry, and a credential used all day is written once a
// minute at most.
func (c *Cache[V]) Flush(ctx context.Context, write func(context.Context, []Use) error) error {
	latest := c.unsaved.take()
	if c.cfg.UseID != nil {
		for _, s := range c.shards {
			s.mu.Lock()
			for i := range s.high {
				e := s.entry(int32(i))
				if e.used&unflushed == 0 || e.meta.Load() == 0 {
					continue
				}
				e.used &^= unflushed
				if id := c.cfg.UseID(e.value); id != "" {
					s.unsaved = append(s.unsaved, Use{ID: id, At: minuteTime(e.used), From: c.addrs.addr(e.from)})
				}
			}
			for _, use := range s.unsaved {
				if old, ok := latest[use.ID]; !ok || old.At.Before(use.At) {
					latest[use.ID] = use
				}
			}
			s.unsaved = nil
			s.mu.Unlock()
		}
	}
	if len(latest) == 0 {
		return nil
	}
	uses := make([]Use, 0, len(latest))
	for _, use := range latest {
		uses = append(uses, use)
	}
	if err := write(ctx, uses); err != nil {
		c.unsaved.keep(uses)
		return err
	}
	return nil
}

// finalFlushTimeout bounds the flush as FlushEvery ends, so that a stalled
// database cannot hold up a shutdown for the sake of last-used times.
const finalFlushTimeout = time.Second

// FlushEvery flushes the uses every interval until ctx ends, then once more
// (for at most finalFlushTimeout). Run it on a goroutine of its own: a slow
// write never delays a request or the change feed. A failing write is
// logged once when it starts failing and once when it recovers.
func (c *Cache[V]) FlushEvery(ctx context.Context, every time.Duration, write func(context.Context, []Use) error) {
	tracker := fault.Tracker{Logger: c.cfg.Logger, What: c.cfg.What + " last-used flush"}
	flush := func(ctx context.Context, timeout time.Duration) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := c.Flush(ctx, write); err != nil {
			tracker.Fail(err)
		} else {
			tracker.OK()
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			flush(context.WithoutCancel(ctx), finalFlushTimeout)
			return
		case <-tick.C:
			flush(ctx, max(every, 5*time.Second))
		}
	}
}
