package gatehouse

import "time"

// Change is one row of the change feed: something that running servers must
// learn of, such as a key disabled from the command line or on another node.
type Change struct {
	ID        int64
	AccountID string
	Kind      ChangeKind
	SubjectID string
	At        time.Time
}

// ChangeKind says what kind of thing changed.
type ChangeKind string

// The kinds of change.
const (
	ChangeAccount ChangeKind = "account"
	ChangeUser    ChangeKind = "user"
	ChangeKey     ChangeKind = "key"
)
