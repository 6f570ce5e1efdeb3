#!/usr/bin/env bash
# Measures durable Events API ingest: wrk posts Alertmanager-shaped v2
# events to Gatehouse (every 202 committed to the event log) and, in the same
# run, to an in-memory handler that only decodes the same JSON
# (bench/eventsceiling), and prints events/s for both, the ratio, and
# Gatehouse's p99 latency. Two scenarios: both servers with GOMAXPROCS=2 and
# 32 connections, then both with GOMAXPROCS=1 and 128 connections. Runs
# alternate between the two servers, so noise falls on both alike.
#
#   bash bench/events-load.sh [seconds per run, default 10]
#   ENGINE=postgres bash bench/events-load.sh   # a fresh database on
#       GATEHOUSE_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
engine=${ENGINE:-sqlite}
pg_base=${GATEHOUSE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}

if ! command -v wrk >/dev/null 2>&1; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
pids=()
pg_db=""
stop_servers() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	stop_servers
	if [ -n "$pg_db" ]; then psql -q "$pg_base/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/ceiling" ./bench/eventsceiling
go build -o "$work/fixture" ./bench/eventsfixture

db_flags=(--data-dir "$work/data")
if [ "$engine" = postgres ]; then
	pg_db="gatehouse_bench_$$"
	psql -q "$pg_base/postgres" -c "CREATE DATABASE $pg_db" >/dev/null
	db_flags=(--database-url "$pg_base/$pg_db?sslmode=disable")
fi

wait_up() {
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server at $1 did not come up" >&2
	exit 1
}

gh_addr=127.0.0.1:18090
ceil_addr=127.0.0.1:18091
start_servers() {
	# A limit far above what wrk can send keeps the limiter on the path
	# without refusing events.
	GOMAXPROCS=$1 "$work/gatehouse" serve --addr "$gh_addr" "${db_flags[@]}" \
		--events-rate-limit 1000000000 --log-format json >>"$work/serve.out" 2>>"$work/serve.err" &
	pids+=($!)
	GOMAXPROCS=$1 "$work/ceiling" --addr "$ceil_addr" &
	pids+=($!)
	wait_up "http://$gh_addr/healthz"
	for _ in $(seq 100); do
		curl -s -o /dev/null -X POST -d '{}' "http://$ceil_addr/v2/enqueue" && break
		sleep 0.1
	done
}

start_servers 2
fixture_flags=("${db_flags[@]}")
export ROUTING_KEY=$("$work/fixture" "${fixture_flags[@]}")
sed "s/ROUTING_KEY/$ROUTING_KEY/" eventsapi/testdata/alertmanager-v2-trigger.json >"$work/event.json"
for addr in "$gh_addr" "$ceil_addr"; do
	status=$(curl -s -o "$work/answer" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/event.json" "http://$addr/v2/enqueue")
	if [ "$status" != 202 ]; then
		echo "http://$addr/v2/enqueue answered $status: $(cat "$work/answer")" >&2
		exit 1
	fi
done
stop_servers

run() { wrk -t1 -c"$1" -d"${3:-$duration}s" --latency -s bench/events-post.lua "$2"; }
rps() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
non2xx() { awk '/Non-2xx/ {print $NF}'; }

for scenario in "2 32" "1 128"; do
	set -- $scenario
	procs=$1 conns=$2
	start_servers "$procs"
	run "$conns" "http://$gh_addr" 2 >/dev/null
	run "$conns" "http://$ceil_addr" 2 >/dev/null
	c1=$(run "$conns" "http://$ceil_addr")
	g1=$(run "$conns" "http://$gh_addr")
	c2=$(run "$conns" "http://$ceil_addr")
	g2=$(run "$conns" "http://$gh_addr")
	stop_servers
	bad1=$(echo "$g1" | non2xx)
	bad2=$(echo "$g2" | non2xx)
	awk -v e="$engine" -v p="$procs" -v n="$conns" \
		-v c1="$(echo "$c1" | rps)" -v c2="$(echo "$c2" | rps)" \
		-v g1="$(echo "$g1" | rps)" -v g2="$(echo "$g2" | rps)" \
		-v l1="$(echo "$g1" | p99)" -v l2="$(echo "$g2" | p99)" \
		-v b1="${bad1:-0}" -v b2="${bad2:-0}" 'BEGIN {
		c = (c1 + c2) / 2; g = (g1 + g2) / 2
		printf "%s, GOMAXPROCS=%s, %s connections:\n", e, p, n
		printf "  in-memory ceiling (decode only): %8.0f events/s (%.0f, %.0f)\n", c, c1, c2
		printf "  Gatehouse, durable:              %8.0f events/s (%.0f, %.0f), p99 %s / %s, non-202 answers %d\n", g, g1, g2, l1, l2, b1 + b2
		printf "  ratio Gatehouse / ceiling: %.2f\n", g / c
	}'
done
