--- Small helpers shared by the modules: client lookup, requests that work on 0.10 and 0.11,
--- notifications.
local M = {}

M.name = 'smallcode'
M.has_011 = vim.fn.has('nvim-0.11') == 1

--- @param msg string
--- @param level? integer vim.log.levels.*
function M.notify(msg, level)
  vim.notify('SmallCode: ' .. msg, level or vim.log.levels.INFO, { title = 'SmallCode' })
end

--- The SmallCode client attached to `bufnr` (else any running SmallCode client).
--- @param bufnr? integer
--- @return vim.lsp.Client?
function M.get_client(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

--- The client, or a notification saying why there is none.
--- @param bufnr? integer
--- @return vim.lsp.Client?
function M.require_client(bufnr)
  local client = M.get_client(bufnr)
  if not client then
    M.notify(
      'no SmallCode language server is running for this buffer (see :checkhealth smallcode)',
      vim.log.levels.WARN
    )
  end
  return client
end

--- client:request on 0.11, client.request on 0.10.
--- @return boolean ok, integer? request_id
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- @return {err: lsp.ResponseError?, result: any}? response, string? err
function M.request_sync(client, method, params, timeout_ms, bufnr)
  if M.has_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

--- Run a server command (`workspace/executeCommand`) asynchronously.
--- @param client vim.lsp.Client
--- @param command string
--- @param arguments any[]?
--- @param handler fun(err: lsp.ResponseError?, result: any)
--- @param bufnr? integer
function M.execute(client, command, arguments, handler, bufnr)
  return M.request(client, 'workspace/executeCommand', {
    command = command,
    arguments = arguments or {},
  }, function(err, result)
    handler(err, result)
  end, bufnr)
end

--- Whether `client` is stopped (method style on 0.11).
function M.is_stopped(client)
  if M.has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- @param value any
--- @return boolean
function M.is_null(value)
  return value == nil or value == vim.NIL
end

--- A short, readable path for a URI.
--- @param uri string
--- @return string
function M.display_path(uri)
  local ok, path = pcall(vim.uri_to_fname, uri)
  if not ok then
    return uri
  end
  return vim.fn.fnamemodify(path, ':~:.')
end

return M
