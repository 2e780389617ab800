// When to restart a crashed server (no vscode import: unit-tested).

export const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** Restart after a crash unless `maxRestarts` crashes already happened within the window. */
export class RestartPolicy {
  private readonly crashes: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs = RESTART_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record a crash; true when the server should be started again. */
  crashed(): boolean {
    const time = this.now();
    this.crashes.push(time);
    while (this.crashes.length > 0 && time - this.crashes[0] > this.windowMs) this.crashes.shift();
    return this.crashes.length <= this.maxRestarts;
  }

  get recentCrashes(): number {
    return this.crashes.length;
  }
}
