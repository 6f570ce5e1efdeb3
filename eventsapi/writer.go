package eventsapi

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/fault"
)

// Appender commits a batch of events to the event log, in one transaction:
// once it returns nil, every event of the batch is durable.
type Appender interface {
	AppendEvents(ctx context.Context, events []*gatehouse.Event) error
}

// WriterConfig configures a Writer. Zero values take the defaults.
type WriterConfig struct {
	Store Appender
	// QueueSize bounds the events waiting for a batch (DefaultQueueSize):
	// when it is full, Write refuses at once with ErrQueueFull.
	QueueSize int
	// MaxBatch bounds the events of one transaction (DefaultMaxBatch).
	MaxBatch int
	// Window is how long the writer waits for more events once the queue
	// is empty, before it commits a batch that is not full (DefaultWindow).
	// Negative commits at once.
	Window time.Duration
	// CommitTimeout bounds one commit (DefaultCommitTimeout).
	CommitTimeout time.Duration
	// OnCommit, if set, is called after each batch is committed, such as
	// Applier.Wake.
	OnCommit func()
	// Pending, if set, says how many events wait to be applied (such as
	// Applier.Pending); while it is above MaxPending (DefaultMaxPending),
	// Write refuses at once with ErrBehind, so that a flood the applier
	// cannot keep up with is told to come back rather than piling up.
	Pending    func() int64
	MaxPending int64
	// Logger receives one line when commits start failing and one when they
	// recover.
	Logger *slog.Logger
}

// The writer's defaults.
const (
	DefaultQueueSize     = 4096
	DefaultMaxBatch      = 1024
	DefaultWindow        = time.Millisecond
	DefaultCommitTimeout = 5 * time.Second
	DefaultMaxPending    = 100_000
)

// Errors of Write besides the store's.
var (
	// ErrBehind says that more events wait to be applied than the writer
	// lets pile up (WriterConfig.MaxPending): the event is not taken.
	ErrBehind = errors.New("events are applied more slowly than they arrive")
	// ErrQueueFull says that more events wait than the queue holds: the
	// client should retry a little later.
	ErrQueueFull = errors.New("event queue full")
	// ErrStopped says that the writer is stopping or stopped.
	ErrStopped = errors.New("event writer stopped")
)

// Writer is the group-commit writer of the event log: one goroutine (Run)
// gathers the events of concurrent requests for a bounded time or count,
// commits them in one transaction, and answers every waiting request. So a
// 2xx always means committed, and throughput stays high: a commit's flush to
// disk is shared by the whole batch.
type Writer struct {
	cfg    WriterConfig
	queue  chan *pending
	health *fault.Tracker

	// mu guards closed: Write enqueues under its read lock, so that once
	// Stop has set closed, no event can enter the queue that Run would
	// not drain.
	mu     sync.RWMutex
	closed bool
	stop   chan struct{}
	done   chan struct{}

	batches, events atomic.Int64
}

// pending is one event waiting for its batch's commit.
type pending struct {
	event *gatehouse.Event
	// done receives the commit's outcome; it is buffered, so the writer
	// never waits for a request that gave up.
	done chan error
}

var pendings = sync.Pool{New: func() any { return &pending{done: make(chan error, 1)} }}

// NewWriter returns a writer. Start it with Run.
func NewWriter(cfg WriterConfig) *Writer {
	cfg.QueueSize = cmp.Or(cfg.QueueSize, DefaultQueueSize)
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, DefaultMaxBatch)
	cfg.Window = cmp.Or(cfg.Window, DefaultWindow)
	cfg.CommitTimeout = cmp.Or(cfg.CommitTimeout, DefaultCommitTimeout)
	cfg.MaxPending = cmp.Or(cfg.MaxPending, DefaultMaxPending)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Writer{
		cfg:    cfg,
		queue:  make(chan *pending, cfg.QueueSize),
		health: &fault.Tracker{Logger: cfg.Logger, What: "event log writer"},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// Write adds e to the next batch and waits for its commit. It returns nil
// once e is committed, ErrQueueFull at once when the queue is full,
// ErrBehind at once when too many events wait to be applied,
// ErrStopped when the writer is stopping, the store's error when the commit
// failed, or ctx's error when ctx ends first (e may be committed anyway).
// The wait is bounded: a full queue refuses, and each commit is bounded by
// CommitTimeout.
func (w *Writer) Write(ctx context.Context, e *gatehouse.Event) error {
	if w.cfg.Pending != nil && w.cfg.Pending() > w.cfg.MaxPending {
		return ErrBehind
	}
	p := pendings.Get().(*pending)
	p.event = e
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		pendings.Put(p)
		return ErrStopped
	}
	select {
	case w.queue <- p:
	default:
		w.mu.RUnlock()
		pendings.Put(p)
		return ErrQueueFull
	}
	w.mu.RUnlock()
	select {
	case err := <-p.done:
		p.event = nil
		pendings.Put(p)
		return err
	case <-ctx.Done():
		// p stays out of the pool: the writer may still answer on it.
		return ctx.Err()
	}
}

// Run commits batches until Stop is called, then commits what is still
// queued and returns.
func (w *Writer) Run() {
	defer close(w.done)
	batch := make([]*pending, 0, w.cfg.MaxBatch)
	events := make([]*gatehouse.Event, 0, w.cfg.MaxBatch)
	window := time.NewTimer(time.Hour)
	window.Stop()
	expect := 1
	for {
		var first *pending
		select {
		case first = <-w.queue:
		case <-w.stop:
			w.drain(batch, events)
			return
		}
		batch = append(batch[:0], first)
		batch = w.gather(batch, window, expect)
		n := len(batch)
		w.commit(batch, events)
		// The clients just answered and those whose events came during the
		// commit make the next batch: expect them all. A smaller count
		// lowers the expectation slowly, so that one batch that missed a
		// few clients does not make the next ones smaller still.
		expect = min(max(n+len(w.queue), expect-expect/8), w.cfg.MaxBatch)
	}
}

// gather adds to batch what the queue holds, then, while the batch is
// smaller than expected, waits up to the window for more. Clients whose
// events were just committed send their next ones within a fraction of the
// window: waiting for them makes one commit (one flush to disk) of what
// would be many, and stopping once they are all there saves the rest of
// the window.
func (w *Writer) gather(batch []*pending, window *time.Timer, expect int) []*pending {
	waiting := false
	defer func() {
		if waiting {
			window.Stop()
		}
	}()
	for len(batch) < w.cfg.MaxBatch {
		select {
		case p := <-w.queue:
			batch = append(batch, p)
			continue
		default:
		}
		if w.cfg.Window < 0 || len(batch) >= expect {
			return batch
		}
		if !waiting {
			window.Reset(w.cfg.Window)
			waiting = true
		}
		select {
		case p := <-w.queue:
			batch = append(batch, p)
		case <-window.C:
			waiting = false
			return batch
		}
	}
	return batch
}

// commit writes batch in one transaction and answers its requests. When
// the commit fails, every event queued meanwhile is answered with the same
// error rather than made to wait for another attempt that would likely
// fail too.
func (w *Writer) commit(batch []*pending, events []*gatehouse.Event) {
	events = events[:0]
	for _, p := range batch {
		events = append(events, p.event)
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CommitTimeout)
	err := w.cfg.Store.AppendEvents(ctx, events)
	cancel()
	clear(events)
	if err != nil {
		w.health.Fail(err)
	} else {
		w.health.OK()
		w.batches.Add(1)
		w.events.Add(int64(len(batch)))
	}
	for _, p := range batch {
		p.done <- err
	}
	clear(batch)
	if err != nil {
		for {
			select {
			case p := <-w.queue:
				p.done <- err
				continue
			default:
			}
			return
		}
	}
	if w.cfg.OnCommit != nil {
		w.cfg.OnCommit()
	}
}

// drain commits every event still queued, in batches.
func (w *Writer) drain(batch []*pending, events []*gatehouse.Event) {
	for {
		batch = batch[:0]
		for len(batch) < w.cfg.MaxBatch {
			select {
			case p := <-w.queue:
				batch = append(batch, p)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		w.commit(batch, events)
	}
}

// Stop refuses new events, waits until every event already queued is
// committed (or failed), and returns once Run has returned. Call it after
// the HTTP server has shut down, and once.
func (w *Writer) Stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}

// Queued returns how many events wait for a batch.
func (w *Writer) Queued() int { return len(w.queue) }

// WriterStats counts the writer's commits since it started.
type WriterStats struct {
	// Batches is the number of transactions committed, Events the events
	// they held.
	Batches, Events int64
}

// Stats returns the writer's counts.
func (w *Writer) Stats() WriterStats {
	return WriterStats{Batches: w.batches.Load(), Events: w.events.Load()}
}
