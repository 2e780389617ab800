--- Progress of the SmallCode server (`$/progress`, seen through the `LspProgress` event):
--- kept per token for the statusline, and echoed or notified as configured.
local config = require('smallcode.config')
local util = require('smallcode.util')

local M = {}

--- @class smallcode.ProgressEntry
--- @field title string
--- @field message string?
--- @field percentage integer?
--- @field seq integer
--- @field client_id integer

--- Progress bars open now, by token.
--- @type table<string|integer, smallcode.ProgressEntry>
M.active = {}
--- The last finished bar: `{ title, message }`.
M.last_end = nil

local seq = 0

--- "implement TODO: asking the model (turn 1/3)" for one entry.
--- @param entry smallcode.ProgressEntry
local function text_of(entry)
  local title = (entry.title or ''):gsub('^SmallCode:%s*', '')
  local text = title
  if entry.message and entry.message ~= '' then
    text = text .. ': ' .. entry.message
  end
  if entry.percentage and entry.percentage > 0 then
    text = text .. (' (%d%%)'):format(entry.percentage)
  end
  return text
end

--- For the statusline: the latest open bar, e.g. "SmallCode: implement TODO: asking the model",
--- or "" when the server is idle.
--- @return string
function M.statusline()
  local latest
  for token, entry in pairs(M.active) do
    if not vim.lsp.get_client_by_id(entry.client_id) then
      M.active[token] = nil -- the server stopped without ending its bar
    elseif not latest or entry.seq > latest.seq then
      latest = entry
    end
  end
  if not latest then
    local tasks = require('smallcode.tasks').count()
    return tasks > 0 and ('SmallCode: %d task(s) running'):format(tasks) or ''
  end
  return 'SmallCode: ' .. text_of(latest)
end

--- @param ev {data: {client_id: integer, params: lsp.ProgressParams}}
local function on_progress(ev)
  local data = ev.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= util.name then
    return
  end
  local params = data.params or {}
  local value = params.value
  if type(value) ~= 'table' then
    return
  end
  local token = params.token
  local entry = M.active[token]
  if value.kind == 'begin' then
    seq = seq + 1
    entry = {
      title = value.title or '',
      message = value.message,
      percentage = value.percentage,
      seq = seq,
      client_id = client.id,
    }
    M.active[token] = entry
  elseif value.kind == 'report' and entry then
    entry.message = value.message or entry.message
    entry.percentage = value.percentage or entry.percentage
  elseif value.kind == 'end' then
    entry = entry or { title = 'SmallCode', seq = 0, client_id = client.id }
    M.active[token] = nil
    entry.message, entry.percentage = value.message or entry.message, nil
    M.last_end = { title = entry.title, message = entry.message }
  else
    return
  end
  local mode = config.options.progress
  local text = 'SmallCode: ' .. text_of(entry)
  if mode == 'echo' then
    pcall(vim.api.nvim_echo, { { text } }, false, {})
  elseif mode == 'notify' and value.kind == 'end' then
    vim.notify(text, vim.log.levels.INFO, { title = 'SmallCode' })
  end
  pcall(vim.cmd.redrawstatus)
end

--- Listen to `LspProgress` (idempotent).
function M.setup()
  local group = vim.api.nvim_create_augroup('smallcode.progress', { clear = true })
  vim.api.nvim_create_autocmd('LspProgress', { group = group, callback = on_progress })
end

return M
