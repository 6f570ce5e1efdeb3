-- wrk script: posts Alertmanager-shaped Events API v2 triggers, byte for
-- byte what Alertmanager sends (eventsapi/testdata), rotating over GROUPS
-- alert groups (dedup keys), as Alertmanager re-sends the groups that fire.
-- ROUTING_KEY is the integration key; counts answers other than 202.
local key = os.getenv("ROUTING_KEY")
local groups = tonumber(os.getenv("GROUPS") or "1000")
local fixture = os.getenv("FIXTURE") or "eventsapi/testdata/alertmanager-v2-trigger.json"
local requests = {}
local n = 0

function init(args)
  local f = assert(io.open(fixture, "r"))
  local template = f:read("*a")
  f:close()
  template = template:gsub("ROUTING_KEY", key)
  for g = 1, groups do
    local dedup = string.rep(string.format("%08x", g), 8)
    local body = template:gsub("b6a2e0b3f1c94a6e8d7f00112233445566778899aabbccddeeff001122334455", dedup)
    requests[g] = wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
  end
  n = math.random(groups)
end

function request()
  n = n % groups + 1
  return requests[n]
end
