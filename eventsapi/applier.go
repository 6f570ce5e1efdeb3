package eventsapi

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/fault"
)

// EventLog is the event log as the applier sees it.
type EventLog interface {
	// ApplyEvents applies up to limit events after the log's cursor, with
	// the cursor, in one transaction, and returns how many it applied: 0
	// when there is none to apply.
	ApplyEvents(ctx context.Context, limit int) (int, error)
	// SkipEvent moves the cursor past the next event without applying it
	// and returns its seq (0 when there is none).
	SkipEvent(ctx context.Context) (int64, error)
	// PruneEvents deletes up to limit of the oldest applied events received
	// before cutoff, and returns how many it deleted.
	PruneEvents(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	// EventsPending returns how many events of the log wait to be applied.
	EventsPending(ctx context.Context) (int64, error)
}

// ApplierConfig configures an Applier. Zero values take the defaults.
type ApplierConfig struct {
	Log EventLog
	// Batch bounds the events applied in one transaction (1024).
	Batch int
	// Poll is how often the log is read when nothing wakes the applier: it
	// finds events other nodes wrote, and takes over from a node that
	// stopped applying (200 ms).
	Poll time.Duration
	// Delay is how long the applier lets events gather once woken (50 ms):
	// under load it applies many per transaction, and leaves most of the
	// database's flushes to disk to the writer, whose clients wait for them.
	Delay time.Duration
	// MaxBackoff bounds the wait between attempts while applying fails
	// (5 s).
	MaxBackoff time.Duration
	// StopTimeout bounds the last attempt to apply what is left when the
	// applier stops (2 s).
	StopTimeout time.Duration
	// Retention is how long applied events are kept in the log (7 days);
	// what they made stays.
	Retention time.Duration
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// poisonAttempts is how many times in a row one event must fail to apply,
// with an error that is not the database's unavailability, before the
// applier passes over it.
const poisonAttempts = 5

// Applier follows the event log and applies its events to alerts,
// incidents and change events, in order, each exactly once: the store
// commits an event's effects with the log's cursor. Events are taken (202)
// as soon as they are committed to the log, as PagerDuty takes them
// ("Event processed" means accepted); the applier runs a few milliseconds
// behind. On PostgreSQL one node applies at a time.
type Applier struct {
	cfg    ApplierConfig
	wake   chan struct{}
	health *fault.Tracker
	logger *slog.Logger
	// pending is how many events waited to be applied at the last look,
	// by any node: the writer refuses events while it is too many.
	pending atomic.Int64
}

// Pending returns how many events waited to be applied at the applier's
// last look at the log (after each pass).
func (a *Applier) Pending() int64 { return a.pending.Load() }

// lookBehind notes how many events wait to be applied.
func (a *Applier) lookBehind(ctx context.Context) {
	if n, err := a.cfg.Log.EventsPending(ctx); err == nil {
		a.pending.Store(n)
	}
}

// NewApplier returns an applier. Start it with Run.
func NewApplier(cfg ApplierConfig) *Applier {
	cfg.Batch = cmp.Or(cfg.Batch, 1024)
	cfg.Poll = cmp.Or(cfg.Poll, 200*time.Millisecond)
	cfg.Delay = cmp.Or(cfg.Delay, 50*time.Millisecond)
	cfg.MaxBackoff = cmp.Or(cfg.MaxBackoff, 5*time.Second)
	cfg.StopTimeout = cmp.Or(cfg.StopTimeout, 2*time.Second)
	cfg.Retention = cmp.Or(cfg.Retention, 7*24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Applier{
		cfg:    cfg,
		wake:   make(chan struct{}, 1),
		health: &fault.Tracker{Logger: cfg.Logger, What: "event applier"},
		logger: cfg.Logger,
	}
}

// Wake tells the applier that events were committed. It never blocks.
func (a *Applier) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run applies the log until ctx ends, then applies what is left for at
// most StopTimeout and returns. Events not applied then are applied at the
// next start.
func (a *Applier) Run(ctx context.Context) {
	timer := time.NewTimer(a.cfg.Poll)
	defer timer.Stop()
	failures := 0
	var prunedAt time.Time
	for {
		if now := a.cfg.Now(); now.Sub(prunedAt) >= pruneEvery {
			a.prune(ctx, now)
			prunedAt = now
		}
		wait := a.cfg.Poll
		n, err := a.cfg.Log.ApplyEvents(ctx, a.cfg.Batch)
		a.lookBehind(ctx)
		switch {
		case ctx.Err() != nil:
			a.finish()
			return
		case err != nil:
			failures++
			a.health.Fail(err)
			if a.passOverPoison(ctx, err) {
				failures = 0
				continue
			}
			wait = min(a.cfg.Poll<<min(failures, 10), a.cfg.MaxBackoff)
		case n > 0:
			// More may wait: the store applies fewer than a batch when the
			// events change much.
			failures = 0
			a.health.OK()
			continue
		default:
			failures = 0
			a.health.OK()
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			a.finish()
			return
		case <-a.wake:
			timer.Stop()
			if !sleepCtx(ctx, a.cfg.Delay) {
				a.finish()
				return
			}
		case <-timer.C:
		}
	}
}

// passOverPoison applies the next event alone, again and again, after a
// batch failed with err: if it alone keeps failing with an error other
// than the database's unavailability, it is passed over (and logged), so
// that one event that cannot apply does not stop every event after it. It
// reports whether the log moved.
func (a *Applier) passOverPoison(ctx context.Context, err error) bool {
	for attempt := 1; !transient(err); attempt++ {
		if attempt > poisonAttempts {
			seq, skipErr := a.cfg.Log.SkipEvent(ctx)
			if skipErr != nil || seq == 0 {
				return false
			}
			a.logger.Error("event passed over: it fails to apply", "seq", seq, "err", err)
			return true
		}
		var n int
		n, err = a.cfg.Log.ApplyEvents(ctx, 1)
		if err == nil {
			return n > 0
		}
		if !sleepCtx(ctx, min(a.cfg.Poll<<attempt, a.cfg.MaxBackoff)) {
			return false
		}
	}
	return false
}

// transient reports whether err says the database could not answer, or the
// caller gave up, rather than that the work itself fails.
func transient(err error) bool {
	switch gatehouse.ErrorCode(err) {
	case gatehouse.CodeUnavailable, gatehouse.CodeConflict:
		return true
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Pruning: every pruneEvery, chunks of pruneChunk events, at most
// pruneChunks of them.
const (
	pruneEvery  = time.Minute
	pruneChunk  = 5000
	pruneChunks = 200
)

// prune deletes applied events older than the retention, a chunk per
// transaction. Failures are the applier's next attempt's to see.
func (a *Applier) prune(ctx context.Context, now time.Time) {
	for range pruneChunks {
		n, err := a.cfg.Log.PruneEvents(ctx, now.Add(-a.cfg.Retention), pruneChunk)
		if err != nil || n < pruneChunk {
			return
		}
	}
}

// finish applies what is left of the log, for at most StopTimeout.
func (a *Applier) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StopTimeout)
	defer cancel()
	for {
		n, err := a.cfg.Log.ApplyEvents(ctx, a.cfg.Batch)
		if err != nil || n == 0 {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
