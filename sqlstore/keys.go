package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse"
)

const keyColumns = "id, account_id, kind, user_id, description, read_only, api_version, hash, last4, created_at, " +
	"created_by_type, created_by_id, created_by_summary, " +
	"disabled_at, disabled_by_type, disabled_by_id, disabled_by_summary, last_used_at, last_used_from"

// maxDescriptionLength is the longest description of a key, in characters.
const maxDescriptionLength = 255

// Credential is what a REST API key resolves to: the key, its account, and,
// for a user token, its user.
type Credential struct {
	Key     *gatehouse.APIKey
	Account *gatehouse.Account
	// User is the owner of a user token; nil for a general key.
	User *gatehouse.User
}

// CreateKey validates k and stores it, with an audit record of its creation.
// The caller sets AccountID, Kind, UserID (user tokens only), Description,
// ReadOnly, Hash, Last4 and CreatedBy; the store trims the description and
// sets ID, CreatedAt and APIVersion. Who may create which key is not checked
// here: that is the access package's decision.
//
// It returns 2001 errors for an empty or too long description, an unknown
// kind, a general key with a user, a user token without a user or read-only,
// and a hash already in use (an imported key used twice), and 2100 for an
// unknown account or a user not in the account.
func (s *Store) CreateKey(ctx context.Context, k *gatehouse.APIKey) error {
	if err := validateKey(k); err != nil {
		return err
	}
	restore := keep(k)
	err := s.inTx(ctx, func(tx *Tx) error {
		restore()
		return tx.createKey(k)
	})
	if err != nil {
		restore()
	}
	return err
}

// validateKey trims k's description and returns a 2001 error listing every
// problem with what a client gave, or an internal error for what only a
// programming mistake gives.
func validateKey(k *gatehouse.APIKey) error {
	if k.Hash == [32]byte{} || utf8.RuneCountInString(k.Last4) != 4 {
		return errors.New("create api key: hash and last 4 characters must be set")
	}
	if k.CreatedBy.Type == "" {
		return errors.New("create api key: creator must be set")
	}
	k.Description = strings.TrimSpace(k.Description)
	var problems []string
	switch n := utf8.RuneCountInString(k.Description); {
	case n == 0:
		problems = append(problems, "Description must not be empty")
	case n > maxDescriptionLength:
		problems = append(problems, fmt.Sprintf("Description must be at most %d characters", maxDescriptionLength))
	}
	if p := gatehouse.TextProblem("Description", k.Description); p != "" {
		problems = append(problems, p)
	}
	switch k.Kind {
	case gatehouse.KeyGeneral:
		if k.UserID != "" {
			problems = append(problems, "A general access key has no user")
		}
	case gatehouse.KeyUserToken:
		if k.UserID == "" {
			problems = append(problems, "A user token needs a user")
		}
		if k.ReadOnly {
			problems = append(problems, "A user token cannot be read-only")
		}
	default:
		problems = append(problems, kindProblem(k.Kind))
	}
	if len(problems) > 0 {
		return gatehouse.InvalidInput(problems...)
	}
	return nil
}

func kindProblem(kind gatehouse.KeyKind) string {
	return fmt.Sprintf("Key kind %q is not one of %s, %s", kind, gatehouse.KeyGeneral, gatehouse.KeyUserToken)
}

// createKey stores k, which validateKey accepted, and records its creation.
func (tx *Tx) createKey(k *gatehouse.APIKey) error {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM accounts WHERE id = ?", k.AccountID).Scan(&n); err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	if n == 0 {
		return gatehouse.NotFound("Account " + k.AccountID)
	}
	if k.Kind == gatehouse.KeyUserToken {
		if err := tx.queryRow("SELECT COUNT(*) FROM users WHERE account_id = ? AND id = ?", k.AccountID, k.UserID).Scan(&n); err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		if n == 0 {
			return gatehouse.NotFound("User " + k.UserID)
		}
	}
	if err := tx.queryRow("SELECT COUNT(*) FROM api_keys WHERE hash = ?", k.Hash[:]).Scan(&n); err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	if n > 0 {
		return gatehouse.InvalidInput("This key is already in use")
	}
	k.ID, k.CreatedAt, k.APIVersion = gatehouse.NewID(), tx.now, gatehouse.APIVersion
	k.DisabledAt, k.DisabledBy, k.LastUsedAt, k.LastUsedFrom = time.Time{}, gatehouse.Actor{}, time.Time{}, ""
	_, err := tx.exec("INSERT INTO api_keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.AccountID, string(k.Kind), sql.NullString{String: k.UserID, Valid: k.UserID != ""},
		k.Description, k.ReadOnly, k.APIVersion, k.Hash[:], k.Last4, micros(k.CreatedAt),
		k.CreatedBy.Type, k.CreatedBy.ID, k.CreatedBy.Summary,
		nullMicros(k.DisabledAt), k.DisabledBy.Type, k.DisabledBy.ID, k.DisabledBy.Summary, nullMicros(k.LastUsedAt), "")
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return tx.keyChanged(k.AccountID, k.CreatedBy, "create", k.Kind, k.ID, k.Last4, k.Hash[:])
}

// keyChanged records a change of a key in the change feed, with the key's
// hash so that running servers drop exactly its cache entry, and in the
// account's audit trail.
func (tx *Tx) keyChanged(accountID string, by gatehouse.Actor, action string, kind gatehouse.KeyKind, keyID, last4 string, hash []byte) error {
	var h [32]byte
	if len(hash) != len(h) {
		return fmt.Errorf("%s api key %s: hash has %d bytes", action, keyID, len(hash))
	}
	copy(h[:], hash)
	if err := tx.recordCredentialChange(accountID, gatehouse.ChangeKey, keyID, h); err != nil {
		return err
	}
	return tx.recordAudit(&gatehouse.AuditRecord{
		AccountID:    accountID,
		Actor:        by,
		Method:       methodOf(by),
		RootResource: gatehouse.Ref{Type: "api_key_reference", ID: keyID, Summary: "…" + last4},
		Action:       action,
		Fields:       []gatehouse.AuditField{gatehouse.Created("kind", keyTargetType(kind)), gatehouse.Created("last4", last4)},
	})
}

// methodOf is how an actor of the key commands made its change.
func methodOf(by gatehouse.Actor) gatehouse.AuditMethod {
	if by.Type == gatehouse.CLIActor.Type {
		return gatehouse.AuditMethod{Type: gatehouse.MethodOther, Description: gatehouse.CLIActor.Summary}
	}
	return gatehouse.AuditMethod{Type: gatehouse.MethodAPIToken}
}

// keyTargetType is the audit records' target type of a key of that kind.
func keyTargetType(kind gatehouse.KeyKind) string {
	if kind == gatehouse.KeyUserToken {
		return "user_token"
	}
	return "api_key"
}

// KeyByID returns the account's key with that ID. It returns 2100 if there
// is none, or if the key belongs to another account.
func (s *Store) KeyByID(ctx context.Context, accountID, id string) (*gatehouse.APIKey, error) {
	return get(ctx, s, "find api key", "API key "+id, scanKey,
		"SELECT "+keyColumns+" FROM api_keys WHERE account_id = ? AND id = ?", accountID, id)
}

// Keys returns the account's keys of that kind, oldest first. It returns a
// 2001 error for an unknown kind.
func (s *Store) Keys(ctx context.Context, accountID string, kind gatehouse.KeyKind) ([]*gatehouse.APIKey, error) {
	if kind != gatehouse.KeyGeneral && kind != gatehouse.KeyUserToken {
		return nil, gatehouse.InvalidInput(kindProblem(kind))
	}
	return list(ctx, s, "list api keys", scanKey,
		"SELECT "+keyColumns+" FROM api_keys WHERE account_id = ? AND kind = ? ORDER BY created_at, "+s.byteOrder("id"), accountID, string(kind))
}

// DisableKey stops a general key from working until it is enabled again, and
// records who did it and when. Disabling a disabled key does nothing. It
// returns a 2001 error for a user token and 2100 for an unknown key.
func (s *Store) DisableKey(ctx context.Context, accountID, id string, by gatehouse.Actor) error {
	return s.setKeyDisabled(ctx, accountID, id, by, true)
}

// EnableKey lets a disabled general key work again. Enabling an enabled key
// does nothing. It returns a 2001 error for a user token and 2100 for an
// unknown key.
func (s *Store) EnableKey(ctx context.Context, accountID, id string, by gatehouse.Actor) error {
	return s.setKeyDisabled(ctx, accountID, id, by, false)
}

func (s *Store) setKeyDisabled(ctx context.Context, accountID, id string, by gatehouse.Actor, disable bool) error {
	action, verb := "enable", "enabled"
	if disable {
		action, verb = "disable", "disabled"
	}
	return s.inTx(ctx, func(tx *Tx) error {
		var (
			kind, last4 string
			hash        []byte
		)
		err := tx.queryRow("SELECT kind, last4, hash FROM api_keys WHERE account_id = ? AND id = ?", accountID, id).Scan(&kind, &last4, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("API key " + id)
		}
		if err != nil {
			return fmt.Errorf("%s api key: %w", action, err)
		}
		if gatehouse.KeyKind(kind) != gatehouse.KeyGeneral {
			return gatehouse.InvalidInput("Only general access keys can be " + verb)
		}
		// The condition on disabled_at makes the update a no-op when the key
		// is already in the state asked for, also when two requests race.
		var res sql.Result
		if disable {
			res, err = tx.exec("UPDATE api_keys SET disabled_at = ?, disabled_by_type = ?, disabled_by_id = ?, disabled_by_summary = ? WHERE id = ? AND disabled_at IS NULL",
				micros(tx.now), by.Type, by.ID, by.Summary, id)
		} else {
			res, err = tx.exec("UPDATE api_keys SET disabled_at = NULL, disabled_by_type = '', disabled_by_id = '', disabled_by_summary = '' WHERE id = ? AND disabled_at IS NOT NULL", id)
		}
		if err != nil {
			return fmt.Errorf("%s api key: %w", action, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s api key: %w", action, err)
		}
		if n == 0 {
			return nil
		}
		return tx.keyChanged(accountID, by, action, gatehouse.KeyGeneral, id, last4, hash)
	})
}

// DeleteKey removes a key of either kind for good; the audit record of its
// deletion remains. It returns 2100 for an unknown key.
func (s *Store) DeleteKey(ctx context.Context, accountID, id string, by gatehouse.Actor) error {
	return s.inTx(ctx, func(tx *Tx) error {
		var (
			kind, last4 string
			hash        []byte
		)
		err := tx.queryRow("DELETE FROM api_keys WHERE account_id = ? AND id = ? RETURNING kind, last4, hash", accountID, id).Scan(&kind, &last4, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("API key " + id)
		}
		if err != nil {
			return fmt.Errorf("delete api key: %w", err)
		}
		return tx.keyChanged(accountID, by, "delete", gatehouse.KeyKind(kind), id, last4, hash)
	})
}

// deleteUserTokens deletes the tokens of a user who is being removed, with an
// audit record for each.
func (tx *Tx) deleteUserTokens(accountID, userID string, by gatehouse.Actor) error {
	type token struct {
		id, last4 string
		hash      []byte
	}
	rows, err := tx.query("DELETE FROM api_keys WHERE account_id = ? AND user_id = ? RETURNING id, last4, hash", accountID, userID)
	if err != nil {
		return fmt.Errorf("delete user tokens: %w", err)
	}
	tokens, err := scanAll(rows, func(row scanner) (t token, err error) {
		return t, row.Scan(&t.id, &t.last4, &t.hash)
	})
	if err != nil {
		return fmt.Errorf("delete user tokens: %w", err)
	}
	// Sorted, so that the audit trail does not depend on the engine.
	slices.SortFunc(tokens, func(a, b token) int { return strings.Compare(a.id, b.id) })
	for _, t := range tokens {
		if err := tx.keyChanged(accountID, by, "delete", gatehouse.KeyUserToken, t.id, t.last4, t.hash); err != nil {
			return err
		}
	}
	return nil
}

// CredentialByHash returns the key whose SHA-256 hash is hash, with its
// account and, for a user token, its user, in one query. Disabled keys are
// returned too: the caller decides. The user comes without its password
// hash, which no request needs and which caches keep for minutes. It
// returns 2100 when no key has that hash.
func (s *Store) CredentialByHash(ctx context.Context, hash [32]byte) (*Credential, error) {
	q := "SELECT " + qualify("k.", keyColumns) + ", " + qualify("a.", accountColumns) + ", " +
		"COALESCE(u.id, ''), COALESCE(u.account_id, ''), COALESCE(u.email, ''), COALESCE(u.name, ''), COALESCE(u.role, ''), " +
		"COALESCE(u.time_zone, ''), '', COALESCE(u.created_at, 0), " +
		"COALESCE(u.color, ''), COALESCE(u.description, ''), COALESCE(u.job_title, ''), COALESCE(u.license_allocated_at, 0) " +
		"FROM api_keys k JOIN accounts a ON a.id = k.account_id LEFT JOIN users u ON u.id = k.user_id " +
		"WHERE k.hash = ?"
	c := &Credential{}
	err := s.view(ctx, "find credential", func(ctx context.Context) error {
		var (
			kr  keyRow
			ar  accountRow
			ur  userRow
			err error
		)
		err = s.queryRow(ctx, q, hash[:]).Scan(slices.Concat(kr.dest(), ar.dest(), ur.dest())...)
		if errors.Is(err, sql.ErrNoRows) {
			return gatehouse.NotFound("API key")
		}
		if err != nil {
			return err
		}
		if c.Key, err = kr.key(); err != nil {
			return err
		}
		if c.Account, err = ar.account(); err != nil {
			return err
		}
		if ur.u.ID != "" {
			c.User = ur.user()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// qualify prefixes each of the comma-separated columns with prefix, such as
// "k.".
func qualify(prefix, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

// KeyUse is one key's last use: when (to the minute) and from which client
// address.
type KeyUse struct {
	KeyID string
	At    time.Time
	// From is the client's address; empty when unknown.
	From string
}

// touchBatch is how many keys one statement of TouchKeys updates.
const touchBatch = 500

// TouchKeys records when and from where keys were last used: one statement
// and one transaction per batch of keys, never one per key. A key's last use
// only moves forward; unknown keys are ignored. It writes neither audit
// records nor changes.
func (s *Store) TouchKeys(ctx context.Context, uses []KeyUse) error {
	// In ID order, so that nodes flushing at once split their batches alike
	// and mostly meet rows in the same order on PostgreSQL.
	uses = slices.Clone(uses)
	slices.SortFunc(uses, func(a, b KeyUse) int { return strings.Compare(a.KeyID, b.KeyID) })
	for batch := range slices.Chunk(uses, touchBatch) {
		if err := s.touchKeys(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) touchKeys(ctx context.Context, uses []KeyUse) error {
	var q strings.Builder
	q.WriteString("UPDATE api_keys SET last_used_at = v.column2, last_used_from = v.column3 FROM (VALUES ")
	args := make([]any, 0, 3*len(uses))
	for i, u := range uses {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, CAST(? AS BIGINT), ?)")
		args = append(args, u.KeyID, micros(u.At), u.From)
	}
	q.WriteString(") AS v WHERE api_keys.id = v.column1 AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.column2)")
	return s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(q.String(), args...); err != nil {
			return fmt.Errorf("touch api keys: %w", err)
		}
		return nil
	})
}

func scanKey(row scanner) (*gatehouse.APIKey, error) {
	var r keyRow
	if err := row.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.key()
}

// keyRow holds the columns of an api_keys row while they are scanned.
type keyRow struct {
	k                  gatehouse.APIKey
	userID             sql.NullString
	hash               []byte
	created            int64
	disabled, lastUsed sql.NullInt64
}

func (r *keyRow) dest() []any {
	return []any{&r.k.ID, &r.k.AccountID, &r.k.Kind, &r.userID, &r.k.Description, &r.k.ReadOnly, &r.k.APIVersion,
		&r.hash, &r.k.Last4, &r.created, &r.k.CreatedBy.Type, &r.k.CreatedBy.ID, &r.k.CreatedBy.Summary,
		&r.disabled, &r.k.DisabledBy.Type, &r.k.DisabledBy.ID, &r.k.DisabledBy.Summary, &r.lastUsed, &r.k.LastUsedFrom}
}

func (r *keyRow) key() (*gatehouse.APIKey, error) {
	if len(r.hash) != len(r.k.Hash) {
		return nil, fmt.Errorf("api key %s: hash has %d bytes", r.k.ID, len(r.hash))
	}
	k := r.k
	copy(k.Hash[:], r.hash)
	k.UserID = r.userID.String
	k.CreatedAt = fromMicros(r.created)
	k.DisabledAt = fromNullMicros(r.disabled)
	k.LastUsedAt = fromNullMicros(r.lastUsed)
	return &k, nil
}
