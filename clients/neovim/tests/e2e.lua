-- End-to-end driver: headless Neovim + this plugin + the real smallcode-ls + a scripted model.
--
--   nvim --headless --clean -l clients/neovim/tests/e2e.lua SCENARIO RESULT.json
--
-- Environment: SMALLCODE_TEST_SERVER (the smallcode-ls executable), SMALLCODE_TEST_FILE (a
-- Python file with a TODO in a workspace with a root marker), SMALLCODE_BASE_URL (the scripted
-- OpenAI-compatible server). Scenarios: accept, reject, stale, health. The driver writes what
-- it saw as JSON to RESULT.json (tests/clients/test_neovim.py asserts on it) and exits 0, or 1
-- with `error` set. It never waits without a timeout.
local scenario, result_path = arg[1], arg[2]
assert(scenario and result_path, 'usage: nvim --headless --clean -l e2e.lua SCENARIO RESULT.json')

local plugin_dir =
  vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(arg[0], ':p'))))
vim.opt.runtimepath:prepend(plugin_dir)
vim.cmd.runtime('plugin/smallcode.lua')

local t0 = vim.uv.hrtime()
local result = { scenario = scenario, messages = {}, steps = {} }

local function elapsed_ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end

local function step(name)
  result.steps[#result.steps + 1] = { name = name, ms = elapsed_ms() }
end

-- Keep every notification for the assertions (and for failure messages).
vim.notify = function(msg, level)
  result.messages[#result.messages + 1] =
    { msg = tostring(msg), level = level or vim.log.levels.INFO }
end

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 20) then
    error(('timed out after %d ms waiting for %s'):format(ms, what), 0)
  end
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') .. '\n'
end

local smallcode = require('smallcode')
local preview = require('smallcode.preview')
local tasks = require('smallcode.tasks')
local util = require('smallcode.util')

local client, bufnr

--- Open the file, let the plugin start the server, wait until the code graph is ready.
local function start(opts)
  local server = assert(os.getenv('SMALLCODE_TEST_SERVER'), 'SMALLCODE_TEST_SERVER is not set')
  smallcode.setup(vim.tbl_extend('force', {
    cmd = { server, '--stdio' },
    settings = { model = { baseUrl = os.getenv('SMALLCODE_BASE_URL'), name = 'scripted' } },
  }, opts or {}))
  local file = assert(os.getenv('SMALLCODE_TEST_FILE'), 'SMALLCODE_TEST_FILE is not set')
  vim.cmd.edit(vim.fn.fnameescape(file))
  bufnr = vim.api.nvim_get_current_buf()
  wait(20000, function()
    for _, m in ipairs(result.messages) do
      if m.msg:find('quit with exit code', 1, true) then
        error('the server exited during start-up: ' .. m.msg, 0) -- see lsp.log below
      end
    end
    client = util.get_client(bufnr)
    return client ~= nil and client.initialized and vim.lsp.buf_is_attached(bufnr, client.id)
  end, 'the smallcode client to start and attach (is the server command right?)')
  step('client attached')
  local deadline = vim.uv.now() + 30000
  local status
  repeat
    local response = util.request_sync(client, 'workspace/executeCommand', {
      command = 'smallcode.status',
      arguments = {},
    }, 5000, bufnr)
    status = response and response.result
    if status and status.index and status.index.ready then
      break
    end
    vim.wait(50)
  until vim.uv.now() > deadline
  assert(
    status and status.index.ready,
    'the code graph was not ready within 30 s: ' .. vim.inspect(status)
  )
  step('index ready')
  result.server_info = client.server_info
  result.capabilities = client.capabilities.workspace.workspaceEdit
  result.original = buffer_text(bufnr)
end

local function goto_todo()
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if line:find('TODO', 1, true) then
      vim.api.nvim_win_set_cursor(0, { i, 4 })
      return i
    end
  end
  error('no TODO line in the test file', 0)
end

local function wait_preview(what)
  wait(30000, function()
    return preview.current() ~= nil
  end, 'the preview window (' .. what .. ')')
  local shown = preview.current()
  assert(shown, 'no preview')
  step('preview shown')
  local win_config = vim.api.nvim_win_get_config(shown.win)
  return {
    label = shown.label,
    lines = vim.api.nvim_buf_get_lines(shown.buf, 0, -1, false),
    floating = win_config.relative ~= '',
    focused = vim.api.nvim_get_current_win() == shown.win,
    filetype = vim.bo[shown.buf].filetype,
    winbar = vim.wo[shown.win].winbar,
  }
end

--- Press a key in the preview window, as the user would.
local function press(key)
  local shown = assert(preview.current(), 'no preview to press ' .. key .. ' in')
  vim.api.nvim_set_current_win(shown.win)
  vim.api.nvim_feedkeys(vim.keycode(key), 'mx', false)
end

local function wait_task(count)
  wait(30000, function()
    return #tasks.history >= count
  end, 'the task command to answer')
  step('task answered')
  local task = tasks.history[count]
  return { result = task.result, error = task.err, seconds = task.seconds, title = task.title }
end

local function finish_file_state()
  result.buffer = buffer_text(bufnr)
  result.modified = vim.bo[bufnr].modified
  result.preview_open_after = preview.current() ~= nil
end

local scenarios = {}

-- The "SmallCode: implement TODO" code action through Neovim's own code-action path, then
-- "a" in the preview: the buffer changes; after :write, so does the file.
function scenarios.accept()
  start()
  goto_todo()
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'SmallCode: implement TODO'
    end,
  })
  result.preview = wait_preview('code action')
  result.buffer_while_previewing = buffer_text(bufnr)
  result.statusline_while_previewing = smallcode.statusline()
  press('a')
  result.task = wait_task(1)
  finish_file_state()
  vim.cmd.write()
  result.file = table.concat(vim.fn.readfile(vim.api.nvim_buf_get_name(bufnr)), '\n') .. '\n'
  result.statusline_after = smallcode.statusline()
end

-- :SmallCode implement with the preview in a split, then "r": nothing changes.
function scenarios.reject()
  start({ preview = 'split' })
  goto_todo()
  vim.cmd('SmallCode implement')
  result.preview = wait_preview(':SmallCode implement')
  press('r')
  result.task = wait_task(1)
  finish_file_state()
end

-- A stale edit is refused: (1) one whose version is older than the buffer's, at once and
-- without a preview; (2) one whose buffer changes while its preview is open, on accept.
function scenarios.stale()
  start()
  local uri = vim.uri_from_bufnr(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { '# typed before the edit arrived' })
  local old_version = vim.lsp.util.buf_versions[bufnr] - 1
  local co = coroutine.create(function()
    return preview.apply_edit_handler(nil, {
      label = 'an outdated edit',
      edit = {
        documentChanges = {
          {
            textDocument = { uri = uri, version = old_version },
            edits = {
              {
                range = {
                  start = { line = 0, character = 0 },
                  ['end'] = { line = 0, character = 0 },
                },
                newText = '# x\n',
              },
            },
          },
        },
      },
    }, { client_id = client.id })
  end)
  local resumed, answer = coroutine.resume(co)
  assert(resumed, answer)
  result.arrival = {
    answer = answer,
    finished = coroutine.status(co) == 'dead',
    preview_shown = preview.current() ~= nil,
    buffer = buffer_text(bufnr),
  }
  vim.api.nvim_buf_set_lines(bufnr, -2, -1, false, {}) -- back to the original text
  result.original = buffer_text(bufnr)
  step('arrival check')

  goto_todo()
  vim.cmd('SmallCode implement')
  result.preview = wait_preview(':SmallCode implement')
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { '# typed while the preview was open' })
  result.typed = buffer_text(bufnr)
  press('a')
  result.task = wait_task(1)
  finish_file_state()
end

-- :checkhealth smallcode with the server running, plus :SmallCode status / context / cancel.
function scenarios.health()
  start()
  vim.cmd('checkhealth smallcode')
  result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  step('checkhealth')
  vim.cmd('tabclose')
  vim.api.nvim_set_current_buf(bufnr)
  goto_todo()
  smallcode.status()
  wait(10000, function()
    return smallcode.last_status ~= nil
  end, ':SmallCode status')
  result.status = smallcode.last_status
  vim.cmd('SmallCode context 300')
  wait(10000, function()
    return smallcode.last_context ~= nil
  end, ':SmallCode context')
  result.context_buffer = vim.api.nvim_buf_get_lines(0, 0, 3, false)
  vim.cmd('SmallCode cancel')
  wait(10000, function()
    for _, m in ipairs(result.messages) do
      if m.msg:find('cancelled', 1, true) then
        return true
      end
    end
    return false
  end, ':SmallCode cancel')
  result.completion = vim.fn.getcompletion('SmallCode ', 'cmdline')
end

-- :{range}SmallCode edit {instruction}, then :SmallCode tests (a new file: CreateFile + insert),
-- both accepted in the preview; :wall writes them.
function scenarios.edit_and_tests()
  start()
  vim.cmd('4,7SmallCode edit use math.pi')
  result.edit_preview = wait_preview(':SmallCode edit')
  press('a')
  result.edit_task = wait_task(1)
  result.buffer_after_edit = buffer_text(bufnr)
  vim.api.nvim_win_set_cursor(0, { 4, 4 })
  vim.cmd('SmallCode tests')
  result.tests_preview = wait_preview(':SmallCode tests')
  press('a')
  result.tests_task = wait_task(2)
  vim.cmd('silent wall')
  finish_file_state()
end

-- :SmallCode fix on a line with a diagnostic (from another source, as a linter would set it).
function scenarios.fix()
  start()
  local ns = vim.api.nvim_create_namespace('e2e-linter')
  vim.diagnostic.set(ns, bufnr, {
    {
      lnum = 6,
      col = 4,
      end_lnum = 6,
      end_col = 30,
      message = 'area() always raises NotImplementedError',
      source = 'checker',
      severity = vim.diagnostic.severity.WARN,
    },
  })
  vim.api.nvim_win_set_cursor(0, { 7, 4 })
  vim.cmd('SmallCode fix')
  result.preview = wait_preview(':SmallCode fix')
  press('<CR>')
  result.task = wait_task(1)
  finish_file_state()
end

-- :SmallCode cancel while the model is answering: nothing is previewed or applied.
function scenarios.cancel()
  start()
  goto_todo()
  vim.cmd('SmallCode implement')
  wait(30000, function()
    return smallcode.statusline():find('asking the model', 1, true) ~= nil
  end, 'the task to ask the model')
  result.statusline_while_running = smallcode.statusline()
  vim.cmd('SmallCode cancel')
  result.task = wait_task(1)
  result.preview_shown = preview.current() ~= nil
  finish_file_state()
end

-- :SmallCode trust against the real server, and window/showMessageRequest (how the server asks
-- to run a validation command) answered through vim.ui.select.
function scenarios.trust()
  start()
  local function status()
    local response = util.request_sync(client, 'workspace/executeCommand', {
      command = 'smallcode.status',
      arguments = {},
    }, 5000, bufnr)
    return response and response.result
  end
  result.status_before = status()
  vim.cmd('SmallCode trust')
  wait(10000, function()
    return smallcode.last_trust ~= nil
  end, ':SmallCode trust')
  result.trust = smallcode.last_trust
  result.status_after = status()

  local asked = {}
  vim.ui.select = function(items, opts, on_choice)
    asked[#asked + 1] = { prompt = opts.prompt, items = vim.tbl_map(opts.format_item, items) }
    on_choice(#asked == 1 and items[2] or nil) -- pick the second button, then dismiss
  end
  local function ask()
    local answer
    local co = coroutine.create(function()
      answer = preview.show_message_request_handler(nil, {
        type = 2,
        message = "run validation command 'pytest' in a sandbox?",
        actions = {
          { title = 'Allow for this workspace' },
          { title = 'Allow once' },
          { title = 'Deny' },
        },
      })
    end)
    assert(coroutine.resume(co))
    wait(5000, function()
      return coroutine.status(co) == 'dead'
    end, 'the showMessageRequest answer')
    return answer
  end
  result.answers = { ask(), ask() }
  result.asked = asked
end

local fn = scenarios[scenario]
local ok, err = xpcall(function()
  assert(fn, 'unknown scenario ' .. tostring(scenario))
  fn()
end, debug.traceback)
if not ok then
  result.error = tostring(err)
end
result.total_ms = elapsed_ms()

-- Stop the server (shutdown + exit) before leaving.
for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop()
end
vim.wait(5000, function()
  return #vim.lsp.get_clients() == 0
end, 20)
result.stopped = #vim.lsp.get_clients() == 0

local file = assert(io.open(result_path, 'w'))
file:write(vim.json.encode(result))
file:close()
vim.cmd(ok and 'qall!' or '1cquit!')
