package restapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

// pausingStore holds CredentialByHash's answer until released.
type pausingStore struct {
	*sqlstore.Store
	read    chan struct{}
	release chan struct{}
}

func (p *pausingStore) CredentialByHash(ctx context.Context, hash [32]byte) (*sqlstore.Credential, error) {
	c, err := p.Store.CredentialByHash(ctx, hash)
	p.read <- struct{}{}
	<-p.release
	return c, err
}

// TestAnswerReadBeforeFeedStartsIsNotCached: a key read as enabled before
// the server knew where the change feed stood, then disabled before the feed
// started, must not stay cached as enabled.
func TestAnswerReadBeforeFeedStartsIsNotCached(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, "sqlite")
	s := storetest.Open(t, cfg)
	cli := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, k := mustKey(t, s, a, nil, false)

	paused := &pausingStore{Store: s, read: make(chan struct{}), release: make(chan struct{})}
	srv := New(Config{Store: paused})
	first := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/abilities", nil)
		r.Header.Set("Authorization", token(key))
		srv.ServeHTTP(w, r)
		first <- w.Code
	}()
	<-paused.read // the key was read as enabled
	if err := cli.DisableKey(context.Background(), a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-srv.Ready() // the feed starts after the disable
	close(paused.release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("the first request = %d, want 200 (it read the key before the disable)", code)
	}

	go func() {
		for range paused.read {
		}
	}()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/abilities", nil)
	r.Header.Set("Authorization", token(key))
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("after the disable, the key answers %d, want 401", w.Code)
	}
}

// hangingFeedStore answers everything but the change feed, which hangs
// once hang is closed, as a stuck database connection would.
type hangingFeedStore struct {
	*sqlstore.Store
	hang chan struct{}
}

func (h *hangingFeedStore) ChangesAfter(ctx context.Context, after int64, limit int) ([]gatehouse.Change, error) {
	select {
	case <-h.hang:
		<-ctx.Done()
		return nil, ctx.Err()
	default:
		return h.Store.ChangesAfter(ctx, after, limit)
	}
}

// TestStalledFeedStopsTheCache: when the change feed cannot be read, cached
// keys are not trusted past the promised second.
func TestStalledFeedStopsTheCache(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, "sqlite")
	s := storetest.Open(t, cfg)
	cli := storetest.Open(t, cfg)
	a, _ := storetest.MustCreateAccount(t, s, "acme", gatehouse.PlanBusiness)
	key, k := mustKey(t, s, a, nil, false)
	hanging := &hangingFeedStore{Store: s, hang: make(chan struct{})}
	srv := New(Config{Store: hanging, ChangePoll: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-srv.Ready()

	status := func() int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/abilities", nil)
		r.Header.Set("Authorization", token(key))
		srv.ServeHTTP(w, r)
		return w.Code
	}
	if code := status(); code != 200 {
		t.Fatalf("fresh key = %d", code)
	}
	close(hanging.hang)
	if err := cli.DisableKey(context.Background(), a.ID, k.ID, gatehouse.CLIActor); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a key disabled while the feed hangs to stop working", func() bool { return status() == 401 })
}
