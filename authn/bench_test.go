package authn

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
)

// filledCache returns a trusted cache holding n keys of 1000 accounts.
func filledCache(b *testing.B, n int) (*Cache[string], []Hash) {
	b.Helper()
	f := newFakeStore()
	hashes := make([]Hash, n)
	for i := range hashes {
		hashes[i] = f.add(i, cred{id: fmt.Sprintf("P%06d", i), account: fmt.Sprintf("PA%05d", i%1000)})
	}
	c := newTestCache(f, Config[string]{Size: n})
	now := time.Now()
	for _, h := range hashes {
		if _, err := c.Get(ctx, h, now, netip.MustParseAddr("192.0.2.1")); err != nil {
			b.Fatal(err)
		}
	}
	return c, hashes
}

// BenchmarkGet is a cache hit, from every core, over 10 000 keys.
func BenchmarkGet(b *testing.B) {
	c, hashes := filledCache(b, 10_000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(ctx, hashes[i%len(hashes)], time.Now(), netip.MustParseAddr("192.0.2.1")); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkApply is one change (of an account of 100 keys) applied to a
// cache of 100 000 keys: it must cost the entries it drops, not a scan of
// all of them (the old cache took 10 ms).
func BenchmarkApply(b *testing.B) {
	c, _ := filledCache(b, 100_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Apply(gatehouse.Change{Kind: gatehouse.ChangeAccount, SubjectID: fmt.Sprintf("PA%05d", i%1000)})
		i++
	}
}
