/**
 * The one list of Lambda handlers. The CDK app creates one NodejsFunction per entry; the local runtime imports
 * the same modules and calls `handler` in-process. Adding a handler here is all either side needs.
 */
export interface HandlerSpec {
  /** Path from the project root to the module exporting `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** What the function may touch; the stack turns this into least-privilege grants. */
  access: {
    table?: 'read' | 'read-write';
    sendEmail?: boolean;
    linkSecret?: boolean;
    startCycleExecutions?: boolean;
    startCaseExecutions?: boolean;
  };
}

export const handlers = {
  cycleAdvance: {
    entry: 'functions/handlers/cycle-advance.ts',
    description: 'Advances a duty cycle: sweeps missing units, sends due reminders and escalation digests',
    memoryMb: 1024,
    timeoutSeconds: 600,
    access: { table: 'read-write', sendEmail: true, linkSecret: true },
  },
  caseAdvance: {
    entry: 'functions/handlers/case-advance.ts',
    description:
      'Advances a case: sends its due notices, reminders and escalations, and plans the next wake-up',
    memoryMb: 512,
    timeoutSeconds: 120,
    access: { table: 'read-write', sendEmail: true, linkSecret: true },
  },
  dispatch: {
    entry: 'functions/handlers/dispatch.ts',
    description: 'Starts the cycle executions whose period has begun (run by the scheduler)',
    memoryMb: 256,
    timeoutSeconds: 60,
    access: { startCycleExecutions: true },
  },
  api: {
    entry: 'functions/handlers/api.ts',
    description: 'The HTTP API for administrators and units (behind API Gateway)',
    memoryMb: 512,
    timeoutSeconds: 29,
    access: { table: 'read-write', linkSecret: true, startCaseExecutions: true },
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof handlers;
