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
    /** ses:SendEmail (and ses:GetAccount for the send rate). */
    sendEmail?: boolean;
    linkSecret?: boolean;
    startCycleExecutions?: boolean;
    startCaseExecutions?: boolean;
    /** Start delivery runs (producers of notices, and delivery itself for what it records). */
    startDeliveries?: boolean;
    /** List the running executions of every machine (the reconciler). */
    inspectExecutions?: boolean;
  };
}

export const handlers = {
  cycleAdvance: {
    entry: 'functions/handlers/cycle-advance.ts',
    description: 'Advances a duty cycle: sweeps missing units and records the reminders and escalations owed',
    memoryMb: 1024,
    timeoutSeconds: 600,
    access: { table: 'read-write', startDeliveries: true },
  },
  caseAdvance: {
    entry: 'functions/handlers/case-advance.ts',
    description:
      'Advances a case: records its due notices, reminders and escalations, and plans the next wake-up',
    memoryMb: 512,
    timeoutSeconds: 120,
    access: { table: 'read-write', startDeliveries: true },
  },
  deliver: {
    entry: 'functions/handlers/deliver.ts',
    description: 'Delivers the notices owed: one email per recipient per moment, under the account send rate',
    // Mostly waiting for the send pace (75 ms an email at 14/s): memory buys no speed here, only cost.
    memoryMb: 512,
    timeoutSeconds: 600,
    access: { table: 'read-write', sendEmail: true, linkSecret: true, startDeliveries: true },
  },
  mailEvents: {
    entry: 'functions/handlers/mail-events.ts',
    description:
      'Records bounces and complaints SES reports after sending: the address becomes undeliverable',
    memoryMb: 256,
    timeoutSeconds: 60,
    access: { table: 'read-write', startDeliveries: true },
  },
  dispatch: {
    entry: 'functions/handlers/dispatch.ts',
    description:
      'Starts the cycle executions whose period has begun, making up lost days (run by the scheduler)',
    memoryMb: 256,
    timeoutSeconds: 120,
    access: { table: 'read-write', startCycleExecutions: true },
  },
  reconcile: {
    entry: 'functions/handlers/reconcile.ts',
    description:
      'Resumes open cycles and cases without a running execution and undelivered notices (every 15 min)',
    memoryMb: 256,
    timeoutSeconds: 300,
    access: {
      table: 'read-write',
      startCycleExecutions: true,
      startCaseExecutions: true,
      startDeliveries: true,
      inspectExecutions: true,
    },
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
