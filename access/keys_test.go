package access

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse"
)

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	for kind, prefix := range map[gatehouse.KeyKind]string{gatehouse.KeyGeneral: "a+", gatehouse.KeyUserToken: "u+"} {
		seen := map[string]bool{}
		for range 2000 {
			key := GenerateKey(kind)
			if len(key) != KeyLen || !strings.HasPrefix(key, prefix) || !ValidKeyChars(key) {
				t.Fatalf("GenerateKey(%s) = %q, want 20 key characters starting %q", kind, key, prefix)
			}
			if strings.ContainsRune(key[2:], '+') {
				t.Fatalf("GenerateKey(%s) = %q: a '+' after the prefix", kind, key)
			}
			if !LooksGenerated(key) {
				t.Fatalf("LooksGenerated(%q) = false for a generated key", key)
			}
			if got, ok := KindOfPrefix(key); !ok || got != kind {
				t.Fatalf("KindOfPrefix(%q) = %v, %v, want %v", key, got, ok, kind)
			}
			if seen[key[2:16]] {
				t.Fatalf("GenerateKey repeated the random part %q", key[2:16])
			}
			seen[key[2:16]] = true
		}
	}
}

func TestRandomPartUsesWholeAlphabet(t *testing.T) {
	t.Parallel()
	// 84 random bits need all 64 characters in each of the 14 positions.
	var seen [randomLen]map[byte]bool
	for i := range seen {
		seen[i] = map[byte]bool{}
	}
	for range 3000 {
		key := GenerateKey(gatehouse.KeyGeneral)
		for i := range randomLen {
			seen[i][key[prefixLen+i]] = true
		}
	}
	for i, chars := range seen {
		if len(chars) != len(keyAlphabet) {
			t.Errorf("position %d drew %d distinct characters in 3000 keys, want %d", i, len(chars), len(keyAlphabet))
		}
	}
}

func TestLooksGenerated(t *testing.T) {
	t.Parallel()
	key := GenerateKey(gatehouse.KeyUserToken)
	flipped := []byte(key)
	flipped[5] ^= 1
	tests := []struct {
		key  string
		want bool
	}{
		{key, true},
		{string(flipped), false},                    // one character changed: the checksum no longer matches
		{"x+" + key[2:], false},                     // unknown prefix
		{key[:19], false},                           // too short
		{"y_hgyKEgwHWwTb5y8Gno", false},             // a real-looking imported key
		{"0123456789abcdef0123456789abcdef", false}, // an integration key
		{strings.Repeat("A", 16) + checksum(strings.Repeat("A", 16)), false}, // no kind prefix
	}
	for _, tt := range tests {
		if got := LooksGenerated(tt.key); got != tt.want {
			t.Errorf("LooksGenerated(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestValidateImported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key string
		ok  bool
	}{
		{"y_hgyKEgwHWwTb5y8Gno", true},
		{"abc+DEF-ghi_JKL+mnop", true},
		{"y_hgyKEgwHWwTb5y8Gn", false},   // 19
		{"y_hgyKEgwHWwTb5y8Gnop", false}, // 21
		{"y_hgyKEgwHWwTb5y8Gn!", false},
		{"y_hgyKEgwHWwTb5y8Gné", false},
		{"y_hgyKEgwHW Tb5y8Gno", false},
		{"", false},
	}
	for _, tt := range tests {
		err := ValidateImported(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateImported(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.CodeInvalidInput {
			t.Errorf("ValidateImported(%q) code = %d, want 2001", tt.key, gatehouse.ErrorCode(err))
		}
	}
}

func TestHashAndLast4(t *testing.T) {
	t.Parallel()
	key := "y_hgyKEgwHWwTb5y8Gno"
	if got, want := HashKey(key), sha256.Sum256([]byte(key)); got != want {
		t.Errorf("HashKey(%q) = %x, want %x", key, got, want)
	}
	if got := Last4(key); got != "8Gno" {
		t.Errorf("Last4(%q) = %q, want 8Gno", key, got)
	}
}

func TestHashKeyDoesNotAllocate(t *testing.T) {
	key := GenerateKey(gatehouse.KeyGeneral)
	if n := testing.AllocsPerRun(100, func() { HashKey(key) }); n != 0 {
		t.Errorf("HashKey allocates %v times, want 0", n)
	}
}
