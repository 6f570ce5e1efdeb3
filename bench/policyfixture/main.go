// Command policyfixture inserts a bare escalation policy (no rules, no
// teams) into an account of a SQLite data directory and prints its ID: a
// FIXTURE for bench/services-load.sh until escalation policies have their
// REST API, which the script will then call instead.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gatehouse-dev/gatehouse"
)

func main() {
	dataDir := flag.String("data-dir", "gatehouse-data", "the server's --data-dir")
	subdomain := flag.String("account", "default", "subdomain of the account")
	name := flag.String("name", "Load test policy", "name of the policy")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(*dataDir, "gatehouse.db")+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var accountID string
	if err := db.QueryRowContext(ctx, "SELECT id FROM accounts WHERE subdomain = ?", *subdomain).Scan(&accountID); err != nil {
		log.Fatalf("account %s: %v", *subdomain, err)
	}
	id := gatehouse.NewID()
	if _, err := db.ExecContext(ctx, "INSERT INTO escalation_policies (id, account_id, name, created_at) VALUES (?, ?, ?, ?)",
		id, accountID, *name, time.Now().UnixMicro()); err != nil {
		log.Fatalf("insert policy: %v", err)
	}
	fmt.Println(id)
}
