-- Argo CD health check for dtk.io/ServiceInstance (the conditions in docs/reference.md).
-- Lua 5.1 as Argo CD's gopher-lua runs it, with no standard library beyond the base functions
-- (argocd-cm scripts run without string/math/io unless useOpenLibs is set).
--   Healthy      Ready True and status.observedGeneration == metadata.generation
--   Progressing  no status, generation not observed, Reconciling True, no converge Task yet (NotDeployed)
--   Degraded     Stalled True (its message: what to fix)
--   Suspended    powered off (Ready reason Stopped) or staged (Ready reason Staged)
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
  hs.message = "Waiting for the operator to report the instance's status"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= generation then
  hs.status = "Progressing"
  if observed == nil then
    hs.message = "Waiting for the operator to observe generation " .. generation
  else
    hs.message = "Waiting for the operator to observe generation " .. generation .. " (status is for generation " .. observed .. ")"
  end
  return hs
end

local ready = condition("Ready")
local reconciling = condition("Reconciling")
local stalled = condition("Stalled")

-- A stop cancels the running Task, which also stalls the instance (TaskCancelled): the stop is
-- what the user asked for, so it wins. An invalid spec never reaches here as Stopped or Staged:
-- the operator then gives Ready the problem's reason.
if ready ~= nil and ready.status == "False" and (ready.reason == "Stopped" or ready.reason == "Staged") then
  hs.status = "Suspended"
  hs.message = text(ready, ready.reason)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = text(stalled, "Stalled: " .. (stalled.reason or "no reason given"))
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = text(reconciling, "A task is pending or executing")
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = text(ready, "Waiting for the Ready condition")
return hs
