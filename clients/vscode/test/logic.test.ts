import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editedUris, needsConfirmation, withoutConfirmation } from '../src/edits';
import { RestartPolicy } from '../src/restart';
import { ServerLogParser } from '../src/serverlog';
import { describeOutcome, modelFromStatus, renderStatus } from '../src/status';

test('restarts up to the limit within the window, then gives up; old crashes expire', () => {
  let now = 0;
  const policy = new RestartPolicy(2, 1000, () => now);
  assert.equal(policy.crashed(), true);
  assert.equal(policy.crashed(), true);
  assert.equal(policy.crashed(), false);
  now = 5000;
  assert.equal(policy.crashed(), true);
  assert.equal(new RestartPolicy(0, 1000, () => 0).crashed(), false);
});

test('status bar: model, running task with progress, errors, untrusted', () => {
  assert.equal(renderStatus({ server: 'running', model: 'qwen', trusted: true }).text, '$(sparkle) SmallCode: qwen');
  const busy = renderStatus({
    server: 'running', model: 'qwen', trusted: true,
    task: { title: 'implement-todo', message: 'asking the model', percentage: 40 },
  });
  assert.equal(busy.text, '$(sync~spin) SmallCode: implement-todo 40%');
  assert.match(busy.tooltip, /asking the model/);
  const missing = renderStatus({ server: 'missing', trusted: false, error: 'not found' });
  assert.ok(missing.isError);
  assert.match(missing.tooltip, /not found.*untrusted/);
  assert.ok(renderStatus({ server: 'running', trusted: true, error: 'failed' }).isError);
});

test('model name and task outcomes from server answers', () => {
  assert.equal(modelFromStatus({ model: { model: 'scripted', source: 'endpoint' } }), 'scripted');
  assert.equal(modelFromStatus({ model: { model: '', source: 'embedded' } }), 'embedded model');
  assert.equal(modelFromStatus(undefined), undefined);
  assert.equal(describeOutcome({ outcome: 'applied', message: 'ok' }), undefined);
  assert.deepEqual(describeOutcome({ outcome: 'failed', message: 'no valid edit' }), {
    message: 'SmallCode: failed: no valid edit',
    isError: true,
  });
  assert.equal(describeOutcome({ outcome: 'rejected' })?.isError, false);
});

test('annotated edits: detected, cleared for "Accept All", their documents listed', () => {
  const edit = {
    documentChanges: [
      { textDocument: { uri: 'file:///a.py', version: 3 }, edits: [] },
      { kind: 'create' as const, uri: 'file:///t.py' },
    ],
    changeAnnotations: { s: { label: 'SmallCode: implement TODO', needsConfirmation: true } },
  };
  assert.equal(needsConfirmation(edit), true);
  const cleared = withoutConfirmation(edit);
  assert.equal(needsConfirmation(cleared), false);
  assert.equal(cleared.changeAnnotations?.s.label, 'SmallCode: implement TODO');
  assert.equal(needsConfirmation({ changes: {} }), false);
  assert.deepEqual(editedUris(edit), ['file:///a.py']);
});

test('server log lines keep their level; a traceback stays an error', () => {
  const parser = new ServerLogParser();
  assert.deepEqual(parser.parse('2026-11-25 11:32:19,108 INFO smallcode_ls.lsp: indexed 1 files'), {
    level: 'info',
    message: 'smallcode_ls.lsp: indexed 1 files',
  });
  assert.equal(parser.parse('2026-11-25 11:32:19,108 WARNING x: slow').level, 'warn');
  assert.equal(parser.parse('2026-11-25 11:32:19,108 ERROR x: failed').level, 'error');
  assert.deepEqual(parser.parse('Traceback (most recent call last):'), {
    level: 'error',
    message: 'Traceback (most recent call last):',
  });
});
