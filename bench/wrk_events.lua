-- Cycles through pre-signed Stripe events (one per line: "signature<TAB>body").
local events = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    events[#events + 1] = { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) }
  end
  counter = tonumber(args[2]) or 0
end

function request()
  counter = counter + 1
  local e = events[(counter % #events) + 1]
  return wrk.format("POST", nil, { ["Stripe-Signature"] = e[1], ["Content-Type"] = "application/json" }, e[2])
end
