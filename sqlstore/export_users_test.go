package sqlstore

import "context"

// ExecForTest runs a statement on s's writer, for tests that need rows no
// Store method makes yet (escalation policies, until they have theirs).
func (s *Store) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := s.write.ExecContext(ctx, s.rebind(query), args...)
	return err
}
