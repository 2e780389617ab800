-- Installed as a package (the "plain packpath" install): run with
--   nvim --headless --clean --cmd 'set packpath^=DIR' -l install.lua RESULT.json
-- where DIR/pack/smallcode/start/smallcode is this plugin. Writes what Neovim sees as JSON.
local config = vim.lsp.config.smallcode
local result = {
  loaded = vim.g.loaded_smallcode == true,
  command = vim.fn.exists(':SmallCode') == 2,
  health = vim.tbl_contains(vim.fn.getcompletion('', 'checkhealth'), 'smallcode'),
  help = #vim.api.nvim_get_runtime_file('doc/smallcode.txt', false) == 1,
  cmd = config.cmd,
  filetypes = config.filetypes,
  root_markers = config.root_markers,
  init_options = vim.json.encode(config.init_options),
  preview_handler = config.handlers['workspace/applyEdit']
    == require('smallcode.preview').apply_edit_handler,
  message_handler = config.handlers['window/showMessageRequest'] ~= nil,
  commands = vim.tbl_keys(config.commands),
  workspace_edit = config.capabilities.workspace.workspaceEdit,
}
local file = assert(io.open(arg[1], 'w'))
file:write(vim.json.encode(result))
file:close()
