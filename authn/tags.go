package authn

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// tagSet is one combination of tags, shared by every entry that carries it
// (all the keys of one account, all the tokens of one user), so an entry
// holds a single pointer however many tags it has. Invalidating a tag marks
// the sets that carry it dead, and with them, at once, every entry that
// points to them: a change costs the number of sets it touches, never a scan
// of the entries. Dead entries are dropped when next read or by eviction.
type tagSet struct {
	key  string // the tags, sorted, joined by "\n"
	tags []Tag
	dead atomic.Bool
	refs int // entries holding the set, under tagIndex.mu
}

// isDead reports whether a tag of s changed since the entry holding s was
// cached. An entry without tags has a nil set.
func (s *tagSet) isDead() bool { return s != nil && s.dead.Load() }

// tagIndex interns tag sets and finds them by tag.
type tagIndex struct {
	mu    sync.Mutex
	sets  map[string]*tagSet
	byTag map[Tag]map[*tagSet]struct{}
}

func newTagIndex() *tagIndex {
	return &tagIndex{sets: map[string]*tagSet{}, byTag: map[Tag]map[*tagSet]struct{}{}}
}

// acquire returns the live set of tags, made if need be, with one more
// reference; nil for no tags.
func (ti *tagIndex) acquire(tags []Tag) *tagSet {
	if len(tags) == 0 {
		return nil
	}
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var b strings.Builder
	for i, t := range sorted {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(string(t))
	}
	key := b.String()
	ti.mu.Lock()
	defer ti.mu.Unlock()
	s := ti.sets[key]
	if s == nil {
		s = &tagSet{key: key, tags: sorted}
		ti.sets[key] = s
		for _, t := range sorted {
			if ti.byTag[t] == nil {
				ti.byTag[t] = map[*tagSet]struct{}{}
			}
			ti.byTag[t][s] = struct{}{}
		}
	}
	s.refs++
	return s
}

// release drops a reference to s, and forgets s when no entry holds it.
func (ti *tagIndex) release(s *tagSet) {
	if s == nil {
		return
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	s.refs--
	if s.refs > 0 || s.dead.Load() {
		return
	}
	ti.forget(s)
}

// invalidate marks dead every set carrying tag.
func (ti *tagIndex) invalidate(tag Tag) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	for s := range ti.byTag[tag] {
		s.dead.Store(true)
		ti.forget(s)
	}
}

// forget removes s from the index, under ti.mu.
func (ti *tagIndex) forget(s *tagSet) {
	delete(ti.sets, s.key)
	for _, t := range s.tags {
		delete(ti.byTag[t], s)
		if len(ti.byTag[t]) == 0 {
			delete(ti.byTag, t)
		}
	}
}

// clear marks every set dead and forgets them all.
func (ti *tagIndex) clear() {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	for _, s := range ti.sets {
		s.dead.Store(true)
	}
	ti.sets, ti.byTag = map[string]*tagSet{}, map[Tag]map[*tagSet]struct{}{}
}

// len returns how many live sets the index holds.
func (ti *tagIndex) len() int {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	return len(ti.sets)
}
