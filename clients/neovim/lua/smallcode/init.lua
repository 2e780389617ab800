--- SmallCode-LS for Neovim: `require("smallcode").setup(opts)` and the functions behind
--- `:SmallCode`. See `:help smallcode`.
local config = require('smallcode.config')
local tasks = require('smallcode.tasks')
local util = require('smallcode.util')

local M = {}

local ERROR, WARN = vim.log.levels.ERROR, vim.log.levels.WARN

--- Configure the `smallcode` language server, start it for the configured filetypes
--- (unless `autostart = false`), and define `:SmallCode`.
--- @param opts? smallcode.Options
function M.setup(opts)
  if vim.fn.has('nvim-0.10') == 0 then
    vim.notify('SmallCode needs Neovim 0.10 or newer', WARN)
    return
  end
  config.set(opts)
  require('smallcode.commands').create()
  require('smallcode.progress').setup()
  local lsp_config = config.lsp_config()
  if type(vim.lsp.config) == 'table' then -- 0.11+: vim.lsp.config / vim.lsp.enable
    vim.lsp.config(util.name, lsp_config)
    if config.options.autostart then
      vim.lsp.enable(util.name)
    end
    return
  end
  -- 0.10: start the client from a FileType autocommand.
  local group = vim.api.nvim_create_augroup('smallcode.start', { clear = true })
  if not config.options.autostart then
    return
  end
  local function start(bufnr)
    if vim.bo[bufnr].buftype ~= '' then
      return
    end
    local root = vim.fs.root(bufnr, lsp_config.root_markers)
    local start_config = vim.tbl_extend('force', lsp_config, { name = util.name, root_dir = root })
    start_config.filetypes, start_config.root_markers = nil, nil
    vim.lsp.start(start_config, { bufnr = bufnr })
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = lsp_config.filetypes,
    callback = function(ev)
      start(ev.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if
      vim.api.nvim_buf_is_loaded(bufnr)
      and vim.tbl_contains(lsp_config.filetypes, vim.bo[bufnr].filetype)
    then
      start(bufnr)
    end
  end
end

--- What the statusline can show: the running task's step, or "" when idle.
--- Example: `vim.o.statusline = "%f %= %{v:lua.require'smallcode'.statusline()}"`
--- @return string
function M.statusline()
  return require('smallcode.progress').statusline()
end

--- A zero-width range at the start of a line (0-based).
local function line_range(row)
  return { start = { line = row, character = 0 }, ['end'] = { line = row, character = 0 } }
end

--- Ask the server for its code actions on `range` and keep those running `command`.
--- @param callback fun(actions: {title: string, command: lsp.Command}[])
local function actions_for(client, bufnr, range, diagnostics, command, callback)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = { diagnostics = diagnostics or {}, triggerKind = 1 },
  }
  util.request(client, 'textDocument/codeAction', params, function(err, result)
    if err then
      util.notify('code actions failed: ' .. (err.message or vim.inspect(err)), ERROR)
      return
    end
    local found = {}
    for _, action in ipairs(result or {}) do
      local cmd = type(action.command) == 'table' and action.command or action
      if cmd.command == command then
        found[#found + 1] = { title = action.title, command = cmd }
      end
    end
    callback(found)
  end, bufnr)
end

--- Run one of `actions` (asking which when there are several).
local function run_one(client, bufnr, actions)
  if #actions == 1 then
    tasks.run(client, actions[1].command, bufnr)
    return
  end
  vim.ui.select(actions, {
    prompt = 'SmallCode: ',
    kind = 'smallcode_action',
    format_item = function(action)
      return action.title
    end,
  }, function(choice)
    if choice then
      tasks.run(client, choice.command, bufnr)
    end
  end)
end

local function cursor_row()
  return vim.api.nvim_win_get_cursor(0)[1] - 1
end

--- Implement the TODO at the cursor, else the next one below it, else the first in the buffer.
function M.implement()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.require_client(bufnr)
  if not client then
    return
  end
  local row = cursor_row()
  local last = vim.api.nvim_buf_line_count(bufnr) - 1
  local ranges = {
    line_range(row),
    { start = { line = row, character = 0 }, ['end'] = { line = last, character = 0 } },
    { start = { line = 0, character = 0 }, ['end'] = { line = last, character = 0 } },
  }
  local function try(i)
    if i > #ranges then
      util.notify('no TODO to implement here', WARN)
      return
    end
    actions_for(client, bufnr, ranges[i], {}, 'smallcode.implementTodo', function(actions)
      if #actions == 0 then
        try(i + 1)
      else
        tasks.run(client, actions[1].command, bufnr)
      end
    end)
  end
  try(1)
end

--- A Neovim diagnostic as an LSP diagnostic (the original one when an LSP server made it).
local function to_lsp_diagnostic(d)
  local lsp = vim.tbl_get(d, 'user_data', 'lsp')
  if lsp then
    return lsp
  end
  return {
    range = {
      start = { line = d.lnum, character = d.col },
      ['end'] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
    },
    message = d.message,
    severity = d.severity,
    source = d.source,
    code = d.code,
  }
end

--- Fix the diagnostics on the cursor's line (or the problem described by `message`).
--- @param message? string
function M.fix(message)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.require_client(bufnr)
  if not client then
    return
  end
  local row = cursor_row()
  local diagnostics = {}
  if message and vim.trim(message) ~= '' then
    local width = #vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
    diagnostics[1] = {
      range = {
        start = { line = row, character = 0 },
        ['end'] = {
          line = row,
          character = vim.lsp.util.character_offset(bufnr, row, width, client.offset_encoding),
        },
      },
      message = message,
      source = 'user',
    }
  else
    for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = row })) do
      diagnostics[#diagnostics + 1] = to_lsp_diagnostic(d)
    end
  end
  if #diagnostics == 0 then
    util.notify('no diagnostic on this line (or say what to fix: :SmallCode fix {problem})', WARN)
    return
  end
  actions_for(
    client,
    bufnr,
    diagnostics[1].range,
    diagnostics,
    'smallcode.fixDiagnostic',
    function(actions)
      if #actions == 0 then
        util.notify('the server offered no fix here', WARN)
      else
        run_one(client, bufnr, actions)
      end
    end
  )
end

--- Write tests for the function or class at the cursor.
function M.tests()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.require_client(bufnr)
  if not client then
    return
  end
  actions_for(client, bufnr, line_range(cursor_row()), {}, 'smallcode.writeTests', function(actions)
    if #actions == 0 then
      util.notify('nothing to write tests for here (put the cursor in a function or class)', WARN)
    else
      run_one(client, bufnr, actions)
    end
  end)
end

--- Edit lines `line1..line2` (1-based; default: the cursor's line) as `instruction` says
--- (asked for when empty).
--- @param instruction? string
--- @param line1? integer
--- @param line2? integer
function M.edit(instruction, line1, line2)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.require_client(bufnr)
  if not client then
    return
  end
  line1 = line1 or (cursor_row() + 1)
  line2 = line2 or line1
  local last_line = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  local range = {
    start = { line = line1 - 1, character = 0 },
    ['end'] = {
      line = line2 - 1,
      character = vim.lsp.util.character_offset(
        bufnr,
        line2 - 1,
        #last_line,
        client.offset_encoding
      ),
    },
  }
  instruction = instruction or ''
  local function with_instruction(command)
    command = vim.deepcopy(command)
    command.arguments[1].instruction = instruction
    tasks.run(client, command, bufnr)
  end
  actions_for(client, bufnr, range, {}, 'smallcode.runTask', function(actions)
    if #actions > 0 then
      with_instruction(actions[1].command)
      return
    end
    -- An empty line gives no selection: build the command the action would carry.
    with_instruction({
      title = 'SmallCode: edit selection...',
      command = 'smallcode.runTask',
      arguments = {
        {
          uri = vim.uri_from_bufnr(bufnr),
          version = vim.lsp.util.buf_versions[bufnr],
          line = line1 - 1,
          instruction = '',
        },
      },
    })
  end)
end

--- Show what the model would see at the cursor (optionally within `budget` tokens).
--- @param budget? integer
function M.context(budget)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.require_client(bufnr)
  if not client then
    return
  end
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  local args = { uri = vim.uri_from_bufnr(bufnr), position = position }
  if budget then
    args.budgetTokens = budget
  end
  util.execute(client, 'smallcode.showContext', { args }, function(err, result)
    if err then
      util.notify('context: ' .. (err.message or vim.inspect(err)), ERROR)
      return
    end
    local lines = {
      ('# SmallCode context: %d of %d tokens'):format(result.used or 0, result.budget or 0),
      '',
    }
    for _, section in ipairs(result.sections or {}) do
      lines[#lines + 1] = ('- %s: %s tokens'):format(section.name, tostring(section.tokens))
    end
    if result.dropped and #result.dropped > 0 then
      lines[#lines + 1] = '- dropped: ' .. table.concat(result.dropped, ', ')
    end
    lines[#lines + 1] = ''
    vim.list_extend(lines, vim.split(result.text or '', '\n', { plain = true }))
    vim.cmd('botright new')
    local buf = vim.api.nvim_get_current_buf()
    vim.bo[buf].buftype, vim.bo[buf].bufhidden, vim.bo[buf].swapfile = 'nofile', 'wipe', false
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = 'markdown'
    pcall(vim.api.nvim_buf_set_name, buf, 'smallcode://context')
    M.last_context = result
  end, bufnr)
end

--- Cancel every running task (their edits are not sent).
function M.cancel()
  local client = util.require_client()
  if not client then
    return
  end
  util.execute(client, 'smallcode.cancelTask', {}, function(err, result)
    if err then
      util.notify('cancel: ' .. (err.message or vim.inspect(err)), ERROR)
    else
      util.notify(('cancelled %d task(s)'):format(result and result.cancelled or 0))
    end
  end)
end

--- The lines `:SmallCode status` shows for a `smallcode.status` result.
function M.format_status(status)
  local model = status.model or {}
  local index = status.index or {}
  local lines = {
    ('SmallCode-LS %s, root %s'):format(status.version or '?', status.root or '(none)'),
    ('model: %s %s (%s)%s, state %s%s'):format(
      model.source or '?',
      model.model or '?',
      model.kind or '?',
      util.is_null(model.base_url) and '' or (' at ' .. model.base_url),
      model.state or '?',
      (model.message or '') ~= '' and (': ' .. model.message) or ''
    ),
    ('index: %s, %d files, %d symbols; %d open document(s)'):format(
      index.ready and 'ready' or 'building',
      index.files or 0,
      index.symbols or 0,
      status.openDocuments or 0
    ),
  }
  if status.trusted ~= nil then
    lines[#lines + 1] = ('workspace %s (%s)'):format(
      status.trusted and 'trusted' or 'not trusted: :SmallCode trust',
      tostring(status.trustSource)
    )
  end
  local running = tasks.count()
  if running > 0 then
    lines[#lines + 1] = ('%d task(s) running'):format(running)
  end
  return lines
end

--- Show which model is in use and where, and the code graph's state.
function M.status()
  local client = util.require_client()
  if not client then
    return
  end
  util.execute(client, 'smallcode.status', {}, function(err, result)
    if err then
      util.notify('status: ' .. (err.message or vim.inspect(err)), ERROR)
      return
    end
    M.last_status = result
    util.notify(table.concat(M.format_status(result), '\n'))
  end)
end

--- Trust the workspace (`smallcode.trustWorkspace`): workspace-level settings then apply, and
--- validation commands may run after confirmation. `persist = false` trusts it for this session
--- only; otherwise the server remembers it in the user's trust store.
--- @param persist? boolean
function M.trust(persist)
  local client = util.require_client()
  if not client then
    return
  end
  local name = 'smallcode.trustWorkspace'
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  local commands = type(provider) == 'table' and provider.commands or {}
  if not vim.tbl_contains(commands, name) then
    util.notify(('this server has no %s command (an older SmallCode-LS?)'):format(name), WARN)
    return
  end
  util.execute(client, name, { { persist = persist ~= false } }, function(err, result)
    if err then
      util.notify('trust: ' .. (err.message or vim.inspect(err)), ERROR)
      return
    end
    M.last_trust = result
    if type(result) == 'table' and result.trusted then
      util.notify(
        ('workspace trusted%s (%s)'):format(
          persist == false and ' for this session' or '',
          tostring(result.trustSource)
        )
      )
    else
      util.notify('the workspace is still not trusted: ' .. vim.inspect(result), WARN)
    end
  end)
end

--- Accept the edit shown in the preview.
function M.accept()
  require('smallcode.preview').accept()
end

--- Reject the edit shown in the preview.
function M.reject()
  require('smallcode.preview').reject()
end

return M
