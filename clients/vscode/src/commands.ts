// Palette commands: each finds what the server needs at the cursor and runs a server command.

import * as vscode from 'vscode';

/** Server command names (server/smallcode_ls/lsp/tasks.py and commands.py). */
export const SERVER = {
  implementTodo: 'smallcode.implementTodo',
  fixDiagnostic: 'smallcode.fixDiagnostic',
  writeTests: 'smallcode.writeTests',
  runTask: 'smallcode.runTask',
  cancelTask: 'smallcode.cancelTask',
  status: 'smallcode.status',
  showContext: 'smallcode.showContext',
  trustWorkspace: 'smallcode.trustWorkspace',
} as const;

export const TASK_COMMANDS = new Set<string>([
  SERVER.implementTodo,
  SERVER.fixDiagnostic,
  SERVER.writeTests,
  SERVER.runTask,
]);

/** Run the server's code action of `command` at the cursor (or selection), picking one if several. */
export async function runActionAtCursor(command: string, missing: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('SmallCode: open a file first.');
    return;
  }
  const actions =
    (await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      editor.selection,
    )) ?? [];
  const matching = actions.filter(
    (action): action is vscode.CodeAction =>
      typeof action.command === 'object' && action.command.command === command,
  );
  let chosen = matching[0];
  if (matching.length > 1) {
    const pick = await vscode.window.showQuickPick(
      matching.map((action) => ({ label: action.title, action })),
      { placeHolder: 'SmallCode: which one?' },
    );
    chosen = pick?.action as vscode.CodeAction;
  }
  if (!chosen?.command) {
    if (matching.length === 0) void vscode.window.showInformationMessage(`SmallCode: ${missing}`);
    return;
  }
  await vscode.commands.executeCommand(chosen.command.command, ...(chosen.command.arguments ?? []));
}

/** Ask for the instruction of "edit selection" (undefined when dismissed). */
export async function askInstruction(): Promise<string | undefined> {
  const instruction = await vscode.window.showInputBox({
    title: 'SmallCode: edit selection',
    prompt: 'What should change? (a "- step" list runs as steps)',
    placeHolder: 'e.g. use math.pi instead of 3.14',
    ignoreFocusOut: true,
  });
  return instruction?.trim() ? instruction : undefined;
}

/** Show `smallcode.showContext`'s answer in a new editor. */
export async function showContext(result: unknown): Promise<void> {
  const pack = result as {
    text?: string;
    budget?: number;
    used?: number;
    sections?: { name: string; tokens?: number }[];
    dropped?: string[];
  };
  const sections = (pack.sections ?? []).map((s) => s.name).join(', ');
  const header =
    `<!-- SmallCode context: ${pack.used ?? '?'} of ${pack.budget ?? '?'} tokens; ` +
    `sections: ${sections || 'none'}; dropped: ${(pack.dropped ?? []).join(', ') || 'none'} -->\n\n`;
  const doc = await vscode.workspace.openTextDocument({
    language: 'markdown',
    content: header + (pack.text ?? ''),
  });
  await vscode.window.showTextDocument(doc, { preview: true });
}
