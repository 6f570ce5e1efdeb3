package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
)

// Actor is who acts through a Scope: the principal whose rules decide what
// they may do, and how the audit trail names them and their request.
type Actor struct {
	// Principal is the credential's principal; access.Decide rules on it.
	Principal *access.Principal
	// Ref names the actor in audit records: a user, a general access key or
	// an app; gatehouse.CLIActor for the command line.
	Ref    gatehouse.Actor
	Method gatehouse.AuditMethod
	// RequestID and RemoteAddress are the request's; empty for the command
	// line.
	RequestID     string
	RemoteAddress string
}

// CLI is the operator at the command line acting on account.
func CLI(account *gatehouse.Account) Actor {
	return Actor{
		Principal: access.CLIPrincipal(account),
		Ref:       gatehouse.CLIActor,
		Method:    gatehouse.AuditMethod{Type: gatehouse.MethodOther, Description: gatehouse.CLIActor.Summary},
	}
}

// Scope is the store as one actor of one account sees it. Every read is
// filtered by the account (another account's objects are not found, never
// forbidden), and every write is one transaction that loads what it
// changes, asks access.Decide, validates, writes, and records its audit
// record and its change-feed row: so the CLI, REST and the web app cannot
// check one thing and write another.
type Scope struct {
	store     *Store
	accountID string
	actor     Actor
}

// Scope returns the store as actor sees the account with that ID.
func (s *Store) Scope(accountID string, actor Actor) *Scope {
	return &Scope{store: s, accountID: accountID, actor: actor}
}

// AccountID is the ID of the scope's account.
func (sc *Scope) AccountID() string { return sc.accountID }

// write runs fn in one write transaction.
func (sc *Scope) write(ctx context.Context, fn func(tx *Tx) error) error {
	return sc.store.inTx(ctx, fn)
}

// audit records in tx that the scope's actor did action to root, touching
// fields and references.
func (sc *Scope) audit(tx *Tx, action string, root gatehouse.Ref, fields []gatehouse.AuditField, refs ...gatehouse.AuditReference) error {
	return tx.recordAudit(&gatehouse.AuditRecord{
		AccountID:     sc.accountID,
		RequestID:     sc.actor.RequestID,
		RemoteAddress: sc.actor.RemoteAddress,
		Actor:         sc.actor.Ref,
		Method:        sc.actor.Method,
		RootResource:  root,
		Action:        action,
		Fields:        fields,
		References:    refs,
	})
}

// changed records in tx that the object of kind with id changed, for the
// caches of every node.
func (sc *Scope) changed(tx *Tx, kind gatehouse.ChangeKind, id string) error {
	return tx.recordChange(sc.accountID, kind, id)
}

// teamLimited reports whether the actor sees only the objects of their
// teams (Restricted Access and Limited Stakeholders), and returns their ID.
func (sc *Scope) teamLimited() (userID string, limited bool) {
	u := sc.actor.Principal.User
	if u == nil {
		return "", false
	}
	switch u.Role {
	case gatehouse.RoleRestrictedAccess, gatehouse.RoleReadOnlyLimitedUser:
		return u.ID, true
	}
	return "", false
}

// Page is a list's classic pagination: Limit objects from Offset, and the
// number of all matching objects when Total is set.
type Page struct {
	Limit, Offset int
	Total         bool
}

// List is a page of objects: More says whether more follow; Total counts
// every matching object when the Page asked for it.
type List[T any] struct {
	Items []T
	More  bool
	Total int
}

// filter builds a query's WHERE clause: conditions and their arguments.
type filter struct {
	conds []string
	args  []any
}

func (f *filter) add(cond string, args ...any) {
	f.conds, f.args = append(f.conds, cond), append(f.args, args...)
}

// in adds "column IN (values)"; no values adds nothing.
func (f *filter) in(column string, values []string) {
	if len(values) == 0 {
		return
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	f.add(column+" IN ("+placeholders(len(values))+")", args...)
}

func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// matches adds a free-text query's condition: one of columns contains q,
// ignoring the case of ASCII letters. Only ASCII is folded, in Go and in SQL
// alike, because SQLite's lower() folds nothing else: so both engines find
// the same objects.
func (f *filter) matches(s *Store, q string, columns ...string) {
	if q == "" {
		return
	}
	pattern := "%" + likeEscaper.Replace(asciiLower(q)) + "%"
	conds := make([]string, len(columns))
	for i, c := range columns {
		conds[i] = s.foldASCII(c) + ` LIKE ? ESCAPE '\'`
		f.args = append(f.args, pattern)
	}
	f.conds = append(f.conds, "("+strings.Join(conds, " OR ")+")")
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// foldASCII is column with its ASCII letters in lower case, and nothing
// else changed, on either engine.
func (s *Store) foldASCII(column string) string {
	if s.dialect == dialectPostgres {
		return "translate(" + column + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
	}
	return "lower(" + column + ")"
}

// listPage reads one page of "SELECT columns FROM from" with f, ordered by
// order, scanning each row with scan, and counts every match when asked:
// all under the read deadline, its errors settled (see view); op names the
// call in errors, such as "list teams".
func listPage[T any](ctx context.Context, s *Store, op, columns, from string, f *filter, order string, p Page, scan func(scanner) (T, error)) (List[T], error) {
	var out List[T]
	err := s.view(ctx, op, func(ctx context.Context) error {
		var err error
		out, err = readPage(ctx, s, columns, from, f, order, p, scan)
		return err
	})
	return out, err
}

// readPage is listPage's reads without a deadline of their own, for a view
// that reads more than the page.
func readPage[T any](ctx context.Context, s *Store, columns, from string, f *filter, order string, p Page, scan func(scanner) (T, error)) (List[T], error) {
	var out List[T]
	q := "SELECT " + columns + " FROM " + from + f.where() + " ORDER BY " + order + " LIMIT ? OFFSET ?"
	rows, err := s.query(ctx, q, append(f.args, p.Limit+1, p.Offset)...)
	if err != nil {
		return out, err
	}
	items, err := scanAll(rows, scan)
	if err != nil {
		return out, err
	}
	if len(items) > p.Limit {
		items, out.More = items[:p.Limit], true
	}
	out.Items = items
	if p.Total {
		if err := s.queryRow(ctx, "SELECT COUNT(*) FROM "+from+f.where(), f.args...).Scan(&out.Total); err != nil {
			return out, fmt.Errorf("count: %w", err)
		}
	}
	return out, nil
}

// fieldValues are an object's audited fields by name, in a fixed order.
type fieldValues [][2]string

func createdFields(v fieldValues) []gatehouse.AuditField {
	out := make([]gatehouse.AuditField, len(v))
	for i, f := range v {
		out[i] = gatehouse.Created(f[0], f[1])
	}
	return out
}

func deletedFields(v fieldValues) []gatehouse.AuditField {
	out := make([]gatehouse.AuditField, len(v))
	for i, f := range v {
		out[i] = gatehouse.Deleted(f[0], f[1])
	}
	return out
}

// changedFields returns the fields whose value differs between before and
// after, which list the same names in the same order.
func changedFields(before, after fieldValues) []gatehouse.AuditField {
	var out []gatehouse.AuditField
	for i := range after {
		if f, ok := gatehouse.Changed(after[i][0], before[i][1], after[i][1]); ok {
			out = append(out, f)
		}
	}
	return out
}

// user loads the account's user with that ID in tx, or returns a 2100 error.
func (tx *Tx) user(accountID, id string) (*gatehouse.User, error) {
	u, err := scanUser(tx.queryRow("SELECT "+userColumns+" FROM users WHERE account_id = ? AND id = ?", accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatehouse.NotFound("User " + id)
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}
