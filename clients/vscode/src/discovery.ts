// Finding the `smallcode-ls` executable (no vscode import: unit-tested).

import * as path from 'node:path';

export const INSTALL_HINT =
  'Install it with `pip install smallcode-ls` (or `pipx install smallcode-ls`), ' +
  'or set `smallcode.server.path` to the executable.';

export interface DiscoveryInput {
  /** `smallcode.server.path` as resolved for the current trust (empty: not set). */
  configuredPath: string;
  trusted: boolean;
  workspaceFolders: string[];
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  isExecutable: (file: string) => boolean;
  homeDir: string;
}

export type Discovery =
  | { found: true; command: string; source: 'setting' | 'workspace' | 'virtualenv' | 'PATH' }
  | { found: false; message: string };

const VENV_NAMES = ['.venv', 'venv', 'env'];

function executableNames(platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? ['smallcode-ls.exe', 'smallcode-ls.cmd'] : ['smallcode-ls'];
}

function binDir(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'Scripts' : 'bin';
}

function inVenv(venv: string, input: DiscoveryInput): string | undefined {
  const p = pathApi(input.platform);
  return executableNames(input.platform)
    .map((name) => p.join(venv, binDir(input.platform), name))
    .find((candidate) => input.isExecutable(candidate));
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

function expandHome(file: string, home: string): string {
  return file === '~' || file.startsWith('~/') ? home + file.slice(1) : file;
}

/**
 * Where the server comes from, in order: the setting; the workspace's virtual environment
 * (trusted workspaces only: it is code from the repository); the editor's $VIRTUAL_ENV; PATH.
 */
export function findServer(input: DiscoveryInput): Discovery {
  const p = pathApi(input.platform);
  if (input.configuredPath.trim()) {
    let file = expandHome(input.configuredPath.trim(), input.homeDir);
    if (!p.isAbsolute(file) && input.workspaceFolders.length > 0) {
      file = p.join(input.workspaceFolders[0], file);
    }
    if (input.isExecutable(file)) return { found: true, command: file, source: 'setting' };
    return {
      found: false,
      message: `SmallCode: smallcode.server.path is set to "${input.configuredPath}", which is not an executable file. ${INSTALL_HINT}`,
    };
  }
  const skipped: string[] = [];
  for (const folder of input.workspaceFolders) {
    for (const name of VENV_NAMES) {
      const hit = inVenv(p.join(folder, name), input);
      if (hit === undefined) continue;
      if (input.trusted) return { found: true, command: hit, source: 'workspace' };
      skipped.push(hit);
    }
  }
  const virtualEnv = input.env.VIRTUAL_ENV;
  if (virtualEnv) {
    const hit = inVenv(virtualEnv, input);
    if (hit !== undefined) return { found: true, command: hit, source: 'virtualenv' };
  }
  const separator = input.platform === 'win32' ? ';' : ':';
  for (const dir of (input.env.PATH ?? input.env.Path ?? '').split(separator)) {
    if (!dir) continue;
    for (const name of executableNames(input.platform)) {
      const candidate = p.join(dir, name);
      if (input.isExecutable(candidate)) return { found: true, command: candidate, source: 'PATH' };
    }
  }
  const untrustedNote = skipped.length
    ? ` (${skipped.join(', ')} is not used because this workspace is not trusted.)`
    : '';
  return {
    found: false,
    message: `SmallCode: the language server smallcode-ls was not found. ${INSTALL_HINT}${untrustedNote}`,
  };
}
