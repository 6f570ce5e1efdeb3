package eventsapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/authn"
)

// RouteStore finds where a routing key leads; the store implements it.
type RouteStore interface {
	// EventRoute returns where routingKey leads (its service may be
	// disabled), or a 2100 error when no integration has it.
	EventRoute(ctx context.Context, routingKey string) (*gatehouse.EventRoute, error)
}

// RouteCache resolves routing keys through the credential cache every door
// shares (authn), so that an event costs no database query but for a key
// first seen or changed. Entries carry the tags of their integration,
// service and account: deleting the integration, disabling its service or
// regenerating its key drops them at once on this node and within a second
// on the others (the change feed). Follow it with the server's authn.Feed.
type RouteCache struct {
	cache *authn.Cache[*gatehouse.EventRoute]
	now   func() time.Time
}

// NewRouteCache returns a cache of at most size routing keys over store.
func NewRouteCache(store RouteStore, size int, logger *slog.Logger) *RouteCache {
	load := func(ctx context.Context, _ authn.Hash) (*gatehouse.EventRoute, []authn.Tag, error) {
		// Integration keys are stored as they are, so the store looks the
		// key up, not its hash; Route passes it along. Lookups of one hash
		// are shared, and the same hash is the same key.
		route, err := store.EventRoute(ctx, ctx.Value(routingKeyOf{}).(string))
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			return nil, nil, authn.ErrUnknown
		}
		if err != nil {
			return nil, nil, err
		}
		return route, []authn.Tag{
			authn.TagOf(gatehouse.ChangeIntegration, route.IntegrationID),
			authn.TagOf(gatehouse.ChangeService, route.ServiceID),
			authn.TagOf(gatehouse.ChangeAccount, route.AccountID),
		}, nil
	}
	return &RouteCache{
		cache: authn.New(authn.Config[*gatehouse.EventRoute]{Load: load, Size: size, What: "routing key", Logger: logger}),
		now:   time.Now,
	}
}

type routingKeyOf struct{}

// EventRoute returns where routingKey leads, or a 2100 error when it leads
// nowhere, as RouteStore does.
func (c *RouteCache) EventRoute(ctx context.Context, routingKey string) (*gatehouse.EventRoute, error) {
	ctx = context.WithValue(ctx, routingKeyOf{}, routingKey)
	route, err := c.cache.Get(ctx, sha256.Sum256([]byte(routingKey)), c.now(), netip.Addr{})
	switch {
	case errors.Is(err, authn.ErrUnknown), err == nil && route.ServiceDisabled:
		// A disabled service's key is cached with its tags, so that
		// enabling the service takes effect at once.
		return nil, gatehouse.NotFound("Routing key")
	case err != nil:
		return nil, err
	}
	return route, nil
}

// Follower is the cache as the change feed follows it.
func (c *RouteCache) Follower() authn.Follower { return c.cache }

// Stats returns the cache's figures.
func (c *RouteCache) Stats() authn.Stats { return c.cache.Stats() }
