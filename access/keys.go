// Package access decides who may do what: the formats of REST API keys, the
// principal a credential resolves to, and the rules of PagerDuty's access-key
// system as pure functions.
package access

import (
	"crypto/sha256"
	"hash/crc32"

	"github.com/gatehouse-dev/gatehouse"
)

// KeyLen is the length of every REST API key.
const KeyLen = 20

// keyAlphabet holds the 64 characters of a generated key's body: 6 bits each.
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

const (
	prefixLen   = 2
	checksumLen = 4
	// randomLen characters of 6 bits give 84 random bits.
	randomLen = KeyLen - prefixLen - checksumLen
)

var kindPrefix = map[gatehouse.KeyKind]string{
	gatehouse.KeyGeneral:   "a+",
	gatehouse.KeyUserToken: "u+",
}

// GenerateKey returns a new key of kind: its two-character prefix ("a+" for
// general access, "u+" for user tokens), 14 random characters (84 bits) and a
// 4-character checksum of the rest.
func GenerateKey(kind gatehouse.KeyKind) string {
	prefix, ok := kindPrefix[kind]
	if !ok {
		panic("access: GenerateKey of unknown kind " + string(kind))
	}
	body := prefix + gatehouse.RandomString(randomLen, keyAlphabet)
	return body + checksum(body)
}

// checksum is 24 bits of the CRC-32 of body, as four key characters.
func checksum(body string) string {
	sum := crc32.ChecksumIEEE([]byte(body)) & 0xFFFFFF
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = keyAlphabet[sum&63]
		sum >>= 6
	}
	return string(out[:])
}

// LooksGenerated reports whether key has the shape of a key Gatehouse made: a
// known prefix and a checksum that matches, so a scanner can tell a real key
// from noise without asking the server.
func LooksGenerated(key string) bool {
	if len(key) != KeyLen || !ValidKeyChars(key) {
		return false
	}
	if _, ok := KindOfPrefix(key); !ok {
		return false
	}
	return key[KeyLen-checksumLen:] == checksum(key[:KeyLen-checksumLen])
}

// KindOfPrefix returns the kind a generated key's prefix names.
func KindOfPrefix(key string) (gatehouse.KeyKind, bool) {
	if len(key) < prefixLen || key[1] != '+' {
		return "", false
	}
	switch key[0] {
	case 'a':
		return gatehouse.KeyGeneral, true
	case 'u':
		return gatehouse.KeyUserToken, true
	}
	return "", false
}

// ValidKeyChars reports whether key is exactly KeyLen characters of
// A-Z a-z 0-9 _ + -, the shape of every REST API key, imported ones too.
func ValidKeyChars(key string) bool {
	if len(key) != KeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if !isKeyChar(key[i]) {
			return false
		}
	}
	return true
}

func isKeyChar(c byte) bool { return keyChars[c] }

// keyChars marks the characters of REST API keys: a table, as this runs on
// every request.
var keyChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-'
	}
	return t
}()

// ValidateImported returns a 2001 error unless key can be imported: any 20
// characters of A-Z a-z 0-9 _ + -, such as a key of a real PagerDuty account.
func ValidateImported(key string) error {
	if !ValidKeyChars(key) {
		return gatehouse.InvalidInput("A REST API key is 20 characters of A-Z, a-z, 0-9, _, + and -")
	}
	return nil
}

// HashKey returns the SHA-256 hash under which a key is stored and found.
func HashKey(key string) [32]byte {
	return sha256.Sum256([]byte(key))
}

// Last4 returns the last four characters of key, the only part ever shown
// again after it is made.
func Last4(key string) string {
	if len(key) < 4 {
		return key
	}
	return key[len(key)-4:]
}
