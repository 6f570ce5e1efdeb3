#!/usr/bin/env bash
# Measures the whole server's throughput with rate limits shared through Redis
# against the same server limiting in memory, in one run on this machine, and
# prints the ratio per scenario:
#
#   one key, never limited      GET /abilities with one key, a limit wrk never reaches
#   one key, 960 a minute       the default limit: nearly every answer a 429
#   KEYS keys, 12000 a minute   keys in turn, each leasing 187 requests at a time
#
# The server runs with GOMAXPROCS=1, so wrk (and Redis) have the other core.
# Runs alternate, memory then Redis, three times, so that noise falls on both
# alike.
#
#   bash bench/ratelimit-load.sh [seconds per run, default 10] [connections, default 32] [keys, default 200] [rounds, default 3]
#
# GATEHOUSE_BENCH_REDIS_URL names the Redis (default redis://127.0.0.1:6379/0),
# GATEHOUSE_BENCH_ADDR the server's address (default 127.0.0.1:18190).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-32}
nkeys=${3:-200}
rounds=${4:-3}
redis_url=${GATEHOUSE_BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}

if ! command -v wrk >/dev/null 2>&1; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
pid=
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	fi
}
cleanup() {
	stop
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/gatehouse" ./cmd/gatehouse
addr=${GATEHOUSE_BENCH_ADDR:-127.0.0.1:18190}

# wait_up waits for the server just started, and fails if it stopped (the
# address taken, say) rather than measure another server.
wait_up() {
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		curl -fsS -o /dev/null "http://$addr/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server did not come up:" >&2
	cat "$work/serve.err" >&2
	exit 1
}

# start LIMIT [--redis-url URL]: a server on $addr over $work/data.
start() {
	stop
	if curl -fsS -o /dev/null "http://$addr/healthz" 2>/dev/null; then
		echo "something already answers at $addr; set GATEHOUSE_BENCH_ADDR" >&2
		exit 1
	fi
	GOMAXPROCS=1 "$work/gatehouse" serve --addr "$addr" --data-dir "$work/data" \
		--rest-rate-limit "$1" --log-format json "${@:2}" >"$work/serve.out" 2>"$work/serve.err" &
	pid=$!
	wait_up
}

# The keys: created once, with a server running (it creates the account).
start 960
for i in $(seq "$nkeys"); do
	"$work/gatehouse" keys create --data-dir "$work/data" --account default --description "load test $i"
done >"$work/keys"
stop

# Each connection of wrk takes the keys in turn.
cat >"$work/keys.lua" <<'EOF'
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do
	keys[#keys + 1] = "Token token=" .. line
end
local i = math.random(#keys)
request = function()
	i = i % #keys + 1
	return wrk.format("GET", "/abilities", { ["Authorization"] = keys[i] })
end
EOF
one_key="Authorization: Token token=$(head -1 "$work/keys")"

# run LIMIT WRK-ARGS...: requests per second, and the share of 2xx answers.
run() {
	local limit=$1 out
	shift
	wrk -t1 -c"$connections" -d2s "$@" "http://$addr/abilities" >/dev/null
	out=$(wrk -t1 -c"$connections" -d"${duration}s" "$@" "http://$addr/abilities")
	awk '/^Requests\/sec/ {rps = $2} / requests in / {n = $1} /Non-2xx/ {bad = $NF}
		END {printf "%.0f %.3f\n", rps, (n - bad) / n}' <<<"$out"
}

# scenario NAME LIMIT WRK-ARGS...: memory then Redis, $rounds times; the
# means, each run's figure, and the share of 2xx answers.
scenario() {
	local name=$1 limit=$2 mem=() red=()
	shift 2
	for _ in $(seq "$rounds"); do
		start "$limit"
		mem+=("$(run "$limit" "$@")")
		start "$limit" --redis-url "$redis_url"
		red+=("$(run "$limit" "$@")")
	done
	stop
	printf '%s\n' "${mem[@]}" >"$work/mem"
	printf '%s\n' "${red[@]}" >"$work/red"
	awk -v name="$name" 'FNR == 1 {f++} {rps[f] += $1; ok[f] += $2; runs[f] = runs[f] sep[f] $1; sep[f] = ", "; n[f]++}
		END {
			m = rps[1] / n[1]; r = rps[2] / n[2]
			printf "%-26s memory %6.0f req/s (%s; %3.0f%% 2xx)\n", name, m, runs[1], 100 * ok[1] / n[1]
			printf "%-26s Redis  %6.0f req/s (%s; %3.0f%% 2xx)   Redis/memory %.2f\n", "", r, runs[2], 100 * ok[2] / n[2], r / m
		}' "$work/mem" "$work/red"
}

echo "wrk -t1 -c$connections, ${duration}s per run; server GOMAXPROCS=1; Redis $redis_url"
scenario "one key, never limited" 1000000000 -H "$one_key"
scenario "one key, 960 a minute" 960 -H "$one_key"
export KEYS_FILE="$work/keys"
scenario "$nkeys keys, 12000 a minute" 12000 -s "$work/keys.lua"
echo "goal: Redis/memory at least 0.80"
