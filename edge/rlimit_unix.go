//go:build unix

package edge

import "syscall"

// DefaultMaxConns is the default cap on open connections: the open-file
// limit (which the Go runtime raises to the hard limit at start) less a
// quarter, and at least 64, kept for the database, Redis and the logs.
func DefaultMaxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<24 {
		return fallbackMaxConns
	}
	n := int(lim.Cur)
	return max(n-max(n/4, 64), 16)
}
