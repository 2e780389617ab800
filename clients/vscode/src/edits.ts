// Edits the server sends through workspace/applyEdit (no vscode import: unit-tested).

import type { WorkspaceEdit } from 'vscode-languageclient/node';

/** True when any change annotation asks the editor to confirm (VS Code: Refactor Preview). */
export function needsConfirmation(edit: WorkspaceEdit): boolean {
  return Object.values(edit.changeAnnotations ?? {}).some((a) => a.needsConfirmation === true);
}

/** The same edit with every annotation's needsConfirmation cleared (applied without preview). */
export function withoutConfirmation(edit: WorkspaceEdit): WorkspaceEdit {
  const annotations = Object.fromEntries(
    Object.entries(edit.changeAnnotations ?? {}).map(([id, a]) => [id, { ...a, needsConfirmation: false }]),
  );
  return { ...edit, changeAnnotations: annotations };
}

/** URIs of the documents the edit changes. */
export function editedUris(edit: WorkspaceEdit): string[] {
  const uris = new Set<string>(Object.keys(edit.changes ?? {}));
  for (const change of edit.documentChanges ?? []) {
    if ('textDocument' in change) uris.add(change.textDocument.uri);
  }
  return [...uris];
}
