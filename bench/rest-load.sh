#!/usr/bin/env bash
# Measures authenticated GET /abilities on Gatehouse against a bare net/http
# handler serving the same bytes, in one run on this machine, and prints the
# ratios. Both servers run with GOMAXPROCS=1, so wrk has the other core.
#
#   bash bench/rest-load.sh [seconds per run, default 10] [connections, default 32] [rounds, default 2]
#
# Three loads, each run alternately with the bare handler so that noise
# falls on both alike:
#   one key       every request with the same key;
#   10 000 keys   each request with the next of 10 000 keys;
#   flood         one key, while another client address sends about 4 000
#                 made-up keys a second (the clients' addresses come from
#                 X-Forwarded-For, the load's source being a trusted proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
rounds=${3:-2}

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
go build -o "$work/keys" ./bench/keys

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
# The database first, then the server: it reads the keys from it.
GOMAXPROCS=1 "$work/gatehouse" migrate --data-dir "$work/data" >/dev/null
# A limit far above what wrk can send keeps the limiter on the path without
# refusing requests.
GOMAXPROCS=1 "$work/gatehouse" serve --addr "$gh_addr" --data-dir "$work/data" \
	--rest-rate-limit 1000000000 --trusted-proxies 127.0.0.1/32 --log-format json >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
GOMAXPROCS=1 "$work/bare" --addr "$bare_addr" &
pids+=($!)
wait_up "http://$gh_addr/healthz"
wait_up "http://$bare_addr/abilities"

"$work/keys" --data-dir "$work/data" --account default --n 10000 >"$work/keys.txt"
key=$(head -1 "$work/keys.txt")
got=$(curl -fsS -H "Authorization: Token token=$key" "http://$gh_addr/abilities")
want=$(curl -fsS "http://$bare_addr/abilities")
if [ "$got" != "$want" ]; then
	echo "the two servers answer differently: $got vs $want" >&2
	exit 1
fi

cat >"$work/one.lua" <<LUA
wrk.headers["Authorization"] = "Token token=$key"
wrk.headers["X-Forwarded-For"] = "10.0.0.1"
LUA
cat >"$work/rotate.lua" <<LUA
local keys = {}
for line in io.lines("$work/keys.txt") do keys[#keys + 1] = line end
local i = math.random(#keys)
request = function()
	i = i % #keys + 1
	return wrk.format("GET", "/abilities", {["Authorization"] = "Token token=" .. keys[i], ["X-Forwarded-For"] = "10.0.0.1"})
end
LUA
# Each of 10 connections sends a made-up key a millisecond or so (about
# the 4 000-6 000 a second of the flood the issue saw), from
# requests made once, so that the flood's client costs little of the core
# the measured client needs.
cat >"$work/flood.lua" <<'LUA'
local requests = {}
-- In init, when wrk knows the Host header to send.
function init(args)
	local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	for i = 1, 4096 do
		local t = {}
		for n = 1, 18 do
			local c = math.random(#chars)
			t[n] = chars:sub(c, c)
		end
		requests[i] = wrk.format("GET", "/abilities", {["Authorization"] = "Token token=a+" .. table.concat(t), ["X-Forwarded-For"] = "10.0.0.2"})
	end
end
local i = 0
request = function()
	i = i % #requests + 1
	return requests[i]
end
delay = function() return 1 end
LUA

rps() { awk '/Requests\/sec/ {print $2}'; }
run() { wrk -t1 -c"$connections" -d"${duration}s" "$@" | rps; }

# Warm both up, the key cache included.
wrk -t1 -c"$connections" -d3s -s "$work/rotate.lua" "http://$gh_addr/abilities" >/dev/null
wrk -t1 -c"$connections" -d2s "http://$bare_addr/abilities" >/dev/null

bare=() one=() rotating=() flooded=() flood_rate=()
for _ in $(seq "$rounds"); do
	bare+=("$(run "http://$bare_addr/abilities")")
	one+=("$(run -s "$work/one.lua" "http://$gh_addr/abilities")")
	rotating+=("$(run -s "$work/rotate.lua" "http://$gh_addr/abilities")")
	wrk -t1 -c10 -d"$((duration + 2))s" -s "$work/flood.lua" "http://$gh_addr/abilities" >"$work/flood.out" &
	flood=$!
	sleep 1
	flooded+=("$(run -s "$work/one.lua" "http://$gh_addr/abilities")")
	wait "$flood"
	flood_rate+=("$(rps <"$work/flood.out")")
done

mean() { printf '%s\n' "$@" | awk '{s += $1; n++} END {printf "%.0f", s / n}'; }
b=$(mean "${bare[@]}") o=$(mean "${one[@]}") r=$(mean "${rotating[@]}") f=$(mean "${flooded[@]}") fr=$(mean "${flood_rate[@]}")
awk -v b="$b" -v o="$o" -v r="$r" -v f="$f" -v fr="$fr" -v runs="$rounds" 'BEGIN {
	printf "bare net/http GET /abilities:                  %8.0f req/s\n", b
	printf "Gatehouse, one key:                            %8.0f req/s   ratio %.2f (goal 0.85)\n", o, o / b
	printf "Gatehouse, 10 000 keys in turn:                %8.0f req/s   ratio %.2f (goal 0.85)\n", r, r / b
	printf "Gatehouse, one key, with a flood of %5.0f/s:   %8.0f req/s   %.2f of without (goal 0.90)\n", fr, f, f / o
	printf "(means of %d alternated runs)\n", runs
}'
for status in 401 429; do
	grep '"client":"10.0.0.2"' "$work/serve.err" | grep -c "\"status\":$status" | awk -v s="$status" '{print "flood requests answered " s ":", $1}' || true
done
