-- SmallCode-LS: defines :SmallCode and tracks progress. The language server itself starts from
-- require("smallcode").setup() or vim.lsp.enable("smallcode") (see :help smallcode).
if vim.g.loaded_smallcode then
  return
end
vim.g.loaded_smallcode = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.notify('SmallCode needs Neovim 0.10 or newer', vim.log.levels.WARN)
  return
end

require('smallcode.commands').create()
require('smallcode.progress').setup()
