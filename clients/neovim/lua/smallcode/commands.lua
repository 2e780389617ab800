--- `:SmallCode {subcommand} [args]`.
local M = {}

--- @type table<string, {run: fun(args: string, opts: table), help: string}>
M.subcommands = {
  implement = {
    help = 'implement the TODO at (or after) the cursor',
    run = function()
      require('smallcode').implement()
    end,
  },
  fix = {
    help = 'fix the diagnostic on the cursor line (or the problem given)',
    run = function(args)
      require('smallcode').fix(args)
    end,
  },
  tests = {
    help = 'write tests for the function or class at the cursor',
    run = function()
      require('smallcode').tests()
    end,
  },
  edit = {
    help = 'edit the line or range as {instruction} says',
    run = function(args, opts)
      local line1, line2
      if opts.range > 0 then
        line1, line2 = opts.line1, opts.line2
      end
      require('smallcode').edit(args, line1, line2)
    end,
  },
  context = {
    help = 'show what the model would see at the cursor ([budget] tokens)',
    run = function(args)
      local budget = tonumber(args)
      if args ~= '' and not budget then
        require('smallcode.util').notify(
          'context takes a token budget (a number), got ' .. args,
          vim.log.levels.WARN
        )
        return
      end
      require('smallcode').context(budget)
    end,
  },
  cancel = {
    help = 'cancel the running tasks',
    run = function()
      require('smallcode').cancel()
    end,
  },
  status = {
    help = 'which model is in use and where; the code graph',
    run = function()
      require('smallcode').status()
    end,
  },
  trust = {
    help = 'trust this workspace (remembered; "session": for this session only)',
    run = function(args)
      if args ~= '' and args ~= 'session' then
        require('smallcode.util').notify(
          'trust takes no argument or "session", got ' .. args,
          vim.log.levels.WARN
        )
        return
      end
      require('smallcode').trust(args ~= 'session')
    end,
  },
  accept = {
    help = 'accept the edit in the preview',
    run = function()
      require('smallcode').accept()
    end,
  },
  reject = {
    help = 'reject the edit in the preview',
    run = function()
      require('smallcode').reject()
    end,
  },
}

--- @param opts vim.api.keyset.create_user_command.command_args
function M.run(opts)
  local name, rest = opts.args:match('^%s*(%S+)%s*(.-)%s*$')
  local sub = name and M.subcommands[name]
  if not sub then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    require('smallcode.util').notify(
      ('unknown subcommand %q; one of: %s'):format(name or '', table.concat(names, ', ')),
      vim.log.levels.ERROR
    )
    return
  end
  sub.run(rest or '', opts)
end

function M.complete(arglead, cmdline)
  if cmdline:match('^%S*%s+%S*$') then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    return vim.tbl_filter(function(name)
      return vim.startswith(name, arglead)
    end, names)
  end
  return {}
end

--- Define `:SmallCode` (idempotent).
function M.create()
  vim.api.nvim_create_user_command('SmallCode', M.run, {
    nargs = '+',
    range = true,
    complete = M.complete,
    desc = 'SmallCode: implement, fix, tests, edit {instruction}, context, cancel, status, trust',
  })
end

return M
