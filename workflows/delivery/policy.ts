// The delivery policy: when what a person is owed reaches them. Data (policy.json, or a deployment's own file),
// read by the planners, the delivery run and the docs; the decisions below are pure functions of the policy, the
// official working-day calendar and an instant, so AWS and the local runtime cannot disagree.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { addDays, shanghaiDateOf, shanghaiInstant } from '../calendar.ts';
import { TrackedCalendar } from '../tracked-calendar.ts';
import builtInPolicy from './policy.json' with { type: 'json' };

/** Environment variable naming a deployment's delivery policy file. */
export const DELIVERY_POLICY_ENV = 'SAFEDUTY_DELIVERY_POLICY';

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM');

export const deliveryPolicySchema = z
  .object({
    /** Routine mail goes out at these times of day, on working days of the official calendar only. */
    routineMoments: z
      .array(timeOfDay)
      .min(1)
      .max(6)
      .refine((m) => m.every((t, i) => i === 0 || (m[i - 1] as string) < t), {
        message: 'must be in increasing order without repeats',
      }),
    /** Nothing but an immediate notice (a warning that must be answered) is sent between `from` and `until`. */
    quietHours: z.object({ from: timeOfDay, until: timeOfDay }).strict(),
    /** Producers record a moment's notices this long before it, so its one email per person has them all. */
    prepareLeadMinutes: z.number().int().min(1).max(120),
    /** A reminder that would reach its reader less than this before the deadline goes out urgently instead. */
    reminderMinimumLeadMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60),
    /**
     * Which routine moment of the day a reminder takes: `first-of-day` (the day's first moment not after the
     * catalog's instant: everything a person must do that day comes in one morning email) or `latest` (the last
     * moment not after it: as close to the catalog's instant as the moments allow).
     */
    reminderMoment: z.enum(['first-of-day', 'latest']).default('first-of-day'),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.routineMoments.forEach((m, i) => {
      if (isQuietTime(p, m))
        ctx.addIssue({ code: 'custom', path: ['routineMoments', i], message: 'must be outside quiet hours' });
    });
  });
export type DeliveryPolicy = z.infer<typeof deliveryPolicySchema>;

/**
 * How soon a notice must reach its reader:
 * - routine: at the next routine moment (working days, office hours), grouped with everything else owed then;
 * - urgent: at once, but never in quiet hours (a reminder that cannot wait for the next routine moment, the
 *   listing of a major hidden danger);
 * - immediate: at once, day or night (reserved for warnings that must be answered).
 */
export const URGENCIES = ['routine', 'urgent', 'immediate'] as const;
export type Urgency = (typeof URGENCIES)[number];

export class DeliveryPolicyError extends Error {
  override readonly name = 'DeliveryPolicyError';
  constructor(
    readonly origin: string,
    readonly problems: string[],
    readonly messageZh: string,
  ) {
    super(`Invalid delivery policy ${origin}: ${problems.join('; ')}`);
  }
}

export function parseDeliveryPolicy(raw: unknown, origin: string): DeliveryPolicy {
  const r = deliveryPolicySchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
  throw new DeliveryPolicyError(
    origin,
    problems,
    `投递策略 ${origin} 校验未通过：${r.error.issues.map((i) => `字段 ${i.path.join('.') || '（文件）'}：${policyProblemZh(i.message)}`).join('；')}`,
  );
}

function policyProblemZh(message: string): string {
  if (message.startsWith('must be a time of day')) return '应为 HH:MM 格式的时刻';
  if (message.startsWith('must be in increasing order')) return '须按时间先后排列且不重复';
  if (message.startsWith('must be outside quiet hours')) return '不能落在免打扰时段内';
  if (/expected number/.test(message)) return '应为数字';
  if (/expected array/.test(message)) return '应为时刻列表';
  if (/expected object/.test(message)) return '应为 { from, until } 对象';
  if (/Too (small|big)/.test(message)) return '超出允许的范围';
  if (/Unrecognized key/.test(message)) return '未知字段';
  return message;
}

let cached: { key: string; policy: DeliveryPolicy } | undefined;

/** The policy in force: a deployment's file (`file` or SAFEDUTY_DELIVERY_POLICY), else the built-in one. */
export function loadDeliveryPolicy(options: { file?: string } = {}): DeliveryPolicy {
  const file = options.file ?? process.env[DELIVERY_POLICY_ENV];
  const key = file ?? '(built-in)';
  if (cached?.key === key) return cached.policy;
  let policy: DeliveryPolicy;
  if (file) {
    const path = resolve(file);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new DeliveryPolicyError(path, [String(err)], `无法读取投递策略文件 ${path}：${String(err)}`);
    }
    policy = parseDeliveryPolicy(raw, path);
  } else {
    policy = parseDeliveryPolicy(builtInPolicy, 'built-in policy.json');
  }
  cached = { key, policy };
  return policy;
}

// ---------------------------------------------------------------------------------------------------------
// Decisions

const MINUTE = 60_000;
/** Far enough to cross the longest run of rest days (the Spring Festival and National Day weeks). */
const SEARCH_DAYS = 40;

function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

function isQuietTime(p: Pick<DeliveryPolicy, 'quietHours'>, time: string): boolean {
  const t = minutesOf(time);
  const from = minutesOf(p.quietHours.from);
  const until = minutesOf(p.quietHours.until);
  return from > until ? t >= from || t < until : t >= from && t < until;
}

function timeOfDayOf(ms: number): string {
  const shifted = new Date(ms + 8 * 3_600_000);
  return `${String(shifted.getUTCHours()).padStart(2, '0')}:${String(shifted.getUTCMinutes()).padStart(2, '0')}`;
}

/** The policy's decisions on the official calendar; one instance per plan keeps its unverified-year warnings. */
export class DeliverySchedule {
  constructor(
    readonly policy: DeliveryPolicy,
    readonly cal: TrackedCalendar = new TrackedCalendar(),
  ) {}

  isQuiet(ms: number): boolean {
    return isQuietTime(this.policy, timeOfDayOf(ms));
  }

  /** The end of the quiet hours containing ms (ms itself when not quiet). */
  quietEnd(ms: number): number {
    if (!this.isQuiet(ms)) return ms;
    const date = shanghaiDateOf(new Date(ms));
    const today = shanghaiInstant(date, this.policy.quietHours.until).getTime();
    return today > ms ? today : shanghaiInstant(addDays(date, 1), this.policy.quietHours.until).getTime();
  }

  private momentsOn(date: string): number[] {
    if (!this.cal.isWorkday(date)) return [];
    return this.policy.routineMoments.map((t) => shanghaiInstant(date, t).getTime());
  }

  /** The latest routine moment m with notBefore ≤ m ≤ ms, if any. */
  latestRoutineAtOrBefore(ms: number, notBeforeMs: number): number | undefined {
    const stop = shanghaiDateOf(new Date(notBeforeMs));
    let date = shanghaiDateOf(new Date(ms));
    for (let i = 0; i <= SEARCH_DAYS && date >= stop; i++, date = addDays(date, -1)) {
      const found = this.momentsOn(date)
        .filter((m) => m <= ms && m >= notBeforeMs)
        .at(-1);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The earliest routine moment at or after ms. */
  earliestRoutineAtOrAfter(ms: number): number {
    let date = shanghaiDateOf(new Date(ms));
    for (let i = 0; i <= SEARCH_DAYS; i++, date = addDays(date, 1)) {
      const found = this.momentsOn(date).find((m) => m >= ms);
      if (found !== undefined) return found;
    }
    throw new Error(`no working day within ${SEARCH_DAYS} days of ${new Date(ms).toISOString()}`);
  }

  /** Whether mail of this urgency may go out at ms. Routine mail waits for working days and office hours. */
  allows(ms: number, urgency: Urgency): boolean {
    if (urgency === 'immediate') return true;
    if (this.isQuiet(ms)) return false;
    return urgency === 'urgent' || this.cal.isWorkday(shanghaiDateOf(new Date(ms)));
  }

  /** The first instant at or after ms when mail of this urgency may go out (routine mail: a routine moment). */
  nextAllowed(ms: number, urgency: Urgency): number {
    if (this.allows(ms, urgency)) return ms;
    return urgency === 'routine' ? this.earliestRoutineAtOrAfter(ms) : this.quietEnd(ms);
  }

  /**
   * Where a reminder the catalog wants at `catalogAt` goes: with `first-of-day`, the first routine moment of that
   * day not after it; else (or with `latest`) the latest routine moment at or before it (never later than the
   * catalog says, never before the duty's window opens); else the first routine moment after it
   * that still leaves the minimum lead before the deadline; else urgently at the catalog's instant, moved out
   * of quiet hours. Undefined when it could not reach anyone before the deadline.
   */
  placeReminder(catalogAtMs: number, deadlineMs: number, opensAtMs: number): Placement | undefined {
    const at = Math.max(catalogAtMs, opensAtMs);
    if (this.policy.reminderMoment === 'first-of-day') {
      const morning = this.momentsOn(shanghaiDateOf(new Date(at))).find((m) => m >= opensAtMs && m <= at);
      if (morning !== undefined) return { at: morning, urgency: 'routine' };
    }
    const latest = this.latestRoutineAtOrBefore(at, opensAtMs);
    if (latest !== undefined) return { at: latest, urgency: 'routine' };
    const lead = this.policy.reminderMinimumLeadMinutes * MINUTE;
    const next = this.earliestRoutineAtOrAfter(at);
    if (next <= deadlineMs - lead) return { at: next, urgency: 'routine' };
    const urgent = this.quietEnd(at);
    return urgent < deadlineMs ? { at: urgent, urgency: 'urgent' } : undefined;
  }

  /** Escalations are routine: the first routine moment at or after the catalog's instant. */
  placeEscalation(catalogAtMs: number): Placement {
    return { at: this.earliestRoutineAtOrAfter(catalogAtMs), urgency: 'routine' };
  }

  /** A notice of something that happened at `ms` (a case event): as soon as its urgency allows. */
  placeNotice(ms: number, urgency: Urgency): Placement {
    return { at: this.nextAllowed(ms, urgency), urgency };
  }

  /** When producers record the notices of a moment. */
  prepareAt(momentMs: number): number {
    return momentMs - this.policy.prepareLeadMinutes * MINUTE;
  }
}

export interface Placement {
  at: number;
  urgency: Urgency;
}
