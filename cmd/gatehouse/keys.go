package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

func init() {
	adminCommands["keys create"] = runKeysCreate
	adminCommands["keys import"] = runKeysImport
	adminCommands["keys list"] = runKeysList
	adminCommands["keys disable"] = func(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
		return runKeyChange(ctx, "disable", args, getenv, stdout, stderr)
	}
	adminCommands["keys enable"] = func(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
		return runKeyChange(ctx, "enable", args, getenv, stdout, stderr)
	}
	adminCommands["keys delete"] = func(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
		return runKeyChange(ctx, "delete", args, getenv, stdout, stderr)
	}
}

type keyJSON struct {
	ID          string     `json:"id"`
	Type        string     `json:"type"`
	User        string     `json:"user,omitempty"`
	Description string     `json:"description"`
	Key         string     `json:"key,omitempty"`
	Last4       string     `json:"last4"`
	APIVersion  int        `json:"api_version"`
	Access      string     `json:"access,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	DisabledBy  string     `json:"disabled_by,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
}

func newKeyJSON(k *gatehouse.APIKey, userEmail, secret string) keyJSON {
	out := keyJSON{
		ID: k.ID, Type: string(k.Kind), User: userEmail, Description: k.Description, Key: secret, Last4: k.Last4,
		APIVersion: k.APIVersion, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy.Summary,
	}
	if k.Kind == gatehouse.KeyGeneral {
		out.Access = accessLevel(k)
	}
	if k.Disabled() {
		out.DisabledAt, out.DisabledBy = &k.DisabledAt, k.DisabledBy.Summary
	}
	if !k.LastUsedAt.IsZero() {
		out.LastUsedAt = &k.LastUsedAt
	}
	return out
}

func accessLevel(k *gatehouse.APIKey) string {
	if k.ReadOnly {
		return "read-only"
	}
	return "full"
}

// keyFlags are the flags of keys create and keys import.
type keyFlags struct {
	admin       adminFlags
	description string
	readOnly    bool
	user        string
}

func (kf *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&kf.description, "description", "", "what the key is for (required; it cannot be changed later)")
	fs.BoolVar(&kf.readOnly, "read-only", false, "a general key that may only make GET requests")
	fs.StringVar(&kf.user, "user", "", "make a user token for the user with this email instead of a general key")
}

// newKey checks the rules for creating the key kf describes and returns it,
// ready to store once Hash and Last4 are set.
func (kf *keyFlags) newKey(ctx context.Context, store *sqlstore.Store, account *gatehouse.Account) (*gatehouse.APIKey, *gatehouse.User, error) {
	k := &gatehouse.APIKey{AccountID: account.ID, Kind: gatehouse.KeyGeneral, Description: kf.description, ReadOnly: kf.readOnly, CreatedBy: gatehouse.CLIActor}
	action := access.CreateGeneralKey
	var user *gatehouse.User
	if kf.user != "" {
		if kf.readOnly {
			return nil, nil, usagef("--read-only is for general keys: a user token can do what its user's role allows")
		}
		var err error
		if user, err = store.UserByEmail(ctx, account.ID, kf.user); err != nil {
			return nil, nil, err
		}
		k.Kind, k.UserID, action = gatehouse.KeyUserToken, user.ID, access.CreateUserToken
	}
	if err := access.DecideKeyAction(access.Actor{CLI: true}, account, action, user); err != nil {
		return nil, nil, err
	}
	return k, user, nil
}

func runKeysCreate(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys create", "keys create --account S --description D [--read-only | --user EMAIL] [--json]", stderr)
	var kf keyFlags
	kf.admin.registerWithAccount(fs)
	kf.register(fs)
	if err := parseAdmin(fs, args, getenv, "account", "description"); err != nil {
		return err
	}
	store, account, err := kf.admin.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	k, user, err := kf.newKey(ctx, store, account)
	if err != nil {
		return err
	}
	secret := access.GenerateKey(k.Kind)
	k.Hash, k.Last4 = access.HashKey(secret), access.Last4(secret)
	if err := store.CreateKey(ctx, k); err != nil {
		return err
	}
	if kf.admin.jsonOut {
		return printJSON(stdout, map[string]keyJSON{"api_key": newKeyJSON(k, emailOf(user), secret)})
	}
	// The key alone, so that KEY=$(gatehouse keys create …) works.
	fmt.Fprintln(stdout, secret)
	return nil
}

func emailOf(u *gatehouse.User) string {
	if u == nil {
		return ""
	}
	return u.Email
}

func runKeysImport(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys import", "keys import --account S --description D [--read-only | --user EMAIL] [--json] KEY|-", stderr)
	var kf keyFlags
	kf.admin.registerWithAccount(fs)
	kf.register(fs)
	positional, err := parseWithArgs(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("keys import: give the key to import as the one argument, or - to read it from standard input")
	}
	if err := requireFlags(fs, "account", "description"); err != nil {
		return err
	}
	secret := positional[0]
	if secret == "-" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read key from standard input: %w", err)
		}
		secret = strings.TrimSpace(line)
	}
	if err := access.ValidateImported(secret); err != nil {
		return err
	}
	store, account, err := kf.admin.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	k, user, err := kf.newKey(ctx, store, account)
	if err != nil {
		return err
	}
	k.Hash, k.Last4 = access.HashKey(secret), access.Last4(secret)
	if err := store.CreateKey(ctx, k); err != nil {
		return err
	}
	if kf.admin.jsonOut {
		return printJSON(stdout, map[string]keyJSON{"api_key": newKeyJSON(k, emailOf(user), "")})
	}
	fmt.Fprintf(stdout, "Imported key …%s as %s.\n", k.Last4, k.ID)
	return nil
}

func runKeysList(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys list", "keys list --account S [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	if err := parseAdmin(fs, args, getenv, "account"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	general, err := store.Keys(ctx, account.ID, gatehouse.KeyGeneral)
	if err != nil {
		return err
	}
	tokens, err := store.Keys(ctx, account.ID, gatehouse.KeyUserToken)
	if err != nil {
		return err
	}
	users, err := store.Users(ctx, account.ID)
	if err != nil {
		return err
	}
	emails := map[string]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	if af.jsonOut {
		out := struct {
			General    []keyJSON `json:"general_access_keys"`
			UserTokens []keyJSON `json:"user_tokens"`
		}{[]keyJSON{}, []keyJSON{}}
		for _, k := range general {
			out.General = append(out.General, newKeyJSON(k, "", ""))
		}
		for _, k := range tokens {
			out.UserTokens = append(out.UserTokens, newKeyJSON(k, emails[k.UserID], ""))
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "General access REST API keys")
	fmt.Fprintln(tw, "ID\tDESCRIPTION\tKEY\tCREATED\tCREATED BY\tAPI VERSION\tACCESS\tDISABLED")
	for _, k := range general {
		disabled := "no"
		if k.Disabled() {
			disabled = fmt.Sprintf("by %s at %s", k.DisabledBy.Summary, k.DisabledAt.Format(time.RFC3339))
		}
		fmt.Fprintf(tw, "%s\t%s\t…%s\t%s\t%s\tv%d\t%s\t%s\n", k.ID, k.Description, k.Last4,
			k.CreatedAt.Format(time.RFC3339), k.CreatedBy.Summary, k.APIVersion, accessLevel(k), disabled)
	}
	fmt.Fprintln(tw, "\nUser tokens")
	fmt.Fprintln(tw, "ID\tUSER\tDESCRIPTION\tKEY\tCREATED\tLAST USED\tAPI VERSION")
	for _, k := range tokens {
		lastUsed := "never"
		if !k.LastUsedAt.IsZero() {
			lastUsed = k.LastUsedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t…%s\t%s\t%s\tv%d\n", k.ID, emails[k.UserID], k.Description, k.Last4,
			k.CreatedAt.Format(time.RFC3339), lastUsed, k.APIVersion)
	}
	return tw.Flush()
}

var keyChangeActions = map[string][2]access.KeyAction{
	// verb: {action on a general key, action on a user token}
	"disable": {access.DisableGeneralKey, 0},
	"enable":  {access.EnableGeneralKey, 0},
	"delete":  {access.DeleteGeneralKey, access.DeleteUserToken},
}

func runKeyChange(ctx context.Context, verb string, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys "+verb, "keys "+verb+" --account S KEY_ID", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	positional, err := parseWithArgs(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("keys %s: give the key's ID (from keys list) as the one argument", verb)
	}
	id := positional[0]
	if err := requireFlags(fs, "account"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	k, err := store.KeyByID(ctx, account.ID, id)
	if err != nil {
		return err
	}
	action := keyChangeActions[verb][0]
	var tokenUser *gatehouse.User
	if k.Kind == gatehouse.KeyUserToken {
		if action = keyChangeActions[verb][1]; action == 0 {
			return gatehouse.InvalidInput(fmt.Sprintf("Only general access keys can be %sd; a user token can only be deleted", verb))
		}
		if tokenUser, err = store.UserByID(ctx, account.ID, k.UserID); err != nil {
			return err
		}
	}
	if err := access.DecideKeyAction(access.Actor{CLI: true}, account, action, tokenUser); err != nil {
		return err
	}
	switch verb {
	case "disable":
		err = store.DisableKey(ctx, account.ID, id, gatehouse.CLIActor)
	case "enable":
		err = store.EnableKey(ctx, account.ID, id, gatehouse.CLIActor)
	case "delete":
		err = store.DeleteKey(ctx, account.ID, id, gatehouse.CLIActor)
	}
	if err != nil {
		return err
	}
	if af.jsonOut {
		return printJSON(stdout, map[string]string{"id": id, "status": verb + "d"})
	}
	fmt.Fprintf(stdout, "Key …%s (%s) %sd.\n", k.Last4, id, verb)
	return nil
}
