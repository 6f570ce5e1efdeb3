package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

type adminCommand func(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error

var adminCommands = map[string]adminCommand{
	"accounts create":    runAccountsCreate,
	"accounts list":      runAccountsList,
	"accounts set-plan":  runAccountsSetPlan,
	"accounts abilities": runAccountsAbilities,
	"users create":       runUsersCreate,
	"users list":         runUsersList,
	"users set-role":     runUsersSetRole,
	"users delete":       runUsersDelete,
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
	ID        string   `json:"id"`
	Subdomain string   `json:"subdomain"`
	Name      string   `json:"name"`
	Plan      string   `json:"plan"`
	Abilities []string `json:"abilities"`
	// AbilityOverrides are the abilities granted (true) or withdrawn (false)
	// on top of the plan.
	AbilityOverrides map[string]bool `json:"ability_overrides,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
}

func newAccountJSON(a *gatehouse.Account) accountJSON {
	return accountJSON{a.ID, a.Subdomain, a.Name, string(a.Plan), a.Abilities(), a.AbilityOverrides, a.CreatedAt}
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

func runAccountsCreate(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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

func runAccountsList(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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

func runAccountsSetPlan(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts set-plan", "accounts set-plan --account S --plan P [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	plan := fs.String("plan", "", "the new pricing plan: lite, basic, free, professional, business or enterprise")
	if err := parseAdmin(fs, args, getenv, "account", "plan"); err != nil {
		return err
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	changed, err := store.SetPlan(ctx, account.ID, gatehouse.Plan(*plan), gatehouse.CLIActor)
	if err != nil {
		return err
	}
	headline := fmt.Sprintf("%s is now on the %s plan (was %s).", changed.Subdomain, changed.Plan, account.Plan)
	if changed.Plan == account.Plan {
		headline = fmt.Sprintf("%s is already on the %s plan.", changed.Subdomain, changed.Plan)
	}
	return printAbilities(ctx, store, changed, headline, af.jsonOut, stdout)
}

func runAccountsAbilities(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("accounts abilities", "accounts abilities --account S [--grant ABILITY]... [--revoke ABILITY]... [--json]", stderr)
	var af adminFlags
	af.registerWithAccount(fs)
	var grant, revoke stringList
	fs.Var(&grant, "grant", "give the account this ability on top of its plan (repeatable): "+strings.Join(gatehouse.KnownAbilities, ", "))
	fs.Var(&revoke, "revoke", "take this ability from the account whatever its plan (repeatable)")
	if err := parseAdmin(fs, args, getenv, "account"); err != nil {
		return err
	}
	changes := map[string]bool{}
	for _, name := range grant {
		changes[name] = true
	}
	for _, name := range revoke {
		if changes[name] {
			return usagef("accounts abilities: %q is both granted and revoked", name)
		}
		changes[name] = false
	}
	store, account, err := af.openAccount(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if len(changes) == 0 {
		return printAbilities(ctx, store, account, "", af.jsonOut, stdout)
	}
	changed, err := store.SetAbilities(ctx, account.ID, changes, gatehouse.CLIActor)
	if err != nil {
		return err
	}
	headline := fmt.Sprintf("Abilities of %s changed.", changed.Subdomain)
	if maps.Equal(changed.AbilityOverrides, account.AbilityOverrides) {
		headline = fmt.Sprintf("Abilities of %s unchanged.", changed.Subdomain)
	}
	return printAbilities(ctx, store, changed, headline, af.jsonOut, stdout)
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// printAbilities prints headline, the account's abilities and where each
// comes from, and notes on what the account's users and keys lose without
// them.
func printAbilities(ctx context.Context, store *sqlstore.Store, a *gatehouse.Account, headline string, jsonOut bool, stdout io.Writer) error {
	notes, err := abilityNotes(ctx, store, a)
	if err != nil {
		return err
	}
	if jsonOut {
		return printJSON(stdout, struct {
			Account accountJSON `json:"account"`
			Notes   []string    `json:"notes"`
		}{newAccountJSON(a), append([]string{}, notes...)})
	}
	if headline != "" {
		fmt.Fprintln(stdout, headline)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ABILITY\tPLAN %s\tACCOUNT\n", a.Plan)
	planAbilities := a.Plan.Abilities()
	for _, name := range gatehouse.KnownAbilities {
		inPlan, has := slices.Contains(planAbilities, name), a.Has(name)
		account := yesNo(has)
		if _, overridden := a.AbilityOverrides[name]; overridden && has {
			account += " (granted)"
		} else if overridden {
			account += " (revoked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, yesNo(inPlan), account)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, note := range notes {
		fmt.Fprintln(stdout, "Note: "+note)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// abilityNotes says what the account's keys and users lose while it lacks
// abilities: requests refused, and roles it could no longer give, which the
// users keep, as on PagerDuty.
func abilityNotes(ctx context.Context, store *sqlstore.Store, a *gatehouse.Account) ([]string, error) {
	var notes []string
	if !a.Has(gatehouse.AbilityRESTAPI) {
		notes = append(notes, fmt.Sprintf("without %s, every REST API request with the account's keys is refused (402)", gatehouse.AbilityRESTAPI))
	} else if !a.Has(gatehouse.AbilityAdvancedPermissions) {
		tokens, err := store.Keys(ctx, a.ID, gatehouse.KeyUserToken)
		if err != nil {
			return nil, err
		}
		if len(tokens) > 0 {
			notes = append(notes, fmt.Sprintf("without %s, the account's %d API user tokens are refused (402); they work again if it returns",
				gatehouse.AbilityAdvancedPermissions, len(tokens)))
		}
	}
	users, err := store.Users(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, u := range users {
		if need := u.Role.RequiredAbility(); need != "" && !a.Has(need) {
			kept = append(kept, fmt.Sprintf("%s (%s, which needs %s)", u.Email, u.Role, need))
		}
	}
	if len(kept) > 0 {
		notes = append(notes, "these users keep roles the account could no longer give, as on PagerDuty: "+strings.Join(kept, ", "))
	}
	return notes, nil
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

func runUsersCreate(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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

func runUsersList(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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

func runUsersSetRole(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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

func runUsersDelete(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
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
