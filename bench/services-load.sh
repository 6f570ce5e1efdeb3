#!/usr/bin/env bash
# Measures, on SQLite, in one run on this machine:
#   1. GET /services?include[]=integrations&limit=100 on an account of 1 000
#      services with an integration each, against a bare net/http handler
#      serving the same bytes;
#   2. POST /services (a new service per request), against a bare handler
#      answering the same 201 body.
# and prints requests/s and the ratios. Both servers run with GOMAXPROCS=1,
# so wrk has the other core.
#
#   bash bench/services-load.sh [seconds per run, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
services=1000

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

# Free ports, so that runs of other scripts on the machine are left alone.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	exit 1
}
gh_addr=127.0.0.1:$(free_port)
bare_get_addr=127.0.0.1:$(free_port)
bare_post_addr=127.0.0.1:$(free_port)
gh="http://$gh_addr"
# A limit far above what wrk can send keeps the limiter on the path without
# refusing requests.
GOMAXPROCS=1 "$work/gatehouse" serve --addr "$gh_addr" --data-dir "$work/data" \
	--rest-rate-limit 1000000000 --log-format json >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
wait_up "$gh/healthz"
kill -0 "${pids[0]}" || { echo "gatehouse serve exited:" >&2; cat "$work/serve.err" >&2; exit 1; }

key=$("$work/gatehouse" keys create --data-dir "$work/data" --account default --description "load test")
auth="Authorization: Token token=$key"
owner=$(curl -fsS -H "$auth" "$gh/users?limit=1" | sed -E 's/^\{"users":\[\{"id":"([A-Z0-9]+)".*/\1/')
policy=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' \
	-d "{\"escalation_policy\":{\"name\":\"Load test\",\"escalation_rules\":[{\"escalation_delay_in_minutes\":30,\"targets\":[{\"id\":\"$owner\",\"type\":\"user_reference\"}]}]}}" \
	"$gh/escalation_policies" | sed -E 's/^\{"escalation_policy":\{"id":"([A-Z0-9]+)".*/\1/')

echo "creating $services services with an integration each…"
create_one() {
	local id
	id=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' \
		-d "{\"service\":{\"name\":\"service $1\",\"escalation_policy\":{\"id\":\"$policy\"},\"auto_resolve_timeout\":14400}}" \
		"$gh/services" | sed -E 's/^\{"service":\{"id":"([A-Z0-9]+)".*/\1/')
	curl -fsS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
		-d '{"integration":{"type":"events_api_v2_inbound_integration","name":"Alertmanager"}}' "$gh/services/$id/integrations"
}
export -f create_one
export auth gh policy
seq "$services" | xargs -P 4 -I{} bash -c 'create_one {}'

list_path='/services?include%5B%5D=integrations&limit=100'
curl -fsS -H "$auth" "$gh$list_path" >"$work/list.json"
grep -q '"more":true' "$work/list.json" || { echo "the list is not a full page of a longer list" >&2; exit 1; }
curl -fsS -H "$auth" -H 'Content-Type: application/json' \
	-d "{\"service\":{\"name\":\"sample\",\"escalation_policy\":{\"id\":\"$policy\"}}}" "$gh/services" >"$work/created.json"

GOMAXPROCS=1 "$work/bare" --addr "$bare_get_addr" --pattern "GET /services" --body-file "$work/list.json" &
pids+=($!)
GOMAXPROCS=1 "$work/bare" --addr "$bare_post_addr" --pattern "POST /services" --body-file "$work/created.json" --status 201 &
pids+=($!)
wait_up "http://$bare_get_addr$list_path"
if ! cmp -s "$work/list.json" <(curl -fsS "http://$bare_get_addr$list_path"); then
	echo "the two servers answer differently" >&2
	exit 1
fi

# Every POST makes a service with a name of its own.
cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token token=$key"
local n, prefix = 0, ""
init = function(args) prefix = args[1] end
request = function()
	n = n + 1
	return wrk.format(nil, nil, nil, '{"service":{"name":"' .. prefix .. ' ' .. n .. '","escalation_policy":{"id":"$policy"}}}')
end
done = function(summary, latency, requests)
	local e = summary.errors
	if e.status + e.connect + e.read + e.write + e.timeout > 0 then
		io.stderr:write(string.format("POST: %d answers not 2xx, socket errors: %d connect, %d read, %d write, %d timeout\n",
			e.status, e.connect, e.read, e.write, e.timeout))
	end
end
EOF

rps() { awk '/Requests\/sec/ {print $2}'; }
run() { wrk -t1 -c"$connections" -d"${duration}s" "$@"; }

# Warm both, then alternate so that noise falls on both alike.
run -d2s -H "$auth" "$gh$list_path" >/dev/null
run -d2s "http://$bare_get_addr$list_path" >/dev/null
bare1=$(run "http://$bare_get_addr$list_path" | rps)
gh1=$(run -H "$auth" "$gh$list_path" | rps)
bare2=$(run "http://$bare_get_addr$list_path" | rps)
gh2=$(run -H "$auth" "$gh$list_path" | rps)

post() { run -s "$work/post.lua" "$1/services" -- "$2"; }
post "http://$bare_post_addr" warm >/dev/null
pbare1=$(post "http://$bare_post_addr" bare1 | rps)
pgh1=$(post "$gh" load1 | rps)
pbare2=$(post "http://$bare_post_addr" bare2 | rps)
pgh2=$(post "$gh" load2 | rps)
total=$(curl -fsS -H "$auth" "$gh/services?total=true&limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/')

awk -v b1="$bare1" -v b2="$bare2" -v g1="$gh1" -v g2="$gh2" -v pb1="$pbare1" -v pb2="$pbare2" -v pg1="$pgh1" -v pg2="$pgh2" \
	-v size="$(wc -c <"$work/list.json")" -v total="$total" 'BEGIN {
	b = (b1 + b2) / 2; g = (g1 + g2) / 2; pb = (pb1 + pb2) / 2; pg = (pg1 + pg2) / 2
	printf "GET /services?include[]=integrations&limit=100 (1000 services, %d bytes):\n", size
	printf "  bare net/http, same bytes: %8.0f req/s (%.0f, %.0f)\n", b, b1, b2
	printf "  Gatehouse on SQLite:       %8.0f req/s (%.0f, %.0f)\n", g, g1, g2
	printf "  ratio Gatehouse / bare: %.3f\n", g / b
	printf "POST /services on SQLite (%d services at the end):\n", total
	printf "  bare net/http, same 201:   %8.0f req/s (%.0f, %.0f)\n", pb, pb1, pb2
	printf "  Gatehouse on SQLite:       %8.0f req/s (%.0f, %.0f)\n", pg, pg1, pg2
	printf "  ratio Gatehouse / bare: %.4f\n", pg / pb
}'
