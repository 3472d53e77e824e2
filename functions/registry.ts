import type { ItemAction, TableAccess } from './table-access.ts';

const READ: readonly ItemAction[] = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const WRITE: readonly ItemAction[] = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
/**
 * Recording notices for delivery (the outbox, its per-moment markers and the express markers of notices that must
 * go at once), and reading whether the run of their moment is closing (functions/adapters/delivery-starter.ts).
 */
const RECORD_NOTICES = [
  { actions: ['dynamodb:BatchWriteItem'], keys: ['OUTBOX#*', 'OUTBOX-MOMENTS', 'OUTBOX-EXPRESS'] },
  { actions: ['dynamodb:GetItem'], keys: ['DELIVERY'] },
] as const;

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
    /** The table's items it may read and write, by partition key (functions/table-access.ts). */
    table?: TableAccess;
    /** ses:SendEmail (and ses:GetAccount for the send rate). */
    sendEmail?: boolean;
    /**
     * sms-voice:SendTextMessage from the deployment's origination identity, when it configures one
     * (`safeduty:smsOriginationIdentity`); nothing otherwise.
     */
    sendSms?: boolean;
    linkSecret?: boolean;
    startCycleExecutions?: boolean;
    startCaseExecutions?: boolean;
    /** Start delivery runs (producers of notices, and delivery itself for what it records). */
    startDeliveries?: boolean;
    /** List the running executions of every machine (the reconciler). */
    inspectExecutions?: boolean;
    /** Sign uploads and reads of units' report files in the attachments bucket. */
    attachments?: boolean;
  };
}

export const handlers = {
  cycleAdvance: {
    entry: 'functions/handlers/cycle-advance.ts',
    description: 'Advances a duty cycle: sweeps missing units and records the reminders and escalations owed',
    memoryMb: 1024,
    timeoutSeconds: 600,
    access: {
      table: {
        grants: [
          { actions: READ, keys: ['CYCLE#*', 'UNIT#*', 'LEADER#*', 'TRACKING', 'ADHOC-DUTY', 'CALENDAR'] },
          { actions: WRITE, keys: ['CYCLE#*', 'TRACKING'] },
          ...RECORD_NOTICES,
        ],
        queryIndexes: true,
      },
      startDeliveries: true,
    },
  },
  caseAdvance: {
    entry: 'functions/handlers/case-advance.ts',
    description:
      'Advances a case: records its due notices, reminders and escalations, and plans the next wake-up',
    memoryMb: 512,
    timeoutSeconds: 120,
    access: {
      table: {
        grants: [
          { actions: READ, keys: ['CASE#*', 'UNIT#*', 'LEADER#*', 'CALENDAR'] },
          { actions: WRITE, keys: ['CASE#*'] },
          ...RECORD_NOTICES,
        ],
        queryIndexes: true,
      },
      startDeliveries: true,
    },
  },
  deliver: {
    entry: 'functions/handlers/deliver.ts',
    description: 'Delivers the notices owed: one email per recipient per moment, under the account send rate',
    // Mostly waiting for the send pace (75 ms an email at 14/s): memory buys no speed here, only cost.
    memoryMb: 512,
    timeoutSeconds: 600,
    access: {
      table: {
        grants: [
          {
            actions: READ,
            keys: [
              'OUTBOX#*',
              'OUTBOX-MOMENTS',
              'OUTBOX-EXPRESS',
              'DELIVERY',
              'MAIL#*',
              'UNDELIVERABLE',
              'CYCLE#*',
              'CASE#*',
              'UNIT#*',
              'ADHOC-DUTY',
              'CALENDAR',
            ],
          },
          // Delivery records are written under the recipient (MAIL#) and, for a case's emails, under the case.
          {
            actions: WRITE,
            keys: ['OUTBOX#*', 'OUTBOX-MOMENTS', 'OUTBOX-EXPRESS', 'DELIVERY', 'MAIL#*', 'UNDELIVERABLE'],
          },
          { actions: ['dynamodb:BatchWriteItem'], keys: ['MAIL#*', 'CASE#*'] },
        ],
      },
      sendEmail: true,
      sendSms: true,
      linkSecret: true,
      startDeliveries: true,
    },
  },
  mailEvents: {
    entry: 'functions/handlers/mail-events.ts',
    description:
      'Records bounces and complaints SES reports after sending: the address becomes undeliverable',
    memoryMb: 256,
    timeoutSeconds: 60,
    access: {
      table: {
        // The email's record (found by its key, rewritten with the bounce), the address's mark, 安委办's contact
        // and the notice to it.
        grants: [
          { actions: ['dynamodb:GetItem'], keys: ['MAIL#*', 'UNIT#*'] },
          // The record is kept under the recipient and, for a case's email, under the case too.
          { actions: ['dynamodb:BatchWriteItem'], keys: ['MAIL#*', 'CASE#*'] },
          { actions: ['dynamodb:PutItem'], keys: ['UNDELIVERABLE'] },
          { actions: ['dynamodb:Query'], keys: ['CALENDAR'] },
          ...RECORD_NOTICES,
        ],
      },
      startDeliveries: true,
    },
  },
  dispatch: {
    entry: 'functions/handlers/dispatch.ts',
    description:
      'Starts the cycle executions whose period has begun, making up lost days (run by the scheduler)',
    memoryMb: 256,
    timeoutSeconds: 120,
    access: {
      table: {
        // Its own progress (the day dispatched through, the cycles held for want of a year's holiday arrangement)
        // and the ad-hoc duties (a recurring one starts its periods here): the executions it starts do the rest.
        // 安委办's contact and the outbox: the notice that a year's arrangement is missing.
        grants: [
          { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], keys: ['DISPATCH'] },
          { actions: ['dynamodb:Query'], keys: ['ADHOC-DUTY', 'CALENDAR'] },
          { actions: ['dynamodb:GetItem'], keys: ['UNIT#*'] },
          ...RECORD_NOTICES,
        ],
      },
      startCycleExecutions: true,
      startDeliveries: true,
    },
  },
  reconcile: {
    entry: 'functions/handlers/reconcile.ts',
    description:
      'Resumes open cycles and cases without a running execution and undelivered notices (every 15 min)',
    memoryMb: 256,
    timeoutSeconds: 300,
    access: {
      table: {
        grants: [
          {
            actions: READ,
            keys: ['DISPATCH', 'CYCLE#*', 'CASE#*', 'OUTBOX-MOMENTS', 'ADHOC-DUTY', 'CALENDAR'],
          },
          { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], keys: ['DISPATCH', 'CYCLE#*', 'CASE#*'] },
          // A made-up dispatch tells 安委办 of a missing holiday arrangement, as the daily one does.
          { actions: ['dynamodb:GetItem'], keys: ['UNIT#*'] },
          ...RECORD_NOTICES,
        ],
        queryIndexes: true,
      },
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
    access: {
      table: {
        grants: [
          {
            actions: READ,
            keys: [
              'UNIT#*',
              'LEADER#*',
              'CYCLE#*',
              'CASE#*',
              'AUDIT#*',
              'MAIL#*',
              'UNDELIVERABLE',
              'IDEMP#*',
              'ADHOC-DUTY',
              'TRACKING',
              'CALENDAR',
              'DISPATCH',
              'WARNING#*',
            ],
          },
          {
            actions: WRITE,
            keys: [
              'UNIT#*',
              'LEADER#*',
              'CYCLE#*',
              'CASE#*',
              'IDEMP#*',
              'UNDELIVERABLE',
              'ADHOC-DUTY',
              'TRACKING',
              'CALENDAR',
              'DISPATCH',
              'WARNING#*',
            ],
          },
          // Audit entries: added, never changed or removed (docs/decisions.md §25).
          { actions: ['dynamodb:PutItem'], keys: ['AUDIT#*'] },
          // Loading a year's holiday arrangement dispatches at once (the held cycles start, see dispatch).
          ...RECORD_NOTICES,
        ],
        appendOnly: ['AUDIT#*'],
        queryIndexes: true,
      },
      linkSecret: true,
      attachments: true,
      startCaseExecutions: true,
      // An ad-hoc duty's one cycle starts when it is created.
      startCycleExecutions: true,
      startDeliveries: true,
    },
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof handlers;
