// The local engine's order of work: one job at a time, as tests expect to read it, until a job waits long inside
// itself (a delivery pacing a wave), when jobs due meanwhile run beside it as executions do on AWS.
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../local/clock.ts';
import { LocalStepFunctions } from '../../local/engine.ts';

const T0 = Date.parse('2023-02-06T09:00:00+08:00');

describe('jobs on the virtual clock', () => {
  it('a job due while a long job paces itself runs then, not after it', async () => {
    const clock = new VirtualClock(new Date(T0));
    const engine = new LocalStepFunctions(clock);
    const seen: string[] = [];
    engine.schedule(T0, 'wave', async () => {
      // Ten minutes of sends, one a second.
      for (let i = 0; i < 600; i++) await clock.sleep(1_000);
      seen.push(`wave ended ${(clock.nowMs() - T0) / 1000}`);
    });
    engine.schedule(T0 + 300_000, 'warning', async () => {
      seen.push(`warning ran ${(clock.nowMs() - T0) / 1000}`);
    });
    await engine.advanceTo(T0 + 3_600_000);
    expect(seen).toEqual(['warning ran 300', 'wave ended 600']);
  });

  it('jobs that take no time run one after the other in the order of their instants', async () => {
    const clock = new VirtualClock(new Date(T0));
    const engine = new LocalStepFunctions(clock);
    const seen: string[] = [];
    for (const [i, at] of [T0 + 500, T0, T0 + 500, T0 + 200].entries())
      engine.schedule(at, `job ${i}`, async () => {
        seen.push(`start ${i}`);
        await clock.sleep(100);
        seen.push(`end ${i}`);
      });
    await engine.advanceTo(T0 + 1_000);
    expect(seen).toEqual(['start 1', 'end 1', 'start 3', 'end 3', 'start 0', 'end 0', 'start 2', 'end 2']);
  });

  it('an error of a job run beside another is thrown once both have ended', async () => {
    const clock = new VirtualClock(new Date(T0));
    const engine = new LocalStepFunctions(clock);
    let waveEnded = false;
    engine.schedule(T0, 'wave', async () => {
      for (let i = 0; i < 10; i++) await clock.sleep(1_000);
      waveEnded = true;
    });
    engine.schedule(T0 + 5_000, 'broken', async () => {
      throw new Error('broken job');
    });
    await expect(engine.advanceTo(T0 + 60_000)).rejects.toThrow('broken job');
    expect(waveEnded).toBe(true);
  });

  it('a job beside another runs in its own context, not inside the other job’s invocation', async () => {
    const clock = new VirtualClock(new Date(T0));
    const engine = new LocalStepFunctions(clock);
    const invocation = new AsyncLocalStorage<string>();
    let seen: string | undefined = 'not run';
    engine.schedule(T0, 'wave', () =>
      invocation.run('deliver', async () => {
        for (let i = 0; i < 10; i++) await clock.sleep(1_000);
      }),
    );
    engine.schedule(T0 + 5_000, 'submission', async () => {
      seen = invocation.getStore();
    });
    await engine.advanceTo(T0 + 60_000);
    expect(seen).toBeUndefined();
  });

  it('a job due past the instant asked for runs beside a job that has taken the clock there (a ticker’s step)', async () => {
    const clock = new VirtualClock(new Date(T0));
    const engine = new LocalStepFunctions(clock);
    const seen: string[] = [];
    engine.schedule(T0, 'wave', async () => {
      for (let i = 0; i < 600; i++) await clock.sleep(1_000);
    });
    engine.schedule(T0 + 300_000, 'warning', async () => {
      seen.push(`warning ran ${(clock.nowMs() - T0) / 1000}`);
    });
    await engine.advanceTo(T0);
    expect(seen).toEqual(['warning ran 300']);
  });
});
