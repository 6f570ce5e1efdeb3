// Package fault logs a failing dependency (the database, Redis, the change
// feed) once when it starts failing and once when it recovers, however many
// requests meet it meanwhile.
package fault

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker follows the health of one dependency. Its zero value is not
// usable: set Logger and What. It is safe for concurrent use, and OK costs
// one atomic load while the dependency is healthy, so it may be called on
// every request.
type Tracker struct {
	// Logger receives the two lines of each fault.
	Logger *slog.Logger
	// What names the dependency in the log lines, such as "database".
	What string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	failing atomic.Bool // since is set; read without the lock
	mu      sync.Mutex
	since   time.Time // zero while healthy
	failed  int       // failures seen during the current fault
}

// Fail records a failure. The first failure of a fault is logged as a
// warning with err; later ones only count.
func (t *Tracker) Fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed++
	if !t.since.IsZero() {
		return
	}
	t.since = t.now()
	t.failing.Store(true)
	t.Logger.Warn(t.What+" failing", "err", err)
}

// OK records a success. The first success after a fault is logged with how
// long the fault lasted and how many failures it caused.
func (t *Tracker) OK() {
	if !t.failing.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.since.IsZero() {
		return
	}
	t.Logger.Info(t.What+" recovered", "after", t.now().Sub(t.since).Round(time.Millisecond), "failures", t.failed)
	t.since, t.failed = time.Time{}, 0
	t.failing.Store(false)
}

// Failing reports whether a fault is in progress.
func (t *Tracker) Failing() bool {
	return t.failing.Load()
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}
