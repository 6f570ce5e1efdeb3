// Command bare serves one request pattern with fixed bytes, and nothing else:
// the baseline that the load scripts in bench/ compare Gatehouse to. By
// default it serves GET /abilities with the bytes Gatehouse answers
// (bench/rest-load.sh); --pattern, --body-file and --status make it answer
// what a script measured Gatehouse answer (bench/services-load.sh);
// --server-timeouts sets gatehouse serve's default timeouts, to measure what
// net/http's per-request deadlines cost on their own.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	pattern := flag.String("pattern", "GET /abilities", "the ServeMux pattern served")
	bodyFile := flag.String("body-file", "", "file holding the body to answer; the abilities of a business account when empty")
	status := flag.Int("status", http.StatusOK, "status to answer")
	timeouts := flag.Bool("server-timeouts", false, "set gatehouse serve's default read-header, read, write and idle timeouts")
	flag.Parse()
	body := []byte(`{"abilities":["advanced_permissions","read_only_users","rest_api","teams"]}`)
	if *bodyFile != "" {
		var err error
		if body, err = os.ReadFile(*bodyFile); err != nil {
			log.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(*pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(*status)
		w.Write(body)
	})
	srv := &http.Server{Addr: *addr, Handler: mux}
	if *timeouts {
		srv.ReadHeaderTimeout = 5 * time.Second
		srv.ReadTimeout = 30 * time.Second
		srv.WriteTimeout = 30 * time.Second
		srv.IdleTimeout = 60 * time.Second
	}
	log.Fatal(srv.ListenAndServe())
}
