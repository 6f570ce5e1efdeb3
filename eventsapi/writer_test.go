package eventsapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/eventsapi"
)

// fakeLog is an event log in memory whose commits can be held and made to
// fail.
type fakeLog struct {
	mu      sync.Mutex
	batches [][]string
	err     error
	// hold, when set, makes the next commit wait until it is closed.
	hold chan struct{}
	// holding is closed when a held commit has begun.
	holding chan struct{}
}

func (l *fakeLog) AppendEvents(ctx context.Context, events []*gatehouse.Event) error {
	l.mu.Lock()
	hold, holding := l.hold, l.holding
	l.hold = nil
	l.mu.Unlock()
	if hold != nil {
		close(holding)
		<-hold
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	var keys []string
	for _, e := range events {
		keys = append(keys, e.DedupKey)
	}
	l.batches = append(l.batches, keys)
	return nil
}

// holdNext makes the next commit wait until release is called.
func (l *fakeLog) holdNext() (begun <-chan struct{}, release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hold := make(chan struct{})
	l.hold, l.holding = hold, make(chan struct{})
	return l.holding, sync.OnceFunc(func() { close(hold) })
}

func (l *fakeLog) committed() (batches int, events []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.batches {
		events = append(events, b...)
	}
	return len(l.batches), events
}

func startWriter(t *testing.T, cfg eventsapi.WriterConfig) *eventsapi.Writer {
	t.Helper()
	w := eventsapi.NewWriter(cfg)
	go w.Run()
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Stop) })
	return w
}

func event(key string) *gatehouse.Event { return &gatehouse.Event{DedupKey: key} }

// writeAsync writes an event in a goroutine and returns where its outcome
// arrives.
func writeAsync(w *eventsapi.Writer, key string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- w.Write(context.Background(), event(key)) }()
	return done
}

// waitQueued waits until n events wait for a batch.
func waitQueued(t *testing.T, w *eventsapi.Writer, n int) {
	t.Helper()
	for w.Queued() < n {
		select {
		case <-t.Context().Done():
			t.Fatalf("%d events queued, want %d", w.Queued(), n)
		case <-time.After(time.Millisecond):
		}
	}
}

func TestWriterCommitsConcurrentEventsTogether(t *testing.T) {
	t.Parallel()
	log := &fakeLog{}
	w := startWriter(t, eventsapi.WriterConfig{Store: log})
	begun, release := log.holdNext()
	first := writeAsync(w, "first")
	<-begun
	const n = 199
	var outcomes []<-chan error
	for i := range n {
		outcomes = append(outcomes, writeAsync(w, fmt.Sprint(i)))
	}
	waitQueued(t, w, n)
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if err := <-o; err != nil {
			t.Fatal(err)
		}
	}
	batches, events := log.committed()
	if batches != 2 || len(events) != n+1 {
		t.Errorf("%d events in %d commits, want %d in 2: the first alone, then all that queued meanwhile", len(events), batches, n+1)
	}
	if st := w.Stats(); st.Batches != 2 || st.Events != n+1 {
		t.Errorf("Stats = %+v, want 2 batches of %d events", st, n+1)
	}
}

func TestWriterBoundsBatches(t *testing.T) {
	t.Parallel()
	log := &fakeLog{}
	w := startWriter(t, eventsapi.WriterConfig{Store: log, MaxBatch: 10})
	begun, release := log.holdNext()
	first := writeAsync(w, "first")
	<-begun
	var outcomes []<-chan error
	for i := range 35 {
		outcomes = append(outcomes, writeAsync(w, fmt.Sprint(i)))
	}
	waitQueued(t, w, 35)
	release()
	<-first
	for _, o := range outcomes {
		<-o
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, b := range log.batches {
		if len(b) > 10 {
			t.Errorf("a commit of %d events, want at most 10", len(b))
		}
	}
}

func TestWriterRefusesWhenQueueIsFull(t *testing.T) {
	t.Parallel()
	log := &fakeLog{}
	w := startWriter(t, eventsapi.WriterConfig{Store: log, QueueSize: 2})
	begun, release := log.holdNext()
	defer release()
	first := writeAsync(w, "first")
	<-begun
	queued := []<-chan error{writeAsync(w, "a"), writeAsync(w, "b")}
	waitQueued(t, w, 2)
	if err := w.Write(context.Background(), event("c")); !errors.Is(err, eventsapi.ErrQueueFull) {
		t.Errorf("Write with a full queue = %v, want ErrQueueFull at once", err)
	}
	release()
	for _, o := range append(queued, first) {
		if err := <-o; err != nil {
			t.Error(err)
		}
	}
}

func TestWriterStopCommitsWhatIsQueued(t *testing.T) {
	t.Parallel()
	log := &fakeLog{}
	w := eventsapi.NewWriter(eventsapi.WriterConfig{Store: log})
	go w.Run()
	begun, release := log.holdNext()
	first := writeAsync(w, "first")
	<-begun
	var outcomes []<-chan error
	for i := range 5 {
		outcomes = append(outcomes, writeAsync(w, fmt.Sprint(i)))
	}
	waitQueued(t, w, 5)
	stopped := make(chan struct{})
	go func() {
		w.Stop()
		close(stopped)
	}()
	release()
	<-stopped
	if err := w.Write(context.Background(), event("late")); !errors.Is(err, eventsapi.ErrStopped) {
		t.Errorf("Write after Stop = %v, want ErrStopped", err)
	}
	for _, o := range append(outcomes, first) {
		if err := <-o; err != nil {
			t.Errorf("an event queued before Stop: %v, want committed", err)
		}
	}
	if _, events := log.committed(); len(events) != 6 {
		t.Errorf("%d events committed, want the 6 queued before Stop", len(events))
	}
}

func TestWriterFailureAnswersEveryQueuedEvent(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var logsMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logsMu}, nil))
	fail := errors.New("disk I/O error")
	log := &fakeLog{err: fail}
	w := startWriter(t, eventsapi.WriterConfig{Store: log, Logger: logger})
	begun, release := log.holdNext()
	first := writeAsync(w, "first")
	<-begun
	var outcomes []<-chan error
	for i := range 20 {
		outcomes = append(outcomes, writeAsync(w, fmt.Sprint(i)))
	}
	waitQueued(t, w, 20)
	release()
	for _, o := range append(outcomes, first) {
		if err := <-o; !errors.Is(err, fail) {
			t.Errorf("Write = %v, want the commit's error", err)
		}
	}
	log.mu.Lock()
	log.err = nil
	log.mu.Unlock()
	if err := w.Write(context.Background(), event("after")); err != nil {
		t.Errorf("Write once the store recovered = %v", err)
	}
	logsMu.Lock()
	defer logsMu.Unlock()
	if got := logs.String(); strings.Count(got, "event log writer failing") != 1 || strings.Count(got, "event log writer recovered") != 1 {
		t.Errorf("logs:\n%s\nwant one line when commits start failing and one when they recover", got)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestWriterGivesUpWithItsCaller(t *testing.T) {
	t.Parallel()
	log := &fakeLog{}
	w := startWriter(t, eventsapi.WriterConfig{Store: log})
	begun, release := log.holdNext()
	defer release()
	first := writeAsync(w, "first")
	<-begun
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Write(ctx, event("gone")) }()
	waitQueued(t, w, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Write whose caller gave up = %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Error(err)
	}
}

// TestWriterRefusesWhenBehind: while more events wait to be applied than
// MaxPending, Write refuses at once, and takes events again once the
// applier caught up.
func TestWriterRefusesWhenBehind(t *testing.T) {
	t.Parallel()
	var pending atomic.Int64
	log := &fakeLog{}
	w := startWriter(t, eventsapi.WriterConfig{Store: log, Pending: pending.Load, MaxPending: 10})
	pending.Store(11)
	if err := w.Write(context.Background(), event("a")); !errors.Is(err, eventsapi.ErrBehind) {
		t.Fatalf("Write while 11 events wait (at most 10) = %v, want ErrBehind", err)
	}
	pending.Store(10)
	if err := w.Write(context.Background(), event("b")); err != nil {
		t.Fatalf("Write once caught up = %v", err)
	}
	if _, got := log.committed(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("committed %v, want only b", got)
	}
}
