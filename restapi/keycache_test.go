package restapi

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

func hashOf(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(i))) }

// TestUnknownKeysCannotCrowdOutKnownOnes: a flood of made-up keys fills at
// most a quarter of the cache.
func TestUnknownKeysCannotCrowdOutKnownOnes(t *testing.T) {
	t.Parallel()
	c := newKeyCache(64)
	a := &gatehouse.Account{ID: "PACCT01", Plan: gatehouse.PlanBusiness}
	for i := range 40 {
		k := &gatehouse.APIKey{ID: fmt.Sprintf("PKEY%03d", i), Kind: gatehouse.KeyGeneral}
		c.put(hashOf(i), cacheEntry{principal: access.KeyPrincipal(k, a, nil), keyID: k.ID, accountID: a.ID}, c.generation())
	}
	for i := 1000; i < 11000; i++ {
		c.put(hashOf(i), cacheEntry{}, c.generation())
	}
	known := 0
	for i := range 40 {
		if _, ok := c.entries[hashOf(i)]; ok {
			known++
		}
	}
	if known != 40 || c.unknown > 16 || c.unknown < 1 || len(c.entries) > 64 {
		t.Errorf("after 10 000 unknown keys: %d of 40 known keys kept, %d unknown, %d entries; want 40, 1..16, ≤ 64", known, c.unknown, len(c.entries))
	}
	// Known keys past the bound still evict, unknown ones included.
	for i := 100; i < 300; i++ {
		k := &gatehouse.APIKey{ID: fmt.Sprintf("PKEY%03d", i)}
		c.put(hashOf(i), cacheEntry{principal: access.KeyPrincipal(k, a, nil), keyID: k.ID}, c.generation())
	}
	unknown := 0
	for _, e := range c.entries {
		if e.isUnknown() {
			unknown++
		}
	}
	if len(c.entries) > 64 || unknown != c.unknown {
		t.Errorf("%d entries (bound 64); %d unknown counted %d", len(c.entries), unknown, c.unknown)
	}
}

func TestIsCleanPath(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"/": true, "/abilities": true, "/abilities/teams": true,
		"//abilities": false, "/abilities/": false, "/abilities/../users/me": false, "/./abilities": false, "": false,
	} {
		if got := isCleanPath(p); got != want {
			t.Errorf("isCleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}
