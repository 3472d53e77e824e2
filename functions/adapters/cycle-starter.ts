import { cycleExecutionName } from '../core/dispatch.ts';
import { startExecutionOnce } from './executions.ts';

/** Starts a cycle's execution; one already started under the same name (a retry) is left as it is. */
export async function startCycleExecution(dutyId: string, periodKey: string): Promise<'started' | 'exists'> {
  return startExecutionOnce('CYCLE_STATE_MACHINE_ARN', cycleExecutionName(dutyId, periodKey), {
    dutyId,
    periodKey,
  });
}
