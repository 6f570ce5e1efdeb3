package authn

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/fault"
)

// ChangeStore is what a Feed reads: the database's change feed.
type ChangeStore interface {
	// LastChangeID returns the newest change's ID, 0 if there is none.
	LastChangeID(ctx context.Context) (int64, error)
	// ChangesAfter returns up to limit changes after afterID, oldest first.
	ChangesAfter(ctx context.Context, afterID int64, limit int) ([]gatehouse.Change, error)
	// OldestChange returns the oldest change's ID still kept (0 if none)
	// and the database's current time.
	OldestChange(ctx context.Context) (id int64, now time.Time, err error)
	// PruneChanges deletes the changes older than age by the database's
	// clock.
	PruneChanges(ctx context.Context, age time.Duration) (int64, error)
}

// Follower is what a Feed keeps current, such as a Cache.
type Follower interface {
	// Apply drops what a change makes stale.
	Apply(gatehouse.Change)
	// Clear drops everything, for when changes may have been missed.
	Clear()
	// TrustUntil lets the follower trust what it holds until then.
	TrustUntil(time.Time)
}

// FeedConfig configures a Feed. Store is required.
type FeedConfig struct {
	Store ChangeStore
	// Poll is how often the feed is read; DefaultPoll when zero. Followers
	// are trusted for Poll + 800 ms after each good read begins, so a change
	// made on another node takes effect here within a second, or the caches
	// are bypassed.
	Poll time.Duration
	// Retention is how long changes are kept in the database;
	// DefaultRetention when zero.
	Retention time.Duration
	// PruneEvery is how often this node prunes the changes older than
	// Retention; an hour when zero.
	PruneEvery time.Duration
	Logger     *slog.Logger
	// Now is the clock of the trust given to followers; time.Now when nil.
	Now func() time.Time
}

// The defaults of FeedConfig.
const (
	DefaultPoll      = 200 * time.Millisecond
	DefaultRetention = 24 * time.Hour
)

// pageSize is how many changes one read of the feed takes at most.
const pageSize = 1000

// Feed follows the database's change feed for the caches of every door.
// Each poll applies the new changes to the followers and then trusts them
// for a short while; a feed that cannot be read stops the trust, so caches
// are bypassed rather than believed. A poll that finds changes may have been
// missed (the oldest change kept is newer than the next one expected, or the
// last good read is older than the retention, as after a node was suspended)
// clears the followers.
//
// Make one with NewFeed, add followers with Follow, run it with Run, and
// give it the changes this process makes with Apply (the store's OnChange),
// so that they take effect before the call that made them returns.
type Feed struct {
	cfg    FeedConfig
	maxAge time.Duration
	fault  fault.Tracker

	mu        sync.Mutex
	followers []Follower

	// last and lastRead belong to the goroutine that runs Run.

	// last is the ID of the last change read; -1 before the first read.
	last int64
	// lastRead is the database's time at the last good read.
	lastRead time.Time

	ready     chan struct{}
	readyOnce sync.Once
	// readAt is when the last good read began, in Unix nanoseconds of this
	// node's clock; 0 before the first.
	readAt atomic.Int64
}

// Lag is how long ago the last good read of the feed began: about the poll
// interval while the feed is healthy, growing while it stalls. It is zero
// before the first read.
func (f *Feed) Lag(now time.Time) time.Duration {
	at := f.readAt.Load()
	if at == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, at))
}

// NewFeed returns a feed that has not been read yet: its followers are not
// trusted until Run's first read.
func NewFeed(cfg FeedConfig) *Feed {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Feed{
		cfg:    cfg,
		maxAge: cfg.Poll + 800*time.Millisecond,
		fault:  fault.Tracker{Logger: cfg.Logger, What: "change feed"},
		last:   -1,
		ready:  make(chan struct{}),
	}
}

// Follow adds a follower. It is trusted from the next good read on.
func (f *Feed) Follow(fl Follower) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.followers = append(f.followers, fl)
}

// Apply gives the followers a change made by this process.
func (f *Feed) Apply(ch gatehouse.Change) {
	f.mu.Lock()
	followers := f.followers
	f.mu.Unlock()
	for _, fl := range followers {
		fl.Apply(ch)
	}
}

// Ready is closed after the first good read of the feed.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Run reads the feed every Poll and prunes it every PruneEvery until ctx
// ends. A failing feed is logged once when it starts failing and once when
// it recovers.
func (f *Feed) Run(ctx context.Context) {
	poll := time.NewTicker(f.cfg.Poll)
	defer poll.Stop()
	prune := time.NewTicker(f.cfg.PruneEvery)
	defer prune.Stop()
	f.poll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			f.poll(ctx)
		case <-prune.C:
			pruneCtx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := f.cfg.Store.PruneChanges(pruneCtx, f.cfg.Retention); err != nil && ctx.Err() == nil {
				f.cfg.Logger.Warn("change feed: old changes not pruned; will retry", "err", err)
			}
			cancel()
		}
	}
}

// poll reads the changes after the last one read and applies them, then
// trusts the followers until maxAge after the read began. A read that takes
// longer is abandoned.
func (f *Feed) poll(ctx context.Context) {
	started := f.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, f.maxAge)
	defer cancel()
	f.mu.Lock()
	followers := f.followers
	f.mu.Unlock()
	fail := func(err error) {
		if ctx.Err() == nil || context.Cause(ctx) == context.DeadlineExceeded {
			f.fault.Fail(err)
		}
	}
	if f.last < 0 {
		// The first read places the feed at the newest change: what came
		// before is what the store will answer lookups with.
		last, err := f.cfg.Store.LastChangeID(ctx)
		if err != nil {
			fail(err)
			return
		}
		f.last = last
	}
	next := f.last + 1
	for {
		changes, err := f.cfg.Store.ChangesAfter(ctx, f.last, pageSize)
		if err != nil {
			fail(err)
			return
		}
		for _, ch := range changes {
			for _, fl := range followers {
				fl.Apply(ch)
			}
			f.last = ch.ID
		}
		if len(changes) < pageSize {
			break
		}
	}
	// Read after the changes, so a prune between the two reads is seen.
	oldest, now, err := f.cfg.Store.OldestChange(ctx)
	if err != nil {
		fail(err)
		return
	}
	stale := !f.lastRead.IsZero() && now.Sub(f.lastRead) > f.cfg.Retention-f.cfg.Retention/24
	if oldest > next || stale {
		f.cfg.Logger.Warn("change feed: changes may have been pruned before this node read them; caches cleared",
			"next_expected", next, "oldest_kept", oldest, "last_read", f.lastRead)
		for _, fl := range followers {
			fl.Clear()
		}
	}
	f.lastRead = now
	f.readAt.Store(started.UnixNano())
	f.fault.OK()
	for _, fl := range followers {
		fl.TrustUntil(started.Add(f.maxAge))
	}
	f.readyOnce.Do(func() { close(f.ready) })
}
