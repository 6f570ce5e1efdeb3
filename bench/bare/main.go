// Command bare serves GET /abilities with the bytes Gatehouse answers, and
// nothing else: the baseline that bench/rest-load.sh compares Gatehouse to.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	body := []byte(`{"abilities":["advanced_permissions","read_only_users","rest_api","teams"]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /abilities", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
