#!/usr/bin/env bash
# Measures authenticated GET /abilities on Gatehouse against a bare net/http
# handler serving the same bytes, in one run on this machine, and prints the
# ratio. Both servers run with GOMAXPROCS=1, so wrk has the other core.
#
#   bash bench/rest-load.sh [seconds per run, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}

if ! command -v wrk >/dev/null 2>&1; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
go build -o "$work/bare" ./bench/bare

wait_up() {
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server at $1 did not come up" >&2
	exit 1
}

gh_addr=127.0.0.1:18080
bare_addr=127.0.0.1:18081
# A limit far above what wrk can send keeps the limiter on the path without
# refusing requests.
GOMAXPROCS=1 "$work/gatehouse" serve --addr "$gh_addr" --data-dir "$work/data" \
	--rest-rate-limit 1000000000 --log-format json >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
GOMAXPROCS=1 "$work/bare" --addr "$bare_addr" &
pids+=($!)
wait_up "http://$gh_addr/healthz"
wait_up "http://$bare_addr/abilities"

key=$("$work/gatehouse" keys create --data-dir "$work/data" --account default --description "load test")
auth="Authorization: Token token=$key"
got=$(curl -fsS -H "$auth" "http://$gh_addr/abilities")
want=$(curl -fsS "http://$bare_addr/abilities")
if [ "$got" != "$want" ]; then
	echo "the two servers answer differently: $got vs $want" >&2
	exit 1
fi

rps() { awk '/Requests\/sec/ {print $2}'; }
run() { wrk -t1 -c"$connections" -d"${duration}s" "$@"; }

# Warm both, then alternate so that noise falls on both alike.
run -d2s -H "$auth" "http://$gh_addr/abilities" >/dev/null
run -d2s "http://$bare_addr/abilities" >/dev/null
bare1=$(run "http://$bare_addr/abilities" | rps)
gh1=$(run -H "$auth" "http://$gh_addr/abilities" | rps)
bare2=$(run "http://$bare_addr/abilities" | rps)
gh2=$(run -H "$auth" "http://$gh_addr/abilities" | rps)

awk -v b1="$bare1" -v b2="$bare2" -v g1="$gh1" -v g2="$gh2" 'BEGIN {
	b = (b1 + b2) / 2; g = (g1 + g2) / 2
	printf "bare net/http GET /abilities:          %8.0f req/s (%.0f, %.0f)\n", b, b1, b2
	printf "Gatehouse authenticated GET /abilities: %8.0f req/s (%.0f, %.0f)\n", g, g1, g2
	printf "ratio Gatehouse / bare: %.2f (goal: at least 0.70)\n", g / b
}'
