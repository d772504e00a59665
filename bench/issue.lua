-- wrk script for the issuance benchmark: POST a ticket, rotating over the queues given after `--`
-- (default A,B,C), with the kiosk's bearer token; counts responses by status and prints one JSON
-- line (prefixed WRK_JSON) that bench/run.py parses.
--
--   wrk -t1 -c16 -d10s --timeout 30s -s bench/issue.lua http://127.0.0.1:PORT/api/v1/halls/t1/tickets -- A,B,C

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local token = os.getenv("HALL_BENCH_KIOSK_TOKEN") or "kiosk-t1-token-0123456789"
  local spec = args[1] or "A,B,C"
  requests_ = {}
  for q in string.gmatch(spec, "[^,]+") do
    local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
    table.insert(requests_, wrk.format("POST", nil, headers, '{"queue":"' .. q .. '"}'))
  end
  n_ = 0
  statuses = {}
end

function request()
  n_ = n_ + 1
  return requests_[(n_ % #requests_) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("statuses")) do
      agg[code] = (agg[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(agg) do
    table.insert(parts, string.format('"%d":%d', code, count))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"statuses":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
