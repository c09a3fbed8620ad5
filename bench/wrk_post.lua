-- wrk script: POST one JSON body, optionally at a fixed rate and/or for a fixed number of requests,
-- and write the latency percentiles and error counts as JSON. Driven by environment variables:
--   BENCH_BODY   file holding the request body (JSON)          BENCH_AUTH  bearer key ("" = none)
--   BENCH_RATE   total requests/s over all threads (0: closed loop, as fast as the connections go)
--   BENCH_THREADS  the -t given to wrk (needed to split the rate)
--   BENCH_STAGGER_MS  delay each connection's first request by a random 0..N ms, so that a closed
--                     loop against a slow upstream does not move in lockstep bursts
--   BENCH_CONNS    the -c given to wrk (with BENCH_STAGGER_MS)
--   BENCH_SEND_S   stop sending new requests after this many seconds (0: send until -d ends); the
--                  rest of -d is a grace period in which requests already sent may still be answered
--   BENCH_OUT    where done() writes the JSON summary
-- Every thread counts the requests it sent (request()); done() reports their sum as "sent" beside
-- wrk's completed responses, so requests never answered are visible (wrk itself only counts a
-- timeout when a late answer arrives, never a request that gets none).
-- A fixed rate is a per-thread schedule: each request claims the next slot (interval = threads/rate);
-- slots missed because every connection was busy are dropped after 1 s, so the achieved rate falls
-- below the target when the server cannot keep up (reported, never hidden). There is no request
-- limit: a thread that stops early leaves wrk sleeping out -d, so request counts are set by -d.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = read_file(os.getenv("BENCH_BODY"))
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local threads = tonumber(os.getenv("BENCH_THREADS") or "1") or 1

local stagger = tonumber(os.getenv("BENCH_STAGGER_MS") or "0") or 0
local first_left = math.ceil((tonumber(os.getenv("BENCH_CONNS") or "0") or 0) / threads)

local send_s = tonumber(os.getenv("BENCH_SEND_S") or "0") or 0

local interval_us = 0
local next_us = 0
local send_until_us = 0
local prepared = nil
sent = 0 -- global: read by done() through thread:get("sent")

function init(args)
  if rate > 0 then
    interval_us = threads * 1000000 / rate
  end
  next_us = now_us()
  if send_s > 0 then
    send_until_us = next_us + send_s * 1000000
  end
  math.randomseed(next_us % 1000003)
  prepared = wrk.format()
end

function request()
  sent = sent + 1
  return prepared
end

local threads_seen = {}

function setup(thread)
  threads_seen[#threads_seen + 1] = thread
end

if rate > 0 or stagger > 0 or send_s > 0 then
  function delay()
    if send_until_us > 0 and now_us() >= send_until_us then
      return 3600000 -- the send window is over: no new request before wrk stops
    end
    if first_left > 0 and stagger > 0 then
      first_left = first_left - 1 -- one call per connection before its first request
      return math.floor(math.random() * stagger)
    end
    if rate == 0 then
      return 0
    end
    local now = now_us()
    if next_us < now - 1000000 then
      next_us = now -- fell behind by more than a second: drop the missed slots
    end
    next_us = next_us + interval_us
    local wait = (next_us - now) / 1000
    if wait < 0 then
      return 0
    end
    return wait
  end
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  local e = summary.errors
  local total_sent = 0
  for _, t in ipairs(threads_seen) do
    total_sent = total_sent + (tonumber(t:get("sent")) or 0)
  end
  if total_sent > 0 then
    total_sent = total_sent - 1 -- wrk calls request() once in thread 1 to check the request (script_verify_request)
  end
  local parts = {
    string.format('"requests": %d', summary.requests),
    string.format('"sent": %d', total_sent),
    string.format('"duration_us": %d', summary.duration),
    string.format('"bytes": %d', summary.bytes),
    string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}',
      e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"latency_us": {"min": %d, "mean": %.1f, "max": %d, "stdev": %.1f', latency.min,
      latency.mean, latency.max, latency.stdev),
  }
  local pcts = {}
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    pcts[#pcts + 1] = string.format('"p%s": %d', tostring(p), latency:percentile(p))
  end
  local json = "{" .. table.concat(parts, ", ") .. ", " .. table.concat(pcts, ", ") .. "}}\n"
  if out and out ~= "" then
    local f = assert(io.open(out, "w"))
    f:write(json)
    f:close()
  else
    io.write(json)
  end
end
