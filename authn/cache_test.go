package authn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// cred is a credential of the fake store: what its hash resolves to.
type cred struct {
	id       string
	account  string
	user     string
	disabled bool
}

// fakeStore is a store of credentials that counts its lookups.
type fakeStore struct {
	mu      sync.Mutex
	creds   map[Hash]cred
	lookups map[Hash]int
	// hold, when set, is waited for by every lookup.
	hold chan struct{}
	// err, when set, is every lookup's answer.
	err error
}

func newFakeStore() *fakeStore {
	return &fakeStore{creds: map[Hash]cred{}, lookups: map[Hash]int{}}
}

func hashOf(i int) Hash { return sha256.Sum256([]byte(fmt.Sprint("key", i))) }

func (f *fakeStore) add(i int, c cred) Hash {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := hashOf(i)
	f.creds[h] = c
	return h
}

func (f *fakeStore) count(h Hash) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups[h]
}

func (f *fakeStore) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.lookups {
		n += c
	}
	return n
}

// load is the loader of the fake store's cache: a credential's ID, or ""
// for a disabled one, tagged with its account and user.
func (f *fakeStore) load(ctx context.Context, h Hash) (string, []Tag, error) {
	f.mu.Lock()
	f.lookups[h]++
	c, ok := f.creds[h]
	hold, err := f.hold, f.err
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	}
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, ErrUnknown
	}
	tags := []Tag{TagOf(gatehouse.ChangeAccount, c.account)}
	if c.user != "" {
		tags = append(tags, TagOf(gatehouse.ChangeUser, c.user))
	}
	if c.disabled {
		return "", tags, nil
	}
	return c.id, tags, nil
}

// newTestCache returns a trusted cache of the fake store.
func newTestCache(f *fakeStore, cfg Config[string]) *Cache[string] {
	cfg.Load = f.load
	if cfg.UseID == nil {
		cfg.UseID = func(id string) string { return id }
	}
	c := New(cfg)
	c.TrustUntil(time.Now().Add(time.Hour))
	return c
}

var ctx = context.Background()

func mustGet(t *testing.T, c *Cache[string], h Hash, now time.Time) string {
	t.Helper()
	v, err := c.Get(ctx, h, now, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return v
}

func TestGet(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	known := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	disabled := f.add(2, cred{id: "PKEY002", account: "PACC001", disabled: true})
	unknown := hashOf(3)
	c := newTestCache(f, Config[string]{})
	now := time.Now()

	for range 3 {
		if v := mustGet(t, c, known, now); v != "PKEY001" {
			t.Errorf("Get(known) = %q, want PKEY001", v)
		}
		if v := mustGet(t, c, disabled, now); v != "" {
			t.Errorf("Get(disabled) = %q, want the zero value", v)
		}
		if _, err := c.Get(ctx, unknown, now, netip.Addr{}); !errors.Is(err, ErrUnknown) {
			t.Errorf("Get(unknown) = %v, want ErrUnknown", err)
		}
	}
	for _, h := range []Hash{known, disabled, unknown} {
		if n := f.count(h); n != 1 {
			t.Errorf("%d lookups of one hash in 3 Gets, want 1", n)
		}
	}
	if k, u := c.Len(); k != 2 || u != 1 {
		t.Errorf("Len = %d known, %d unknown; want 2, 1", k, u)
	}
}

func TestHitMakesNoAllocation(t *testing.T) {
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	c := newTestCache(f, Config[string]{})
	now := time.Now()
	mustGet(t, c, h, now)
	if n := testing.AllocsPerRun(100, func() { c.Get(ctx, h, now, netip.MustParseAddr("192.0.2.1")) }); n != 0 {
		t.Errorf("a hit makes %v allocations, want 0", n)
	}
}

// TestUntrustedCacheAsksTheStore: before the feed has been read, and after
// it stops being read, every Get asks the store and nothing is cached.
func TestUntrustedCacheAsksTheStore(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	c := New(Config[string]{Load: f.load})
	now := time.Now()
	for range 3 {
		mustGet(t, c, h, now)
	}
	if n := f.count(h); n != 3 {
		t.Errorf("%d lookups by an untrusted cache in 3 Gets, want 3", n)
	}
	c.TrustUntil(now.Add(time.Second))
	mustGet(t, c, h, now)
	mustGet(t, c, h, now)
	if n := f.count(h); n != 4 {
		t.Errorf("%d lookups once trusted, want 4", n)
	}
	mustGet(t, c, h, now.Add(time.Second))
	if n := f.count(h); n != 5 {
		t.Errorf("%d lookups once the trust ran out, want 5", n)
	}
}

func TestConcurrentMissesMakeOneLookup(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	f.hold = make(chan struct{})
	c := newTestCache(f, Config[string]{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if v := mustGet(t, c, h, time.Now()); v != "PKEY001" {
				t.Errorf("Get = %q", v)
			}
		})
	}
	waitUntil(t, "the first lookup", func() bool { return f.count(h) == 1 })
	time.Sleep(10 * time.Millisecond) // the others join it
	close(f.hold)
	wg.Wait()
	if n := f.count(h); n != 1 {
		t.Errorf("%d lookups for 50 concurrent misses, want 1", n)
	}
}

// TestLookupsAreBounded: a flood of misses occupies at most MaxLookups
// store connections; the rest wait their turn, up to the deadline, and are
// then told the store is unavailable (2901), logged once.
func TestLookupsAreBounded(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	c := New(Config[string]{
		MaxLookups:    3,
		LookupTimeout: 200 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
		What:          "test key",
		Load: func(ctx context.Context, h Hash) (string, []Tag, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			select {
			case <-release:
				return "", nil, ErrUnknown
			case <-ctx.Done():
				return "", nil, ctx.Err()
			}
		},
	})
	c.TrustUntil(time.Now().Add(time.Hour))
	var wg sync.WaitGroup
	var unavailable atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			_, err := c.Get(ctx, hashOf(i), time.Now(), netip.Addr{})
			if gatehouse.ErrorCode(err) == gatehouse.CodeUnavailable {
				unavailable.Add(1)
			}
		})
	}
	wg.Wait()
	close(release)
	if most.Load() != 3 {
		t.Errorf("%d lookups at once, want 3", most.Load())
	}
	if unavailable.Load() != 20 {
		t.Errorf("%d of 20 hung lookups answered 2901", unavailable.Load())
	}
	if n := strings.Count(logs.String(), "test key lookups failing"); n != 1 {
		t.Errorf("the fault was logged %d times, want once:\n%s", n, logs.String())
	}
	// Once the store answers, the recovery is logged once.
	for i := range 3 {
		c.Get(ctx, hashOf(100+i), time.Now(), netip.Addr{})
	}
	if n := strings.Count(logs.String(), "test key lookups recovered"); n != 1 {
		t.Errorf("the recovery was logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestLookupOutlivesCancelledRequest: a request whose client hung up (or
// half-closed its connection) still gets the store's answer, rather than an
// error of its own context.
func TestLookupOutlivesCancelledRequest(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	c := newTestCache(f, Config[string]{})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if v, err := c.Get(cancelled, h, time.Now(), netip.Addr{}); v != "PKEY001" || err != nil {
		t.Errorf("Get with a cancelled context = %q, %v; want PKEY001", v, err)
	}
}

// TestStoreErrorsAreUnavailable: a store that fails makes a 2901 answer,
// never cached, and a panicking loader ends its lookup too.
func TestStoreErrorsAreUnavailable(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	f.err = errors.New("connection refused")
	c := newTestCache(f, Config[string]{})
	for range 2 {
		if _, err := c.Get(ctx, h, time.Now(), netip.Addr{}); gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable {
			t.Errorf("Get with a failing store = %v, want code 2901", err)
		}
	}
	if f.count(h) != 2 {
		t.Errorf("%d lookups, want 2: a failure is not cached", f.count(h))
	}
	p := New(Config[string]{Load: func(context.Context, Hash) (string, []Tag, error) { panic("boom") }})
	for range 2 {
		if _, err := p.Get(ctx, h, time.Now(), netip.Addr{}); gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable {
			t.Errorf("Get with a panicking loader = %v, want code 2901", err)
		}
	}
}

// TestAnswerReadBeforeChangeIsNotCached: a lookup that read a key before
// the key changed does not cache what it read, and callers arriving after
// the change do not share its answer.
func TestAnswerReadBeforeChangeIsNotCached(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		change func(c *Cache[string], h Hash)
	}{
		{"its hash", func(c *Cache[string], h Hash) { c.InvalidateHash(h) }},
		{"its account", func(c *Cache[string], h Hash) { c.Invalidate("account:PACC001") }},
		{"everything", func(c *Cache[string], h Hash) { c.Clear() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeStore()
			h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
			f.hold = make(chan struct{})
			c := newTestCache(f, Config[string]{})
			first := make(chan string)
			go func() { first <- mustGet(t, c, h, time.Now()) }()
			waitUntil(t, "the lookup", func() bool { return f.count(h) == 1 })
			f.mu.Lock()
			f.creds[h] = cred{id: "PKEY001", account: "PACC001", disabled: true}
			f.mu.Unlock()
			tt.change(c, h)
			second := make(chan string)
			go func() { second <- mustGet(t, c, h, time.Now()) }()
			waitUntil(t, "a second lookup", func() bool { return f.count(h) == 2 })
			close(f.hold)
			if v := <-first; v != "PKEY001" {
				t.Errorf("the lookup begun before the change = %q", v)
			}
			if v := <-second; v != "" {
				t.Errorf("a Get after the change = %q, want the disabled key", v)
			}
			if v := mustGet(t, c, h, time.Now()); v != "" {
				t.Errorf("then Get = %q, want the disabled key", v)
			}
		})
	}
}

// TestChangesDropExactlyTheirEntries: a change of a key drops its entry (and
// an unknown-hash entry of a key just created), a change of a user its
// tokens, of an account its keys, and nothing else: the hashes remembered as
// unknown survive every change but their own.
func TestChangesDropExactlyTheirEntries(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	general := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	token := f.add(2, cred{id: "PKEY002", account: "PACC001", user: "PUSR001"})
	other := f.add(3, cred{id: "PKEY003", account: "PACC002"})
	otherToken := f.add(4, cred{id: "PKEY004", account: "PACC002", user: "PUSR002"})
	created := hashOf(5)
	var unknown []Hash
	for i := range 50 {
		unknown = append(unknown, hashOf(1000+i))
	}
	all := append([]Hash{general, token, other, otherToken, created}, unknown...)
	c := newTestCache(f, Config[string]{})
	now := time.Now()
	getAll := func() {
		for _, h := range all {
			c.Get(ctx, h, now, netip.Addr{})
		}
	}
	getAll()

	steps := []struct {
		change    gatehouse.Change
		reloaded  []Hash
		createdAs string
	}{
		{gatehouse.Change{Kind: gatehouse.ChangeKey, SubjectID: "PKEY001", Hash: general}, []Hash{general}, ""},
		{gatehouse.Change{Kind: gatehouse.ChangeUser, SubjectID: "PUSR001"}, []Hash{token}, ""},
		{gatehouse.Change{Kind: gatehouse.ChangeAccount, SubjectID: "PACC002"}, []Hash{other, otherToken}, ""},
		{gatehouse.Change{Kind: gatehouse.ChangeKey, SubjectID: "PKEY005", Hash: created}, []Hash{created}, "PKEY005"},
		{gatehouse.Change{Kind: gatehouse.ChangeAccount, SubjectID: "PACC001"}, []Hash{general, token, created}, ""},
	}
	for _, step := range steps {
		before := map[Hash]int{}
		for _, h := range all {
			before[h] = f.count(h)
		}
		if step.createdAs != "" {
			f.add(5, cred{id: step.createdAs, account: "PACC001"})
		}
		c.Apply(step.change)
		getAll()
		for _, h := range all {
			want := before[h]
			if slices.Contains(step.reloaded, h) {
				want++
			}
			if got := f.count(h); got != want {
				t.Errorf("after a change of %s %s: %d lookups of %x, want %d", step.change.Kind, step.change.SubjectID, got, h[:4], want)
			}
		}
		if step.createdAs != "" {
			if v := mustGet(t, c, created, now); v != step.createdAs {
				t.Errorf("a created key = %q, want %s", v, step.createdAs)
			}
		}
	}
	// A change of a key without its hash (from an older Gatehouse) clears
	// everything.
	c.Apply(gatehouse.Change{Kind: gatehouse.ChangeKey, SubjectID: "PKEY003"})
	if k, u := c.Len(); k != 0 || u != 0 {
		t.Errorf("after a key change without a hash: %d known, %d unknown entries; want none", k, u)
	}
}

func TestEntriesExpire(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	h := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	unknown := hashOf(2)
	c := newTestCache(f, Config[string]{TTL: 5 * time.Minute, UnknownTTL: 30 * time.Second})
	start := time.Now()
	c.TrustUntil(start.Add(time.Hour))
	for _, step := range []struct {
		after            time.Duration
		known, unknownLk int
	}{
		{0, 1, 1},
		{29 * time.Second, 1, 1},
		{31 * time.Second, 1, 2},
		{4 * time.Minute, 1, 3},             // the unknown entry of 0:31 expired at 1:01
		{5*time.Minute + time.Second, 2, 4}, // the known one, at 5:00 at the latest
	} {
		now := start.Add(step.after)
		mustGet(t, c, h, now)
		c.Get(ctx, unknown, now, netip.Addr{})
		if f.count(h) != step.known || f.count(unknown) != step.unknownLk {
			t.Errorf("at +%v: %d and %d lookups, want %d and %d", step.after, f.count(h), f.count(unknown), step.known, step.unknownLk)
		}
	}
}

// TestUnknownKeysCannotCrowdOutKnownOnes: a flood of made-up keys fills at
// most UnknownSize entries, never those of known keys.
func TestUnknownKeysCannotCrowdOutKnownOnes(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	for i := range 40 {
		f.add(i, cred{id: fmt.Sprintf("PKEY%03d", i), account: "PACC001"})
	}
	c := newTestCache(f, Config[string]{Size: 64, UnknownSize: 16})
	now := time.Now()
	for i := range 40 {
		mustGet(t, c, hashOf(i), now)
	}
	for i := 1000; i < 11000; i++ {
		c.Get(ctx, hashOf(i), now, netip.Addr{})
	}
	for i := range 40 {
		mustGet(t, c, hashOf(i), now)
	}
	if n := f.total(); n != 40+10000 {
		t.Errorf("%d lookups, want %d: the known keys were pushed out", n, 40+10000)
	}
	if k, u := c.Len(); k != 40 || u != 16 {
		t.Errorf("Len = %d known, %d unknown; want 40, 16", k, u)
	}
}

// TestEvictsLeastRecentlyUsed: a full cache makes room by evicting keys not
// used lately, not keys picked at random.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	for i := range 5000 {
		f.add(i, cred{id: fmt.Sprint("K", i), account: "PACC001"})
	}
	c := newTestCache(f, Config[string]{Size: 1000})
	now := time.Now()
	// 500 keys in steady use, while 4500 others are used once each.
	for i := 500; i < 5000; i++ {
		if i%50 == 0 {
			for hot := range 500 {
				mustGet(t, c, hashOf(hot), now)
			}
		}
		mustGet(t, c, hashOf(i), now)
	}
	reloaded := 0
	for hot := range 500 {
		reloaded += f.count(hashOf(hot)) - 1
	}
	if reloaded != 0 {
		t.Errorf("keys in steady use were evicted and reloaded %d times, want 0", reloaded)
	}
	if k, _ := c.Len(); k != 1000 {
		t.Errorf("%d known entries, want 1000", k)
	}
}

// TestIndexAgainstModel runs random operations on a small cache and checks
// every answer against a map: the hand-written index must never lose, keep
// or mix up an entry, through growth, eviction and deletion.
func TestIndexAgainstModel(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		keys, size, unknownSize, ops int
	}{
		{600, 200, 50, 20_000},         // one shard
		{30_000, 16_384, 2048, 60_000}, // sixteen
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			t.Parallel()
			f := newFakeStore()
			for i := range tt.keys {
				if i%3 != 0 { // a third stays unknown
					f.add(i, cred{id: fmt.Sprint("K", i), account: fmt.Sprint("A", i%7)})
				}
			}
			c := newTestCache(f, Config[string]{Size: tt.size, UnknownSize: tt.unknownSize})
			now := time.Now()
			rng := rand.New(rand.NewPCG(1, 2))
			for range tt.ops {
				i := rng.IntN(tt.keys)
				switch op := rng.IntN(100); {
				case op < 80:
					v, err := c.Get(ctx, hashOf(i), now, netip.Addr{})
					want := ""
					if i%3 != 0 {
						want = fmt.Sprint("K", i)
					}
					if v != want || (want == "") != errors.Is(err, ErrUnknown) {
						t.Fatalf("Get(%d) = %q, %v; want %q", i, v, err, want)
					}
				case op < 99:
					c.InvalidateHash(hashOf(i))
				default:
					c.Invalidate(Tag(fmt.Sprint("account:A", i%7)))
				}
			}
			known := 0
			for _, s := range c.shards {
				cells, live := 0, 0
				for _, cell := range s.cells {
					if cell != 0 {
						cells++
						if h0, h1 := entryKey(s, cell); s.find(s.keyOf(cell), h0, h1) < 0 {
							t.Fatalf("cell %d cannot be found from its own key", cell)
						}
					}
				}
				for i := range s.high {
					if s.entry(int32(i)).meta.Load() != 0 {
						live++
					}
				}
				if cells != s.used || live != s.live || len(s.unknown) > c.unknownPerShard {
					t.Errorf("%d cells, %d counted; %d live known entries, %d counted; %d unknown", cells, s.used, live, s.live, len(s.unknown))
				}
				known += live
			}
			if n := c.known.Load(); int(n) != known || known > tt.size+len(c.shards) {
				t.Errorf("%d known entries, %d counted, bound %d", known, n, tt.size)
			}
		})
	}
}

func entryKey(s *shard[string], cell int32) (uint64, uint64) {
	if cell > 0 {
		e := s.entry(cell - 1)
		return e.h0, e.h1
	}
	u := s.unknown[-cell-1]
	return u.h0, u.h1
}

func TestUsesAreRecordedOncePerMinute(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	one := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	two := f.add(2, cred{id: "PKEY002", account: "PACC001"})
	off := f.add(3, cred{id: "PKEY003", account: "PACC001", disabled: true})
	c := newTestCache(f, Config[string]{})
	var written [][]Use
	write := func(_ context.Context, uses []Use) error {
		slices.SortFunc(uses, func(a, b Use) int { return strings.Compare(a.ID, b.ID) })
		written = append(written, uses)
		return nil
	}
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c.TrustUntil(t0.Add(time.Hour))
	minute := t0.Truncate(time.Minute)
	c.Get(ctx, one, t0, netip.MustParseAddr("192.0.2.1"))
	c.Get(ctx, one, t0.Add(10*time.Second), netip.MustParseAddr("192.0.2.2"))
	c.Get(ctx, two, t0, netip.MustParseAddr("2001:db8::7"))
	c.Get(ctx, off, t0, netip.MustParseAddr("192.0.2.3"))
	if err := c.Flush(ctx, write); err != nil {
		t.Fatal(err)
	}
	// Nothing new: nothing written.
	c.Get(ctx, one, t0.Add(20*time.Second), netip.MustParseAddr("192.0.2.4"))
	if err := c.Flush(ctx, write); err != nil {
		t.Fatal(err)
	}
	// A new minute, then the entry is dropped before the flush: its use is
	// kept all the same.
	c.Get(ctx, one, t0.Add(time.Minute), netip.MustParseAddr("192.0.2.5"))
	c.InvalidateHash(one)
	c.Get(ctx, two, t0.Add(2*time.Minute), netip.Addr{})
	failing := errors.New("database down")
	if err := c.Flush(ctx, func(context.Context, []Use) error { return failing }); err != failing {
		t.Fatalf("Flush = %v, want the write's error", err)
	}
	if err := c.Flush(ctx, write); err != nil {
		t.Fatal(err)
	}
	want := [][]Use{
		{
			{ID: "PKEY001", At: minute, From: netip.MustParseAddr("192.0.2.1")},
			{ID: "PKEY002", At: minute, From: netip.MustParseAddr("2001:db8::7")},
		},
		{
			{ID: "PKEY001", At: minute.Add(time.Minute), From: netip.MustParseAddr("192.0.2.5")},
			{ID: "PKEY002", At: minute.Add(2 * time.Minute)},
		},
	}
	if fmt.Sprint(written) != fmt.Sprint(want) {
		t.Errorf("written:\n%v\nwant:\n%v", written, want)
	}
}

func TestShared(t *testing.T) {
	t.Parallel()
	type account struct{ id, plan string }
	s := NewShared(2, func(a, b *account) bool { return *a == *b })
	a1 := s.Get("A", &account{"A", "free"})
	if a2 := s.Get("A", &account{"A", "free"}); a2 != a1 {
		t.Error("an equal account was not shared")
	}
	changed := &account{"A", "business"}
	if a3 := s.Get("A", changed); a3 != changed {
		t.Error("a changed account was not taken")
	}
	if a4 := s.Get("A", &account{"A", "business"}); a4 != changed {
		t.Error("the changed account is not shared")
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTagIndexStaysConsistent runs random acquires, releases and
// invalidations and checks the index's lists and positions after each.
func TestTagIndexStaysConsistent(t *testing.T) {
	t.Parallel()
	ti := newTagIndex()
	rng := rand.New(rand.NewPCG(3, 4))
	var held []*tagSet
	for range 5000 {
		switch op := rng.IntN(10); {
		case op < 5:
			tags := []Tag{Tag(fmt.Sprint("account:A", rng.IntN(5)))}
			if rng.IntN(2) == 0 {
				tags = append(tags, Tag(fmt.Sprint("user:U", rng.IntN(20))))
			}
			held = append(held, ti.acquire(tags))
		case op < 9 && len(held) > 0:
			i := rng.IntN(len(held))
			ti.release(held[i])
			held = slices.Delete(held, i, i+1)
		default:
			ti.invalidate(Tag(fmt.Sprint("account:A", rng.IntN(5))))
		}
		for tag, sets := range ti.byTag {
			for i, s := range sets {
				if s.dead.Load() || ti.sets[s.key] != s || s.pos[slices.Index(s.tags, tag)] != int32(i) {
					t.Fatalf("set %q is out of place in the list of %s", s.key, tag)
				}
			}
		}
		for key, s := range ti.sets {
			for _, tag := range s.tags {
				if !slices.Contains(ti.byTag[tag], s) {
					t.Fatalf("set %q is missing from the list of %s", key, tag)
				}
			}
		}
	}
}

func TestFlushEveryEndsWithOneShortFlush(t *testing.T) {
	t.Parallel()
	f := newFakeStore()
	one := f.add(1, cred{id: "PKEY001", account: "PACC001"})
	c := newTestCache(f, Config[string]{Logger: slog.New(slog.DiscardHandler), What: "test keys"})
	mustGet(t, c, one, time.Now())
	type flush struct {
		uses   []Use
		budget time.Duration
	}
	flushes := make(chan flush, 1)
	stalled := func(ctx context.Context, uses []Use) error {
		deadline, _ := ctx.Deadline()
		flushes <- flush{uses, time.Until(deadline)}
		<-ctx.Done() // a database that never answers
		return ctx.Err()
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.FlushEvery(run, time.Hour, stalled)
	}()
	stop()
	got := <-flushes
	<-done
	if len(got.uses) != 1 || got.uses[0].ID != "PKEY001" {
		t.Errorf("the last flush wrote %v, want the use of PKEY001", got.uses)
	}
	if got.budget <= 0 || got.budget > finalFlushTimeout {
		t.Errorf("the last flush may take %v, want at most %v", got.budget, finalFlushTimeout)
	}
}
