package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a server may take to say it listens.
	startTimeout = 15 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM.
	stopTimeout = 15 * time.Second
	// cliTimeout bounds one CLI command.
	cliTimeout = 30 * time.Second
)

// gatehouseBin is the binary TestMain builds, shared by every test.
var gatehouseBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds ./cmd/gatehouse once into a temporary folder and runs the
// tests against it.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	gatehouseBin = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", gatehouseBin, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/gatehouse: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

var trackSourcesOnce sync.Once

// trackSources looks at every source file of the module from inside a test.
// go test caches a result by the files a test reads; the server's sources
// reach this package only through a go build in a subprocess, so without
// this a change to them would not rerun the cached e2e tests.
func trackSources() {
	filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext == ".go" || ext == ".sql" || d.Name() == "go.mod" {
			os.Stat(path)
		}
		return nil
	})
}

// server is a running `gatehouse serve` with a data directory of its own.
type server struct {
	// URL is where the server listens: http://127.0.0.1:PORT.
	URL string
	// DataDir is the server's --data-dir, which the CLI shares.
	DataDir string
	// Key is the general access key (full) printed on the first start.
	Key string
	// OwnerEmail is the email of the default account's owner.
	OwnerEmail string
	// Stderr is the server's log.
	Stderr *output

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	// stopped is set once the test stopped the server itself (terminate).
	stopped bool
}

var (
	listeningLine  = regexp.MustCompile(`(?m)\bmsg=listening addr=(\S+)`)
	firstKeyLine   = regexp.MustCompile(`(?m)^\s*REST API key:\s+(\S+)`)
	ownerEmailLine = regexp.MustCompile(`(?m)^\s*Owner email:\s+(\S+)`)
)

// startServer runs `gatehouse serve` on a free loopback port and an empty
// data directory, with extraArgs after the usual flags. It returns once the
// server logs that it listens, and stops it with SIGTERM when the test ends,
// failing the test unless it exits with status 0.
func startServer(t *testing.T, extraArgs ...string) *server {
	t.Helper()
	return startServerUnder(t, nil, extraArgs...)
}

// startServerUnder is startServer with the server started by a wrapper
// command, such as prlimit: wrapper is its name and arguments, before the
// server's.
func startServerUnder(t *testing.T, wrapper []string, extraArgs ...string) *server {
	t.Helper()
	trackSourcesOnce.Do(trackSources)
	dataDir := t.TempDir()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, extraArgs...)
	argv := slices.Concat(wrapper, []string{gatehouseBin}, args)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = hermeticEnv()
	stdout, stderr := newOutput(), newOutput()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gatehouse serve: %v", err)
	}
	s := &server{DataDir: dataDir, Stderr: stderr, cmd: cmd, exited: make(chan struct{})}
	exited := s.exited
	go func() {
		s.waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		if s.stopped {
			return
		}
		select {
		case <-exited:
			t.Errorf("gatehouse serve exited before the test ended: %v; stderr:\n%s", s.waitErr, stderr)
			return
		default:
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("send SIGTERM to gatehouse serve: %v", err)
		}
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		select {
		case <-exited:
		case <-timer.C:
			cmd.Process.Kill()
			<-exited
			t.Errorf("gatehouse serve did not exit within %v of SIGTERM; stderr:\n%s", stopTimeout, stderr)
			return
		}
		if s.waitErr != nil {
			t.Errorf("gatehouse serve exited with %v after SIGTERM, want status 0; stderr:\n%s", s.waitErr, stderr)
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	listening, err := stderr.waitFor(ctx, exited, listeningLine)
	if err != nil {
		t.Fatalf("gatehouse serve %s: no %q line on stderr: %v; stderr:\n%s", strings.Join(args[1:], " "), "msg=listening", err, stderr)
	}
	// The first start prints its credentials before it listens, but the two
	// streams reach us separately.
	key, err := stdout.waitFor(ctx, exited, firstKeyLine)
	if err != nil {
		t.Fatalf("gatehouse serve: no REST API key on stdout: %v; stdout:\n%s", err, stdout)
	}
	owner, err := stdout.waitFor(ctx, exited, ownerEmailLine)
	if err != nil {
		t.Fatalf("gatehouse serve: no owner email on stdout: %v; stdout:\n%s", err, stdout)
	}
	s.URL, s.Key, s.OwnerEmail = "http://"+listening[1], key[1], owner[1]
	return s
}

// terminate sends SIGTERM to the server and waits for it to exit, at most
// stopTimeout. It returns how long that took and how the process ended.
func (s *server) terminate(t *testing.T) (time.Duration, error) {
	t.Helper()
	s.stopped = true
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM to gatehouse serve: %v", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		return time.Since(start), s.waitErr
	case <-timer.C:
		s.cmd.Process.Kill()
		<-s.exited
		t.Fatalf("gatehouse serve did not exit within %v of SIGTERM; stderr:\n%s", stopTimeout, s.Stderr)
		return 0, nil
	}
}

// hermeticEnv is this process's environment without GATEHOUSE_* variables,
// so that a developer's settings (a --database-url, say) cannot reach the
// servers and commands the tests run.
func hermeticEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GATEHOUSE_")
	})
}

// cli runs `gatehouse ARGS…` against s's data directory, as an operator would
// while the server runs, and returns its standard output. It fails the test
// if the command fails.
func (s *server) cli(t *testing.T, args ...string) string {
	t.Helper()
	// --data-dir goes after the command words (users create …), before the
	// command's other flags.
	words := 0
	for words < len(args) && !strings.HasPrefix(args[words], "-") {
		words++
	}
	full := slices.Concat(args[:words], []string{"--data-dir", s.DataDir}, args[words:])
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatehouseBin, full...)
	cmd.Env = hermeticEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gatehouse %s: %v; stderr:\n%s", strings.Join(args, " "), err, &stderr)
	}
	return stdout.String()
}

// cliJSON runs cli with --json and decodes its output into v.
func (s *server) cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.cli(t, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("gatehouse %s --json: %v; output:\n%s", strings.Join(args, " "), err, out)
	}
}

// cliUser is a user as `gatehouse users … --json` shows it.
type cliUser struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	TimeZone string `json:"time_zone"`
}

// createUser creates a user of the default account.
func (s *server) createUser(t *testing.T, email, name, role string) cliUser {
	t.Helper()
	var out struct{ User cliUser }
	s.cliJSON(t, &out, "users", "create", "--account", "default", "--email", email, "--name", name, "--role", role)
	return out.User
}

// userByEmail returns the default account's user with that email.
func (s *server) userByEmail(t *testing.T, email string) cliUser {
	t.Helper()
	var out struct{ Users []cliUser }
	s.cliJSON(t, &out, "users", "list", "--account", "default")
	for _, u := range out.Users {
		if u.Email == email {
			return u
		}
	}
	t.Fatalf("gatehouse users list: no user %s among %+v", email, out.Users)
	return cliUser{}
}

// userToken creates an API user token for the default account's user with
// that email and returns the key.
func (s *server) userToken(t *testing.T, email string) string {
	t.Helper()
	return strings.TrimSpace(s.cli(t, "keys", "create", "--account", "default", "--description", "e2e user token", "--user", email))
}

// cliKey is a key as `gatehouse keys create --json` shows it.
type cliKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// generalKey creates a general access key of the account with that
// subdomain; extraArgs may be --read-only.
func (s *server) generalKey(t *testing.T, subdomain string, extraArgs ...string) cliKey {
	t.Helper()
	var out struct {
		APIKey cliKey `json:"api_key"`
	}
	args := append([]string{"keys", "create", "--account", subdomain, "--description", "e2e general key"}, extraArgs...)
	s.cliJSON(t, &out, args...)
	return out.APIKey
}

// createAccount creates an account on plan, whose subdomain is the plan's
// name, and returns a full general access key of it.
func (s *server) createAccount(t *testing.T, plan string) string {
	t.Helper()
	s.cli(t, "accounts", "create", "--subdomain", plan, "--name", "E2E "+plan, "--plan", plan)
	return s.generalKey(t, plan).Key
}

// output is one of a server's output streams, kept whole so that a test can
// wait for a line in it and show all of it on failure.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// written is closed, and replaced, at each write.
	written chan struct{}
}

func newOutput() *output {
	return &output{written: make(chan struct{})}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.written)
	o.written = make(chan struct{})
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor returns the submatches of re's first match in o, waiting for it
// to be written until ctx ends or the process has exited.
func (o *output) waitFor(ctx context.Context, exited <-chan struct{}, re *regexp.Regexp) ([]string, error) {
	for {
		o.mu.Lock()
		m := re.FindStringSubmatch(o.buf.String())
		written := o.written
		o.mu.Unlock()
		if m != nil {
			return m, nil
		}
		select {
		case <-written:
		case <-exited:
			// Wait has returned, so everything the process wrote is in.
			if m := re.FindStringSubmatch(o.String()); m != nil {
				return m, nil
			}
			return nil, errors.New("the server exited")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
