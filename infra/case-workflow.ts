import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildAdvanceLoop } from '../workflows/machines.ts';

export interface CaseWorkflowProps {
  /** The caseAdvance function: the machine's one task. */
  advance: IFunction;
  logRetention: logs.RetentionDays;
}

/**
 * The case state machine: one Standard execution per case (named from the case id, `_g<N>` for later
 * generations), the same advance loop as the duty cycles. It is named from the stack (`<stack>-case`) so the
 * continuation grant inside the definition can name its own ARN without a circular reference. The task also
 * gets the execution's name: an event can start a newer generation while an older execution waits, and the
 * older one ends quietly when it sees it is behind.
 */
export class CaseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: CaseWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachineName = `${stack.stackName}-case`;
    const selfArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Under /aws/vendedlogs/ (see the duty cycle's log group for why).
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
          idFields: ['caseId'],
          selfArn,
          passExecutionName: true,
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
        'Versions and aliases of the one caseAdvance function (lambda:InvokeFunction from the LambdaInvoke task).',
    })) {
      Validations.of(this.stateMachine.role as iam.Role).acknowledge({ id: findingId, reason });
    }
  }
}
