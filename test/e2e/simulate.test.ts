import { describe, expect, it } from 'vitest';
import { generateRoster, ROSTER_SIZES } from '../../local/roster.ts';
import { simulate } from '../../local/simulate.ts';

describe('safeduty simulate', () => {
  it('runs the engine over a span and reports the same counts for the same seed', async () => {
    const run = () =>
      simulate({
        from: '2023-02-06',
        to: '2023-02-12',
        roster: generateRoster(ROSTER_SIZES.small, 7),
        seed: 7,
      });
    const first = await run();
    expect(first).toMatchObject({ from: '2023-02-06', to: '2023-02-12', units: 25 });
    for (const key of ['executions', 'stateTransitions', 'invocations'] as const)
      expect(first[key]).toBeGreaterThan(0);
    expect(first.dynamodb.reads).toBeGreaterThan(0);
    expect(first.dynamodb.writes).toBeGreaterThan(0);
    // Submissions and cycle records are in the indexes: DynamoDB bills those writes too.
    expect(first.dynamodb.indexWriteUnits).toBeGreaterThan(0);
    expect(first.dynamodb.writeUnits).toBeGreaterThan(first.dynamodb.writes);
    expect(first.emails.total).toBeGreaterThan(0);
    expect(first.emails.notices.cycle).toBeGreaterThanOrEqual(first.emails.total);
    expect(first.emails.maxPerAddressDay.count).toBeGreaterThan(0);
    // One email per person per moment and a shared roster sweep: fewer emails, and far fewer transitions, than one
    // execution per unit.
    expect(first.emails.total).toBeLessThan(first.alternative.emails);
    expect(first.stateTransitions).toBeLessThan(first.alternative.stateTransitions);

    const second = await run();
    const counts = (r: typeof first) => ({ ...r, wallSeconds: 0, peakRssMb: 0 });
    expect(counts(second)).toEqual(counts(first));
  }, 120_000);
});
