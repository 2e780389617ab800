--- The plugin's own preview of a server's `workspace/applyEdit`.
---
--- Neovim applies such edits at once and ignores `needsConfirmation`. This handler answers
--- `workspace/applyEdit` only after the user has seen a diff: it yields the RPC coroutine (Neovim
--- runs server requests in one), shows the diff in a floating or split window, and resumes with
--- `{ applied = true }` after "accept", `{ applied = false, failureReason = ... }` after "reject".
--- A stale edit (its document changed after the server computed it, or while the preview was
--- open) is refused with a message and never applied.
local config = require('smallcode.config')
local util = require('smallcode.util')

local M = {}

--- @class smallcode.PreviewFile
--- @field uri string
--- @field before string[]? the text when the edit arrived (nil: the file did not exist)
--- @field after string[]? the text after the edit (nil: the file is deleted)
--- @field note string?

--- @class smallcode.Preview
--- @field id integer
--- @field edit lsp.WorkspaceEdit
--- @field encoding string
--- @field label string
--- @field files smallcode.PreviewFile[]
--- @field lines string[] the diff shown
--- @field buf integer?
--- @field win integer?
--- @field prev_win integer?
--- @field done boolean?
--- @field resume fun(result: lsp.ApplyWorkspaceEditResult)

--- @type smallcode.Preview[]
local queue = {}
--- @type smallcode.Preview?
local current = nil
local next_id = 0

--- The loaded buffer showing `uri`, if any (never creates one).
--- @param uri string
--- @return integer?
local function buf_for_uri(uri)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.uri_from_bufnr(bufnr) == uri then
      return bufnr
    end
  end
end

--- The current lines of a document: its buffer if loaded, else the file, else nil.
--- @param uri string
--- @return string[]?
local function current_lines(uri)
  local bufnr = buf_for_uri(uri)
  if bufnr then
    return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  end
  local path = vim.uri_to_fname(uri)
  if vim.fn.filereadable(path) == 1 then
    return vim.fn.readfile(path)
  end
  return nil
end

--- The operations of an edit, in order (`changes` become unversioned document edits).
--- @param edit lsp.WorkspaceEdit
--- @return table[]
local function operations(edit)
  local ops = {}
  if not util.is_null(edit.documentChanges) then
    for _, change in ipairs(edit.documentChanges) do
      ops[#ops + 1] = change
    end
  elseif not util.is_null(edit.changes) then
    local uris = vim.tbl_keys(edit.changes)
    table.sort(uris)
    for _, uri in ipairs(uris) do
      ops[#ops + 1] = { textDocument = { uri = uri, version = vim.NIL }, edits = edit.changes[uri] }
    end
  end
  return ops
end

--- Why an edit is stale against the buffers' LSP versions, or nil when it is not.
--- @param edit lsp.WorkspaceEdit
--- @return string?
function M.stale_reason(edit)
  for _, op in ipairs(operations(edit)) do
    local document = op.textDocument
    if document and not util.is_null(document.version) then
      local bufnr = buf_for_uri(document.uri)
      local now = bufnr and vim.lsp.util.buf_versions[bufnr]
      if now and now > document.version then
        return ('%s changed after the edit was computed (version %d, the buffer is at %d)'):format(
          util.display_path(document.uri),
          document.version,
          now
        )
      end
    end
  end
end

--- `lines` with LSP text edits applied (in a scratch buffer, so every encoding is handled).
--- @return string[]
local function apply_to_lines(lines, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.bo[scratch].undolevels = -1
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  local ok, err = pcall(vim.lsp.util.apply_text_edits, edits, scratch, encoding)
  local after = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  if not ok then
    error(err, 0)
  end
  return after
end

--- Every file an edit touches, with its text before and after.
--- @return smallcode.PreviewFile[]
local function plan(edit, encoding)
  local files, order = {}, {}
  local function file(uri)
    if not files[uri] then
      local lines = current_lines(uri)
      files[uri] = { uri = uri, before = lines, after = lines and vim.deepcopy(lines) }
      order[#order + 1] = files[uri]
    end
    return files[uri]
  end
  for _, op in ipairs(operations(edit)) do
    if op.kind == 'create' then
      local f = file(op.uri)
      if f.after == nil or (op.options and op.options.overwrite) then
        f.after = {}
      end
      f.note = f.before and 'exists already' or 'new file'
    elseif op.kind == 'delete' then
      local f = file(op.uri)
      f.after, f.note = nil, 'deleted'
    elseif op.kind == 'rename' then
      local from, to = file(op.oldUri), file(op.newUri)
      to.after, to.note = from.after, 'renamed from ' .. util.display_path(op.oldUri)
      from.after, from.note = nil, 'renamed to ' .. util.display_path(op.newUri)
    elseif op.textDocument then
      local f = file(op.textDocument.uri)
      f.after = apply_to_lines(f.after or {}, op.edits or {}, encoding)
    end
  end
  for _, f in ipairs(order) do
    if f.note == 'new file' and f.after and #f.after > 1 and f.after[#f.after] == '' then
      f.after[#f.after] = nil -- see drop_created_blank_line
    end
  end
  return order
end

--- Text inserted into a new, empty buffer keeps the buffer's one empty line after it, so
--- "a\n" becomes the lines { "a", "" } and is written as "a\n\n". Drop that line in the
--- buffers of files the edit created.
--- @param files smallcode.PreviewFile[]
local function drop_created_blank_line(files)
  for _, f in ipairs(files) do
    local bufnr = f.note == 'new file' and buf_for_uri(f.uri)
    if bufnr then
      local count = vim.api.nvim_buf_line_count(bufnr)
      local last = vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1]
      if count > 1 and last == '' then
        vim.api.nvim_buf_set_lines(bufnr, count - 1, count, false, {})
      end
    end
  end
end

--- @param lines string[]?
local function join(lines)
  if lines == nil or (#lines == 1 and lines[1] == '') or #lines == 0 then
    return ''
  end
  return table.concat(lines, '\n') .. '\n'
end

local text_diff = (vim.text and vim.text.diff) or vim.diff

--- The unified diff of the planned files.
--- @param files smallcode.PreviewFile[]
--- @return string[]
local function diff_lines(files)
  local out = {}
  for _, f in ipairs(files) do
    local path = util.display_path(f.uri)
    if f.note then
      out[#out + 1] = ('# %s: %s'):format(path, f.note)
    end
    out[#out + 1] = '--- ' .. (f.before and ('a/' .. path) or '/dev/null')
    out[#out + 1] = '+++ ' .. (f.after and ('b/' .. path) or '/dev/null')
    local hunks = text_diff(join(f.before), join(f.after), { result_type = 'unified', ctxlen = 3 })
    ---@cast hunks string
    for _, line in ipairs(vim.split(hunks, '\n', { plain = true, trimempty = true })) do
      out[#out + 1] = line
    end
  end
  return out
end

--- The label of an edit: the request's, else its change annotation's.
local function label_of(params)
  if params.label and params.label ~= '' then
    return params.label
  end
  local annotations = params.edit and params.edit.changeAnnotations
  if not util.is_null(annotations) then
    for _, annotation in pairs(annotations) do
      if annotation.label then
        return annotation.label
      end
    end
  end
  return 'SmallCode edit'
end

local function close_window(item)
  if item.win and vim.api.nvim_win_is_valid(item.win) then
    pcall(vim.api.nvim_win_close, item.win, true)
  end
  if item.prev_win and vim.api.nvim_win_is_valid(item.prev_win) then
    pcall(vim.api.nvim_set_current_win, item.prev_win)
  end
end

local show_next

--- Close the preview and answer the server.
--- @param item smallcode.Preview
--- @param decide fun(): lsp.ApplyWorkspaceEditResult runs after the window is closed
local function finish(item, decide)
  if item.done then
    return
  end
  item.done = true
  if current == item then
    current = nil
  end
  close_window(item)
  local ok, result = pcall(decide)
  if not ok then
    util.notify('applying the edit failed: ' .. tostring(result), vim.log.levels.ERROR)
    result = { applied = false, failureReason = 'applying the edit failed: ' .. tostring(result) }
  end
  item.resume(result)
  vim.schedule(show_next)
end

--- Why the previewed edit can no longer be applied, or nil.
--- @param item smallcode.Preview
--- @return string?
local function stale_now(item)
  for _, f in ipairs(item.files) do
    if not vim.deep_equal(current_lines(f.uri), f.before) then
      return util.display_path(f.uri) .. ' changed while the preview was open'
    end
  end
  return M.stale_reason(item.edit)
end

--- Apply an edit now (after a last stale check).
--- @return lsp.ApplyWorkspaceEditResult
local function apply_now(item)
  local reason = stale_now(item)
  if reason then
    util.notify(
      ('refused a stale edit (%s): %s; nothing was applied, run the task again'):format(
        item.label,
        reason
      ),
      vim.log.levels.WARN
    )
    return { applied = false, failureReason = 'stale: ' .. reason }
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, item.edit, item.encoding)
  if not ok then
    util.notify('the edit could not be applied: ' .. tostring(err), vim.log.levels.ERROR)
    return { applied = false, failureReason = tostring(err) }
  end
  drop_created_blank_line(item.files)
  return { applied = true }
end

--- Accept the shown (or given) preview: apply the edit unless it is stale.
--- @param item? smallcode.Preview
function M.accept(item)
  item = item or current
  if not item then
    util.notify('no edit is waiting for review', vim.log.levels.WARN)
    return
  end
  finish(item, function()
    return apply_now(item)
  end)
end

--- Reject the shown (or given) preview: nothing is applied.
--- @param item? smallcode.Preview
--- @param reason? string
function M.reject(item, reason)
  item = item or current
  if not item then
    util.notify('no edit is waiting for review', vim.log.levels.WARN)
    return
  end
  finish(item, function()
    return { applied = false, failureReason = reason or 'rejected by the user in the preview' }
  end)
end

local HELP = ' a/<CR>: accept   r/q/<Esc>: reject '

--- @param item smallcode.Preview
local function open(item)
  local buf = vim.api.nvim_create_buf(false, true)
  item.buf = buf
  vim.bo[buf].bufhidden = 'wipe'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, item.lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'diff'
  pcall(vim.api.nvim_buf_set_name, buf, ('smallcode://preview/%d'):format(item.id))
  item.prev_win = vim.api.nvim_get_current_win()
  local width = 20
  for _, line in ipairs(item.lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  local title = ' ' .. item.label .. ' '
  width = math.min(math.max(width + 2, #title + 4, #HELP + 4), vim.o.columns - 4)
  local height = math.max(1, math.min(#item.lines, vim.o.lines - 6))
  if config.options.preview == 'split' then
    vim.cmd(('botright %dsplit'):format(math.min(height, math.floor(vim.o.lines / 2))))
    item.win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(item.win, buf)
    vim.wo[item.win].winbar = (title .. '|' .. HELP):gsub('%%', '%%%%')
  else
    item.win = vim.api.nvim_open_win(buf, true, {
      relative = 'editor',
      width = width,
      height = height,
      row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
      col = math.max(0, math.floor((vim.o.columns - width) / 2)),
      style = 'minimal',
      border = 'rounded',
      title = title,
      title_pos = 'center',
      footer = HELP,
      footer_pos = 'center',
    })
  end
  vim.wo[item.win].wrap = false
  vim.wo[item.win].cursorline = true
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
  for _, lhs in ipairs({ 'a', '<CR>' }) do
    map(lhs, function()
      M.accept(item)
    end, 'SmallCode: accept the edit')
  end
  for _, lhs in ipairs({ 'r', 'q', '<Esc>' }) do
    map(lhs, function()
      M.reject(item)
    end, 'SmallCode: reject the edit')
  end
  vim.api.nvim_create_autocmd('WinClosed', {
    pattern = tostring(item.win),
    once = true,
    callback = function()
      if not item.done then
        vim.schedule(function()
          M.reject(item, 'the preview was closed without accepting the edit')
        end)
      end
    end,
  })
end

show_next = function()
  if current ~= nil or #queue == 0 then
    return
  end
  current = table.remove(queue, 1)
  local ok, err = pcall(open, current)
  if not ok then
    local item = current
    util.notify('cannot show the preview: ' .. tostring(err), vim.log.levels.ERROR)
    finish(item, function()
      return {
        applied = false,
        failureReason = 'the client could not show a preview: ' .. tostring(err),
      }
    end)
  end
end

--- The preview shown now: `{ id, label, lines, buf, win }`, or nil.
function M.current()
  if not current then
    return nil
  end
  return {
    id = current.id,
    label = current.label,
    lines = current.lines,
    buf = current.buf,
    win = current.win,
  }
end

--- How many edits wait behind the one shown.
function M.pending()
  return #queue
end

--- `workspace/applyEdit`: refuse stale edits at once, otherwise preview, then apply or not.
--- @param params lsp.ApplyWorkspaceEditParams
--- @param ctx lsp.HandlerContext
--- @return lsp.ApplyWorkspaceEditResult
function M.apply_edit_handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local edit = params.edit or {}
  local label = label_of(params)
  local reason = M.stale_reason(edit)
  if reason then
    util.notify(
      ('refused a stale edit (%s): %s; nothing was applied, run the task again'):format(
        label,
        reason
      ),
      vim.log.levels.WARN
    )
    return { applied = false, failureReason = 'stale: ' .. reason }
  end
  local co, is_main = coroutine.running()
  local can_wait = co ~= nil and not is_main
  local ok, files = pcall(plan, edit, encoding)
  if not ok then
    util.notify('cannot preview the edit: ' .. tostring(files), vim.log.levels.ERROR)
    return {
      applied = false,
      failureReason = 'the client could not preview the edit: ' .. tostring(files),
    }
  end
  next_id = next_id + 1
  --- @type smallcode.Preview
  local item = {
    id = next_id,
    edit = edit,
    encoding = encoding,
    label = label,
    files = files,
    lines = diff_lines(files),
    resume = function() end,
  }
  if not config.options.preview then
    return apply_now(item)
  end
  if not can_wait then
    -- Not inside Neovim's RPC coroutine (called directly): nowhere to wait for the user.
    return { applied = false, failureReason = 'the client cannot preview this edit' }
  end
  item.resume = function(result)
    vim.schedule(function()
      local resumed, err = coroutine.resume(co, result)
      if not resumed then
        vim.notify(
          'SmallCode: answering workspace/applyEdit failed: ' .. tostring(err),
          vim.log.levels.ERROR
        )
      end
    end)
  end
  queue[#queue + 1] = item
  show_next()
  return coroutine.yield()
end

--- `window/showMessageRequest` through `vim.ui.select` (so pickers such as telescope or
--- fzf-lua show it); answers null when dismissed.
--- @param params lsp.ShowMessageRequestParams
function M.show_message_request_handler(_, params)
  local actions = params.actions or {}
  local co, is_main = coroutine.running()
  if #actions == 0 then
    vim.notify('SmallCode: ' .. params.message, vim.log.levels.INFO)
    return vim.NIL
  end
  if not co or is_main then
    return vim.NIL
  end
  vim.ui.select(actions, {
    prompt = 'SmallCode: ' .. params.message,
    kind = 'smallcode_message',
    format_item = function(action)
      return (action.title:gsub('\r?\n', ' '))
    end,
  }, function(choice)
    vim.schedule(function()
      coroutine.resume(co, choice or vim.NIL)
    end)
  end)
  return coroutine.yield()
end

--- The handlers the SmallCode client uses instead of Neovim's defaults.
function M.handlers()
  return {
    ['workspace/applyEdit'] = M.apply_edit_handler,
    ['window/showMessageRequest'] = M.show_message_request_handler,
  }
end

return M
