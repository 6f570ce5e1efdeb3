package ratelimit

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// addr4 returns the i-th IPv4 address from 10.0.0.0.
func addr4(i uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 10<<24+i)
	return netip.AddrFrom4(b)
}

// mustBlocked reports f.Blocked(addr, at) as a wait, 0 when not blocked.
func blockedFor(f *Failures, addr netip.Addr, at time.Time) time.Duration {
	retry, blocked := f.Blocked(addr, at)
	if blocked != (retry > 0) {
		panic(fmt.Sprintf("Blocked(%v) = %v, %v: a wait without a block or a block without a wait", addr, retry, blocked))
	}
	return retry
}

func TestFailuresLimit(t *testing.T) {
	t.Parallel()
	limit := Limit{Rate: 3, Period: time.Minute} // one failure every 20 s
	type step struct {
		advance time.Duration
		fails   int
		want    time.Duration // how long Blocked says to wait afterwards; 0: not blocked
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fewer failures than the limit", []step{{0, 1, 0}, {0, 1, 0}}},
		{"blocked at the limit", []step{{0, 2, 0}, {0, 1, 20 * time.Second}}},
		{"blocked until one failure is allowed", []step{
			{0, 3, 20 * time.Second},
			{19 * time.Second, 0, time.Second},
			{time.Second, 0, 0},
			{0, 1, 20 * time.Second},
		}},
		{"a steady rate under the limit is never blocked", []step{
			{0, 1, 0}, {20 * time.Second, 1, 0}, {20 * time.Second, 1, 0}, {20 * time.Second, 1, 0}, {20 * time.Second, 1, 0},
		}},
		{"failures lapse after a period", []step{{0, 3, 20 * time.Second}, {time.Minute, 2, 0}, {0, 1, 20 * time.Second}}},
		{"failures past the limit block no longer", []step{{0, 50, 20 * time.Second}, {20 * time.Second, 0, 0}}},
		{"partly lapsed", []step{{0, 3, 20 * time.Second}, {45 * time.Second, 1, 0}, {0, 1, 15 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFailures(limit, 0)
			addr, now := addr4(1), testEpoch
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				for range s.fails {
					f.Fail(addr, now)
				}
				if got := blockedFor(f, addr, now); got != s.want {
					t.Fatalf("step %d: Blocked waits %v, want %v", i+1, got, s.want)
				}
			}
		})
	}
}

func TestFailuresAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		failed string
		other  string
		shared bool
	}{
		{"the same IPv4 address", "192.0.2.1", "192.0.2.1", true},
		{"IPv4 neighbours", "192.0.2.1", "192.0.2.2", false},
		{"IPv4 and IPv4 in IPv6", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"IPv4 in IPv6 and IPv4", "::ffff:192.0.2.1", "192.0.2.1", true},
		{"one IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"neighbouring IPv6 /64s", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"IPv6 zones do not count", "fe80::1%eth0", "fe80::2%eth1", true},
		{"IPv4 and IPv6 of the same bits", "0.0.0.1", "::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFailures(Limit{Rate: 2, Period: time.Minute}, 0)
			failed, other := netip.MustParseAddr(tt.failed), netip.MustParseAddr(tt.other)
			f.Fail(failed, testEpoch)
			f.Fail(failed, testEpoch)
			if _, blocked := f.Blocked(other, testEpoch); blocked != tt.shared {
				t.Errorf("after %s failed twice, Blocked(%s) = %v, want %v", failed, other, blocked, tt.shared)
			}
		})
	}
}

func TestFailuresOff(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]*Failures{
		"rate 0":   NewFailures(Limit{Rate: 0, Period: time.Minute}, 10),
		"no limit": NewFailures(Limit{}, 10),
		"nil":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for range 100 {
				f.Fail(addr4(1), testEpoch)
			}
			if retry, blocked := f.Blocked(addr4(1), testEpoch); blocked || retry != 0 {
				t.Errorf("Blocked = %v, %v, want not blocked", retry, blocked)
			}
			if st := f.Stats(); st != (FailureStats{}) {
				t.Errorf("Stats() = %+v, want zero", st)
			}
		})
	}
}

func TestFailuresInvalidAddress(t *testing.T) {
	t.Parallel()
	f := NewFailures(Limit{Rate: 1, Period: time.Minute}, 0)
	f.Fail(netip.Addr{}, testEpoch)
	f.Fail(netip.Addr{}, testEpoch)
	if _, blocked := f.Blocked(netip.Addr{}, testEpoch); blocked {
		t.Errorf("Blocked(invalid) = true, want false")
	}
	if st := f.Stats(); st.Addresses != 0 {
		t.Errorf("Stats() = %+v, want no address", st)
	}
}

func TestNewFailuresPanicsOnNoPeriod(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("NewFailures(Limit{Rate: 1}) did not panic")
		}
	}()
	NewFailures(Limit{Rate: 1}, 0)
}

// TestFailuresFloodKeepsBlocked: a flood of addresses that fail once each
// stays within maxAddrs and does not unblock the addresses that are blocked.
func TestFailuresFloodKeepsBlocked(t *testing.T) {
	t.Parallel()
	limit := Limit{Rate: 10, Period: time.Minute}
	const maxAddrs, blockedAddrs = 1024, 100
	f := NewFailures(limit, maxAddrs)
	now := testEpoch
	attackers := make([]netip.Addr, blockedAddrs)
	for i := range attackers {
		attackers[i] = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i), 15: 1})
		for range limit.Rate {
			f.Fail(attackers[i], now)
		}
	}
	most := len(f.shards) * f.perShard
	for i := range 200_000 {
		now = now.Add(time.Microsecond)
		f.Fail(addr4(uint32(i)), now)
		if i%10_000 == 0 {
			if st := f.Stats(); st.Addresses > most {
				t.Fatalf("after %d addresses: Stats() = %+v, want at most %d addresses", i+1, st, most)
			}
		}
	}
	for _, a := range attackers {
		if _, blocked := f.Blocked(a, now); !blocked {
			t.Fatalf("Blocked(%v) after the flood = false, want true", a)
		}
	}
	st := f.Stats()
	if st.Addresses > most || st.Protected != blockedAddrs || st.Evicted < 200_000-maxAddrs {
		t.Errorf("Stats() = %+v, want at most %d addresses, %d protected, at least %d evicted", st, most, blockedAddrs, 200_000-maxAddrs)
	}

	// One host rotating its addresses in its /64 is one address.
	host := netip.MustParseAddr("2001:db8:ffff:1::")
	for i := range 20 {
		a := host.As16()
		a[15] = byte(i)
		f.Fail(netip.AddrFrom16(a), now)
	}
	if _, blocked := f.Blocked(host, now); !blocked {
		t.Errorf("Blocked(%v) after 20 failures across its /64 = false, want true", host)
	}
}

// TestFailuresProtection: when the protected addresses are as many as they
// may be, an address that failed more takes the place of one that failed
// less once it is blocked, and only unprotected addresses are evicted.
func TestFailuresProtection(t *testing.T) {
	t.Parallel()
	limit := Limit{Rate: 4, Period: time.Minute}
	f := NewFailures(limit, 4) // one shard of 4 addresses, 2 of them protected
	if len(f.shards) != 1 || f.perShard != 4 || f.heavyCap != 2 {
		t.Fatalf("NewFailures(%v, 4): %d shards of %d, %d protected; want 1 of 4, 2", limit, len(f.shards), f.perShard, f.heavyCap)
	}
	a, b, c := addr4(1), addr4(2), addr4(3)
	now := testEpoch
	fail := func(addr netip.Addr, n int) {
		for range n {
			f.Fail(addr, now)
		}
	}
	protected := func(addr netip.Addr) bool {
		key, _ := addrKey(addr)
		return f.shards[0].addrs[key].protected()
	}
	fail(a, 2) // half: protected
	now = now.Add(time.Second)
	fail(b, 2) // half: protected
	now = now.Add(time.Second)
	fail(c, 1)
	if protected(c) {
		t.Fatalf("c protected after 1 failure, want not")
	}
	fail(c, 1) // half, with more debt than a: takes a's place
	if !protected(b) || !protected(c) || protected(a) {
		t.Fatalf("protected: a %v, b %v, c %v; want b and c", protected(a), protected(b), protected(c))
	}
	fail(a, 2) // blocked, with more debt than b: takes b's place
	if !protected(a) || protected(b) || !protected(c) {
		t.Fatalf("protected: a %v, b %v, c %v; want a and c", protected(a), protected(b), protected(c))
	}
	// A flood of new addresses, each with less debt, evicts only
	// newcomers.
	for i := range 1000 {
		f.Fail(addr4(uint32(100+i)), now)
	}
	for _, addr := range []netip.Addr{a, b, c} {
		key, _ := addrKey(addr)
		if _, ok := f.shards[0].addrs[key]; !ok {
			t.Errorf("%v no longer tracked after the flood", addr)
		}
	}
	if !protected(a) || !protected(c) {
		t.Errorf("after the flood a is protected %v, c %v; want both", protected(a), protected(c))
	}
	if _, blocked := f.Blocked(a, now); !blocked {
		t.Errorf("Blocked(a) after the flood = false, want true")
	}
	if st := f.Stats(); st.Addresses != 4 || st.Protected != 2 || st.Evicted != 999 {
		t.Errorf("Stats() = %+v, want 4 addresses, 2 protected, 999 evicted", st)
	}
}

// TestFailuresForgetsLapsed: a full shard forgets the addresses whose
// failures have lapsed rather than evicting ones that count.
func TestFailuresForgetsLapsed(t *testing.T) {
	t.Parallel()
	limit := Limit{Rate: 2, Period: time.Minute}
	f := NewFailures(limit, 4)
	now := testEpoch
	for i := range 4 {
		f.Fail(addr4(uint32(i)), now)
	}
	now = now.Add(time.Minute)
	f.Fail(addr4(10), now)
	if st := f.Stats(); st.Addresses != 1 || st.Evicted != 0 {
		t.Errorf("Stats() = %+v, want only the new address, none evicted", st)
	}
}

// TestFailuresBlockedDoesNotAllocate is not parallel: AllocsPerRun counts
// every goroutine's allocations.
func TestFailuresBlockedDoesNotAllocate(t *testing.T) {
	f := NewFailures(Limit{Rate: 1, Period: time.Minute}, 0)
	blocked, clean := netip.MustParseAddr("2001:db8::1"), addr4(7)
	f.Fail(blocked, testEpoch)
	allocs := testing.AllocsPerRun(1000, func() {
		f.Blocked(blocked, testEpoch)
		f.Blocked(clean, testEpoch)
		f.Fail(clean, testEpoch)
	})
	if allocs != 0 {
		t.Errorf("Blocked and Fail: %v allocations, want 0", allocs)
	}
}

func TestFailuresConcurrent(t *testing.T) {
	t.Parallel()
	f := NewFailures(Limit{Rate: 5, Period: time.Minute}, 256)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			now := testEpoch
			for i := range 5000 {
				addr := addr4(uint32((g*7919 + i) % 700))
				if _, blocked := f.Blocked(addr, now); !blocked {
					f.Fail(addr, now)
				}
				if i%100 == 0 {
					now = now.Add(time.Second)
				}
			}
		})
	}
	wg.Wait()
	if st := f.Stats(); st.Addresses > len(f.shards)*f.perShard || st.Protected > len(f.shards)*f.heavyCap {
		t.Errorf("Stats() = %+v, want within %d addresses, %d protected", st, len(f.shards)*f.perShard, len(f.shards)*f.heavyCap)
	}
}
