import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  declaredKeys,
  effectiveValue,
  initOnlyKeys,
  initializationOptions,
  resolveSettings,
  restrictedKeys,
  userLevelKeys,
  withoutKeys,
} from '../src/settings';

const packageJson = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
);

test('a later scope wins: default < user < workspace < folder', () => {
  const layers = { defaultValue: 1, globalValue: 2, workspaceValue: 3, workspaceFolderValue: 4 };
  assert.equal(effectiveValue(layers, false, true).value, 4);
  assert.equal(effectiveValue({ defaultValue: 1, globalValue: 2 }, false, true).value, 2);
  assert.equal(effectiveValue({ defaultValue: 1 }, false, false).value, 1);
});

test('an untrusted workspace cannot set a restricted key, and says so', () => {
  const layers = { defaultValue: '', globalValue: 'http://user', workspaceValue: 'http://repo' };
  assert.deepEqual(effectiveValue(layers, true, false), {
    value: 'http://user',
    ignoredWorkspaceValue: true,
  });
  assert.deepEqual(effectiveValue(layers, true, true), {
    value: 'http://repo',
    ignoredWorkspaceValue: false,
  });
  assert.equal(effectiveValue({ defaultValue: 1, workspaceValue: 5 }, false, false).value, 5);
});

test('the server section is nested, complete, and leaves client-only keys out', () => {
  const keys = declaredKeys(packageJson);
  const values: Record<string, unknown> = { 'model.baseUrl': 'http://127.0.0.1:9/v1', 'model.name': 'm' };
  const { section, ignored } = resolveSettings(
    keys,
    (key) => ({ defaultValue: key === 'server.path' ? '' : 0, globalValue: values[key] }),
    restrictedKeys(packageJson),
    true,
  );
  assert.deepEqual(ignored, []);
  const model = section.model as Record<string, unknown>;
  assert.equal(model.baseUrl, 'http://127.0.0.1:9/v1');
  assert.equal(model.name, 'm');
  assert.equal(model.contextWindow, 0);
  assert.ok(!('server' in section) && !('trace' in section), JSON.stringify(section));
  const sections = new Set(keys.filter((k) => !/^(server|trace)\./.test(k)).map((k) => k.split('.')[0]));
  assert.ok(sections.has('model') && sections.has('index'));
  assert.deepEqual(Object.keys(section).sort(), [...sections].sort());
});

test('untrusted: workspace endpoint and key settings are dropped by name', () => {
  const keys = declaredKeys(packageJson);
  const { section, ignored } = resolveSettings(
    keys,
    (key) => ({ defaultValue: '', workspaceValue: key.endsWith('baseUrl') ? 'http://evil' : undefined }),
    restrictedKeys(packageJson),
    false,
  );
  assert.deepEqual(ignored.sort(), ['smallcode.escalation.baseUrl', 'smallcode.model.baseUrl']);
  assert.equal((section.model as Record<string, unknown>).baseUrl, '');
});

test('package.json restricts endpoint, key and path settings in untrusted workspaces', () => {
  const restricted = restrictedKeys(packageJson);
  for (const key of ['model.baseUrl', 'model.apiKeyEnv', 'escalation.baseUrl', 'server.path']) {
    assert.ok(restricted.has(key), key);
  }
  assert.equal(packageJson.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('a user-level key ignores workspace values even when trusted', () => {
  const layers = { defaultValue: false, globalValue: undefined, workspaceValue: true };
  assert.deepEqual(effectiveValue(layers, true, true, true), { value: false, ignoredWorkspaceValue: true });
  const userLevel = userLevelKeys(packageJson);
  for (const key of userLevel) assert.ok(restrictedKeys(packageJson).has(key), key);
});

test('initializationOptions carry the section and the trust flag', () => {
  assert.deepEqual(initializationOptions({ model: { name: 'x' } }, false), {
    smallcode: { model: { name: 'x' } },
    workspaceTrusted: false,
  });
});

test('init-only keys: user-level always, restricted while untrusted; left out of later layers', () => {
  const restricted = new Set(['model.baseUrl', 'server.path']);
  const userLevel = new Set(['security.allowUnsandboxed']);
  assert.deepEqual([...initOnlyKeys(restricted, userLevel, true)], ['security.allowUnsandboxed']);
  const untrusted = initOnlyKeys(restricted, userLevel, false);
  assert.deepEqual([...untrusted].sort(), ['model.baseUrl', 'security.allowUnsandboxed']);
  const section = { model: { baseUrl: 'u', name: 'n' }, security: { allowUnsandboxed: false } };
  assert.deepEqual(withoutKeys(section, untrusted), { model: { name: 'n' } });
  assert.deepEqual(section.model, { baseUrl: 'u', name: 'n' }, 'the input is not changed');
});
