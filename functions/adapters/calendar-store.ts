// The holiday arrangements administrators loaded for years the built-in calendar does not cover. Every function
// reads them before it plans (at most every few minutes), so a year loaded through the API is the calendar of every
// cycle, case and delivery moment from then on.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { setLoadedYears, toShanghaiIso, type OfficialYear } from '../../workflows/calendar.ts';
import { clock } from '../core/clock.ts';
import { documentClient, ioCounters, tableName } from './clients.ts';
import { queryAll } from './store.ts';

const PK = 'CALENDAR';

const storedYearSchema = z.object({
  year: z.number().int(),
  source: z.string(),
  holidays: z.record(z.string(), z.string()),
  workdays: z.record(z.string(), z.string()),
  loadedAt: z.string(),
  loadedBy: z.string(),
});
export type StoredYear = z.infer<typeof storedYearSchema>;

export async function listOfficialYears(): Promise<StoredYear[]> {
  const items = await queryAll({
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': PK },
  });
  return items.map((i) => storedYearSchema.parse(i));
}

/** Stores a year (a corrected arrangement replaces the earlier one) and makes it this container's calendar at once. */
export async function putOfficialYear(year: OfficialYear, loadedBy: string): Promise<StoredYear> {
  const stored: StoredYear = { ...year, loadedAt: toShanghaiIso(clock.now()), loadedBy };
  await documentClient().send(
    new PutCommand({ TableName: tableName(), Item: { PK, SK: `YEAR#${year.year}`, ...stored } }),
  );
  ioCounters.writes += 1;
  await refreshOfficialCalendar({ force: true });
  return stored;
}

/** How long a container trusts what it read: a year loaded elsewhere is seen within this time. */
const TTL_MS = 5 * 60_000;
let readAtMs = -Infinity;

/**
 * Reads the loaded years into the calendar, unless read within the last five minutes (virtual minutes locally,
 * so a walk over months reads as often as a deployment would).
 */
export async function refreshOfficialCalendar(options: { force?: boolean } = {}): Promise<void> {
  const now = clock.nowMs();
  const age = now - readAtMs;
  if (!options.force && age >= 0 && age < TTL_MS) return;
  setLoadedYears(await listOfficialYears());
  readAtMs = now;
}

/** A new local run on a fresh table: forget what an earlier run in this process loaded. */
export function forgetOfficialCalendar(): void {
  setLoadedYears([]);
  readAtMs = -Infinity;
}
