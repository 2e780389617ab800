// The server's stderr log, line by line, into the output channel at its own level.

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;
const LEVELS: Record<string, Level> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/** Splits `smallcode-ls` log lines ("<time> LEVEL name: message"); other lines keep the last level. */
export class ServerLogParser {
  private last: Level = 'info';

  parse(line: string): { level: Level; message: string } {
    const match = LINE.exec(line);
    if (!match) return { level: this.last, message: line };
    this.last = LEVELS[match[1]];
    return { level: this.last, message: match[2] };
  }
}
