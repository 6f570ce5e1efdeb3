//go:build !unix

package edge

// DefaultMaxConns is the default cap on open connections.
func DefaultMaxConns() int { return fallbackMaxConns }
