--- Options and the `vim.lsp.Config` built from them.
local M = {}

--- @class smallcode.Options
--- @field cmd? string[] How to start the server (default `{ "smallcode-ls", "--stdio" }`).
--- @field filetypes? string[]
--- @field root_markers? string[]
--- @field settings? table The `smallcode` settings section, sent as initializationOptions: the
---   user level (your own config), e.g. `{ model = { baseUrl = "http://127.0.0.1:11434/v1" } }`.
--- @field autostart? boolean Call `vim.lsp.enable("smallcode")` in setup().
--- @field preview? "float"|"split"|false How edits are shown before they are applied.
--- @field progress? "echo"|"notify"|false How task progress is shown (the statusline always works).
--- @field capabilities? table Extra client capabilities, merged over the plugin's.
--- @field on_attach? fun(client: vim.lsp.Client, bufnr: integer)
M.defaults = {
  cmd = nil,
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
  },
  root_markers = { 'pyproject.toml', 'setup.py', 'package.json', 'go.mod', 'Cargo.toml', '.git' },
  settings = {},
  autostart = true,
  preview = 'float',
  progress = 'echo',
  capabilities = nil,
  on_attach = nil,
}

--- @type smallcode.Options
M.options = vim.deepcopy(M.defaults)

--- @param opts? smallcode.Options
function M.set(opts)
  if opts ~= nil and type(opts) ~= 'table' then
    error('smallcode: setup() takes a table of options, got ' .. type(opts))
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  local preview = M.options.preview
  if preview ~= false and preview ~= 'float' and preview ~= 'split' then
    error('smallcode: preview must be "float", "split" or false, got ' .. vim.inspect(preview))
  end
end

--- The command that starts the server.
--- @return string[]
function M.server_cmd()
  if M.options.cmd then
    return M.options.cmd
  end
  return { 'smallcode-ls', '--stdio' }
end

--- The `smallcode` settings section (an empty JSON object when unset, never `[]`).
function M.settings()
  local settings = M.options.settings or {}
  if vim.tbl_isempty(settings) then
    return vim.empty_dict()
  end
  return settings
end

--- The capabilities the plugin declares: Neovim's own, plus what the plugin itself handles.
--- Neovim applies `documentChanges` without declaring it, and ignores change annotations; the
--- plugin's `workspace/applyEdit` handler previews every edit (annotated or not), checks that the
--- buffers did not change meanwhile, then applies it with `vim.lsp.util.apply_workspace_edit`,
--- which stops at the first operation that fails ("abort").
--- @return lsp.ClientCapabilities
function M.capabilities()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.workspace = capabilities.workspace or {}
  capabilities.workspace.applyEdit = true
  capabilities.workspace.workspaceEdit = {
    documentChanges = true,
    resourceOperations = { 'create', 'rename', 'delete' },
    failureHandling = 'abort',
    changeAnnotationSupport = { groupsOnLabel = false },
  }
  capabilities.window = capabilities.window or {}
  capabilities.window.workDoneProgress = true
  capabilities.window.showMessage = { messageActionItem = { additionalPropertiesSupport = true } }
  if M.options.capabilities then
    capabilities = vim.tbl_deep_extend('force', capabilities, M.options.capabilities)
  end
  return capabilities
end

--- The `vim.lsp.Config` for the current options (what `lsp/smallcode.lua` returns).
--- The options' `settings` go in initializationOptions, which the server reads as user-level
--- settings. The config's own `settings` (answered to workspace/configuration) stay unset: the
--- server reads those as workspace-level, which may not name endpoints or keys until the
--- workspace is trusted; set them with vim.lsp.config("smallcode", { settings = ... }) for
--- per-project values.
--- @return vim.lsp.Config
function M.lsp_config()
  return {
    cmd = M.server_cmd(),
    filetypes = M.options.filetypes,
    root_markers = M.options.root_markers,
    init_options = { smallcode = M.settings() },
    capabilities = M.capabilities(),
    handlers = require('smallcode.preview').handlers(),
    commands = require('smallcode.tasks').client_commands(),
    on_attach = M.options.on_attach,
  }
end

return M
