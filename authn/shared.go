package authn

import "sync"

// Shared hands out one copy of equal values, so that the cached credentials
// of one account (or one user) point to one copy of it instead of each
// holding its own. A value that changed replaces the copy for the values
// read after it; those read before keep theirs until their entries go.
type Shared[T any] struct {
	equal func(a, b *T) bool
	max   int

	mu sync.Mutex
	m  map[string]*T
}

// NewShared returns an empty Shared that compares values with equal and
// keeps at most max of them (it forgets them all past that).
func NewShared[T any](max int, equal func(a, b *T) bool) *Shared[T] {
	return &Shared[T]{equal: equal, max: max, m: map[string]*T{}}
}

// Get returns the copy kept under id if it equals v, else keeps v under id
// and returns it.
func (s *Shared[T]) Get(id string, v *T) *T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[id]; ok && s.equal(old, v) {
		return old
	}
	if len(s.m) >= s.max {
		clear(s.m)
	}
	s.m[id] = v
	return v
}
