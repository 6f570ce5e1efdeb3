package authn

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// node is one Gatehouse node's view of a shared database: a cache of key
// IDs ("" for a disabled key) following the change feed.
type node struct {
	store   *sqlstore.Store
	feed    *Feed
	cache   *Cache[string]
	lookups atomic.Int32
}

func newNode(t *testing.T, s *sqlstore.Store, cfg FeedConfig) *node {
	t.Helper()
	n := &node{store: s}
	n.cache = New(Config[string]{Load: func(ctx context.Context, h Hash) (string, []Tag, error) {
		n.lookups.Add(1)
		c, err := s.CredentialByHash(ctx, h)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			return "", nil, ErrUnknown
		}
		if err != nil {
			return "", nil, err
		}
		tags := []Tag{TagOf(gatehouse.ChangeAccount, c.Account.ID)}
		if c.Key.Disabled() {
			return "", tags, nil
		}
		return c.Key.ID, tags, nil
	}})
	if cfg.Store == nil {
		cfg.Store = s
	}
	n.feed = NewFeed(cfg)
	n.feed.Follow(n.cache)
	return n
}

func (n *node) get(t *testing.T, h Hash) string {
	t.Helper()
	v, err := n.cache.Get(ctx, h, time.Now(), netip.Addr{})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}

// createKey creates a general key with a made-up secret and returns it.
func createKey(t *testing.T, s *sqlstore.Store, a *gatehouse.Account, secret string) *gatehouse.APIKey {
	t.Helper()
	k := &gatehouse.APIKey{AccountID: a.ID, Kind: gatehouse.KeyGeneral, Description: "test",
		Hash: sha256.Sum256([]byte(secret)), Last4: secret[len(secret)-4:], CreatedBy: gatehouse.CLIActor}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

// TestFeedAppliesChanges: changes made on another node reach this node's
// cache through the feed, those made here through Apply at once.
func TestFeedAppliesChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		cli := storetest.Open(t, cfg)
		here := storetest.Open(t, cfg)
		a, _ := storetest.MustCreateAccount(t, cli, "acme", gatehouse.PlanBusiness)
		k := createKey(t, cli, a, "a+feedkey0000000001x")
		n := newNode(t, here, FeedConfig{})
		here.OnChange(n.feed.Apply)
		n.feed.poll(ctx)
		<-n.feed.Ready()
		if got := n.get(t, k.Hash); got != k.ID {
			t.Fatalf("Get = %q, want %s", got, k.ID)
		}
		// Made up, then created elsewhere: the change carries its hash.
		later := sha256.Sum256([]byte("a+feedkey0000000002x"))
		if _, err := n.cache.Get(ctx, later, time.Now(), netip.Addr{}); !errors.Is(err, ErrUnknown) {
			t.Fatalf("Get(not yet created) = %v", err)
		}
		k2 := createKey(t, cli, a, "a+feedkey0000000002x")
		if err := cli.DisableKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
			t.Fatal(err)
		}
		n.feed.poll(ctx)
		if got := n.get(t, k.Hash); got != "" {
			t.Errorf("after a disable elsewhere, Get = %q, want the disabled key", got)
		}
		if got := n.get(t, later); got != k2.ID {
			t.Errorf("after its creation elsewhere, Get = %q, want %s", got, k2.ID)
		}
		// Here, no poll needed.
		if err := here.EnableKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
			t.Fatal(err)
		}
		if got := n.get(t, k.Hash); got != k.ID {
			t.Errorf("after an enable here, Get = %q, want %s", got, k.ID)
		}
	})
}

// TestFeedGapClearsCaches: a node that did not read the feed while the
// changes it missed were pruned (a suspended VM, a network cut) finds out
// when it reads again, and clears its caches instead of trusting a key
// disabled meanwhile.
func TestFeedGapClearsCaches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		retention time.Duration
		pause     time.Duration
		// newer says whether a change comes after the pruned ones, so the
		// oldest change kept shows the gap; otherwise the feed is empty and
		// only the time since the last read does.
		newer bool
	}{
		{"oldest change kept is newer than the next one expected", 24 * time.Hour, 0, true},
		{"last read older than the retention", 300 * time.Millisecond, 350 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
				t.Parallel()
				cli := storetest.Open(t, cfg)
				a, _ := storetest.MustCreateAccount(t, cli, "acme", gatehouse.PlanBusiness)
				k := createKey(t, cli, a, "a+gapkey00000000001x")
				var logs lockedBuffer
				n := newNode(t, storetest.Open(t, cfg), FeedConfig{
					Retention: tt.retention,
					Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
				})
				n.feed.poll(ctx)
				if got := n.get(t, k.Hash); got != k.ID {
					t.Fatalf("Get = %q, want %s", got, k.ID)
				}

				// The node pauses; meanwhile the key is disabled and the
				// change pruned.
				if err := cli.DisableKey(ctx, a.ID, k.ID, gatehouse.CLIActor); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.pause)
				// A negative age prunes every row, however close to now.
				if _, err := cli.PruneChanges(ctx, -time.Second); err != nil {
					t.Fatal(err)
				}
				if tt.newer {
					createKey(t, cli, a, "a+gapkey00000000002x")
				}
				n.feed.poll(ctx)
				if got := n.get(t, k.Hash); got != "" {
					t.Errorf("after the gap, Get = %q, want the disabled key", got)
				}
				if !strings.Contains(logs.String(), "caches cleared") {
					t.Errorf("the gap was not logged: %s", logs.String())
				}
			})
		})
	}
}

// TestFeedCurrentKeepsCaches: a node that reads the feed in time keeps its
// caches, even once the rows it read are pruned.
func TestFeedCurrentKeepsCaches(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, cfg sqlstore.Config) {
		t.Parallel()
		cli := storetest.Open(t, cfg)
		a, _ := storetest.MustCreateAccount(t, cli, "acme", gatehouse.PlanBusiness)
		k := createKey(t, cli, a, "a+keepkey0000000001x")
		n := newNode(t, storetest.Open(t, cfg), FeedConfig{})
		n.feed.poll(ctx)
		n.get(t, k.Hash)
		createKey(t, cli, a, "a+keepkey0000000002x")
		n.feed.poll(ctx)
		// A negative age prunes every row, however close to now.
		if _, err := cli.PruneChanges(ctx, -time.Second); err != nil {
			t.Fatal(err)
		}
		createKey(t, cli, a, "a+keepkey0000000003x")
		n.feed.poll(ctx)
		n.get(t, k.Hash)
		if got := n.lookups.Load(); got != 1 {
			t.Errorf("%d lookups, want 1: the cache was cleared", got)
		}
	})
}

// hangingStore answers everything but the change feed, which hangs while
// hang is set, as a stuck database connection would.
type hangingStore struct {
	ChangeStore
	hang atomic.Bool
}

func (h *hangingStore) ChangesAfter(ctx context.Context, after int64, limit int) ([]gatehouse.Change, error) {
	if h.hang.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return h.ChangeStore.ChangesAfter(ctx, after, limit)
}

// TestStalledFeed: while the feed cannot be read, the cache is bypassed
// (every Get asks the store), and the stall is logged once when it starts
// and once when it ends, not per poll.
func TestStalledFeed(t *testing.T) {
	t.Parallel()
	s := storetest.OpenSQLite(t)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	k := createKey(t, s, a, "a+stallkey000000001x")
	var logs lockedBuffer
	hanging := &hangingStore{ChangeStore: s}
	n := newNode(t, s, FeedConfig{Store: hanging, Poll: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { n.feed.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	<-n.feed.Ready()
	n.get(t, k.Hash)
	n.get(t, k.Hash)
	if got := n.lookups.Load(); got != 1 {
		t.Fatalf("%d lookups with a live feed, want 1", got)
	}

	hanging.hang.Store(true)
	waitUntil(t, "the cache to be bypassed", func() bool {
		before := n.lookups.Load()
		n.get(t, k.Hash)
		return n.lookups.Load() > before
	})
	time.Sleep(n.feed.maxAge) // more polls fail
	hanging.hang.Store(false)
	waitUntil(t, "the cache to be trusted again", func() bool {
		before := n.lookups.Load()
		n.get(t, k.Hash)
		return n.lookups.Load() == before
	})
	if got := strings.Count(logs.String(), "change feed failing"); got != 1 {
		t.Errorf("the stall was logged %d times, want once:\n%s", got, logs.String())
	}
	waitUntil(t, "the recovery to be logged", func() bool { return strings.Contains(logs.String(), "change feed recovered") })
}
