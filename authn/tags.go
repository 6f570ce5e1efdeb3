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
	// key is the tags, sorted, joined by "\n"; tags are substrings of it.
	key  string
	tags []Tag
	// pos[i] is the set's index in the index's list of tags[i].
	pos  []int32
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
	byTag map[Tag][]*tagSet
}

func newTagIndex() *tagIndex {
	return &tagIndex{sets: map[string]*tagSet{}, byTag: map[Tag][]*tagSet{}}
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
		s = &tagSet{key: key, tags: sorted, pos: make([]int32, len(sorted))}
		// The set's tags and the index's keys share the key's bytes.
		for i, t := range strings.Split(key, "\n") {
			s.tags[i] = Tag(t)
		}
		ti.sets[key] = s
		for i, t := range s.tags {
			s.pos[i] = int32(len(ti.byTag[t]))
			ti.byTag[t] = append(ti.byTag[t], s)
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
	for sets := ti.byTag[tag]; len(sets) > 0; sets = ti.byTag[tag] {
		s := sets[len(sets)-1]
		s.dead.Store(true)
		ti.forget(s)
	}
}

// forget removes s from the index, under ti.mu: from the list of each of
// its tags, by moving the list's last set into its place.
func (ti *tagIndex) forget(s *tagSet) {
	delete(ti.sets, s.key)
	for i, t := range s.tags {
		sets := ti.byTag[t]
		last := sets[len(sets)-1]
		sets[s.pos[i]] = last
		last.pos[slices.Index(last.tags, t)] = s.pos[i]
		sets[len(sets)-1] = nil
		if sets = sets[:len(sets)-1]; len(sets) == 0 {
			delete(ti.byTag, t)
		} else {
			ti.byTag[t] = sets
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
	ti.sets, ti.byTag = map[string]*tagSet{}, map[Tag][]*tagSet{}
}
