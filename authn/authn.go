// Package authn resolves credentials to what they stand for, fast, for every
// door: REST API keys and OAuth tokens, routing keys, web sessions. Its
// Cache keeps what a credential's hash resolved to in memory, bounded, with
// entries that expire after a few minutes, remembers unknown hashes for a
// while, and records when and from where each credential was last used; its
// Feed follows the database's change feed so that a change made anywhere
// drops exactly the entries it concerns, and stops the caches from being
// trusted when the feed cannot be read.
package authn

import (
	"errors"

	"github.com/gatehouse-dev/gatehouse"
)

// Hash is the SHA-256 hash of a credential, the key of a Cache.
type Hash = [32]byte

// Tag names something cache entries depend on, such as "account:PABC123" or
// "user:PDEF456": a change to it drops every entry that carries the tag.
type Tag string

// TagOf returns the tag a change of that kind to subjectID invalidates, as
// Cache.Apply does: "account:ID", "user:ID", "integration:ID"…
func TagOf(kind gatehouse.ChangeKind, subjectID string) Tag {
	return Tag(string(kind) + ":" + subjectID)
}

// ErrUnknown is what a Loader returns (or wraps) when no credential has the
// hash. The cache remembers the answer for a short while.
var ErrUnknown = errors.New("unknown credential")
