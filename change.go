package gatehouse

import "time"

// Change is one row of the change feed: something that running servers must
// learn of, such as a key disabled from the command line or on another node.
type Change struct {
	ID        int64
	AccountID string
	Kind      ChangeKind
	SubjectID string
	// Hash is the SHA-256 hash of the credential the change is about, such
	// as a REST API key's, so that caches drop exactly its entry, also one
	// that remembers the hash as unknown; zero for other changes.
	Hash [32]byte
	// At is when the change was recorded, by the database's clock.
	At time.Time
}

// ChangeKind says what kind of thing changed.
type ChangeKind string

// The kinds of change.
const (
	ChangeAccount ChangeKind = "account"
	ChangeUser    ChangeKind = "user"
	ChangeKey     ChangeKind = "key"
	// The configuration's kinds: caches of other nodes that hold them (an
	// integration's routing key, say) learn of their changes this way.
	ChangeTeam        ChangeKind = "team"
	ChangePolicy      ChangeKind = "escalation_policy"
	ChangeService     ChangeKind = "service"
	ChangeIntegration ChangeKind = "integration"
)
