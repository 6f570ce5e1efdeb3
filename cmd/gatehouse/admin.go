package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

type adminCommand func(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error

var adminCommands = map[string]adminCommand{
	"accounts create": runAccountsCreate,
	"accounts list":   runAccountsList,
	"users create":    runUsersCreate,
	"users list":      runUsersList,
	"users set-role":  runUsersSetRole,
	"users delete":    runUsersDelete,
}

// adminFlags are the flags every admin subcommand shares, and --account of
// those that act on one account.
type adminFlags struct {
	db      databaseFlags
	jsonOut bool
	account string
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	a.db.register(fs)
	fs.BoolVar(&a.jsonOut, "json", false, "print JSON instead of text")
}

func (a *adminFlags) registerWithAccount(fs *flag.FlagSet) {
	a.register(fs)
	fs.StringVar(&a.account, "account", "", "the account's subdomain")
}

// parseAdmin parses args and checks that every flag in required was given a
// non-empty value and that no argument is left over.
func parseAdmin(fs *flag.FlagSet, args []string, getenv env, required ...string) error {
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := requireFlags(fs, required...); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// requireFlags checks that every flag in required has a non-empty value.
func requireFlags(fs *flag.FlagSet, required ...string) error {
	var missing []string
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return usagef("%s: missing %s", fs.Name(), strings.Join(missing, ", "))
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type accountJSON struct {
	ID        string    `json:"id"`
	Subdomain string    `json:"subdomain"`
	Name      string    `json:"name"`
	Plan      string    `json:"plan"`
	Abilities []string  `json:"abilities"`
	CreatedAt time.Time `json:"created_at"`
}

func newAccountJSON(a *gatehouse.Account) accountJSON {
	return accountJSON{a.ID, a.Subdomain, a.Name, string(a.Plan), a.Abilities(), a.CreatedAt}
}

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
	// Password is set only when the user has just been created.
	Password string `json:"password,omitempty"`
}

func newUserJSON(u *gatehouse.User, pass string) userJSON {
	return userJSON{u.ID, u.Email, u.Name, string(u.Role), u.TimeZone, u.CreatedAt, pass}
}

func runAccountsCreate(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts create", "accounts create --subdomain S --name N --plan P [--owner-email E] [--json]", stderr)
	var af adminFlags
	af.register(fs)
	subdomain := fs.String("subdomain", "", "the account's subdomain, unique on this server")
	name := fs.String("name", "", "the account's name")
	plan := fs.String("plan", "", "pricing plan: lite, basic, free, professional, business or enterprise")
	ownerEmail := fs.String("owner-email", "", "email of the account's owner (default owner@SUBDOMAIN.example.com)")
	if err := parseAdmin(fs, args, getenv, "subdomain", "name", "plan"); err != nil {
		return err
	}
	if *ownerEmail == "" {
		*ownerEmail = "owner@" + *subdomain + ".example.com"
	}
	store, err := af.db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	pass := password.Generate()
	account := &gatehouse.Account{Subdomain: *subdomain, Name: *name, Plan: gatehouse.Plan(*plan)}
	owner := &gatehouse.User{Email: *ownerEmail, Name: "Account Owner", Role: gatehouse.RoleOwner, PasswordHash: password.Hash(pass, passwordParams)}
	if err := store.CreateAccount(ctx, account, owner); err != nil {
		return err
	}
	if af.jsonOut {
		return printJSON(stdout, struct {
			Account accountJSON `json:"account"`
			Owner   userJSON    `json:"owner"`
		}{newAccountJSON(account), newUserJSON(owner, pass)})
	}
	fmt.Fprintf(stdout, "Created account %s (%s, plan %s).\nOwner %s, password (shown only now): %s\n",
		account.Subdomain, account.ID, account.Plan, owner.Email, pass)
	return nil
}

func runAccountsList(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts list", "accounts list [--json]", stderr)
	var af adminFlags
	af.register(fs)
	if err := parseAdmin(fs, args, getenv); err != nil {
		return err
	}
	store, err := af.db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return err
	}
	if af.jsonOut {
		out := make([]accountJSON, len(accounts))
		for i, a := range accounts {
			out[i] = newAccountJSON(a)
		}
		return printJSON(stdout, struct {
			Accounts []accountJSON `json:"accounts"`
		}{out})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBDOMAIN\tNAME\tPLAN\tCREATED")
	for _, a := range accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Subdomain, a.Name, a.Plan, a.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

// openAccount opens the store and finds the account named by --account.
func (a *adminFlags) openAccount(ctx context.Context) (*sqlstore.Store, *gatehouse.Account, error) {
	store, err := a.db.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	account, err := store.AccountBySubdomain(ctx, a.account)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, account, nil
}

func runUsersCreate(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("users create", "users create --account S --email E --name N --role R [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	email := fs.String("email", "", "the user's email, unique in the account")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "", "base role: admin, user, limited_user, observer, restricted_access, read_only_user or read_only_limited_user")
	if err := parseAdmin(fs, args, getenv, "account", "email", "name", "role"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	pass := password.Generate()
	u := &gatehouse.User{AccountID: account.ID, Email: *email, Name: *name, Role: gatehouse.Role(*role), PasswordHash: password.Hash(pass, passwordParams)}
	if err := store.CreateUser(ctx, u); err != nil {
		return err
	}
	if af.jsonOut {
		return printJSON(stdout, struct {
			User userJSON `json:"user"`
		}{newUserJSON(u, pass)})
	}
	fmt.Fprintf(stdout, "Created user %s (%s, %s) in %s.\nPassword (shown only now): %s\n", u.Email, u.ID, u.Role, account.Subdomain, pass)
	return nil
}

func runUsersList(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("users list", "users list --account S [--json]", stderr)
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
	users, err := store.Users(ctx, account.ID)
	if err != nil {
		return err
	}
	if af.jsonOut {
		out := make([]userJSON, len(users))
		for i, u := range users {
			out[i] = newUserJSON(u, "")
		}
		return printJSON(stdout, struct {
			Users []userJSON `json:"users"`
		}{out})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\t%s\n", u.ID, u.Email, u.Name, u.Role, u.Role.UIName(), u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func runUsersSetRole(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("users set-role", "users set-role --account S --email E --role R [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	email := fs.String("email", "", "the user's email")
	role := fs.String("role", "", "the new base role")
	if err := parseAdmin(fs, args, getenv, "account", "email", "role"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.UserByEmail(ctx, account.ID, *email)
	if err != nil {
		return err
	}
	if _, err := gatehouse.ParseRole(*role); err != nil {
		return err
	}
	if err := store.SetUserRole(ctx, account.ID, u.ID, gatehouse.Role(*role)); err != nil {
		return err
	}
	u.Role = gatehouse.Role(*role)
	if af.jsonOut {
		return printJSON(stdout, struct {
			User userJSON `json:"user"`
		}{newUserJSON(u, "")})
	}
	fmt.Fprintf(stdout, "%s is now %s (%s).\n", u.Email, u.Role, u.Role.UIName())
	return nil
}

func runUsersDelete(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("users delete", "users delete --account S --email E [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	email := fs.String("email", "", "the user's email")
	if err := parseAdmin(fs, args, getenv, "account", "email"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.UserByEmail(ctx, account.ID, *email)
	if err != nil {
		return err
	}
	if err := store.DeleteUser(ctx, account.ID, u.ID, gatehouse.CLIActor); err != nil {
		return err
	}
	if af.jsonOut {
		return printJSON(stdout, map[string]string{"id": u.ID, "status": "deleted"})
	}
	fmt.Fprintf(stdout, "Removed %s (%s) and their API user tokens.\n", u.Email, u.ID)
	return nil
}
