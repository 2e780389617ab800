// SmallCode for VS Code: starts smallcode-ls over stdio and wires its commands, settings and edits.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditResult,
  CancellationToken,
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { SERVER, TASK_COMMANDS, askInstruction, runActionAtCursor, showContext } from './commands';
import { findServer } from './discovery';
import { editedUris, needsConfirmation, withoutConfirmation } from './edits';
import { RestartPolicy } from './restart';
import { ServerLogParser } from './serverlog';
import {
  declaredKeys,
  initOnlyKeys,
  initializationOptions,
  resolveSettings,
  restrictedKeys,
  userLevelKeys,
  withoutKeys,
} from './settings';
import { StatusState, describeOutcome, modelFromStatus, renderStatus } from './status';

const LANGUAGES = ['python', 'javascript', 'typescript', 'go', 'rust'];
const ACCEPT_ALL = 'Accept All';

class SmallCode {
  private client: LanguageClient | undefined;
  private readonly output = vscode.window.createOutputChannel('SmallCode', { log: true });
  private readonly item = vscode.window.createStatusBarItem('smallcode.status', vscode.StatusBarAlignment.Right, 100);
  private state: StatusState = { server: 'starting', trusted: vscode.workspace.isTrusted };
  private readonly progress = new Map<string, { title: string; message?: string; percentage?: number }>();
  private pendingPreview: (() => Promise<void>) | undefined;
  private serverCommand: string | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.item.name = 'SmallCode';
    context.subscriptions.push(this.output, this.item);
    this.render();
    this.item.show();
  }

  private get packageJson(): unknown {
    return this.context.extension.packageJSON;
  }

  /** The keys the server takes only from initializationOptions (see initOnlyKeys). */
  private initOnly(): Set<string> {
    return initOnlyKeys(restrictedKeys(this.packageJson), userLevelKeys(this.packageJson), vscode.workspace.isTrusted);
  }

  /** The section for workspace/configuration and didChangeConfiguration. */
  laterLayer(): Record<string, unknown> {
    return withoutKeys(this.settings().section, this.initOnly());
  }

  settings(): { section: Record<string, unknown>; ignored: string[] } {
    const config = vscode.workspace.getConfiguration('smallcode');
    return resolveSettings(
      declaredKeys(this.packageJson),
      (key) => config.inspect(key),
      restrictedKeys(this.packageJson),
      vscode.workspace.isTrusted,
      userLevelKeys(this.packageJson),
    );
  }

  private discover() {
    const config = vscode.workspace.getConfiguration('smallcode');
    const layers = config.inspect<string>('server.path');
    // An untrusted workspace cannot point us at an executable: only the user's value counts.
    const configured = vscode.workspace.isTrusted
      ? (layers?.workspaceFolderValue ?? layers?.workspaceValue ?? layers?.globalValue ?? '')
      : (layers?.globalValue ?? '');
    return findServer({
      configuredPath: configured,
      trusted: vscode.workspace.isTrusted,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
      env: process.env,
      platform: process.platform,
      homeDir: os.homedir(),
      isExecutable: (file) => {
        try {
          fs.accessSync(file, fs.constants.X_OK);
          return fs.statSync(file).isFile();
        } catch {
          return false;
        }
      },
    });
  }

  render(): void {
    const view = renderStatus(this.state);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.isError ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command = this.pendingPreview
      ? 'smallcode.acceptProposedEdit'
      : this.state.task
        ? 'smallcode.cancelTasks'
        : 'smallcode.showStatus';
    if (this.pendingPreview) {
      // The task waits for the review: one click here accepts the whole edit.
      this.item.text = '$(check-all) SmallCode: accept proposed edit';
      this.item.tooltip = 'Apply the whole proposed edit (the Refactor Preview starts with it unticked)';
    }
  }

  private update(change: Partial<StatusState>): void {
    this.state = { ...this.state, ...change };
    this.render();
  }

  async start(): Promise<void> {
    const found = this.discover();
    if (!found.found) {
      this.update({ server: 'missing', error: found.message });
      this.output.error(found.message);
      void vscode.window.showErrorMessage(found.message, 'Open Settings').then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'smallcode.server.path');
      });
      return;
    }
    this.serverCommand = found.command;
    this.output.info(`starting ${found.command} --stdio (found via ${found.source})`);
    const { ignored } = this.settings();
    if (ignored.length) this.output.warn(`untrusted workspace: ignoring workspace values of ${ignored.join(', ')}`);
    const maxRestarts = vscode.workspace.getConfiguration('smallcode').get<number>('server.maxRestarts', 4);
    const policy = new RestartPolicy(maxRestarts);
    // vscode-languageclient appends --stdio itself for TransportKind.stdio.
    const serverOptions: ServerOptions = { command: found.command, args: [], transport: TransportKind.stdio };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      stdioOptions: {
        stdout: (input, channel) => readline.createInterface({ input }).on('line', (l) => channel.info(l)),
        stderr: (input, channel) => {
          const parser = new ServerLogParser();
          readline.createInterface({ input }).on('line', (line) => {
            const { level, message } = parser.parse(line);
            channel[level](message);
          });
        },
      },
      initializationOptions: () => initializationOptions(this.settings().section, vscode.workspace.isTrusted),
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => {
          if (policy.crashed()) {
            this.output.warn(`the server stopped; restarting (${policy.recentCrashes} in 3 minutes)`);
            return { action: CloseAction.Restart };
          }
          const message =
            `SmallCode: the server stopped ${policy.recentCrashes} times within 3 minutes and is not ` +
            'restarted again. See "SmallCode: Show Server Log", then run "SmallCode: Restart Server".';
          this.update({ server: 'failed', error: message });
          return { action: CloseAction.DoNotRestart, message };
        },
      },
      middleware: {
        executeCommand: (command, args, next) => this.executeCommand(command, args, next),
        handleWorkDoneProgress: (token, params, next) => {
          this.trackProgress(String(token), params);
          next(token, params);
        },
        workspace: {
          handleApplyEdit: (params, next) =>
            this.applyEdit(params, async (p) => {
              const answer = await next(p, CancellationToken.None);
              return answer instanceof ResponseError
                ? { applied: false, failureReason: answer.message }
                : answer;
            }),
          configuration: (params, token, next) =>
            params.items.map((item) =>
              item.section === 'smallcode' ? this.laterLayer() : null,
            ) as unknown[],
        },
      },
    };
    const client = new LanguageClient('smallcode', 'SmallCode', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.update({ server: 'running', error: undefined });
        void this.refreshStatus();
      } else if (event.newState === State.Stopped && this.state.server !== 'failed') {
        this.update({ server: 'stopped' });
      } else if (event.newState === State.Starting) {
        this.update({ server: 'starting' });
      }
    });
    this.update({ server: 'starting' });
    try {
      await client.start();
    } catch (error) {
      const message = `SmallCode: the server did not start: ${String(error)}`;
      this.update({ server: 'failed', error: message });
      this.output.error(message);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.stop(5000).catch((e) => this.output.warn(`stop: ${String(e)}`));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Send a workspace/executeCommand to the server (undefined when no server is running). */
  async request(command: string, args: unknown[] = []): Promise<unknown> {
    if (!this.client || this.client.state !== State.Running) {
      void vscode.window.showErrorMessage(this.state.error ?? 'SmallCode: the server is not running.');
      return undefined;
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  supports(command: string): boolean {
    const commands = this.client?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    return commands.includes(command);
  }

  async refreshStatus(): Promise<unknown> {
    try {
      const status = await this.request(SERVER.status);
      this.output.info(`server status: ${JSON.stringify(status)}`);
      const trusted = (status as { trusted?: unknown } | undefined)?.trusted;
      this.update({
        model: modelFromStatus(status),
        trusted: typeof trusted === 'boolean' ? trusted : vscode.workspace.isTrusted,
      });
      return status;
    } catch (error) {
      this.output.warn(`smallcode.status failed: ${String(error)}`);
      return undefined;
    }
  }

  private trackProgress(token: string, params: { kind: string; title?: string; message?: string; percentage?: number }): void {
    if (params.kind === 'begin') {
      this.progress.set(token, { title: (params.title ?? '').replace(/^SmallCode: /, ''), message: params.message, percentage: params.percentage });
    } else if (params.kind === 'report') {
      const entry = this.progress.get(token);
      if (entry) this.progress.set(token, { ...entry, message: params.message ?? entry.message, percentage: params.percentage ?? entry.percentage });
    } else {
      this.progress.delete(token);
    }
    const latest = [...this.progress.values()].pop();
    this.update({ task: latest });
  }

  private async executeCommand(command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown): Promise<unknown> {
    if (!TASK_COMMANDS.has(command)) return next(command, args);
    const first = (args[0] ?? {}) as Record<string, unknown>;
    if (command === SERVER.runTask && !String(first.instruction ?? '').trim()) {
      const instruction = await askInstruction();
      if (instruction === undefined) return undefined;
      args = [{ ...first, instruction }];
    }
    this.update({ error: undefined });
    try {
      const result = await next(command, args);
      const outcome = describeOutcome(result);
      this.output.info(`${command}: ${JSON.stringify(result)}`);
      if (outcome?.isError) {
        this.update({ error: outcome.message });
        void vscode.window.showWarningMessage(outcome.message, 'Show Log').then((pick) => pick && this.output.show());
      } else if (outcome) {
        void vscode.window.showInformationMessage(outcome.message);
      }
      return result;
    } catch (error) {
      const message = `SmallCode: ${command} failed: ${error instanceof Error ? error.message : String(error)}`;
      this.update({ error: message });
      this.output.error(message);
      void vscode.window.showErrorMessage(message);
      return undefined;
    }
  }

  /**
   * Annotated edits open VS Code's Refactor Preview, where they start unticked. While it is
   * open, "Accept All" (notification or status bar) discards the preview and applies the whole
   * edit in one step. Documents that were saved before the edit are saved after it.
   */
  private async applyEdit(
    params: ApplyWorkspaceEditParams,
    next: (params: ApplyWorkspaceEditParams) => Promise<ApplyWorkspaceEditResult>,
  ): Promise<ApplyWorkspaceEditResult> {
    const clean = new Set(
      vscode.workspace.textDocuments.filter((d) => !d.isDirty).map((d) => d.uri.toString()),
    );
    const uris = editedUris(params.edit);
    let result: ApplyWorkspaceEditResult;
    if (!needsConfirmation(params.edit)) {
      result = await next(params);
    } else {
      let acceptAll = false;
      let settled = false;
      const accept = async () => {
        if (settled || acceptAll) return;
        acceptAll = true;
        await vscode.commands.executeCommand('refactorPreview.discard');
      };
      this.pendingPreview = accept;
      this.render();
      const label = params.label ?? 'SmallCode edit';
      void vscode.window
        .showInformationMessage(
          `${label}: review it in the Refactor Preview. Its changes start unticked: tick them and ` +
            `press Apply, or accept the whole edit here.`,
          ACCEPT_ALL,
        )
        .then((pick) => (pick === ACCEPT_ALL ? accept() : undefined));
      try {
        result = await next(params);
        settled = true;
        if (acceptAll) result = await next({ ...params, edit: withoutConfirmation(params.edit) });
      } finally {
        settled = true;
        this.pendingPreview = undefined;
        this.render();
      }
    }
    if (result.applied) {
      for (const doc of vscode.workspace.textDocuments) {
        const uri = doc.uri.toString();
        if (uris.includes(uri) && clean.has(uri) && doc.isDirty) await doc.save();
      }
    }
    return result;
  }

  acceptProposedEdit(): void {
    if (this.pendingPreview) void this.pendingPreview();
    else void vscode.window.showInformationMessage('SmallCode: no proposed edit is waiting.');
  }

  async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration('smallcode')) return;
    const initOnly = [...this.initOnly()].some((key) => event.affectsConfiguration(`smallcode.${key}`));
    if (event.affectsConfiguration('smallcode.server') || initOnly) {
      const found = this.discover();
      if (initOnly || !found.found || found.command !== this.serverCommand || !this.client) {
        await this.restart();
        return;
      }
    }
    if (this.client?.state === State.Running) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { smallcode: this.laterLayer() },
      });
      void this.refreshStatus();
    }
  }

  async trustGranted(): Promise<void> {
    this.update({ trusted: true });
    const found = this.discover();
    if (found.found && found.command === this.serverCommand && this.supports(SERVER.trustWorkspace)) {
      await this.request(SERVER.trustWorkspace, [{ persist: false }]);
      await this.client?.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { smallcode: this.laterLayer() },
      });
      void this.refreshStatus();
    } else {
      await this.restart(); // a different server (the workspace's own) or no trust command
    }
  }

  log(message: string): void {
    this.output.info(message);
  }

  showLog(): void {
    this.output.show(true);
  }
}

let smallcode: SmallCode | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const app = new SmallCode(context);
  smallcode = app;
  const register = (id: string, run: () => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  register('smallcode.implementTodoAtCursor', () =>
    runActionAtCursor(SERVER.implementTodo, 'no TODO or stub at the cursor.'));
  register('smallcode.fixDiagnosticAtCursor', () =>
    runActionAtCursor(SERVER.fixDiagnostic, 'no diagnostic at the cursor.'));
  register('smallcode.writeTestsAtCursor', () =>
    runActionAtCursor(SERVER.writeTests, 'no function or class at the cursor.'));
  register('smallcode.editSelection', () => {
    if (vscode.window.activeTextEditor?.selection.isEmpty) {
      void vscode.window.showInformationMessage('SmallCode: select the code to edit first.');
      return;
    }
    return runActionAtCursor(SERVER.runTask, 'nothing to edit in the selection.');
  });
  register('smallcode.showContextAtCursor', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    const position = editor.selection.active;
    const result = await app.request(SERVER.showContext, [
      { uri: editor.document.uri.toString(), position: { line: position.line, character: position.character } },
    ]);
    if (result) await showContext(result);
  });
  register('smallcode.cancelTasks', async () => {
    const result = (await app.request(SERVER.cancelTask, [])) as { cancelled?: number } | undefined;
    if (result) void vscode.window.showInformationMessage(`SmallCode: cancelled ${result.cancelled ?? 0} task(s).`);
  });
  register('smallcode.showStatus', async () => {
    const status = await app.refreshStatus();
    if (status === undefined) return;
    app.log(`status: ${JSON.stringify(status, null, 2)}`);
    app.showLog();
    const model = modelFromStatus(status) ?? 'embedded model';
    void vscode.window.showInformationMessage(`SmallCode: model ${model}; details in the log.`);
  });
  register('smallcode.showLog', () => app.showLog());
  register('smallcode.restartServer', () => app.restart());
  register('smallcode.acceptProposedEdit', () => app.acceptProposedEdit());
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => app.configurationChanged(event)),
    vscode.workspace.onDidGrantWorkspaceTrust(() => app.trustGranted()),
  );
  await app.start();
}

export async function deactivate(): Promise<void> {
  await smallcode?.stop();
  smallcode = undefined;
}
