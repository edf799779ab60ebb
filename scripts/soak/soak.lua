-- wrk script for scripts/soak.sh: cycles through four requests whose answers
-- are known (an allowed and a denied preflight, an allowed and a rejected
-- GET), checks the CORS header of every answer, counts answers by status, and
-- stops each thread after its share of the requests.
--
--   wrk -t T ... -s soak.lua URL -- REQUESTS_PER_THREAD
--
-- done() prints one line for the shell script:
--   result requests=N s200=N s204=N s403=N other=N wrong=N socket_errors=N

local ALLOWED = "https://app.example.com"

local kinds = {
  { method = "OPTIONS", path = "/api/items", headers = {
      ["Host"] = "api.example.com", ["Origin"] = ALLOWED,
      ["Access-Control-Request-Method"] = "PUT",
      ["Access-Control-Request-Headers"] = "content-type" } },
  { method = "OPTIONS", path = "/api/items", headers = {
      ["Host"] = "api.example.com", ["Origin"] = "https://evil.example.net",
      ["Access-Control-Request-Method"] = "PUT" } },
  { method = "GET", path = "/api/items", headers = {
      ["Host"] = "api.example.com", ["Origin"] = ALLOWED } },
  { method = "GET", path = "/api/items", headers = {
      ["Host"] = "api.example.com", ["Origin"] = "https://evil.example.net" } },
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(args[1]) or error("usage: -- REQUESTS_PER_THREAD")
  requests = {}
  for i, kind in ipairs(kinds) do
    requests[i] = wrk.format(kind.method, kind.path, kind.headers)
  end
  sent, answered, s200, s204, s403, other, wrong = 0, 0, 0, 0, 0, 0, 0
end

function request()
  sent = sent + 1
  return requests[(sent % #requests) + 1]
end

-- 200 and 204 are answers to the allowed origin and must name it; a 403 is
-- a denial and must carry no Access-Control-Allow-Origin. Any other status
-- is an error.
function response(status, headers)
  answered = answered + 1
  local acao = headers["access-control-allow-origin"]
  if status == 200 or status == 204 then
    if status == 200 then s200 = s200 + 1 else s204 = s204 + 1 end
    if acao ~= ALLOWED then wrong = wrong + 1 end
  elseif status == 403 then
    s403 = s403 + 1
    if acao ~= nil then wrong = wrong + 1 end
  else
    other = other + 1
  end
  if answered >= limit then
    wrk.thread:stop()
  end
end

function done(summary)
  local totals = { s200 = 0, s204 = 0, s403 = 0, other = 0, wrong = 0 }
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local e = summary.errors
  io.write(("result requests=%d s200=%d s204=%d s403=%d other=%d wrong=%d socket_errors=%d duration_us=%d\n"):format(
    summary.requests, totals.s200, totals.s204, totals.s403, totals.other, totals.wrong,
    e.connect + e.read + e.write + e.timeout, summary.duration))
end
