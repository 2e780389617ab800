--- Running the server's task commands and reporting how they ended.
---
--- A task command (`smallcode.implementTodo`, `fixDiagnostic`, `writeTests`, `runTask`) runs
--- the agent on the server, which then sends its edit through `workspace/applyEdit` (previewed by
--- `smallcode.preview`) and answers with a TaskResult: `{ outcome, message, model, turns, ... }`.
--- The same functions serve `:SmallCode ...` and the code-action menu (`vim.lsp.buf.code_action`),
--- through the client's `commands` table.
local util = require('smallcode.util')

local M = {}

M.TITLES = {
  ['smallcode.implementTodo'] = 'implement TODO',
  ['smallcode.fixDiagnostic'] = 'fix diagnostic',
  ['smallcode.writeTests'] = 'write tests',
  ['smallcode.runTask'] = 'edit',
}

--- @class smallcode.Task
--- @field title string
--- @field command string
--- @field bufnr integer
--- @field client_id integer
--- @field request_id integer?
--- @field started number
--- @field seconds number?
--- @field result table? the TaskResult
--- @field err lsp.ResponseError?

--- Tasks sent and not answered yet.
--- @type table<smallcode.Task, true>
M.running = {}
--- Finished tasks, oldest first; `M.last` is the latest.
--- @type smallcode.Task[]
M.history = {}
--- @type smallcode.Task?
M.last = nil

local LEVELS = {
  applied = vim.log.levels.INFO,
  rejected = vim.log.levels.WARN,
  stale = vim.log.levels.WARN,
  failed = vim.log.levels.ERROR,
  cancelled = vim.log.levels.INFO,
  ['no-change'] = vim.log.levels.INFO,
}

--- @param task smallcode.Task
local function report(task)
  if task.err then
    util.notify(
      ('%s: error: %s'):format(task.title, task.err.message or vim.inspect(task.err)),
      vim.log.levels.ERROR
    )
    return
  end
  local result = task.result
  if type(result) ~= 'table' then
    util.notify(('%s: no result'):format(task.title), vim.log.levels.WARN)
    return
  end
  local outcome = result.outcome or '?'
  local message
  if outcome == 'applied' then
    message = ('%s: applied (%s, %d turn(s), %.1f s)'):format(
      task.title,
      result.model ~= '' and result.model or 'model',
      result.turns or 0,
      task.seconds or 0
    )
  else
    message = ('%s: %s: %s'):format(task.title, outcome, result.message or '')
  end
  util.notify(message, LEVELS[outcome] or vim.log.levels.INFO)
end

--- @param task smallcode.Task
local function done(task, err, result)
  M.running[task] = nil
  task.err, task.result = err, result
  task.seconds = (vim.uv.hrtime() - task.started) / 1e9
  M.last = task
  M.history[#M.history + 1] = task
  report(task)
  pcall(vim.api.nvim_exec_autocmds, 'User', {
    pattern = 'SmallCodeTaskDone',
    modeline = false,
    data = { command = task.command, title = task.title, result = result, error = err },
  })
  pcall(vim.cmd.redrawstatus)
end

--- Run a task command (an `lsp.Command` from a SmallCode code action).
--- `smallcode.runTask` without an instruction asks for one first.
--- @param client vim.lsp.Client
--- @param command lsp.Command
--- @param bufnr integer
function M.run(client, command, bufnr)
  local arguments = command.arguments or {}
  local first = arguments[1]
  if command.command == 'smallcode.runTask' and type(first) == 'table' then
    if vim.trim(first.instruction or '') == '' then
      vim.ui.input({ prompt = 'SmallCode instruction: ' }, function(input)
        if input and vim.trim(input) ~= '' then
          local copy = vim.deepcopy(command)
          copy.arguments[1].instruction = input
          M.run(client, copy, bufnr)
        end
      end)
      return
    end
  end
  --- @type smallcode.Task
  local task = {
    title = M.TITLES[command.command] or command.title or command.command,
    command = command.command,
    bufnr = bufnr,
    client_id = client.id,
    started = vim.uv.hrtime(),
  }
  M.running[task] = true
  local ok, request_id = util.request(client, 'workspace/executeCommand', {
    command = command.command,
    arguments = arguments,
  }, function(err, result)
    done(task, err, result)
  end, bufnr)
  if not ok then
    M.running[task] = nil
    util.notify(task.title .. ': the server is not running', vim.log.levels.ERROR)
    return
  end
  task.request_id = request_id
  pcall(vim.cmd.redrawstatus)
end

--- How many tasks are waiting for their answer.
function M.count()
  return vim.tbl_count(M.running)
end

--- Client-side handlers for the task commands: the code-action menu runs them through here, so
--- the outcome is reported and an edit-selection action asks for its instruction.
--- @return table<string, fun(command: lsp.Command, ctx: table)>
function M.client_commands()
  local commands = {}
  for name in pairs(M.TITLES) do
    commands[name] = function(command, ctx)
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      if client then
        M.run(client, command, ctx.bufnr or vim.api.nvim_get_current_buf())
      end
    end
  end
  return commands
end

return M
