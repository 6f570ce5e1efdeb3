package sqlstore

import (
	"context"

	"github.com/gatehouse-dev/gatehouse"
)

// SetIncidentStatusAsUser changes an incident's status as the user would
// through the REST API, in a transaction of its own: for tests of writers
// racing the event applier.
func (s *Store) SetIncidentStatusAsUser(ctx context.Context, incidentID string, to gatehouse.IncidentStatus, userID string) (changed bool, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		user := gatehouse.Ref{Type: "user_reference", ID: userID}
		changed, err = tx.setIncidentStatus(incidentID, to, user, user, gatehouse.Channel{Type: "api"})
		return err
	})
	return changed, err
}

// EventLogLockID is the PostgreSQL advisory lock writers of the event log
// hold until they commit.
const EventLogLockID = eventLogLockID
