-- Load for W1, run by wrk:  wrk ... -s tracking.lua URL -- PATHS_FILE USER_AGENT
-- Every request GETs the next path of PATHS_FILE (open pixels or tracked links, one per line), in turn,
-- with a browser's user agent, so that the hits are people's.

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  counter = 0
  wrk.headers["User-Agent"] = args[2]
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter * 7919) % #paths + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
