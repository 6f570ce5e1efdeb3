// Command keys makes general access REST API keys in a Gatehouse database
// and prints them, one a line, for the load scripts in bench/ (10 000 keys
// through the CLI would take a process each).
//
//	go run ./bench/keys --data-dir DIR --account default --n 10000 > keys.txt
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
)

func main() {
	dataDir := flag.String("data-dir", "gatehouse-data", "folder of the SQLite database")
	databaseURL := flag.String("database-url", "", "PostgreSQL URL instead of SQLite")
	subdomain := flag.String("account", "default", "the account's subdomain")
	n := flag.Int("n", 10_000, "how many keys")
	flag.Parse()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: *dataDir, DatabaseURL: *databaseURL})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	account, err := store.AccountBySubdomain(ctx, *subdomain)
	if err != nil {
		log.Fatal(err)
	}
	out := make([]byte, 0, *n*(access.KeyLen+1))
	for i := range *n {
		secret := access.GenerateKey(gatehouse.KeyGeneral)
		k := &gatehouse.APIKey{
			AccountID: account.ID, Kind: gatehouse.KeyGeneral, Description: fmt.Sprintf("load test %d", i),
			Hash: access.HashKey(secret), Last4: access.Last4(secret), CreatedBy: gatehouse.CLIActor,
		}
		if err := store.CreateKey(ctx, k); err != nil {
			log.Fatal(err)
		}
		out = append(append(out, secret...), '\n')
	}
	os.Stdout.Write(out)
}
