import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiscoveryInput, findServer } from '../src/discovery';

function input(executables: string[], change: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return {
    configuredPath: '',
    trusted: true,
    workspaceFolders: ['/ws'],
    env: { PATH: '/usr/local/bin:/usr/bin' },
    platform: 'linux',
    homeDir: '/home/me',
    isExecutable: (file) => executables.includes(file),
    ...change,
  };
}

test('the configured path wins, with ~ expanded', () => {
  const found = findServer(input(['/home/me/bin/smallcode-ls', '/usr/bin/smallcode-ls'], { configuredPath: '~/bin/smallcode-ls' }));
  assert.deepEqual(found, { found: true, command: '/home/me/bin/smallcode-ls', source: 'setting' });
});

test('a configured path that is not executable is an error naming it, not a silent fallback', () => {
  const found = findServer(input(['/usr/bin/smallcode-ls'], { configuredPath: '/nope/smallcode-ls' }));
  assert.equal(found.found, false);
  assert.match(!found.found ? found.message : '', /\/nope\/smallcode-ls.*pip install smallcode-ls/);
});

test("a trusted workspace's .venv comes before PATH", () => {
  const found = findServer(input(['/ws/.venv/bin/smallcode-ls', '/usr/bin/smallcode-ls']));
  assert.deepEqual(found, { found: true, command: '/ws/.venv/bin/smallcode-ls', source: 'workspace' });
});

test("an untrusted workspace's venv is never run: PATH is used instead", () => {
  const found = findServer(input(['/ws/.venv/bin/smallcode-ls', '/usr/bin/smallcode-ls'], { trusted: false }));
  assert.deepEqual(found, { found: true, command: '/usr/bin/smallcode-ls', source: 'PATH' });
});

test('untrusted and only in the venv: missing, with the install command and the reason', () => {
  const found = findServer(input(['/ws/.venv/bin/smallcode-ls'], { trusted: false }));
  assert.equal(found.found, false);
  const message = !found.found ? found.message : '';
  assert.match(message, /pip install smallcode-ls/);
  assert.match(message, /\/ws\/\.venv\/bin\/smallcode-ls is not used because this workspace is not trusted/);
});

test('$VIRTUAL_ENV of the editor, then PATH in order', () => {
  assert.deepEqual(
    findServer(input(['/venvs/a/bin/smallcode-ls', '/usr/bin/smallcode-ls'], { env: { VIRTUAL_ENV: '/venvs/a', PATH: '/usr/bin' } })),
    { found: true, command: '/venvs/a/bin/smallcode-ls', source: 'virtualenv' },
  );
  assert.deepEqual(findServer(input(['/usr/local/bin/smallcode-ls', '/usr/bin/smallcode-ls'])), {
    found: true,
    command: '/usr/local/bin/smallcode-ls',
    source: 'PATH',
  });
});

test('Windows: Scripts\\smallcode-ls.exe and ; separated Path', () => {
  const found = findServer(
    input(['C:\\ws\\.venv\\Scripts\\smallcode-ls.exe'], { platform: 'win32', workspaceFolders: ['C:\\ws'], env: { Path: 'C:\\bin' } }),
  );
  assert.deepEqual(found, { found: true, command: 'C:\\ws\\.venv\\Scripts\\smallcode-ls.exe', source: 'workspace' });
});

test('nothing anywhere: the message says how to install', () => {
  const found = findServer(input([]));
  assert.equal(found.found, false);
  assert.match(!found.found ? found.message : '', /not found\. Install it with `pip install smallcode-ls`/);
});
