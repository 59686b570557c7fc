-- Argo CD health check for dtk.io/Task (the conditions in docs/reference.md).
-- Lua 5.1 as Argo CD's gopher-lua runs it, with no standard library beyond the base functions.
--   Healthy      state succeeded
--   Progressing  no status, pending, executing
--   Degraded     failed (the failure's message, with the step and node it names), cancelled
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

local state = nil
if obj.status ~= nil then
  state = obj.status.state
end

if state == nil or state == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the task"
  return hs
end

local succeeded = condition("Succeeded")

if state == "succeeded" then
  hs.status = "Healthy"
  hs.message = text(succeeded, "Task succeeded")
  return hs
end

-- As the operator words it on the instance: "step 3.1 on web: <message>"; a Task that failed as
-- a whole (invalid input, its own timeout) names no step.
local function failure_text(failure)
  if failure == nil or failure.message == nil or failure.message == "" then
    return nil
  end
  if failure.index == nil or failure.index == "" then
    return failure.message
  end
  local where = "step " .. failure.index
  if failure.node ~= nil and failure.node ~= "" then
    where = where .. " on " .. failure.node
  end
  return where .. ": " .. failure.message
end

if state == "failed" then
  hs.status = "Degraded"
  hs.message = failure_text(obj.status.failure) or text(succeeded, "Task failed")
  return hs
end

if state == "cancelled" then
  hs.status = "Degraded"
  hs.message = text(succeeded, "Task cancelled")
  return hs
end

-- pending and executing (and any state a newer operator may add) are still on their way
hs.status = "Progressing"
local progress = obj.status.progress
local fallback = "Task is " .. state
if progress ~= nil and progress.completed ~= nil and progress.total ~= nil then
  fallback = fallback .. ": " .. progress.completed .. " of " .. progress.total .. " steps done"
end
hs.message = text(condition("Completed"), fallback)
return hs
