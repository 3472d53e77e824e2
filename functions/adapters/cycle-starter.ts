import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { cycleExecutionName } from '../core/dispatch.ts';
import { sfnClient } from './clients.ts';

/** Starts a cycle's execution; one already started under the same name (a retry) is left as it is. */
export async function startCycleExecution(
  dutyId: string,
  periodKey: string,
): Promise<'started' | 'existing'> {
  const stateMachineArn = process.env.CYCLE_STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('CYCLE_STATE_MACHINE_ARN is not set');
  try {
    await sfnClient().send(
      new StartExecutionCommand({
        stateMachineArn,
        name: cycleExecutionName(dutyId, periodKey),
        input: JSON.stringify({ dutyId, periodKey }),
      }),
    );
    return 'started';
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as { name?: string }).name === 'ExecutionAlreadyExists')
      return 'existing';
    throw err;
  }
}
