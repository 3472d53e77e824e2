import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildAdvanceLoop } from '../workflows/machines.ts';

export interface AdvanceLoopMachineProps {
  /** The machine's one task function. */
  advance: IFunction;
  /** The machine's name after the stack's: `<stack>-<suffix>`. */
  nameSuffix: string;
  /** Fields of the execution input that identify the subject (caseId, moment…). */
  idFields: readonly string[];
  /** Pass `$$.Execution.Name` to the task (see buildAdvanceLoop). */
  passExecutionName?: boolean;
  logRetention: logs.RetentionDays;
  /** What the alarms say the machine's executions are (e.g. "A case execution"). */
  describedAs: string;
}

/**
 * A Standard state machine running the advance loop (see workflows/machines.ts) with its log group and the alarms
 * every such machine needs (failed, timed out, aborted executions). Named from the stack so the continuation grant
 * inside the definition, and functions that start executions of it, can name its ARN without a circular reference.
 */
export class AdvanceLoopMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  /** The machine's ARN formatted from its name (usable where a Ref would make a dependency cycle). */
  readonly arn: string;

  constructor(scope: Construct, id: string, props: AdvanceLoopMachineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachineName = `${stack.stackName}-${props.nameSuffix}`;
    this.arn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Under /aws/vendedlogs/ Step Functions does not add each log group to the account-wide CloudWatch Logs
    // resource policy, whose 5,120-character limit otherwise breaks deployments after a few machines.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildAdvanceLoop(this, {
          advance: props.advance,
          idFields: props.idFields,
          selfArn: this.arn,
          ...(props.passExecutionName ? { passExecutionName: true } : {}),
        }),
      ),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    const xray =
      'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions ' +
      '(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).';
    const advanceArn = `<${stack.getLogicalId(props.advance.node.defaultChild as CfnElement)}.Arn>`;
    for (const [findingId, reason] of Object.entries({
      'AwsSolutions-IAM5[Resource::*]':
        `${xray} The CloudWatch Logs delivery actions Step Functions needs for logging (logs:CreateLogDelivery, ` +
        'logs:DescribeResourcePolicies, ...) also support only "*" ' +
        '(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      [`AwsSolutions-IAM5[Resource::${advanceArn}:*]`]:
        'Versions and aliases of the one task function (lambda:InvokeFunction from the LambdaInvoke task).',
    })) {
      Validations.of(this.stateMachine.role as iam.Role).acknowledge({ id: findingId, reason });
    }
    this.describedAs = props.describedAs;
  }

  private readonly describedAs: string;

  /** Failed, timed-out and aborted executions: the reconciler resumes the work, the alarm says it happened. */
  addAlarms(scope: Construct, idPrefix: string, action: cloudwatch.IAlarmAction): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const sm = this.stateMachine;
    const what = this.describedAs;
    return [
      ['Failed', sm.metricFailed({ period, statistic: cloudwatch.Stats.SUM }), `${what} failed.`],
      ['TimedOut', sm.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }), `${what} timed out.`],
      ['Aborted', sm.metricAborted({ period, statistic: cloudwatch.Stats.SUM }), `${what} was aborted.`],
    ].map(([name, metric, text]) => {
      const alarm = new cloudwatch.Alarm(scope, `${idPrefix}${name as string}Alarm`, {
        metric: metric as cloudwatch.IMetric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${text as string} The reconciler starts the work again within 15 minutes; see the execution's history for why.`,
      });
      alarm.addAlarmAction(action);
      return alarm;
    });
  }
}
