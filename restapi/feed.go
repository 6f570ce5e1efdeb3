package restapi

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/authn"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

// lastUsedFlush is how often the keys' last uses are written.
const lastUsedFlush = 30 * time.Second

// Run does the server's background work until ctx ends: it follows the
// change feed (unless Config.Feed is followed by its owner), so that keys
// disabled, deleted or changed elsewhere stop working here within a second,
// and it writes the keys' last uses every 30 seconds on a goroutine of its
// own, and once more as it ends.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.keys.FlushEvery(ctx, s.flushEvery, s.touchKeys) })
	if s.ownFeed {
		s.feed.Run(ctx)
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// touchKeys writes the keys' last uses.
func (s *Server) touchKeys(ctx context.Context, uses []authn.Use) error {
	keyUses := make([]sqlstore.KeyUse, len(uses))
	for i, u := range uses {
		keyUses[i] = sqlstore.KeyUse{KeyID: u.ID, At: u.At}
		if u.From != (netip.Addr{}) {
			keyUses[i].From = u.From.String()
		}
	}
	return s.cfg.Store.TouchKeys(ctx, keyUses)
}

// ApplyChange drops what ch makes stale from the server's caches. Wire it to
// the store's OnChange, so that a change made in this process takes effect
// before the call that made it returns.
func (s *Server) ApplyChange(ch gatehouse.Change) {
	s.keys.Apply(ch)
}

// Ready is closed once the change feed has been read: until then every
// request asks the store.
func (s *Server) Ready() <-chan struct{} { return s.feed.Ready() }

// KeyCacheStats returns the figures of the cache of REST API keys.
func (s *Server) KeyCacheStats() authn.Stats { return s.keys.Stats() }
