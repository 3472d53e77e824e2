// Starting delivery runs: one per moment whatever the number of producers; a late run for notices recorded after
// the moment's run finished, and another one when even that has finished (same second, a clock standing still).
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureDeliveryRun } from '../../functions/adapters/delivery-starter.ts';
import { clock } from '../../functions/core/clock.ts';

const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
/** Runs going that have taken their last look at the outbox (their state says `closing`). */
let closing: Set<string>;
const ARN = 'arn:aws:states:ap-southeast-1:123456789012:stateMachine:safeduty-delivery';
/** Names of executions that exist and have finished: starting one again is refused. */
let finished: Set<string>;
let started: string[];
let restore: () => void;

beforeEach(() => {
  sfn.reset();
  ddb.reset();
  closing = new Set();
  ddb.on(GetCommand).callsFake(async (input: { Key: { SK: string } }) => {
    const holder = input.Key.SK.replace(/^RUN#/, '');
    return closing.has(holder)
      ? { Item: { PK: 'DELIVERY', SK: input.Key.SK, state: { closing: true } } }
      : {};
  });
  finished = new Set();
  started = [];
  sfn.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
    if (finished.has(input.name))
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${input.name}'`,
        $metadata: {},
      });
    started.push(`${input.name} ${(JSON.parse(input.input) as { moment: string }).moment}`);
    return { executionArn: `${ARN}:${input.name}`, startDate: new Date(), $metadata: {} };
  });
  vi.stubEnv('DELIVERY_STATE_MACHINE_ARN', ARN);
  vi.stubEnv('TABLE_NAME', 'safeduty-test');
  restore = clock.use(() => Date.parse('2023-03-06T10:00:00+08:00'));
});
afterEach(() => {
  restore();
  vi.unstubAllEnvs();
});
afterAll(() => {
  sfn.restore();
  ddb.restore();
});

describe('ensureDeliveryRun', () => {
  it('starts the run of a moment under its name; a moment to come is left to that run', async () => {
    await ensureDeliveryRun('2023-03-06T14:30:00+08:00');
    expect(started).toEqual(['delivery-20230306T1430 2023-03-06T14:30:00+08:00']);
    finished.add('delivery-20230306T1430');
    await ensureDeliveryRun('2023-03-06T14:30:00+08:00');
    expect(started).toHaveLength(1);
  });

  it('a run still going but closing (its last look taken) counts as finished: a late run starts now', async () => {
    // Starting a running execution by its name and input answers "started" again.
    closing.add('delivery-20230306T0900');
    await ensureDeliveryRun('2023-03-06T09:00:00+08:00');
    expect(started).toEqual([
      'delivery-20230306T0900 2023-03-06T09:00:00+08:00',
      'delivery-20230306T1000-r100000 2023-03-06T10:00:00+08:00',
    ]);
    // A run going and not closing picks the notices up itself.
    started = [];
    await ensureDeliveryRun('2023-03-06T10:00:00+08:00');
    expect(started).toEqual(['delivery-20230306T1000 2023-03-06T10:00:00+08:00']);
  });

  it("after the moment's run finished, starts a late run now; after that one finished too, the next name", async () => {
    finished.add('delivery-20230306T0900');
    await ensureDeliveryRun('2023-03-06T09:00:00+08:00');
    finished.add('delivery-20230306T1000-r100000');
    await ensureDeliveryRun('2023-03-06T09:00:00+08:00');
    finished.add('delivery-20230306T1000-r100000-2');
    await ensureDeliveryRun('2023-03-06T09:00:00+08:00');
    expect(started).toEqual([
      'delivery-20230306T1000-r100000 2023-03-06T10:00:00+08:00',
      'delivery-20230306T1000-r100000-2 2023-03-06T10:00:00+08:00',
      'delivery-20230306T1000-r100000-3 2023-03-06T10:00:00+08:00',
    ]);
  });
});
