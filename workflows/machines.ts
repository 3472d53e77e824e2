import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/** State names are part of the contract with the local runtime, which attaches its handlers by name. */
export const STATE = {
  advance: 'Advance',
  route: 'Route',
  wait: 'WaitForNextStage',
  continueAsNew: 'ContinueAsNew',
  recordFailure: 'RecordFailure',
  closed: 'Closed',
  continued: 'Continued',
  failed: 'Failed',
} as const;

export interface AdvanceLoopProps {
  /**
   * The task function: `{ action: 'advance', ...ids, executionName?, executionStartTime }` →
   * `{ status, wakeAt?, generation? }`.
   */
  advance: IFunction;
  /** Fields of the execution input that identify the subject (e.g. dutyId, periodKey or caseId). */
  idFields: readonly string[];
  /**
   * The ARN of the state machine being built (formatted from its name, so the grant does not depend on the
   * machine itself): the continuation starts a new execution of it.
   */
  selfArn: string;
  /**
   * Also pass `executionName` (`$$.Execution.Name`) to the task. Cases need it: an event can start a newer
   * generation of a case while an older execution still waits, and the older one ends when it sees that its
   * name's generation is behind the record's.
   */
  passExecutionName?: boolean;
}

/**
 * The shape every safeduty workflow shares: advance the record to now, then wait until the next instant the
 * record says matters, and repeat. The record is the truth and the execution only the clock, so an execution
 * can be restarted from the start at any time and a long-running subject continues in a new execution
 * (Standard executions are limited to one year). JSONPath only: the local interpreter does not evaluate JSONata.
 */
export function buildAdvanceLoop(scope: Construct, props: AdvanceLoopProps): sfn.IChainable {
  const advance = new tasks.LambdaInvoke(scope, STATE.advance, {
    lambdaFunction: props.advance,
    payload: sfn.TaskInput.fromObject({
      action: 'advance',
      ...Object.fromEntries(props.idFields.map((f) => [f, sfn.JsonPath.stringAt(`$.${f}`)])),
      ...(props.passExecutionName ? { executionName: sfn.JsonPath.stringAt('$$.Execution.Name') } : {}),
      executionStartTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
    }),
    resultSelector: { 'result.$': '$.Payload' },
    resultPath: '$.advance',
    retryOnServiceExceptions: false,
    taskTimeout: sfn.Timeout.duration(Duration.minutes(15)),
  });
  // A bad input or record is not made better by retrying; everything else (throttling, a crashed container,
  // DynamoDB hiccups, a timeout) is retried with backoff. The step is idempotent, so a retry is always safe.
  // The schedule (10 s doubling to 10 min, 10 attempts: about 25 minutes with full jitter) outlives the delivery
  // lease (the function's timeout plus a minute), so a run that crashed holding it is retried after it expires;
  // after that the reconciler starts the work again.
  advance.addRetry({ errors: ['ValidationError', 'UnknownDutyError', 'CalendarError'], maxAttempts: 0 });
  advance.addRetry({
    errors: ['States.ALL'],
    interval: Duration.seconds(10),
    backoffRate: 2,
    maxAttempts: 10,
    maxDelay: Duration.minutes(10),
    jitterStrategy: sfn.JitterType.FULL,
  });

  const recordFailure = new tasks.LambdaInvoke(scope, STATE.recordFailure, {
    lambdaFunction: props.advance,
    payload: sfn.TaskInput.fromObject({
      action: 'record-failure',
      ...Object.fromEntries(props.idFields.map((f) => [f, sfn.JsonPath.stringAt(`$.${f}`)])),
      error: sfn.JsonPath.objectAt('$.error'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
    retryOnServiceExceptions: true,
  });
  const failed = new sfn.Fail(scope, STATE.failed, {
    errorPath: '$.error.Error',
    causePath: '$.error.Cause',
  });
  recordFailure.next(failed);
  advance.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

  const wait = new sfn.Wait(scope, STATE.wait, {
    time: sfn.WaitTime.timestampPath('$.advance.result.wakeAt'),
  });

  // Standard executions are limited to a year: a long subject continues in a new execution of this machine.
  const continueAsNew = new tasks.StepFunctionsStartExecution(scope, STATE.continueAsNew, {
    stateMachine: sfn.StateMachine.fromStateMachineArn(scope, 'SelfForContinuation', props.selfArn),
    // The task names the continuation from the record's generation, so a repeated start is harmless.
    name: sfn.JsonPath.stringAt('$.advance.result.nextExecutionName'),
    input: sfn.TaskInput.fromObject(
      Object.fromEntries(props.idFields.map((f) => [f, sfn.JsonPath.stringAt(`$.${f}`)])),
    ),
    integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    resultPath: sfn.JsonPath.DISCARD,
  });
  const continued = new sfn.Succeed(scope, STATE.continued);
  continueAsNew.addRetry({
    errors: ['StepFunctions.SdkClientException', 'StepFunctions.StepFunctionsException', 'States.TaskFailed'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 5,
    jitterStrategy: sfn.JitterType.FULL,
  });
  // A restarted execution may find its continuation already started: that is the goal reached, not a failure.
  continueAsNew.addCatch(continued, {
    errors: ['StepFunctions.ExecutionAlreadyExistsException'],
    resultPath: sfn.JsonPath.DISCARD,
  });
  continueAsNew.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  continueAsNew.next(continued);

  const route = new sfn.Choice(scope, STATE.route)
    .when(
      sfn.Condition.stringEquals('$.advance.result.status', 'closed'),
      new sfn.Succeed(scope, STATE.closed),
    )
    .when(sfn.Condition.stringEquals('$.advance.result.status', 'continue'), continueAsNew)
    .otherwise(wait);
  wait.next(advance);

  return advance.next(route);
}
