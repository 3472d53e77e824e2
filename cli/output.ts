/** Exit codes: 0 success, 1 failure while running, 2 bad input (usage, unknown duty, bad date or period). */
export const EXIT = { ok: 0, failure: 1, badInput: 2 } as const;

export class UsageError extends Error {
  constructor(readonly messageZh: string) {
    super(messageZh);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
