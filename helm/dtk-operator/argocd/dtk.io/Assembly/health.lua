-- Argo CD health check for dtk.io/Assembly (the conditions in docs/reference.md).
-- Lua 5.1 as Argo CD's gopher-lua runs it, with no standard library beyond the base functions.
--   Healthy      Ready True (the Assembly is valid) for the current generation
--   Progressing  no status, generation not observed
--   Degraded     Stalled True (the validation problem)
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to validate the assembly"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= generation then
  hs.status = "Progressing"
  if observed == nil then
    hs.message = "Waiting for the operator to validate generation " .. generation
  else
    hs.message = "Waiting for the operator to validate generation " .. generation .. " (status is for generation " .. observed .. ")"
  end
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled: " .. (stalled.reason or "no reason given"))
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = text(ready, "Waiting for the Ready condition")
return hs
