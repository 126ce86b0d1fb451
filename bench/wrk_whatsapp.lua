-- Cycles through pre-signed WhatsApp deliveries (one per line: "signature<TAB>body"),
-- each of wrk's threads from its own share of the list: no message id is sent twice
-- while the list lasts (bench_whatsapp.py writes more than a run sends).
local events = {}
local counter = 0
local threads = 0

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    events[#events + 1] = { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) }
  end
  counter = (thread_no or 0) * math.floor(#events / (tonumber(args[2]) or 2))
end

function request()
  counter = counter + 1
  local e = events[(counter % #events) + 1]
  return wrk.format("POST", nil, { ["X-Hub-Signature-256"] = e[1], ["Content-Type"] = "application/json" }, e[2])
end
