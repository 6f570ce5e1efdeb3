package gatehouse

import "crypto/rand"

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewID returns a PagerDuty-style identifier: "P" and six upper-case letters
// and digits. Stores retry on the rare collision.
func NewID() string {
	return "P" + RandomString(6, idAlphabet)
}

// RandomString returns n characters drawn uniformly from alphabet with
// crypto/rand. Every secret and identifier in Gatehouse comes from here.
func RandomString(n int, alphabet string) string {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		panic("gatehouse: RandomString alphabet must have 1 to 256 characters")
	}
	// Rejection sampling keeps the draw uniform: bytes at or above the largest
	// multiple of len(alphabet) are discarded.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}
