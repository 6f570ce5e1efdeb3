// Command eventsceiling serves POST /v2/enqueue in memory: it reads the body
// (up to 512 KB), decodes the same JSON into the same shape as Gatehouse's
// Events API, and answers 202 as PagerDuty does, writing nothing: the
// ceiling that bench/events-load.sh compares durable ingest to.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strconv"
)

type event struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string          `json:"summary"`
		Source        string          `json:"source"`
		Severity      string          `json:"severity"`
		Timestamp     string          `json:"timestamp"`
		Component     string          `json:"component"`
		Group         string          `json:"group"`
		Class         string          `json:"class"`
		CustomDetails json.RawMessage `json:"custom_details"`
	} `json:"payload"`
	Images []struct {
		Src  string `json:"src"`
		Href string `json:"href"`
		Alt  string `json:"alt"`
	} `json:"images"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	flag.Parse()
	http.HandleFunc("POST /v2/enqueue", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 512<<10))
		var e event
		if err == nil {
			err = json.Unmarshal(body, &e)
		}
		if err != nil {
			http.Error(w, `{"status":"Unrecognized object"}`, http.StatusBadRequest)
			return
		}
		key, _ := json.Marshal(e.DedupKey)
		answer := append([]byte(`{"status":"success","message":"Event processed","dedup_key":`), key...)
		answer = append(answer, '}')
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(answer))}
		w.WriteHeader(http.StatusAccepted)
		w.Write(answer)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
