package ratelimit

import (
	"context"
	"os"
	"runtime"
	"strconv"
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
		heap := func() uint64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		before := heap()
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
		after := heap()
		b.ReportMetric(float64(after-before)/keys, "B/key")
		runtime.KeepAlive(m)
	}
}

// BenchmarkLimiters compares the limiters on one hot key and on 10 000 keys,
// under a limit that never refuses, in one run: the Redis ones need
// GATEHOUSE_TEST_REDIS_URL.
func BenchmarkLimiters(b *testing.B) {
	limit := Limit{Rate: 1_000_000_000, Period: time.Minute}
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
	for _, nkeys := range []int{1, 10_000} {
		keys := make([]string, nkeys)
		prefix := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
		for i := range keys {
			keys[i] = prefix + strconv.Itoa(i)
		}
		for _, l := range limiters {
			b.Run(l.name+"/keys="+strconv.Itoa(nkeys), func(b *testing.B) {
				lim := l.new(b)
				ctx := context.Background()
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, err := lim.Allow(ctx, keys[i%len(keys)], limit); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		}
	}
}
