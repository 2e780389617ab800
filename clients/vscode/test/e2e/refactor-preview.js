// Drives a real VS Code workbench (code-server) in Chromium: open a file, run the SmallCode code
// action from the Refactor menu, wait for the Refactor Preview, screenshot it, accept the edit.
// Run by tests/clients/test_vscode.py; prints one JSON line per step; exit 0 on success.
//
// env: PLAYWRIGHT_CORE, CHROMIUM, URL, WORKSPACE_FILE, EXPECT_TEXT, SCREENSHOT, PROFILE_DIR,
//      START ("refactor-menu" | "palette-edit-selection" | "crash"), INSTRUCTION (for the 2nd),
//      ACCEPT ("tick-and-apply" | "accept-all"), STEP_TIMEOUT_MS; START "crash" with SERVER_PIDS
'use strict';
const fs = require('node:fs');
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const STEP = Number(process.env.STEP_TIMEOUT_MS || 60000);
const started = Date.now();
const log = (step, extra = {}) =>
  console.log(JSON.stringify({ step, seconds: (Date.now() - started) / 1000, ...extra }));

async function waitFor(what, check, timeout = STEP) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function clickIfVisible(locator) {
  if (await locator.isVisible().catch(() => false)) {
    await locator.click().catch(() => undefined);
    return true;
  }
  return false;
}

async function main() {
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  let failure;
  try {
    await run(page);
  } catch (error) {
    failure = error;
  } finally {
    // The screenshot is taken on failure too: it shows where the workbench got stuck.
    if (!fs.existsSync(process.env.SCREENSHOT)) {
      await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => undefined);
      log('screenshot', { path: process.env.SCREENSHOT, onFailure: Boolean(failure) });
    }
    await context.close().catch(() => undefined);
  }
  if (failure) throw failure;
}

async function run(page) {
  await page.goto(process.env.URL, { timeout: STEP });
  await page.locator('.monaco-workbench').waitFor({ timeout: STEP });
  log('workbench');

  // The extension activates on a Python file; its status bar item shows the configured model
  // once the server has answered smallcode.status (and indexing has ended).
  await page.keyboard.press('Control+P');
  await page.keyboard.type('geo.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'geo.py' }).first().waitFor({ timeout: STEP });
  await page.keyboard.press('Enter');
  await page.locator('.tab', { hasText: 'geo.py' }).first().waitFor({ timeout: STEP });
  log('file open');
  const status = page.locator('.statusbar-item', { hasText: 'SmallCode: scripted' });
  await status.first().waitFor({ timeout: STEP });
  log('extension ready', { status: (await status.first().innerText()).trim() });

  if (process.env.START === 'crash') return crashTwice(page);
  if (process.env.START === 'palette-edit-selection') await editSelectionFromPalette(page);
  else await implementTodoFromRefactorMenu(page);

  // The agent runs against the scripted model; a trusted workspace may be asked to allow a
  // validation command ("SmallCode: run ..."): allow it once.
  const panel = page.locator('.bulk-edit-panel');
  await waitFor('the Refactor Preview', async () => {
    await clickIfVisible(page.getByRole('button', { name: 'Allow once' }));
    return panel.isVisible().catch(() => false);
  });
  await page.locator('.bulk-edit-panel .monaco-list-row').first().waitFor({ timeout: STEP });
  log('refactor preview');
  await page.waitForTimeout(500); // let the panel finish its layout before the screenshot
  await page.screenshot({ path: process.env.SCREENSHOT });
  log('screenshot', { path: process.env.SCREENSHOT });

  if (process.env.ACCEPT === 'accept-all') {
    const accept = page.locator('.notifications-toasts .monaco-button', { hasText: 'Accept All' });
    await accept.first().waitFor({ timeout: STEP });
    await accept.first().click();
    log('accept all clicked');
  } else {
    const toggles = page.locator('.bulk-edit-panel .monaco-custom-toggle');
    const first = toggles.first();
    await first.waitFor({ timeout: STEP });
    const checked = await first.getAttribute('aria-checked');
    if (checked !== 'true') await first.click();
    log('ticked', { before: checked, after: await first.getAttribute('aria-checked') });
    await page.getByRole('button', { name: 'Apply' }).first().click();
    log('apply clicked');
  }

  await waitFor('the edit on disk', () => {
    const text = fs.readFileSync(process.env.WORKSPACE_FILE, 'utf8');
    return text.includes(process.env.EXPECT_TEXT);
  });
  log('saved');
}

async function goToLine(page, line) {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
}

// The code action: cursor on the TODO (line 6), Refactor... (Ctrl+Shift+R), the server's action.
async function implementTodoFromRefactorMenu(page) {
  await goToLine(page, 6);
  const action = page.locator('.action-widget .monaco-list-row', { hasText: 'SmallCode: implement TODO' });
  await waitFor('the code action in the Refactor menu', async () => {
    if (await action.first().isVisible().catch(() => false)) return true;
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+R');
    await action.first().waitFor({ timeout: 3000 }).catch(() => undefined);
    return action.first().isVisible().catch(() => false);
  });
  log('refactor menu');
  await action.first().click();
}

// The palette command: select the function (lines 4-7), "SmallCode: Edit Selection...",
// then the instruction in the input box.
async function editSelectionFromPalette(page) {
  await goToLine(page, 4);
  await page.keyboard.press('Home');
  for (let i = 0; i < 4; i++) await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Control+Shift+P');
  await page.keyboard.type('SmallCode: Edit Selection');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'SmallCode: Edit Selection' });
  await row.first().waitFor({ timeout: STEP });
  await page.keyboard.press('Enter');
  log('palette command');
  // The input box has a title; the palette has none (and hasText ignores case).
  const title = page.locator('.quick-input-widget .quick-input-title', { hasText: /^SmallCode: edit selection$/ });
  await title.first().waitFor({ timeout: STEP });
  await page.keyboard.type(process.env.INSTRUCTION);
  await page.keyboard.press('Enter');
  log('instruction entered');
}

// The server is started through a wrapper that appends its pid to SERVER_PIDS. Kill it: the
// extension restarts it (smallcode.server.maxRestarts is 1); kill it again: it gives up, says so,
// and the status bar shows the error.
async function crashTwice(page) {
  const pids = () => fs.readFileSync(process.env.SERVER_PIDS, 'utf8').trim().split('\n').map(Number);
  const ready = page.locator('.statusbar-item', { hasText: 'SmallCode: scripted' }).first();
  process.kill(pids().at(-1), 'SIGKILL');
  log('killed', { pid: pids().at(-1) });
  await waitFor('a restarted server', () => pids().length === 2);
  await ready.waitFor({ timeout: STEP });
  log('restarted', { pid: pids().at(-1) });
  process.kill(pids().at(-1), 'SIGKILL');
  log('killed', { pid: pids().at(-1) });
  const gaveUp = page.locator('.notifications-toasts', { hasText: 'is not restarted again' }).first();
  await gaveUp.waitFor({ timeout: STEP });
  await page.locator('.statusbar-item', { hasText: /^\s*SmallCode\s*$/ }).first().waitFor({ timeout: STEP });
  await page.screenshot({ path: process.env.SCREENSHOT });
  log('gave up', { starts: pids().length });
}

main().then(
  () => process.exit(0),
  (error) => {
    log('failed', { error: String(error && error.stack ? error.stack : error) });
    process.exit(1);
  },
);
