// Command gatehouse runs the Gatehouse server and administers its accounts,
// users and keys.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is bad usage of the command: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode prints err, if any, as one clear message and returns the exit
// status: 0 for success, 2 for bad usage, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "gatehouse: %v\nRun 'gatehouse -h' for usage.\n", err)
		return 2
	}
	// A store that cannot answer says why, for the operator; other errors
	// with a code are the client's, in the words a client would read.
	if e, ok := errors.AsType[*gatehouse.Error](err); ok && len(e.Errors) > 0 && e.Code != gatehouse.CodeUnavailable {
		fmt.Fprintf(stderr, "gatehouse: %s\n", strings.Join(e.Errors, "\ngatehouse: "))
		return 1
	}
	fmt.Fprintf(stderr, "gatehouse: %v\n", err)
	return 1
}

// env reads GATEHOUSE_* variables; tests pass their own.
type env func(string) string

// passwordParams is the argon2id cost of new passwords; tests lower it.
var passwordParams = password.Default

const topUsage = `Gatehouse serves PagerDuty's REST and Events APIs and their access keys.

Usage:
  gatehouse serve [flags]            run the server
  gatehouse migrate [flags]          apply database migrations and exit
  gatehouse version                  print the version
  gatehouse accounts create|list|set-plan|abilities
                                     manage accounts, their plans and abilities
  gatehouse users create|list|set-role|delete
                                     manage users of an account
  gatehouse keys create|import|list|disable|enable|delete
                                     manage REST API keys of an account

Run 'gatehouse COMMAND -h' for a command's flags. Every flag can also be set
by an environment variable: --data-dir is GATEHOUSE_DATA_DIR, and so on; a
flag given on the command line wins.
`

// run is the whole command, callable from tests: main passes the process's
// arguments, environment and standard streams.
func run(ctx context.Context, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, topUsage)
		return nil
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "version":
		if len(rest) > 0 {
			return usagef("version: unexpected argument %q", rest[0])
		}
		fmt.Fprintf(stdout, "gatehouse %s\n", version())
		return nil
	case "accounts", "users", "keys":
		subs := subcommandsOf(cmd)
		if len(rest) == 0 {
			return usagef("%s: missing subcommand: %s", cmd, strings.Join(subs, ", "))
		}
		switch rest[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprintf(stdout, "Usage: gatehouse %s %s [flags]\nRun 'gatehouse %s SUBCOMMAND -h' for a subcommand's flags.\n", cmd, strings.Join(subs, "|"), cmd)
			return nil
		}
		sub, ok := adminCommands[cmd+" "+rest[0]]
		if !ok {
			return usagef("%s: unknown subcommand %q: %s", cmd, rest[0], strings.Join(subs, ", "))
		}
		return sub(ctx, rest[1:], getenv, stdin, stdout, stderr)
	}
	return usagef("unknown command %q", cmd)
}

// subcommandsOf lists the subcommands of an admin command, sorted.
func subcommandsOf(cmd string) []string {
	var subs []string
	for name := range adminCommands {
		if group, sub, _ := strings.Cut(name, " "); group == cmd {
			subs = append(subs, sub)
		}
	}
	slices.Sort(subs)
	return subs
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version + " " + info.GoVersion
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Parse errors become one line through exitCode; usage is printed only
	// when asked for with -h.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gatehouse %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags applies GATEHOUSE_* variables, then the command line, so that a
// flag beats its variable and the variable beats the default.
func parseFlags(fs *flag.FlagSet, args []string, getenv env) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = usagef("%s=%q: %v", name, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		return usageError{redactKeys(fmt.Sprintf("%s: %v", fs.Name(), err), args)}
	}
	return nil
}

// redactKeys replaces in msg every argument that has the shape of a REST API
// key (an imported key may start with "-" and so read as a flag) by its last
// four characters, so that no error message shows a key.
func redactKeys(msg string, args []string) string {
	for _, arg := range args {
		if access.ValidKeyChars(arg) {
			msg = strings.ReplaceAll(msg, arg[1:], "<key …"+access.Last4(arg)+">")
		}
	}
	return msg
}

// parseWithArgs is parseFlags for commands that take arguments: flags may
// come before, between or after them. It returns the arguments.
func parseWithArgs(fs *flag.FlagSet, args []string, getenv env) ([]string, error) {
	if err := parseFlags(fs, args, getenv); err != nil {
		return nil, err
	}
	var positional []string
	for fs.NArg() > 0 {
		positional = append(positional, fs.Arg(0))
		if err := parseFlags(fs, fs.Args()[1:], func(string) string { return "" }); err != nil {
			return nil, err
		}
	}
	return positional, nil
}

// databaseFlags are the flags that say where the database is.
type databaseFlags struct {
	dataDir     string
	databaseURL string
	// logger, when set, receives a line when the database starts failing
	// and one when it recovers; the server sets it, commands need not.
	logger *slog.Logger
}

func (d *databaseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dataDir, "data-dir", "gatehouse-data", "folder of the embedded SQLite database")
	fs.StringVar(&d.databaseURL, "database-url", "", "PostgreSQL URL (postgres://…); SQLite in --data-dir when empty")
}

// open opens and migrates the database.
func (d *databaseFlags) open(ctx context.Context) (*sqlstore.Store, error) {
	if d.databaseURL != "" && !sqlstore.IsPostgresURL(d.databaseURL) {
		return nil, usagef("--database-url must start with postgres:// or postgresql://")
	}
	s, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: d.dataDir, DatabaseURL: d.databaseURL, Logger: d.logger})
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func runMigrate(ctx context.Context, args []string, getenv env, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "migrate [--data-dir DIR] [--database-url URL]", stderr)
	var db databaseFlags
	db.register(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate: unexpected argument %q", fs.Arg(0))
	}
	s, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintln(stdout, "Database is up to date.")
	return nil
}
