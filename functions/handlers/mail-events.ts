import { DeliverySchedule, loadDeliveryPolicy } from '../../workflows/delivery/policy.ts';
import { ensureDeliveryRun } from '../adapters/delivery-starter.ts';
import { addressesStore, outboxStore, recordsStore } from '../adapters/outbox-store.ts';
import { getUnit } from '../adapters/store.ts';
import { clock } from '../core/clock.ts';
import { safetyOfficeUnitId } from '../core/directory.ts';
import { refusalReport, refusalsOf, sesMailEventSchema } from '../delivery/refusals.ts';
import { recordNotices } from '../notices/sink.ts';
import { logger, workflowHandler } from './common.ts';

const schedule = new DeliverySchedule(loadDeliveryPolicy());

/**
 * SES events from the configuration set, through EventBridge: a permanent bounce or a complaint after SES
 * accepted an email. The address is marked undeliverable (later emails to it are suppressed), the email's record
 * says it failed, and 安委办 is told in its next routine email — as for an address refused at sending.
 */
export const handler = workflowHandler(sesMailEventSchema, async (event) => {
  const refusals = refusalsOf(event);
  if (refusals.length === 0) return { refused: 0 };
  const nowMs = clock.nowMs();
  const at = new Date(nowMs).toISOString();
  const office = (await getUnit(safetyOfficeUnitId()))?.contact;
  const reports = [];
  for (const r of refusals) {
    await addressesStore.markUndeliverable(r.address, r.reasonZh, r.error, at);
    const record = r.recordKey
      ? await recordsStore.markRefused(r.address, r.recordKey, r.error, r.reasonZh)
      : undefined;
    logger.warn('an address was refused after sending', { address: r.address, error: r.error });
    if (office && office.email.toLowerCase() !== r.address.toLowerCase())
      reports.push(
        refusalReport(
          office,
          {
            address: r.address,
            name: record?.name ?? r.address,
            about: record?.carried.map((c) => c.titleZh) ?? [],
          },
          r.reasonZh,
          schedule,
          nowMs,
        ),
      );
  }
  await recordNotices(
    { record: (n) => outboxStore.record(n), ensureDelivery: ensureDeliveryRun },
    reports,
    schedule,
    nowMs,
  );
  return { refused: refusals.length };
});
