-- The `smallcode` server for vim.lsp.config / vim.lsp.enable (Neovim 0.11+):
--   vim.lsp.enable("smallcode")
-- require("smallcode").setup(opts) overrides these defaults with its options.
---@type vim.lsp.Config
return require('smallcode.config').lsp_config()
