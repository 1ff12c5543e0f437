-- Load for the event intake figures (D2, D3), run by wrk:
--   wrk ... -s events.lua URL -- BATCH NAME CUSTOMERS_FILE RUN_ID TOKEN OCCURRED_AT
-- Every request posts BATCH events to /api/v1/events, each with a unique message_id, for customers
-- of the demo base taken in turn from CUSTOMERS_FILE (one external id per line).

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  batch = tonumber(args[1])
  name = args[2]
  customers = {}
  for line in io.lines(args[3]) do
    customers[#customers + 1] = line
  end
  prefix = args[4] .. "-" .. thread_number
  occurred = args[6]
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[5]
end

function request()
  local events = {}
  for i = 1, batch do
    counter = counter + 1
    local customer = customers[(counter * 7919) % #customers + 1]
    events[i] = string.format(
      '{"name":"%s","customer_external_id":"%s","occurred_at":"%s","context":{"n":%d},"message_id":"%s-%d"}',
      name, customer, occurred, counter, prefix, counter)
  end
  return wrk.format(nil, "/api/v1/events", nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
