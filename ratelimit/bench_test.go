package ratelimit

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkMemoryBytesPerKey reports the heap the in-memory limiter keeps
// for 1 000 000 keys in use (after a GC), per key.
func BenchmarkMemoryBytesPerKey(b *testing.B) {
	const keys = 1_000_000
	limit := Limit{Rate: 960, Period: time.Minute}
	ctx := context.Background()
	for b.Loop() {
		before := heapAlloc()
		m := NewMemory()
		// A clock that stands still keeps every key in use.
		now := time.Now()
		m.Now = func() time.Time { return now }
		buf := make([]byte, 0, 32)
		for i := range keys {
			buf = strconv.AppendInt(append(buf[:0], "key-"...), int64(i), 10)
			if _, err := m.Allow(ctx, string(buf), limit); err != nil {
				b.Fatal(err)
			}
		}
		after := heapAlloc()
		b.ReportMetric(float64(after-before)/keys, "B/key")
		runtime.KeepAlive(m)
	}
}

// BenchmarkLimiters compares the limiters in one run: on one hot key and on
// 10 000 keys under a limit that never refuses, on 10 000 keys under 960 a
// second (leases of 15, a round trip every 11 or so requests), and on one
// key under 960 a minute (nearly every request refused). The Redis ones need
// GATEHOUSE_TEST_REDIS_URL.
func BenchmarkLimiters(b *testing.B) {
	limiters := []struct {
		name string
		new  func(b *testing.B) Limiter
	}{
		{"memory", func(b *testing.B) Limiter { return NewMemory() }},
		{"redis", func(b *testing.B) Limiter {
			url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
			if url == "" {
				b.Skip("GATEHOUSE_TEST_REDIS_URL is not set")
			}
			opts, err := redis.ParseURL(url)
			if err != nil {
				b.Fatal(err)
			}
			client := redis.NewClient(opts)
			b.Cleanup(func() { client.Close() })
			return NewRedis(client)
		}},
	}
	cases := []struct {
		name  string
		keys  int
		limit Limit
	}{
		{"1 key unlimited", 1, Limit{Rate: 1_000_000_000, Period: time.Minute}},
		{"10k keys unlimited", 10_000, Limit{Rate: 1_000_000_000, Period: time.Minute}},
		{"10k keys 960 a second", 10_000, Limit{Rate: 960, Period: time.Second}},
		{"1 key 960 a minute", 1, Limit{Rate: 960, Period: time.Minute}},
	}
	for _, c := range cases {
		for _, l := range limiters {
			b.Run(c.name+"/"+l.name, func(b *testing.B) {
				keys := make([]string, c.keys)
				prefix := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
				for i := range keys {
					keys[i] = prefix + strconv.Itoa(i)
				}
				lim := l.new(b)
				ctx := context.Background()
				for _, key := range keys {
					if _, err := lim.Allow(ctx, key, c.limit); err != nil {
						b.Fatal(err)
					}
				}
				// As a server would, with many requests under way at once, so
				// that round trips to Redis cost their CPU, not their wait.
				b.SetParallelism(16)
				var next atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := int(next.Add(7919))
					for pb.Next() {
						if _, err := lim.Allow(ctx, keys[i%len(keys)], c.limit); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
				if st, ok := lim.(interface{ Stats() Stats }); ok {
					b.ReportMetric(float64(st.Stats().RedisCalls)/float64(b.N), "calls/op")
				}
			})
		}
	}
}

// BenchmarkFailuresBlocked is the check every request makes: from one
// address that never failed, and from 10 000 addresses half of them blocked.
func BenchmarkFailuresBlocked(b *testing.B) {
	limit := Limit{Rate: 300, Period: time.Minute}
	now := time.Now()
	b.Run("clean", func(b *testing.B) {
		f := NewFailures(limit, 0)
		addr := addr4(1)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f.Blocked(addr, now)
			}
		})
	})
	b.Run("10k addresses", func(b *testing.B) {
		f := NewFailures(limit, 0)
		addrs := make([]netip.Addr, 10_000)
		for i := range addrs {
			addrs[i] = addr4(uint32(i))
			if i%2 == 0 {
				for range limit.Rate {
					f.Fail(addrs[i], now)
				}
			}
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				f.Blocked(addrs[i%len(addrs)], now)
				i++
			}
		})
	})
}

// BenchmarkFailuresFlood is a flood of made-up keys from new addresses,
// each failing once, against a full table: every Fail evicts.
func BenchmarkFailuresFlood(b *testing.B) {
	f := NewFailures(Limit{Rate: 300, Period: time.Minute}, DefaultMaxAddrs)
	now := time.Now()
	i := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		f.Fail(addr4(i), now)
		i++
	}
	b.ReportMetric(float64(f.Stats().Addresses), "addresses")
}

// BenchmarkFailuresBytesPerAddress reports the heap a full Failures keeps,
// per address tracked.
func BenchmarkFailuresBytesPerAddress(b *testing.B) {
	for b.Loop() {
		before := heapAlloc()
		f := NewFailures(Limit{Rate: 300, Period: time.Minute}, DefaultMaxAddrs)
		now := time.Now()
		for i := range uint32(4 * DefaultMaxAddrs) {
			f.Fail(addr4(i), now)
		}
		after := heapAlloc()
		b.ReportMetric(float64(after-before)/float64(f.Stats().Addresses), "B/address")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB")
		runtime.KeepAlive(f)
	}
}

// heapAlloc returns the live heap after a GC.
func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
