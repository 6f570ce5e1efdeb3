package gatehouse

import "time"

// KeyKind is the kind of a REST API key.
type KeyKind string

// The two kinds of REST API key.
const (
	// KeyGeneral is a general access key: it acts for the account, with no
	// user, fully or read-only.
	KeyGeneral KeyKind = "general"
	// KeyUserToken is a user's personal key: it acts as that user, with what
	// the user's role allows.
	KeyUserToken KeyKind = "user_token"
)

// APIVersion is the REST API version of every key Gatehouse makes.
const APIVersion = 2

// APIKey is a REST API key as stored: never the key itself, only its SHA-256
// hash and its last four characters.
type APIKey struct {
	ID        string
	AccountID string
	Kind      KeyKind
	// UserID is the owner of a user token; empty for a general key.
	UserID string
	// Description says what the key is for. It is required and never changes.
	Description string
	// ReadOnly keys may only read (GET). User tokens are never read-only: their
	// user's role decides.
	ReadOnly   bool
	APIVersion int
	Hash       [32]byte
	Last4      string
	CreatedAt  time.Time
	// CreatedBy is the actor that made the key.
	CreatedBy Actor
	// DisabledAt is zero while the key works.
	DisabledAt time.Time
	DisabledBy Actor
	// LastUsedAt is zero until the key is first used; it has minute resolution.
	LastUsedAt time.Time
	// LastUsedFrom is the client address of that use; empty when unknown.
	LastUsedFrom string
}

// Disabled reports whether the key is disabled.
func (k *APIKey) Disabled() bool { return !k.DisabledAt.IsZero() }

// Actor is who made a change: a user of the account, or the operator at the
// command line.
type Actor struct {
	// Type is "user_reference" or "cli".
	Type string
	// ID is the user's ID; empty for the command line.
	ID string
	// Summary names the actor for people: the user's name or "gatehouse CLI".
	Summary string
}

// CLIActor is the operator running the gatehouse command.
var CLIActor = Actor{Type: "cli", Summary: "gatehouse CLI"}

// UserActor returns the actor for a user.
func UserActor(u *User) Actor {
	return Actor{Type: "user_reference", ID: u.ID, Summary: u.Name}
}
