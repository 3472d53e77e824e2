import { toShanghaiIso } from '../../workflows/calendar.ts';
import { deliveryExecutionName } from '../delivery/model.ts';
import { clock } from '../core/clock.ts';
import { startExecutionOnce } from './executions.ts';
import { leaseStore } from './outbox-store.ts';

/**
 * Starting a run by a name already going answers "started" too (same name and input): a run that has taken its last
 * look at the outbox counts as finished, or the notices just recorded would wait for the reconciler.
 */
async function start(name: string, moment: string): Promise<'started' | 'exists'> {
  if ((await startExecutionOnce('DELIVERY_STATE_MACHINE_ARN', name, { moment })) === 'exists')
    return 'exists';
  return (await leaseStore.loadRun(name))?.closing ? 'exists' : 'started';
}

/**
 * Makes sure a delivery run takes place at a moment: one execution per moment, named after it, so every producer
 * of the moment starting it gets the same one. If that run already finished (notices recorded late), a run
 * starts now for them.
 */
export async function ensureDeliveryRun(moment: string): Promise<void> {
  if ((await start(deliveryExecutionName(moment), moment)) === 'started') return;
  const now = clock.now();
  if (Date.parse(moment) > now.getTime()) return;
  const nowIso = toShanghaiIso(now);
  // Same name and input while it runs returns the running execution (it picks the notices up in its next pass);
  // "exists" means that run has finished, so the next name is tried: two producers late in the same second (a
  // clock standing still locally) must not leave the second's notices to the reconciler.
  const base = `-r${nowIso.slice(11, 19).replace(/:/g, '')}`;
  for (let n = 1; n <= LATE_RUN_NAMES; n++) {
    const name = deliveryExecutionName(nowIso, n === 1 ? base : `${base}-${n}`);
    if ((await start(name, nowIso)) === 'started') return;
  }
  // All taken: the outbox marker stays, and the reconciler starts a run within 20 minutes.
}

/** Late runs tried for one second before leaving the notices to the reconciler. */
const LATE_RUN_NAMES = 20;
