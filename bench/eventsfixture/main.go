// Command eventsfixture adds a service with an Events API v2 integration to
// the default account of a Gatehouse database, and prints the integration
// key, for bench/events-load.sh: services are not made through the REST
// API yet.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/gatehouse-dev/gatehouse"
	"github.com/gatehouse-dev/gatehouse/sqlstore"
	"github.com/gatehouse-dev/gatehouse/sqlstore/storetest"
)

func main() {
	var cfg sqlstore.Config
	flag.StringVar(&cfg.DataDir, "data-dir", "", "the server's SQLite data directory")
	flag.StringVar(&cfg.DatabaseURL, "database-url", "", "the server's PostgreSQL URL")
	owner := flag.String("owner-email", "owner@example.com", "the default account's owner, whom incidents are assigned to")
	flag.Parse()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	account, err := s.AccountBySubdomain(ctx, "default")
	if err != nil {
		log.Fatal(err)
	}
	u, err := s.UserByEmail(ctx, account.ID, *owner)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := storetest.CreateService(ctx, cfg, account.ID, "Load "+gatehouse.NewID(), storetest.ServiceOptions{Targets: []*gatehouse.User{u}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(svc.IntegrationKey)
}
