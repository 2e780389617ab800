// What the status bar item says (no vscode import: unit-tested).

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing' | 'failed';

export interface StatusState {
  server: ServerState;
  model?: string;
  trusted: boolean;
  task?: { title: string; message?: string; percentage?: number };
  error?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  isError: boolean;
}

/** One line for the status bar plus a tooltip. */
export function renderStatus(state: StatusState): StatusView {
  const trust = state.trusted ? '' : ' (restricted: untrusted workspace)';
  if (state.server === 'missing' || state.server === 'failed') {
    return {
      text: '$(error) SmallCode',
      tooltip: (state.error ?? 'the server is not running') + trust,
      isError: true,
    };
  }
  if (state.server === 'starting') {
    return { text: '$(loading~spin) SmallCode', tooltip: 'starting smallcode-ls' + trust, isError: false };
  }
  if (state.server === 'stopped') {
    return { text: '$(circle-slash) SmallCode', tooltip: 'the server is stopped' + trust, isError: false };
  }
  const model = state.model || 'embedded model';
  if (state.task) {
    const percent = state.task.percentage !== undefined ? ` ${state.task.percentage}%` : '';
    const detail = state.task.message ? `: ${state.task.message}` : '';
    return {
      text: `$(sync~spin) SmallCode: ${state.task.title}${percent}`,
      tooltip: `${state.task.title}${detail} (model ${model}); click to cancel`,
      isError: false,
    };
  }
  if (state.error) {
    return { text: `$(warning) SmallCode: ${model}`, tooltip: state.error + trust, isError: true };
  }
  return { text: `$(sparkle) SmallCode: ${model}`, tooltip: `model ${model}${trust}`, isError: false };
}

/** The model name from `smallcode.status`'s answer. */
export function modelFromStatus(status: unknown): string | undefined {
  const model = (status as { model?: { model?: unknown; source?: unknown } } | undefined)?.model;
  if (model && typeof model.model === 'string' && model.model) return model.model;
  if (model && model.source === 'embedded') return 'embedded model';
  return undefined;
}

/** A task command's answer, as a one-line message, or undefined when it was applied. */
export function describeOutcome(result: unknown): { message: string; isError: boolean } | undefined {
  const r = result as { outcome?: unknown; message?: unknown } | undefined;
  if (!r || typeof r.outcome !== 'string') return undefined;
  if (r.outcome === 'applied') return undefined;
  const message = typeof r.message === 'string' && r.message ? `: ${r.message}` : '';
  return { message: `SmallCode: ${r.outcome}${message}`, isError: r.outcome === 'failed' };
}
