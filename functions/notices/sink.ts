// Recording what people are owed: the one operation producers need. A stage is done when its notices are
// recorded; delivery, with its own retries, takes it from there.
import { toShanghaiIso } from '../../workflows/calendar.ts';
import type { DeliverySchedule } from '../../workflows/delivery/policy.ts';
import type { Notice } from './model.ts';

export interface NoticeSink {
  /** Writes notices idempotently: the same stage recorded again writes the same keys. */
  record(notices: readonly Notice[]): Promise<void>;
  /** Makes sure a delivery run takes place at this moment (starting one is idempotent by name). */
  ensureDelivery(moment: string): Promise<void>;
}

/** A late moment is now, to the second: producers running late together share one delivery run. */
function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Records notices and makes sure each is delivered when its moment (or, if late, the earliest allowed time) comes. */
export async function recordNotices(
  sink: NoticeSink,
  notices: readonly Notice[],
  schedule: DeliverySchedule,
  nowMs: number,
): Promise<void> {
  if (notices.length === 0) return;
  await sink.record(notices);
  const moments = new Set(
    notices.map((n) => {
      const at = Date.parse(n.at);
      return toShanghaiIso(new Date(at >= nowMs ? at : schedule.nextAllowed(wholeSecond(nowMs), n.urgency)));
    }),
  );
  for (const m of moments) await sink.ensureDelivery(m);
}
