import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients.ts';

/**
 * Starts an execution of the machine whose ARN is in `arnVariable`, under a name derived from what it is for.
 * 'exists' when that name was already started (a retry, another producer): execution names are the idempotency
 * of every start.
 */
export async function startExecutionOnce(
  arnVariable: 'CYCLE_STATE_MACHINE_ARN' | 'CASE_STATE_MACHINE_ARN' | 'DELIVERY_STATE_MACHINE_ARN',
  name: string,
  input: unknown,
): Promise<'started' | 'exists'> {
  const stateMachineArn = process.env[arnVariable];
  if (!stateMachineArn) throw new Error(`${arnVariable} is not set`);
  try {
    await sfnClient().send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return 'started';
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as { name?: string }).name === 'ExecutionAlreadyExists')
      return 'exists';
    throw err;
  }
}
