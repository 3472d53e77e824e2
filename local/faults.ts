// The faults AWS has, switched on locally: SES down or throttling, addresses it refuses, transient errors, the
// sandbox, a paused account; the SMS service down, throttling, refusing or opted-out numbers; and a Lambda time
// budget. Set at start (`npm start -- --faults FILE`) or while running
// (`PUT /_local/faults`, administrators only); see README "Faults".
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { HandlerName } from '../functions/registry.ts';

export const sesFaultsSchema = z
  .object({
    /** SES unreachable (connections refused) until this instant of the virtual clock; null: reachable. */
    downUntil: z.iso.datetime({ offset: true }).nullable().default(null),
    /** The account's send rate (GetAccount MaxSendRate); faster sends are throttled (429). */
    maxSendRate: z.number().positive().max(10_000).default(14),
    /** The account's daily quota (Max24HourSend); past it, LimitExceededException. */
    max24HourSend: z.number().int().positive().default(200_000),
    /** Addresses SES refuses (MessageRejected), compared case-insensitively. */
    rejectAddresses: z.array(z.string()).max(100_000).default([]),
    /** Share of sends answered with a transient 5xx (0–1), from a seeded generator. */
    transientErrorRate: z.number().min(0).max(1).default(0),
    /** The SES sandbox: only verifiedAddresses (and the sender) are accepted. */
    sandbox: z.boolean().default(false),
    verifiedAddresses: z.array(z.string()).max(100_000).default([]),
    /** Sending paused for the account (SendingPausedException). */
    sendingPaused: z.boolean().default(false),
    /**
     * Accepted, then reported as a permanent bounce a minute later (as SES does for an address that does not
     * exist, or one on the account's suppression list), through the same event path as on AWS.
     */
    bounceAddresses: z.array(z.string()).max(100_000).default([]),
    /** Accepted and delivered, then reported as a complaint (marked as spam) a minute later, as SES does. */
    complaintAddresses: z.array(z.string()).max(100_000).default([]),
    /** Real milliseconds a SendEmail takes on average (0.5–1.5×), as a network round trip does (0: at once). */
    latencyMs: z.number().int().min(0).max(10_000).default(0),
    seed: z.number().int().default(1),
  })
  .strict();
export type SesFaults = z.infer<typeof sesFaultsSchema>;

/** AWS End User Messaging SMS (SendTextMessage), as local/sms-gateway.ts answers it. */
export const smsFaultsSchema = z
  .object({
    /** The SMS service unreachable (connections dropped) until this instant of the virtual clock; null: reachable. */
    downUntil: z.iso.datetime({ offset: true }).nullable().default(null),
    /** Messages per second the origination identity allows (MPS); faster sends get ThrottlingException. */
    maxSendRate: z.number().positive().max(10_000).default(20),
    /** Numbers refused for good (ValidationException): not a mobile number, a blocked destination. */
    rejectNumbers: z.array(z.string()).max(100_000).default([]),
    /** Numbers on the opt-out list (ConflictException, reason DESTINATION_PHONE_NUMBER_OPTED_OUT). */
    optedOutNumbers: z.array(z.string()).max(100_000).default([]),
    /** Share of sends answered with InternalServerException (500), from a seeded generator (0–1). */
    transientErrorRate: z.number().min(0).max(1).default(0),
    seed: z.number().int().default(1),
  })
  .strict();
export type SmsFaults = z.infer<typeof smsFaultsSchema>;

export const faultsSchema = z
  .object({
    ses: sesFaultsSchema.default(sesFaultsSchema.parse({})),
    sms: smsFaultsSchema.default(smsFaultsSchema.parse({})),
    lambda: z
      .object({
        /** Every function's time budget in seconds (default: its timeout in functions/registry.ts). */
        timeBudgetSeconds: z.number().positive().max(900).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type Faults = z.infer<typeof faultsSchema>;

/** A partial update: what is given replaces what was set, the rest stays. */
export const faultsPatchSchema = z
  .object({
    ses: sesFaultsSchema.partial().optional(),
    sms: smsFaultsSchema.partial().optional(),
    lambda: z
      .object({ timeBudgetSeconds: z.number().positive().max(900).nullable().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type FaultsPatch = z.infer<typeof faultsPatchSchema>;

export class FaultsFileError extends Error {
  constructor(readonly messageZh: string) {
    super(messageZh);
  }
}

export function readFaultsFile(file: string): FaultsPatch {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FaultsFileError(`无法读取故障配置文件 ${file}：${(err as Error).message}`);
  }
  const r = faultsPatchSchema.safeParse(raw);
  if (!r.success)
    throw new FaultsFileError(
      `故障配置文件 ${file} 有误：${r.error.issues.map((i) => `${i.path.join('.') || '（文件）'}：${i.message}`).join('；')}`,
    );
  return r.data;
}

/** The faults in force, changed at run time. */
export class FaultState {
  current: Faults = faultsSchema.parse({});

  apply(patch: FaultsPatch): Faults {
    const lambda = { ...this.current.lambda };
    if (patch.lambda && 'timeBudgetSeconds' in patch.lambda) {
      if (patch.lambda.timeBudgetSeconds === null || patch.lambda.timeBudgetSeconds === undefined)
        delete lambda.timeBudgetSeconds;
      else lambda.timeBudgetSeconds = patch.lambda.timeBudgetSeconds;
    }
    this.current = faultsSchema.parse({
      ses: { ...this.current.ses, ...(patch.ses ?? {}) },
      sms: { ...this.current.sms, ...(patch.sms ?? {}) },
      lambda,
    });
    return this.current;
  }

  budgetMs(name: HandlerName, timeoutSeconds: number): number {
    return (this.current.lambda.timeBudgetSeconds ?? timeoutSeconds) * 1000;
  }
}
