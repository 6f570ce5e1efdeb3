package restapi

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// Run reads the change feed, so that keys disabled, deleted or changed
// elsewhere stop working here within a poll, and flushes last-used times
// every 30 seconds. It returns when ctx ends, after a last flush.
func (s *Server) Run(ctx context.Context) error {
	started := s.cfg.Now()
	last, err := s.cfg.Store.LastChangeID(ctx)
	for err != nil {
		s.logger.Warn("change feed: cannot read the newest change; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		started = s.cfg.Now()
		last, err = s.cfg.Store.LastChangeID(ctx)
	}
	s.feedReadAt.Store(started.UnixNano())
	close(s.feedReady)

	poll := time.NewTicker(s.cfg.ChangePoll)
	defer poll.Stop()
	flush := time.NewTicker(30 * time.Second)
	defer flush.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.usage.flush(flushCtx, s.cfg.Store.TouchKeys); err != nil {
				s.logger.Warn("last-used times not saved", "err", err)
			}
			return nil
		case <-flush.C:
			if err := s.usage.flush(ctx, s.cfg.Store.TouchKeys); err != nil {
				s.logger.Warn("last-used times not saved; will retry", "err", err)
			}
			continue
		case <-prune.C:
			if _, err := s.cfg.Store.PruneChanges(ctx, s.cfg.Now().Add(-changeRetention)); err != nil {
				s.logger.Warn("old changes not pruned; will retry", "err", err)
			}
			continue
		case <-poll.C:
		}
		last = s.readChanges(ctx, last)
	}
}

// ApplyChange drops what ch makes stale from the server's caches. Wire it to
// the store's OnChange, so that a change made in this process takes effect
// before the call that made it returns.
func (s *Server) ApplyChange(ch gatehouse.Change) {
	s.keys.apply(ch)
}

// readChanges applies the changes after last and returns the newest ID seen.
// A read that takes longer than the cache may trust the feed is abandoned.
func (s *Server) readChanges(ctx context.Context, last int64) int64 {
	started := s.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, s.maxFeedAge)
	defer cancel()
	for {
		changes, err := s.cfg.Store.ChangesAfter(ctx, last, 1000)
		if err != nil {
			if ctx.Err() == nil {
				// Cached keys may now be stale for longer than promised: drop
				// them all rather than serve a disabled key.
				s.logger.Warn("change feed unreadable; cache cleared", "err", err)
				s.keys.clear()
			}
			return last
		}
		for _, ch := range changes {
			s.keys.apply(ch)
			last = ch.ID
		}
		if len(changes) < 1000 {
			s.feedReadAt.Store(started.UnixNano())
			return last
		}
	}
}
