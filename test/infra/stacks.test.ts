import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../functions/registry.ts';
import type { HandlerName, HandlerSpec } from '../../functions/registry.ts';
import { STATE } from '../../workflows/machines.ts';
import { consoleBuildCommands } from '../../infra/stateless-stack.ts';
import { apiRoutes } from '../../infra/api.ts';
import { SettingsError, buildApp, loadSettings } from '../../infra/app.ts';
import type { SafedutyApp } from '../../infra/app.ts';
import { aslFromTemplate } from './asl.ts';

const CONTEXT = {
  // NodejsFunction skips esbuild for stacks not listed here: the tests need no bundling.
  'aws:cdk:bundling-stacks': [],
  'safeduty:senderAddress': 'safeduty@example.gov.cn',
  'safeduty:consoleUrl': 'https://safeduty.example.gov.cn',
  'safeduty:region': 'ap-southeast-1',
  'safeduty:alarmEmail': 'ops@example.gov.cn',
  // As in cdk.json: the stateful stack's exports stay while the stateless stack uses them.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

const registry = Object.entries(handlers) as [HandlerName, HandlerSpec][];

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: Record<string, Record<string, string[]>>;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as CfnElement;
  return child.stack.getLogicalId(child);
}

/** Every statement of the identity policies attached to the role of `fn`. */
function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  const statements = Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
  expect(statements.length).toBeGreaterThan(0);
  return statements;
}

describe('safeduty CDK app (bundling skipped)', () => {
  let built: SafedutyApp;
  let stateful: Template;
  let stateless: Template;

  beforeAll(() => {
    built = buildApp({ context: CONTEXT, env: {} });
    // Synthesizing also runs the cdk-nag plugins: an unacknowledged finding throws here.
    stateful = Template.fromStack(built.stateful);
    stateless = Template.fromStack(built.stateless);
  });

  describe('stateful stack', () => {
    it('has one on-demand table with PITR, retained, without a fixed name, and two GSIs', () => {
      stateful.resourceCountIs('AWS::DynamoDB::Table', 1);
      stateful.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          KeySchema: [
            { AttributeName: 'PK', KeyType: 'HASH' },
            { AttributeName: 'SK', KeyType: 'RANGE' },
          ],
          SSESpecification: { SSEEnabled: true },
          GlobalSecondaryIndexes: ['GSI1', 'GSI2'].map((n) => ({
            IndexName: n,
            KeySchema: [
              { AttributeName: `${n}PK`, KeyType: 'HASH' },
              { AttributeName: `${n}SK`, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        },
      });
      const [table] = Object.values(stateful.findResources('AWS::DynamoDB::Table'));
      expect((table as { Properties: Record<string, unknown> }).Properties).not.toHaveProperty('TableName');
    });

    it('has the SES v2 identity for the sender domain and a configuration set with reputation metrics', () => {
      stateful.hasResourceProperties('AWS::SES::EmailIdentity', {
        EmailIdentity: 'example.gov.cn',
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      });
      stateful.hasResourceProperties('AWS::SES::ConfigurationSet', {
        ReputationOptions: { ReputationMetricsEnabled: true },
        SendingOptions: { SendingEnabled: true },
      });
    });
  });

  describe('functions', () => {
    it('creates exactly one Node 22 arm64 function per registry entry, with its memory and timeout', () => {
      stateless.resourceCountIs('AWS::Lambda::Function', registry.length);
      for (const [, spec] of registry) {
        stateless.hasResourceProperties('AWS::Lambda::Function', {
          Description: spec.description,
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          MemorySize: spec.memoryMb,
          Timeout: spec.timeoutSeconds,
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
          Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
        });
      }
      // Without a deployment catalog the functions use the built-in one.
      for (const fn of Object.values(stateless.findResources('AWS::Lambda::Function')))
        expect(JSON.stringify(fn)).not.toMatch(/SAFEDUTY_CATALOG|SAFEDUTY_CASE_TYPES/);
    });

    it('gives every function its own log group with a retention', () => {
      for (const [name] of registry) {
        const fn = built.stateless.functions[name];
        const logGroupId = (
          stateless.findResources('AWS::Lambda::Function')[logicalId(fn)] as {
            Properties: { LoggingConfig: { LogGroup: { Ref: string } } };
          }
        ).Properties.LoggingConfig.LogGroup.Ref;
        stateless.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
        expect(stateless.findResources('AWS::Logs::LogGroup')[logGroupId]).toMatchObject({
          Properties: { RetentionInDays: 365 },
        });
      }
    });

    it('attaches no managed policies to function roles', () => {
      for (const [name] of registry) {
        const role =
          stateless.findResources('AWS::IAM::Role')[logicalId(built.stateless.functions[name].role!)];
        expect(role).toBeDefined();
        expect(
          (role as { Properties: Record<string, unknown> }).Properties.ManagedPolicyArns,
        ).toBeUndefined();
      }
    });

    it('passes the environment the adapters read', () => {
      const fn = (name: HandlerName) =>
        stateless.findResources('AWS::Lambda::Function')[logicalId(built.stateless.functions[name])];
      const deliveryArn = {
        'Fn::Join': ['', expect.arrayContaining([':stateMachine:SafedutyStateless-delivery'])],
      };
      expect(fn('cycleAdvance')).toMatchObject({
        Properties: {
          Environment: {
            Variables: {
              TABLE_NAME: expect.anything(),
              DELIVERY_STATE_MACHINE_ARN: deliveryArn,
              CONSOLE_URL: 'https://safeduty.example.gov.cn',
              SAFETY_OFFICE_UNIT_ID: 'county-safety-office',
              LOG_LEVEL: 'INFO',
            },
          },
        },
      });
      expect(fn('deliver')).toMatchObject({
        Properties: {
          Environment: {
            Variables: {
              TABLE_NAME: expect.anything(),
              SENDER_ADDRESS: 'safeduty@example.gov.cn',
              SES_CONFIGURATION_SET: expect.anything(),
              LINK_SECRET_PARAMETER: '/safeduty/link-secret',
              DELIVERY_STATE_MACHINE_ARN: deliveryArn,
            },
          },
        },
      });
      expect(fn('dispatch')).toMatchObject({
        Properties: {
          Environment: {
            Variables: { CYCLE_STATE_MACHINE_ARN: { Ref: logicalId(built.stateless.dutyCycle) } },
          },
        },
      });
      expect(fn('reconcile')).toMatchObject({
        Properties: {
          Environment: {
            Variables: {
              CYCLE_STATE_MACHINE_ARN: { Ref: logicalId(built.stateless.dutyCycle) },
              CASE_STATE_MACHINE_ARN: { Ref: logicalId(built.stateless.caseWorkflow) },
              DELIVERY_STATE_MACHINE_ARN: deliveryArn,
            },
          },
        },
      });
    });
  });

  describe('least privilege', () => {
    it('lets dispatch start duty-cycle executions and delivery runs (the missing-calendar notice), and send no mail', () => {
      const statements = statementsOfRole(stateless, logicalId(built.stateless.functions.dispatch.role!));
      const starts = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(starts).toEqual([
        {
          Action: 'states:StartExecution',
          Effect: 'Allow',
          Resource: { Ref: logicalId(built.stateless.dutyCycle) },
        },
        expect.objectContaining({ Action: 'states:StartExecution', Effect: 'Allow' }),
      ]);
      expect(JSON.stringify(starts[1]!.Resource)).toContain(':stateMachine:SafedutyStateless-delivery');
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('ses:'))).toEqual([]);
    });

    it('lets only the delivery function send mail, through the identity and configuration set, and read the rate', () => {
      for (const [name] of registry) {
        const actions = statementsOfRole(stateless, logicalId(built.stateless.functions[name].role!)).flatMap(
          actionsOf,
        );
        expect(
          actions.some((a) => a.startsWith('ses:')),
          name,
        ).toBe(name === 'deliver');
      }
      const statements = statementsOfRole(stateless, logicalId(built.stateless.functions.deliver.role!));
      const send = statements.filter((s) => actionsOf(s).includes('ses:SendEmail'));
      expect(send).toHaveLength(1);
      const sesResources = JSON.stringify(resourcesOf(send[0]!));
      expect(resourcesOf(send[0]!)).toHaveLength(2);
      expect(sesResources).toContain(':identity/');
      expect(sesResources).toContain(':configuration-set/');
      // GetAccount has no resource to name.
      expect(statements.filter((s) => actionsOf(s).includes('ses:GetAccount'))).toEqual([
        { Action: 'ses:GetAccount', Effect: 'Allow', Resource: '*' },
      ]);
      const ssm = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')));
      expect(actionsOf(ssm[0]!)).toEqual(['ssm:GetParameter']);
      expect(JSON.stringify(ssm[0]!.Resource)).toContain(':parameter/safeduty/link-secret');
    });

    it('lets cycleAdvance use the table and start delivery runs, nothing else', () => {
      const statements = statementsOfRole(stateless, logicalId(built.stateless.functions.cycleAdvance.role!));
      const ddb = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      // The table itself, or one of its named indexes: never "*", never table/index/*.
      const tableArn = {
        'Fn::ImportValue': expect.stringContaining(`${logicalId(built.stateful.table)}Arn`),
      };
      const leadingKeys = (x: Statement) =>
        (x as { Condition?: Record<string, Record<string, string[]>> }).Condition?.[
          'ForAllValues:StringLike'
        ]?.['dynamodb:LeadingKeys'];
      expect(ddb).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
          Resource: tableArn,
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': ['CYCLE#*', 'UNIT#*', 'LEADER#*', 'TRACKING', 'ADHOC-DUTY', 'CALENDAR'],
            },
          },
        },
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:BatchWriteItem',
          ],
          Resource: tableArn,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CYCLE#*', 'TRACKING'] } },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:BatchWriteItem',
          Resource: tableArn,
          Condition: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': ['OUTBOX#*', 'OUTBOX-MOMENTS', 'OUTBOX-EXPRESS'],
            },
          },
        },
        {
          // Whether the run of a moment is closing (a producer recording late starts a run of its own).
          Effect: 'Allow',
          Action: 'dynamodb:GetItem',
          Resource: tableArn,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY'] } },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: ['GSI1', 'GSI2'].map((n) => ({ 'Fn::Join': ['', [tableArn, `/index/${n}`]] })),
        },
      ]);
      expect(ddb.filter((x) => resourcesOf(x).length === 1 && !leadingKeys(x))).toEqual([]);
      const starts = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(starts).toHaveLength(1);
      expect(actionsOf(starts[0]!)).toEqual(['states:StartExecution']);
      expect(JSON.stringify(starts[0]!.Resource)).toContain(':stateMachine:SafedutyStateless-delivery');
      // Wildcard resources only for X-Ray, which supports nothing narrower.
      for (const s of statements.filter((x) => resourcesOf(x).includes('*'))) {
        for (const a of actionsOf(s)) expect(a).toMatch(/^xray:/);
      }
    });

    it('narrows every function to the table keys its registry entry names; no Scan; audit append-only for api', () => {
      for (const [name] of registry) {
        const fn = built.stateless.functions[name];
        const statements = statementsOfRole(stateless, logicalId(fn.role!)).filter((x) =>
          actionsOf(x).some((a) => a.startsWith('dynamodb:')),
        );
        for (const x of statements) {
          expect(actionsOf(x), name).not.toContain('dynamodb:Scan');
          expect(actionsOf(x), name).not.toContain('dynamodb:*');
          // On the table itself (not an index): always conditioned on the partition keys.
          const onTable = !JSON.stringify(x.Resource).includes('/index/');
          if (onTable)
            expect(
              x.Condition?.['ForAllValues:StringLike'] ?? x.Condition?.['ForAnyValue:StringLike'],
              name,
            ).toHaveProperty('dynamodb:LeadingKeys');
        }
        const granted = statements
          .filter((x) => x.Effect === 'Allow')
          .flatMap((x) => x.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []);
        const declared =
          (handlers[name].access as HandlerSpec['access']).table?.grants.flatMap((g) => g.keys) ?? [];
        expect(new Set(granted), name).toEqual(new Set(declared));
      }
      const api = statementsOfRole(stateless, logicalId(built.stateless.functions.api.role!));
      expect(api.filter((x) => x.Effect === 'Deny')).toEqual([
        {
          Effect: 'Deny',
          Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
          Resource: expect.anything(),
          Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
        },
      ]);
      // The audit prefix is granted to api for PutItem alone.
      const auditGrants = api.filter(
        (x) =>
          x.Effect === 'Allow' &&
          (x.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []).includes('AUDIT#*') &&
          actionsOf(x).some(
            (a) => a !== 'dynamodb:GetItem' && a !== 'dynamodb:BatchGetItem' && a !== 'dynamodb:Query',
          ),
      );
      expect(auditGrants.map(actionsOf)).toEqual([['dynamodb:PutItem']]);
    });

    it('lets the state machine invoke its task function and continue as itself only', () => {
      const statements = statementsOfRole(stateless, logicalId(built.stateless.dutyCycle.role));
      const invoke = statements.find((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(JSON.stringify(invoke?.Resource)).toContain(logicalId(built.stateless.functions.cycleAdvance));
      const start = statements.find((s) => actionsOf(s).includes('states:StartExecution'));
      expect(JSON.stringify(start?.Resource)).toContain(':stateMachine:SafedutyStateless-duty-cycle');
    });
  });

  describe('duty-cycle state machine', () => {
    it('is a Standard machine with full logging and tracing', () => {
      stateless.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'SafedutyStateless-duty-cycle',
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        TracingConfiguration: { Enabled: true },
      });
      stateless.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/vendedlogs/states/SafedutyStateless-duty-cycle',
        RetentionInDays: 365,
      });
    });

    it('has the advance loop: retries and a catch on Advance, and every named state', () => {
      const asl = aslFromTemplate(stateless, 'DutyCycle');
      expect(asl.StartAt).toBe(STATE.advance);
      expect(Object.keys(asl.States).sort()).toEqual(
        [
          'Advance',
          'Route',
          'WaitForNextStage',
          'ContinueAsNew',
          'RecordFailure',
          'Closed',
          'Continued',
          'Failed',
        ].sort(),
      );
      const advance = asl.States[STATE.advance]!;
      expect(advance.Retry?.length).toBeGreaterThan(0);
      expect(advance.Retry?.some((r) => r.ErrorEquals.includes('States.ALL'))).toBe(true);
      expect(advance.Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: STATE.recordFailure }),
      ]);
      // The intrinsics became placeholders: the task invokes the cycleAdvance function.
      expect(JSON.stringify(advance)).toContain(
        `\${GetAtt:${logicalId(built.stateless.functions.cycleAdvance)}.Arn}`,
      );
      expect(asl.States[STATE.wait]).toMatchObject({ Type: 'Wait', Next: STATE.advance });
      expect(asl.States[STATE.recordFailure]).toMatchObject({ Type: 'Task', Next: STATE.failed });
      expect(asl.States[STATE.failed]).toMatchObject({ Type: 'Fail' });
    });
  });

  describe('daily dispatch', () => {
    it('runs dispatch at 00:05 Asia/Shanghai, without a flexible window, with retries and a DLQ', () => {
      stateless.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(5 0 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(built.stateless.functions.dispatch), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(built.stateless.scheduleDlq), 'Arn'] } },
        },
      });
      stateless.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    });
  });

  describe('delivery state machine, reconciler and failure destinations', () => {
    it('runs delivery as its own Standard machine: the advance loop over deliver, one execution per moment', () => {
      stateless.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'SafedutyStateless-delivery',
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        TracingConfiguration: { Enabled: true },
      });
      const asl = aslFromTemplate(stateless, 'DeliveryWorkflow');
      expect(asl.States[STATE.advance]?.Parameters).toMatchObject({
        Payload: { action: 'advance', 'moment.$': '$.moment', 'executionName.$': '$$.Execution.Name' },
      });
      expect(JSON.stringify(asl.States[STATE.advance])).toContain(
        `\${GetAtt:${logicalId(built.stateless.functions.deliver)}.Arn}`,
      );
    });

    it('retries a failed step for longer than a crashed run holds the delivery lease', () => {
      const retry = aslFromTemplate(stateless, 'DeliveryWorkflow').States[STATE.advance]?.Retry?.find((r) =>
        r.ErrorEquals.includes('States.ALL'),
      ) as unknown as {
        IntervalSeconds: number;
        BackoffRate: number;
        MaxAttempts: number;
        MaxDelaySeconds: number;
      };
      // Full jitter: each wait is on average half its interval.
      let total = 0;
      for (let i = 0; i < retry.MaxAttempts; i++)
        total += Math.min(retry.IntervalSeconds * retry.BackoffRate ** i, retry.MaxDelaySeconds) / 2;
      const leaseSeconds = handlers.deliver.timeoutSeconds + 60;
      expect(total).toBeGreaterThan(leaseSeconds);
    });

    it("runs the reconciler every 15 minutes, with retries and the DLQ, and lets it list every machine's executions", () => {
      stateless.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(15 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(built.stateless.functions.reconcile), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(built.stateless.scheduleDlq), 'Arn'] } },
        },
      });
      const statements = statementsOfRole(stateless, logicalId(built.stateless.functions.reconcile.role!));
      const list = statements.find((s) => actionsOf(s).includes('states:ListExecutions'));
      expect(JSON.stringify(list?.Resource)).toContain(logicalId(built.stateless.dutyCycle));
      expect(JSON.stringify(list?.Resource)).toContain(logicalId(built.stateless.caseWorkflow));
      expect(JSON.stringify(list?.Resource)).toContain(':stateMachine:SafedutyStateless-delivery');
      const starts = statements.filter((s) => actionsOf(s).includes('states:StartExecution'));
      expect(starts).toHaveLength(3);
    });

    it("sends a failed asynchronous dispatch or reconcile, after Lambda's own retries, to an alarmed queue", () => {
      for (const fn of [built.stateless.functions.dispatch, built.stateless.functions.reconcile]) {
        stateless.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: logicalId(fn) },
          MaximumRetryAttempts: 2,
          DestinationConfig: {
            OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(built.stateless.asyncFailures), 'Arn'] } },
          },
        });
      }
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(built.stateless.asyncFailures), 'QueueName'] },
          },
        ],
      });
    });
  });

  describe('bounces and complaints reported after sending', () => {
    it('go from the configuration set to EventBridge and, for this configuration set only, to mailEvents', () => {
      stateless.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        EventDestination: Match.objectLike({
          Enabled: true,
          MatchingEventTypes: Match.arrayWith(['bounce', 'complaint']),
          EventBridgeDestination: Match.anyValue(),
        }),
      });
      stateless.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ses'],
          'detail-type': ['Email Bounced', 'Email Complaint Received'],
          detail: { mail: { tags: { 'ses:configuration-set': [Match.anyValue()] } } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalId(built.stateless.functions.mailEvents), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(built.stateless.scheduleDlq), 'Arn'] } },
          }),
        ],
      });
    });
  });

  describe('alarms', () => {
    it('alarms on failed, timed-out and aborted executions, function errors, the queues and a stopped mail account', () => {
      // Three per machine, three per function (errors, throttles, duration), the two queues, the mail account,
      // the API's 5xx, DynamoDB throttling, SES bounce and complaint rates, the reconciler's findings, refused emails,
      // notices with nobody to go to.
      stateless.resourceCountIs(
        'AWS::CloudWatch::Alarm',
        3 * 3 + 3 * registry.length + 2 + 1 + 1 + 1 + 2 + 1 + 1 + 1,
      );
      for (const machine of [
        built.stateless.dutyCycle,
        built.stateless.caseWorkflow,
        built.stateless.delivery,
      ]) {
        for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
          stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
            Namespace: 'AWS/States',
            MetricName: metric,
            Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(machine) } }],
            AlarmActions: [{ Ref: logicalId(built.stateless.alarmTopic) }],
          });
        }
      }
      for (const [name, spec] of registry) {
        const fn = [{ Name: 'FunctionName', Value: { Ref: logicalId(built.stateless.functions[name]) } }];
        // Errors a retry overcomes raise nothing: functions their caller retries alarm on three periods in a row.
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Dimensions: fn,
          EvaluationPeriods: name === 'api' ? 1 : 3,
          DatapointsToAlarm: name === 'api' ? Match.absent() : 3,
        });
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Throttles',
          Dimensions: fn,
        });
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'Duration',
          Dimensions: fn,
          Statistic: 'Maximum',
          Threshold: Math.round((name === 'deliver' ? 0.97 : 0.8) * spec.timeoutSeconds * 1000),
        });
      }
      stateless.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '{ $.message = "the mail account cannot send: delivery stopped" }',
        MetricTransformations: [
          { MetricNamespace: 'safeduty', MetricName: 'MailAccountStopped', MetricValue: '1' },
        ],
      });
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'safeduty',
        MetricName: 'MailAccountStopped',
      });
      for (const [metric, threshold] of [
        ['Reputation.BounceRate', 0.05],
        ['Reputation.ComplaintRate', 0.001],
      ] as const)
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/SES',
          MetricName: metric,
          Threshold: threshold,
          AlarmActions: [{ Ref: logicalId(built.stateless.alarmTopic) }],
        });
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'r + w' }),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ Namespace: 'AWS/DynamoDB', MetricName: 'WriteThrottleEvents' }),
            }),
          }),
        ]),
      });
      // A notice with nobody to go to is counted from the producers' logs and alarmed.
      stateless.resourcePropertiesCountIs(
        'AWS::Logs::MetricFilter',
        { MetricTransformations: [Match.objectLike({ MetricName: 'NoticesUnaddressed' })] },
        2,
      );
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'safeduty',
        MetricName: 'NoticesUnaddressed',
      });
      for (const metric of ['ExecutionsResumed', 'EmailsFailed'])
        stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'safeduty',
          MetricName: metric,
          Dimensions: [{ Name: 'service', Value: 'safeduty' }],
        });
      stateless.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      stateless.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.gov.cn',
      });
    });

    it("has an operations dashboard with the product's figures beside the platform's", () => {
      const dashboards = stateless.findResources('AWS::CloudWatch::Dashboard');
      expect(Object.keys(dashboards)).toHaveLength(1);
      const body = JSON.stringify(Object.values(dashboards)[0]?.Properties?.DashboardBody);
      for (const figure of [
        'EmailsSent',
        'EmailsFailed',
        'EmailsSuppressed',
        'NoticesRecorded',
        'UnitsOverdueAtClose',
        'CyclesOpen',
        'ExecutionsResumed',
        'ExecutionsFailed',
        'Throttles',
        'ReadThrottleEvents',
        'Reputation.BounceRate',
      ])
        expect(body, figure).toContain(figure);
    });

    it('outputs the table name, the state machine ARN and the configuration set', () => {
      stateless.hasOutput('TableName', {});
      stateless.hasOutput('DutyCycleStateMachineArn', {
        Value: { Ref: logicalId(built.stateless.dutyCycle) },
      });
      stateless.hasOutput('SesConfigurationSet', {});
      stateless.hasOutput('CaseStateMachineArn', { Value: { Ref: logicalId(built.stateless.caseWorkflow) } });
      stateless.hasOutput('DeliveryStateMachineArn', { Value: { Ref: logicalId(built.stateless.delivery) } });
    });
  });

  describe('case state machine', () => {
    it('is a Standard machine named from the stack, with full logging and tracing', () => {
      stateless.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'SafedutyStateless-case',
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        TracingConfiguration: { Enabled: true },
      });
      stateless.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/vendedlogs/states/SafedutyStateless-case',
        RetentionInDays: 365,
      });
    });

    it('is the advance loop over caseAdvance, which also learns the execution name (its generation)', () => {
      const asl = aslFromTemplate(stateless, 'CaseWorkflow');
      expect(asl.StartAt).toBe(STATE.advance);
      expect(Object.keys(asl.States).sort()).toEqual(
        Object.keys(aslFromTemplate(stateless, 'DutyCycle').States).sort(),
      );
      const advance = asl.States[STATE.advance]!;
      expect(advance.Parameters).toMatchObject({
        Payload: {
          action: 'advance',
          'caseId.$': '$.caseId',
          'executionName.$': '$$.Execution.Name',
          'executionStartTime.$': '$$.Execution.StartTime',
        },
      });
      expect(JSON.stringify(advance)).toContain(
        `\${GetAtt:${logicalId(built.stateless.functions.caseAdvance)}.Arn}`,
      );
      expect(advance.Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: STATE.recordFailure }),
      ]);
      expect(asl.States[STATE.continueAsNew]).toMatchObject({
        Parameters: { Input: { 'caseId.$': '$.caseId' } },
      });
      // The duty cycle's task learns it too: an administrator's change to an ad-hoc duty starts a newer one.
      const cycleAdvance = aslFromTemplate(stateless, 'DutyCycle').States[STATE.advance]!;
      expect(JSON.stringify(cycleAdvance.Parameters)).toContain('"executionName.$":"$$.Execution.Name"');
    });

    it('lets the machine invoke caseAdvance and continue as itself only', () => {
      const statements = statementsOfRole(stateless, logicalId(built.stateless.caseWorkflow.role));
      const invoke = statements.find((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(JSON.stringify(invoke?.Resource)).toContain(logicalId(built.stateless.functions.caseAdvance));
      expect(JSON.stringify(invoke?.Resource)).not.toContain(
        logicalId(built.stateless.functions.cycleAdvance),
      );
      const start = statements.find((s) => actionsOf(s).includes('states:StartExecution'));
      expect(JSON.stringify(start?.Resource)).toContain(':stateMachine:SafedutyStateless-case"');
    });

    it('lets the api function start case executions, ad-hoc duty cycles and delivery runs only, and tells it the machines', () => {
      const api = built.stateless.functions.api;
      const starts = statementsOfRole(stateless, logicalId(api.role!)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('states:')),
      );
      // Delivery runs: loading a year's holiday arrangement dispatches, which may tell 安委办 of another missing year.
      expect(starts).toEqual([
        {
          Action: 'states:StartExecution',
          Effect: 'Allow',
          Resource: { Ref: logicalId(built.stateless.dutyCycle) },
        },
        {
          Action: 'states:StartExecution',
          Effect: 'Allow',
          Resource: { Ref: logicalId(built.stateless.caseWorkflow) },
        },
        expect.objectContaining({ Action: 'states:StartExecution', Effect: 'Allow' }),
      ]);
      expect(JSON.stringify(starts[2]!.Resource)).toContain(':stateMachine:SafedutyStateless-delivery');
      expect(stateless.findResources('AWS::Lambda::Function')[logicalId(api)]).toMatchObject({
        Properties: {
          Environment: {
            Variables: {
              CASE_STATE_MACHINE_ARN: { Ref: logicalId(built.stateless.caseWorkflow) },
              CYCLE_STATE_MACHINE_ARN: { Ref: logicalId(built.stateless.dutyCycle) },
            },
          },
        },
      });
      // caseAdvance records notices and starts delivery runs; it sends no mail itself.
      const advance = statementsOfRole(stateless, logicalId(built.stateless.functions.caseAdvance.role!));
      expect(advance.flatMap(actionsOf).filter((a) => a.startsWith('ses:'))).toEqual([]);
      const advanceStarts = advance.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(advanceStarts.map((s) => JSON.stringify(s.Resource))).toEqual([
        expect.stringContaining(':stateMachine:SafedutyStateless-delivery'),
      ]);
    });
  });

  describe('HTTP API and administrator sign-in', () => {
    const routes = () =>
      Object.values(stateless.findResources('AWS::ApiGatewayV2::Route')) as {
        Properties: { RouteKey: string; AuthorizationType: string; AuthorizerId?: unknown };
        Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } };
      }[];

    it('is one HTTP API whose only integration is the api function, with payload 2.0', () => {
      stateless.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
      stateless.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
      stateless.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      stateless.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(built.stateless.functions.api), 'Arn'] },
      });
      stateless.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [logicalId(built.stateless.functions.api), 'Arn'] },
      });
    });

    it('puts the Cognito JWT authorizer on every route but the unit-link, health and document routes', () => {
      const authorizerId = logicalId(built.stateless.api.httpApi.node.findChild('AdminAuthorizer') as never);
      const byKey = new Map(routes().map((r) => [r.Properties.RouteKey, r]));
      expect(byKey.get('ANY /{proxy+}')?.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: authorizerId },
      });
      const open = routes()
        .filter((r) => r.Properties.AuthorizationType !== 'JWT')
        .map((r) => r.Properties.RouteKey)
        .sort();
      // Read from the router: exactly the routes whose handler checks a link, or a link or a token, or is public.
      const { open: expected, shadowedAdmin } = apiRoutes();
      expect(open).toEqual(expected.map((r) => `${r.method} ${r.path}`).sort());
      expect(open).toEqual(
        expect.arrayContaining([
          'GET /links/{token}',
          'POST /links/{token}',
          'POST /cycles/{dutyId}/{periodKey}/submissions',
          'GET /health',
          'GET /openapi.json',
        ]),
      );
      expect(open).not.toEqual(expect.arrayContaining(['PUT /units/{id}']));
      // A warning may come from the issuing bureau's system, but only with a token the authorizer checked.
      expect(open).not.toEqual(expect.arrayContaining(['POST /warnings']));
      for (const r of shadowedAdmin)
        expect(byKey.get(`${r.method} ${r.path}`)?.Properties).toMatchObject({ AuthorizationType: 'JWT' });
      // Each open route carries its own narrow cdk-nag acknowledgment, with the reason.
      for (const r of routes().filter((x) => x.Properties.AuthorizationType === 'NONE')) {
        expect(r.Metadata?.cdk_nag?.rules_to_suppress).toEqual([
          { id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/.{20,}/) },
        ]);
      }
      stateless.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
      stateless.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Audience: [
            { Ref: logicalId(built.stateless.api.userPoolClient) },
            { Ref: logicalId(built.stateless.api.consoleClient) },
            { Ref: logicalId(built.stateless.api.warningIssuerClient) },
          ],
          Issuer: {
            'Fn::Join': [
              '',
              [
                'https://cognito-idp.ap-southeast-1.amazonaws.com/',
                { Ref: logicalId(built.stateless.api.userPool) },
              ],
            ],
          },
        },
      });
    });

    it('logs access as JSON without paths (a link token is in its path), and throttles the stage', () => {
      const [stage] = Object.values(stateless.findResources('AWS::ApiGatewayV2::Stage')) as {
        Properties: {
          StageName: string;
          AutoDeploy: boolean;
          AccessLogSettings: { DestinationArn: unknown; Format: string };
          DefaultRouteSettings: { ThrottlingBurstLimit: number; ThrottlingRateLimit: number };
        };
      }[];
      expect(stage?.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true });
      const format = JSON.parse(stage!.Properties.AccessLogSettings.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey' });
      expect(stage!.Properties.AccessLogSettings.Format).not.toMatch(/\$context\.path|rawPath/);
      expect(stage!.Properties.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(stage!.Properties.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
    });

    it('has an admin-only user pool: no self sign-up, MFA, strong passwords, threat protection, retained', () => {
      stateless.resourceCountIs('AWS::Cognito::UserPool', 1);
      stateless.hasResource('AWS::Cognito::UserPool', {
        DeletionPolicy: 'Retain',
        Properties: {
          AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
          MfaConfiguration: 'ON',
          EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
          UserPoolTier: 'PLUS',
          UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
          DeletionProtection: 'ACTIVE',
          Policies: {
            PasswordPolicy: {
              MinimumLength: 14,
              RequireLowercase: true,
              RequireUppercase: true,
              RequireNumbers: true,
              RequireSymbols: true,
            },
          },
        },
      });
      stateless.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
        GroupName: 'safeduty-admins',
        UserPoolId: { Ref: logicalId(built.stateless.api.userPool) },
      });
      stateless.resourceCountIs('AWS::Cognito::UserPoolClient', 3);
      const client = stateless.findResources('AWS::Cognito::UserPoolClient')[
        logicalId(built.stateless.api.userPoolClient)
      ] as { Properties: Record<string, unknown> } | undefined;
      expect(client?.Properties).toMatchObject({
        GenerateSecret: false,
        PreventUserExistenceErrors: 'ENABLED',
        EnableTokenRevocation: true,
      });
      expect(client?.Properties).not.toHaveProperty('AllowedOAuthFlows');
    });

    it("lets the issuing bureau's system call the warnings routes as itself: client credentials for one scope", () => {
      stateless.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: 'safeduty',
        Scopes: [{ ScopeName: 'warnings', ScopeDescription: Match.anyValue() }],
      });
      const client = stateless.findResources('AWS::Cognito::UserPoolClient')[
        logicalId(built.stateless.api.warningIssuerClient)
      ] as { Properties: Record<string, unknown> } | undefined;
      expect(client?.Properties).toMatchObject({
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        // `<resource server>/warnings`: the server's identifier is `safeduty`, asserted above.
        AllowedOAuthScopes: [
          { 'Fn::Join': ['', [{ Ref: expect.stringMatching(/ApiResourceServer/) }, '/warnings']] },
        ],
        AllowedOAuthFlowsUserPoolClient: true,
      });
    });

    it('tells the api function the admin group and the pool, so it can check claims and tokens', () => {
      const fn = stateless.findResources('AWS::Lambda::Function')[logicalId(built.stateless.functions.api)];
      expect(fn).toMatchObject({
        Properties: {
          Environment: {
            Variables: {
              AUTH_MODE: 'cognito',
              ADMIN_GROUP: 'safeduty-admins',
              USER_POOL_ID: { Ref: logicalId(built.stateless.api.userPool) },
              USER_POOL_CLIENT_ID: {
                'Fn::Join': [
                  '',
                  [
                    { Ref: logicalId(built.stateless.api.userPoolClient) },
                    ',',
                    { Ref: logicalId(built.stateless.api.consoleClient) },
                    ',',
                    { Ref: logicalId(built.stateless.api.warningIssuerClient) },
                  ],
                ],
              },
              CONSOLE_CLIENT_ID: { Ref: logicalId(built.stateless.api.consoleClient) },
              LINK_SECRET_PARAMETER: '/safeduty/link-secret',
            },
          },
        },
      });
      stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: '5xx',
        Namespace: 'AWS/ApiGateway',
      });
      stateless.hasOutput('ApiUrl', {});
      stateless.hasOutput('AdminUserPoolId', {});
      stateless.hasOutput('AdminUserPoolClientId', {});
    });
  });

  describe("the administrators' console", () => {
    it('is served by the API without a token: the page, its script and styles, and its sign-in settings', () => {
      const routes = Object.values(stateless.findResources('AWS::ApiGatewayV2::Route')) as {
        Properties: { RouteKey: string; AuthorizationType?: string };
      }[];
      const open = new Map(routes.map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationType]));
      for (const key of ['GET /', 'GET /console', 'GET /console/{asset}'])
        expect(open.get(key), key).toBe('NONE');
      stateless.hasOutput('ConsoleUrl', {
        Value: {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [logicalId(built.stateless.api.httpApi), 'ApiEndpoint'] }, '/console'],
          ],
        },
      });
    });

    it('signs administrators in with the managed login pages: code flow with PKCE, no secret, back to /console', () => {
      const consoleUrl = {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [logicalId(built.stateless.api.httpApi), 'ApiEndpoint'] }, '/console'],
        ],
      };
      const client = stateless.findResources('AWS::Cognito::UserPoolClient')[
        logicalId(built.stateless.api.consoleClient)
      ] as { Properties: Record<string, unknown> };
      expect(client.Properties).toMatchObject({
        GenerateSecret: false,
        AllowedOAuthFlows: ['code'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: expect.arrayContaining(['openid', 'email', 'profile']),
        CallbackURLs: [consoleUrl, 'https://safeduty.example.gov.cn/console'],
        LogoutURLs: [consoleUrl, 'https://safeduty.example.gov.cn/console'],
        SupportedIdentityProviders: ['COGNITO'],
        PreventUserExistenceErrors: 'ENABLED',
      });
      expect(client.Properties.AllowedOAuthFlows).not.toContain('implicit');
      // The same pool, so the MFA the pool requires applies to the console's sign-in as to every other.
      stateless.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
        UserPoolId: { Ref: logicalId(built.stateless.api.userPool) },
        ManagedLoginVersion: 2,
      });
      stateless.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
        ClientId: { Ref: logicalId(built.stateless.api.consoleClient) },
        UseCognitoProvidedValues: true,
      });
      const fn = stateless.findResources('AWS::Lambda::Function')[
        logicalId(built.stateless.functions.api)
      ] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      };
      expect(JSON.stringify(fn.Properties.Environment.Variables.CONSOLE_COGNITO_DOMAIN)).toContain(
        '.amazoncognito.com',
      );
    });

    it('bundles the console with the api function: its script built by esbuild, its page and styles copied', () => {
      const commands = consoleBuildCommands('/src', '/out');
      expect(commands.join('\n')).toContain(
        '"/src/node_modules/.bin/esbuild" "/src/console/app.ts" --bundle',
      );
      expect(commands.join('\n')).toContain('--outfile="/out/console/app.js"');
      expect(commands).toContain('cp "/src/console/index.html" "/out/console/index.html"');
    });
  });

  describe("units' report files", () => {
    it('go to a private, encrypted, versioned, retained bucket, access-logged, uploaded to from the county address', () => {
      stateful.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          BucketName: {
            'Fn::Join': [
              '',
              ['safedutystateful-attachments-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }],
            ],
          },
          VersioningConfiguration: { Status: 'Enabled' },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'attachments/' }),
          CorsConfiguration: {
            CorsRules: [
              {
                AllowedMethods: ['PUT'],
                AllowedOrigins: ['https://safeduty.example.gov.cn'],
                AllowedHeaders: ['content-type'],
                MaxAge: 3000,
              },
            ],
          },
        }),
      });
    });

    it('are signed for by the api function alone, for the attachments folder only', () => {
      const bucketArn = {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':s3:::safedutystateful-attachments-',
            { Ref: 'AWS::AccountId' },
            '-',
            { Ref: 'AWS::Region' },
            '/attachments/*',
          ],
        ],
      };
      const policies = Object.entries(stateless.findResources('AWS::IAM::Policy')).filter(([, p]) =>
        JSON.stringify(p).includes('s3:PutObject'),
      ) as [string, { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: unknown[] } } }][];
      expect(policies).toHaveLength(1);
      const [, policy] = policies[0]!;
      expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ApiRole/) }]);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Action: ['s3:PutObject', 's3:GetObject'],
        Effect: 'Allow',
        Resource: bucketArn,
      });
      const fn = stateless.findResources('AWS::Lambda::Function')[
        logicalId(built.stateless.functions.api)
      ] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      };
      expect(fn.Properties.Environment.Variables.ATTACHMENTS_BUCKET).toEqual({
        'Fn::Join': [
          '',
          ['safedutystateful-attachments-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }],
        ],
      });
    });
  });

  describe('cdk-nag', () => {
    it('reports no unacknowledged AwsSolutions or Serverless findings', () => {
      // cdk-nag 3 reports through CDK policy validation, not annotations: re-run both packs on the synthesized
      // tree (where cross-stack references are resolved, as at `cdk synth`) and list what they find.
      for (const pack of [
        new AwsSolutionsChecks(undefined, { verbose: true }),
        new ServerlessChecks(undefined, { verbose: true }),
      ]) {
        const report = pack.validateScope(built.app);
        const findings = report.violations.map(
          (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
        );
        expect(findings).toEqual([]);
      }
      // The v2-style annotations must stay empty too.
      for (const stack of [built.stateful, built.stateless] as Stack[]) {
        const annotations = Annotations.fromStack(stack);
        const pattern = Match.stringLikeRegexp('AwsSolutions-.*|Serverless-.*');
        expect(annotations.findError('*', pattern)).toEqual([]);
        expect(annotations.findWarning('*', pattern)).toEqual([]);
      }
    });

    it('records each acknowledgment with its reason in the template', () => {
      const fn =
        stateless.findResources('AWS::Lambda::Function')[logicalId(built.stateless.functions.dispatch)];
      expect(fn).toMatchObject({
        Metadata: {
          cdk_nag: {
            rules_to_suppress: expect.arrayContaining([
              expect.objectContaining({
                id: 'Serverless-LambdaDLQ',
                reason: expect.stringMatching(/synchronously/),
              }),
            ]),
          },
        },
      });
    });

    it('no longer warns about case executions: the case machine exists and is granted', () => {
      for (const [name, spec] of registry) {
        if (!(spec.access as HandlerSpec['access']).startCaseExecutions) continue;
        const path = `/SafedutyStateless/${built.stateless.functions[name].node.id}`;
        expect(
          Annotations.fromStack(built.stateless).findWarning(
            path,
            Match.stringLikeRegexp('startCaseExecutions'),
          ),
        ).toEqual([]);
      }
    });
  });
});

describe('settings', () => {
  const context = (overrides: Record<string, unknown>) => (key: string) =>
    ({ ...CONTEXT, ...overrides })[key as keyof typeof CONTEXT];

  it('fails the synth with a clear message on a bad sender address', () => {
    expect(() =>
      buildApp({ context: { ...CONTEXT, 'safeduty:senderAddress': 'safeduty at example' }, env: {} }),
    ).toThrow(/safeduty:senderAddress .* must be an email address.*"safeduty at example"/);
  });

  it('rejects the AWS China regions, where SES v2 is not offered', () => {
    expect(() => loadSettings(context({ 'safeduty:region': 'cn-north-1' }), {})).toThrow(
      /SES v2 is not offered/,
    );
  });

  it('reports every problem at once', () => {
    try {
      loadSettings(context({ 'safeduty:consoleUrl': 'http://x', 'safeduty:alarmEmail': 'nope' }), {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      expect((err as SettingsError).problems).toHaveLength(2);
    }
  });

  it("validates a deployment's own duty catalog, case types and delivery policy at synth and bundles them with every function", () => {
    const withCatalog = buildApp({
      context: {
        ...CONTEXT,
        'safeduty:catalogFile': 'examples/catalog-extension.json',
        'safeduty:caseTypesFile': 'examples/case-types-extension.json',
        'safeduty:deliveryPolicyFile': 'examples/delivery-policy.json',
      },
      env: {},
    });
    expect(withCatalog.settings.deliveryPolicyFile).toMatch(/\/examples\/delivery-policy\.json$/);
    expect(withCatalog.settings.catalogFile).toMatch(/\/examples\/catalog-extension\.json$/);
    expect(withCatalog.settings.caseTypesFile).toMatch(/\/examples\/case-types-extension\.json$/);
    const functions = Template.fromStack(withCatalog.stateless).findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(registry.length);
    for (const fn of Object.values(functions))
      expect(
        (fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment
          .Variables,
      ).toMatchObject({
        SAFEDUTY_CATALOG: '/var/task/catalog.json',
        SAFEDUTY_CASE_TYPES: '/var/task/case-types.json',
        SAFEDUTY_DELIVERY_POLICY: '/var/task/delivery-policy.json',
      });

    const dir = mkdtempSync(join(tmpdir(), 'safeduty-catalog-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mode: 'extend', duties: [{ id: 'x' }] }));
    try {
      expect(() => loadSettings(context({ 'safeduty:catalogFile': bad }), {})).toThrow(
        /safeduty:catalogFile \(or SAFEDUTY_CATALOG\): Invalid duty catalog .*bad\.json/s,
      );
      expect(() => loadSettings(context({}), { SAFEDUTY_CATALOG: join(dir, 'missing.json') })).toThrow(
        /SAFEDUTY_CATALOG/,
      );
      expect(() => loadSettings(context({ 'safeduty:caseTypesFile': bad }), {})).toThrow(
        /safeduty:caseTypesFile \(or SAFEDUTY_CASE_TYPES\): Invalid case types .*bad\.json/s,
      );
      expect(() => loadSettings(context({ 'safeduty:deliveryPolicyFile': bad }), {})).toThrow(
        /safeduty:deliveryPolicyFile \(or SAFEDUTY_DELIVERY_POLICY\): Invalid delivery policy .*bad\.json/s,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires an alarm address, and refuses example values beside a real sender', () => {
    const without = { ...CONTEXT } as Record<string, unknown>;
    delete without['safeduty:alarmEmail'];
    expect(() => loadSettings((k) => without[k], {})).toThrow(/safeduty:alarmEmail .* is required/);
    try {
      loadSettings(context({ 'safeduty:senderAddress': 'safeduty@ajj.xiangyuan.gov.cn' }), {});
      expect.unreachable();
    } catch (err) {
      expect((err as SettingsError).problems).toEqual([
        expect.stringMatching(/alarmEmail .* is still the example "ops@example.gov.cn" while the sender is/),
        expect.stringMatching(/consoleUrl .* is still the example "https:\/\/safeduty.example.gov.cn"/),
      ]);
    }
    const real = loadSettings(
      context({
        'safeduty:senderAddress': 'safeduty@ajj.xiangyuan.gov.cn',
        'safeduty:alarmEmail': 'ops@ajj.xiangyuan.gov.cn',
        'safeduty:consoleUrl': 'https://safeduty.xiangyuan.gov.cn',
      }),
      {},
    );
    expect(real.alarmEmail).toBe('ops@ajj.xiangyuan.gov.cn');
  });

  it('takes environment variables over context and defaults the optional ones', () => {
    const s = loadSettings(context({}), {
      SAFEDUTY_SENDER_ADDRESS: 'notice@ajj.example.gov.cn',
      CDK_DEFAULT_ACCOUNT: '123456789012',
    });
    expect(s).toMatchObject({
      senderAddress: 'notice@ajj.example.gov.cn',
      senderDomain: 'ajj.example.gov.cn',
      senderIdentity: 'domain',
      account: '123456789012',
      region: 'ap-southeast-1',
      linkSecretParameter: '/safeduty/link-secret',
    });
  });
});

describe('text messages (SMS)', () => {
  const fnOf = (built: SafedutyApp, name: HandlerName) =>
    Template.fromStack(built.stateless).findResources('AWS::Lambda::Function')[
      logicalId(built.stateless.functions[name])
    ] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  const smsStatements = (built: SafedutyApp, name: HandlerName) =>
    statementsOfRole(
      Template.fromStack(built.stateless),
      logicalId(built.stateless.functions[name].role!),
    ).filter((s) => actionsOf(s).some((a) => a.startsWith('sms-voice:')));
  const nagFindings = (built: SafedutyApp) =>
    [new AwsSolutionsChecks(undefined, { verbose: true }), new ServerlessChecks(undefined, { verbose: true })]
      .flatMap((pack) => pack.validateScope(built.app).violations)
      .map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

  it('are not sent without an origination identity: no permission, no variables', () => {
    const built = buildApp({ context: CONTEXT, env: {} });
    for (const [name] of registry) {
      expect(smsStatements(built, name), name).toEqual([]);
      expect(Object.keys(fnOf(built, name).Properties.Environment.Variables), name).not.toContain(
        'SMS_ORIGINATION_IDENTITY',
      );
    }
  });

  it('go from the configured pool only: SendTextMessage on that pool, for the delivery function alone', () => {
    const built = buildApp({
      context: {
        ...CONTEXT,
        'safeduty:smsOriginationIdentity': 'pool-0123456789abcdef0123456789abcdef',
        'safeduty:smsConfigurationSet': 'safeduty-sms',
        'safeduty:smsSignature': '襄垣县应急局',
      },
      env: {},
    });
    expect(fnOf(built, 'deliver').Properties.Environment.Variables).toMatchObject({
      SMS_ORIGINATION_IDENTITY: 'pool-0123456789abcdef0123456789abcdef',
      SMS_CONFIGURATION_SET: 'safeduty-sms',
      SMS_SIGNATURE: '襄垣县应急局',
    });
    const statements = smsStatements(built, 'deliver');
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['sms-voice:SendTextMessage']);
    expect(statements[0]!.Effect).toBe('Allow');
    const resources = resourcesOf(statements[0]!);
    expect(resources).toHaveLength(1);
    expect(JSON.stringify(resources[0])).toContain(':sms-voice:');
    expect(JSON.stringify(resources[0])).toContain(':pool/pool-0123456789abcdef0123456789abcdef');
    for (const [name] of registry)
      if (name !== 'deliver') {
        expect(smsStatements(built, name), name).toEqual([]);
        expect(Object.keys(fnOf(built, name).Properties.Environment.Variables), name).not.toContain(
          'SMS_ORIGINATION_IDENTITY',
        );
      }
    expect(nagFindings(built)).toEqual([]);
  });

  it('name an ARN as given, and a sender ID in the countries it is registered for (acknowledged to cdk-nag)', () => {
    const arn = 'arn:aws:sms-voice:ap-southeast-1:123456789012:phone-number/phone-0123456789abcdef';
    const byArn = buildApp({ context: { ...CONTEXT, 'safeduty:smsOriginationIdentity': arn }, env: {} });
    expect(resourcesOf(smsStatements(byArn, 'deliver')[0]!)).toEqual([arn]);
    expect(Object.keys(fnOf(byArn, 'deliver').Properties.Environment.Variables)).not.toContain(
      'SMS_CONFIGURATION_SET',
    );

    const bySender = buildApp({
      context: { ...CONTEXT, 'safeduty:smsOriginationIdentity': 'XYAJJ' },
      env: {},
    });
    expect(JSON.stringify(resourcesOf(smsStatements(bySender, 'deliver')[0]!))).toContain(
      ':sender-id/XYAJJ/*',
    );
    expect(nagFindings(bySender)).toEqual([]);
    const role = Template.fromStack(bySender.stateless).findResources('AWS::IAM::Role')[
      logicalId(bySender.stateless.functions.deliver.role!)
    ];
    expect(role).toMatchObject({
      Metadata: {
        cdk_nag: {
          rules_to_suppress: expect.arrayContaining([
            expect.objectContaining({
              id: expect.stringMatching(
                /^AwsSolutions-IAM5\[Resource::arn:.*:sms-voice:.*:sender-id\/XYAJJ\/\*\]$/,
              ),
              reason: expect.stringMatching(/sender ID/),
            }),
          ]),
        },
      },
    });
  });

  it('refuse an identity IAM cannot name, and a configuration set without an identity', () => {
    const context = (overrides: Record<string, unknown>) => (key: string) =>
      ({ ...CONTEXT, ...overrides })[key as keyof typeof CONTEXT];
    expect(() => loadSettings(context({ 'safeduty:smsOriginationIdentity': '+8613800000000' }), {})).toThrow(
      /safeduty:smsOriginationIdentity .*give the phone number's id \(phone-…\) or ARN/,
    );
    expect(() => loadSettings(context({ 'safeduty:smsConfigurationSet': 'safeduty-sms' }), {})).toThrow(
      /safeduty:smsConfigurationSet .* is set but safeduty:smsOriginationIdentity .* is not/,
    );
    expect(() => loadSettings(context({ 'safeduty:smsSignature': '【襄垣县安委办】' }), {})).toThrow(
      /safeduty:smsSignature .*without 【】/,
    );
    expect(
      loadSettings(context({}), {
        SAFEDUTY_SMS_ORIGINATION_IDENTITY: 'pool-0123456789abcdef',
        SAFEDUTY_SMS_CONFIGURATION_SET: 'safeduty-sms',
      }),
    ).toMatchObject({ smsOriginationIdentity: 'pool-0123456789abcdef', smsConfigurationSet: 'safeduty-sms' });
  });
});
