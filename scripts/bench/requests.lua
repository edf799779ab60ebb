-- wrk script for scripts/bench-worker.sh: sends one kind of request over and
-- over, and in the warm-up checks every answer.
--
--   wrk ... -s requests.lua URL -- KIND [CHECK]
--
-- KIND   preflight-allowed | preflight-denied | get-allowed
-- CHECK  cors: each answer must be what a CORS filter with
--              scripts/bench/policy.json sends (whatever its exact bytes);
--        bare: each answer must be the bare Worker's;
--        absent: no check (parsing answers in Lua would slow wrk down).
-- done() prints one line for the shell script:
--   result requests=N duration_us=N socket_errors=N failures=N

local ALLOWED = "https://app.example.com"
local UPSTREAM_BODY = '{"items":[]}\n'

local kinds = {
  ["preflight-allowed"] = {
    method = "OPTIONS",
    headers = {
      ["Origin"] = ALLOWED,
      ["Access-Control-Request-Method"] = "PUT",
      ["Access-Control-Request-Headers"] = "content-type,x-csrf-token",
    },
  },
  ["preflight-denied"] = {
    method = "OPTIONS",
    headers = {
      ["Origin"] = "https://evil.example.net",
      ["Access-Control-Request-Method"] = "PUT",
    },
  },
  ["get-allowed"] = {
    method = "GET",
    headers = {
      ["Origin"] = ALLOWED,
      ["Accept"] = "application/json",
    },
  },
}

-- Whether a comma-separated header value lists `token` (case-insensitively).
local function lists(value, token)
  for item in (value or ""):gmatch("[^,]+") do
    if item:match("^%s*(.-)%s*$"):lower() == token:lower() then
      return true
    end
  end
  return false
end

-- Each check returns nil for a right answer, or what is wrong with it.
local checks = {
  cors = {
    ["preflight-allowed"] = function(status, h)
      if status ~= 204 then return "status " .. status end
      if h["access-control-allow-origin"] ~= ALLOWED then return "no allow-origin" end
      if h["access-control-allow-credentials"] ~= "true" then return "no allow-credentials" end
      if not lists(h["access-control-allow-methods"], "PUT") then return "PUT not allowed" end
      for _, name in ipairs({ "content-type", "x-csrf-token" }) do
        if not lists(h["access-control-allow-headers"], name) then return name .. " not allowed" end
      end
      if h["access-control-max-age"] ~= "3600" then return "no max-age 3600" end
      if not lists(h["vary"], "Origin") then return "no Vary: Origin" end
    end,
    ["preflight-denied"] = function(status, h)
      if h["access-control-allow-origin"] then return "allow-origin on a denial" end
    end,
    ["get-allowed"] = function(status, h, body)
      if status ~= 200 or body ~= UPSTREAM_BODY then return "not the upstream's answer" end
      if h["access-control-allow-origin"] ~= ALLOWED then return "no allow-origin" end
      if h["access-control-allow-credentials"] ~= "true" then return "no allow-credentials" end
      if not lists(h["access-control-expose-headers"], "X-RateLimit-Remaining") then
        return "X-RateLimit-Remaining not exposed"
      end
      if not (lists(h["vary"], "Origin") and lists(h["vary"], "Accept-Encoding")) then
        return "Vary is not the upstream's plus Origin"
      end
    end,
  },
  bare = {
    ["preflight-allowed"] = function(status) if status ~= 204 then return "status " .. status end end,
    ["preflight-denied"] = function(status) if status ~= 204 then return "status " .. status end end,
    ["get-allowed"] = function(status, h, body)
      if status ~= 200 or body ~= UPSTREAM_BODY then return "not the upstream's answer" end
    end,
  },
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local kind = kinds[args[1]] or error("unknown kind " .. tostring(args[1]))
  wrk.method = kind.method
  for name, value in pairs(kind.headers) do
    wrk.headers[name] = value
  end
  failures = 0
  local check = args[2] and (checks[args[2]] or error("unknown check " .. args[2]))[args[1]]
  if not check then
    response = nil
    return
  end
  response = function(status, headers, body)
    local lower = {}
    for name, value in pairs(headers) do
      lower[name:lower()] = value
    end
    local wrong = check(status, lower, body)
    if wrong then
      if failures == 0 then
        io.stderr:write(("%s: %s\n"):format(args[1], wrong))
      end
      failures = failures + 1
    end
  end
end

function done(summary)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failures")
  end
  local e = summary.errors
  io.write(("result requests=%d duration_us=%d socket_errors=%d failures=%d\n"):format(
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, failures))
end
