// Settings resolution: which `smallcode.*` values reach the server (no vscode import: unit-tested).

/** One setting's values per scope, as `WorkspaceConfiguration.inspect` reports them. */
export interface SettingLayers {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Keys handled by the extension itself; the server never sees them. */
export const CLIENT_ONLY_PREFIXES = ['server.', 'trace.'];

export interface ResolvedSettings {
  /** The server's `smallcode` section, nested (`{model: {baseUrl: ...}}`). */
  section: Record<string, unknown>;
  /** Keys whose workspace value was dropped (untrusted workspace, or a user-level key). */
  ignored: string[];
}

/** Keys (without the `smallcode.` prefix) declared in the extension's package.json. */
export function declaredKeys(packageJson: unknown): string[] {
  const props = (packageJson as { contributes?: { configuration?: { properties?: object } } })
    ?.contributes?.configuration?.properties;
  return Object.keys(props ?? {})
    .filter((key) => key.startsWith('smallcode.'))
    .map((key) => key.slice('smallcode.'.length));
}

/** Restricted keys (without prefix) from package.json's untrustedWorkspaces capability. */
export function restrictedKeys(packageJson: unknown): Set<string> {
  const restricted = (packageJson as {
    capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
  })?.capabilities?.untrustedWorkspaces?.restrictedConfigurations;
  return new Set((restricted ?? []).map((key) => key.replace(/^smallcode\./, '')));
}

/** Keys (without prefix) that only user settings may set (package.json scope machine/application). */
export function userLevelKeys(packageJson: unknown): Set<string> {
  const props = (packageJson as { contributes?: { configuration?: { properties?: Record<string, { scope?: string }> } } })
    ?.contributes?.configuration?.properties ?? {};
  return new Set(
    Object.entries(props)
      .filter(([, spec]) => spec.scope === 'machine' || spec.scope === 'application')
      .map(([key]) => key.replace(/^smallcode\./, '')),
  );
}

export function isClientOnly(key: string): boolean {
  return CLIENT_ONLY_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/**
 * The effective value of one setting. Later scopes win (default < user < workspace < folder),
 * except that an untrusted workspace cannot set a restricted key, and no workspace can set a
 * user-level key (VS Code enforces both too; resolving them here keeps the rule tested).
 */
export function effectiveValue(
  layers: SettingLayers,
  restricted: boolean,
  trusted: boolean,
  userLevel = false,
): { value: unknown; ignoredWorkspaceValue: boolean } {
  const allowWorkspace = !userLevel && (trusted || !restricted);
  let value = layers.defaultValue;
  if (layers.globalValue !== undefined) value = layers.globalValue;
  const workspaceValues = [layers.workspaceValue, layers.workspaceFolderValue];
  const ignored = !allowWorkspace && workspaceValues.some((v) => v !== undefined);
  if (allowWorkspace) {
    for (const v of workspaceValues) if (v !== undefined) value = v;
  }
  return { value, ignoredWorkspaceValue: ignored };
}

/** Build the server's section from every declared key. */
export function resolveSettings(
  keys: string[],
  inspect: (key: string) => SettingLayers | undefined,
  restricted: Set<string>,
  trusted: boolean,
  userLevel: Set<string> = new Set(),
): ResolvedSettings {
  const section: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const key of keys) {
    if (isClientOnly(key)) continue;
    const layers = inspect(key);
    if (layers === undefined) continue;
    const { value, ignoredWorkspaceValue } = effectiveValue(
      layers,
      restricted.has(key),
      trusted,
      userLevel.has(key),
    );
    if (ignoredWorkspaceValue) ignored.push(`smallcode.${key}`);
    if (value === undefined) continue;
    setPath(section, key.split('.'), value);
  }
  return { section, ignored };
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** What `initialize` carries: the section plus whether VS Code trusts the workspace. */
export function initializationOptions(
  section: Record<string, unknown>,
  trusted: boolean,
): { smallcode: Record<string, unknown>; workspaceTrusted: boolean } {
  return { smallcode: section, workspaceTrusted: trusted };
}

/**
 * Keys the server honours only from initializationOptions: user-level keys always, restricted
 * keys while the workspace is untrusted (it treats workspace/configuration as workspace-level).
 * Changing one of them needs a server restart; leaving them out of later layers avoids noise.
 */
export function initOnlyKeys(restricted: Set<string>, userLevel: Set<string>, trusted: boolean): Set<string> {
  return new Set([...userLevel, ...(trusted ? [] : restricted)].filter((key) => !isClientOnly(key)));
}

/** A copy of a nested section without the given dotted keys (and without emptied groups). */
export function withoutKeys(section: Record<string, unknown>, keys: Set<string>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [group, values] of Object.entries(section)) {
    if (typeof values !== 'object' || values === null) {
      if (!keys.has(group)) copy[group] = values;
      continue;
    }
    const kept = Object.fromEntries(
      Object.entries(values as Record<string, unknown>).filter(([key]) => !keys.has(`${group}.${key}`)),
    );
    if (Object.keys(kept).length > 0) copy[group] = kept;
  }
  return copy;
}
