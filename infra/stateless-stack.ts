import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArnFormat,
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import type { CfnElement, StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { handlers } from '../functions/registry.ts';
import type { HandlerName, HandlerSpec } from '../functions/registry.ts';
import { CATALOG_ENV } from '../workflows/catalog/index.ts';
import { CASE_TYPES_ENV } from '../workflows/cases/index.ts';
import { DELIVERY_POLICY_ENV } from '../workflows/delivery/policy.ts';
import { buildAdvanceLoop } from '../workflows/machines.ts';
import { AdvanceLoopMachine } from './advance-loop-machine.ts';
import { SafedutyApi } from './api.ts';
import { addAlarm, Observability } from './observability.ts';
import type { Settings } from './app.ts';
import { APPEND_ONLY_DENIED, type TableAccess } from '../functions/table-access.ts';

/** Handler entries in the registry are paths from the project root, whatever the current directory. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/**
 * A function's table grants as IAM statements: one per grant, narrowed to its partition keys with
 * `ForAllValues:StringLike dynamodb:LeadingKeys`; index queries on the named indexes (their keys are the index's,
 * which LeadingKeys does not narrow); and an explicit Deny of changing or removing append-only items. No grant
 * names Scan: a Scan carries no leading key, and ForAllValues over no keys would allow it.
 */
export function tableStatements(
  access: TableAccess,
  tableArn: string,
  indexNames: readonly string[],
): iam.PolicyStatement[] {
  const statements = access.grants.map(
    (g) =>
      new iam.PolicyStatement({
        actions: [...g.actions],
        resources: [tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...g.keys] } },
      }),
  );
  if (access.queryIndexes)
    statements.push(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexNames.map((n) => `${tableArn}/index/${n}`),
      }),
    );
  if (access.appendOnly?.length)
    statements.push(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [...APPEND_ONLY_DENIED],
        resources: [tableArn],
        conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [...access.appendOnly] } },
      }),
    );
  return statements;
}

export interface StatelessStackProps extends StackProps {
  table: dynamodb.ITable;
  /** The table's GSI names (grants cover exactly these). */
  tableIndexNames: readonly string[];
  /** The SES v2 sending identity (domain or address); ses:SendEmail covers it and the configuration set only. */
  emailIdentityArn: string;
  /** Where units' report files are stored (functions with `attachments` access sign uploads and reads). */
  attachmentsBucketName: string;
  configurationSetName: string;
  settings: Settings;
}

/**
 * Everything that can be replaced at will: the functions of the registry, the duty-cycle state machine, the
 * daily dispatch schedule and the alarms. It holds no data, so it can be destroyed and redeployed.
 */
export class StatelessStack extends Stack {
  readonly functions: Record<HandlerName, NodejsFunction>;
  readonly dutyCycle: sfn.StateMachine;
  /** One execution per case (major hidden-danger rectification, self-built houses): see docs/cases.md. */
  readonly caseWorkflow: sfn.StateMachine;
  /** One execution per delivery moment: see docs/delivery.md. */
  readonly delivery: sfn.StateMachine;
  readonly dispatchSchedule: scheduler.Schedule;
  readonly reconcileSchedule: scheduler.Schedule;
  readonly scheduleDlq: sqs.Queue;
  /** Where an asynchronous invocation of dispatch or the reconciler goes when Lambda's retries are used up. */
  readonly asyncFailures: sqs.Queue;
  /** SES bounce and complaint events of the configuration set, to EventBridge, to mailEvents. */
  readonly mailEventsDestination: ses.ConfigurationSetEventDestination;
  readonly mailEventsRule: events.Rule;
  readonly alarmTopic: sns.Topic;
  readonly observability: Observability;
  readonly api: SafedutyApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { settings } = props;

    // ---------------------------------------------------------------- functions (one per registry entry)
    const configurationSetArn = this.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: props.configurationSetName,
    });
    const fns = {} as Record<HandlerName, NodejsFunction>;
    for (const [name, spec] of entries(handlers)) {
      fns[name] = this.createFunction(name, spec, props, configurationSetArn);
    }
    this.functions = fns;

    // ---------------------------------------------------------------- duty-cycle state machine
    // The name (and so the ARN) is derived from the stack, so the continuation grant inside the definition
    // does not depend on the machine itself (that would be a circular reference).
    const dutyCycleName = `${this.stackName}-duty-cycle`;
    const selfArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: dutyCycleName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Under /aws/vendedlogs/ Step Functions does not add each log group to the account-wide CloudWatch Logs
    // resource policy, whose 5,120-character limit otherwise breaks deployments after a few machines.
    const dutyCycleLogs = new logs.LogGroup(this, 'DutyCycleLogs', {
      logGroupName: `/aws/vendedlogs/states/${dutyCycleName}`,
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.dutyCycle = new sfn.StateMachine(this, 'DutyCycle', {
      stateMachineName: dutyCycleName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        // The task learns its execution's name: an administrator's change starts a newer generation, and the
        // waiting one ends at its next wake.
        buildAdvanceLoop(this, {
          advance: fns.cycleAdvance,
          idFields: ['dutyId', 'periodKey'],
          selfArn,
          passExecutionName: true,
        }),
      ),
      logs: { destination: dutyCycleLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    // ---------------------------------------------------------------- case and delivery state machines
    const caseMachine = new AdvanceLoopMachine(this, 'CaseWorkflow', {
      advance: fns.caseAdvance,
      nameSuffix: 'case',
      idFields: ['caseId'],
      passExecutionName: true,
      logRetention: LOG_RETENTION,
      describedAs: 'A case execution',
    });
    this.caseWorkflow = caseMachine.stateMachine;
    // The delivery run's task learns its execution's name: it is the holder of the delivery lease.
    const deliveryMachine = new AdvanceLoopMachine(this, 'DeliveryWorkflow', {
      advance: fns.deliver,
      nameSuffix: 'delivery',
      idFields: ['moment'],
      passExecutionName: true,
      logRetention: LOG_RETENTION,
      describedAs: 'A delivery run',
    });
    this.delivery = deliveryMachine.stateMachine;

    for (const [name, spec] of entries(handlers)) {
      const { access } = spec;
      if (access.startCycleExecutions) {
        fns[name].addEnvironment('CYCLE_STATE_MACHINE_ARN', this.dutyCycle.stateMachineArn);
        this.dutyCycle.grantStartExecution(fns[name]);
      }
      // Opening a case, and an event that needs the case's clock sooner, start an execution of the case machine.
      if (access.startCaseExecutions) {
        fns[name].addEnvironment('CASE_STATE_MACHINE_ARN', this.caseWorkflow.stateMachineArn);
        this.caseWorkflow.grantStartExecution(fns[name]);
      }
      // Producers start the run of a delivery moment. The ARN is formatted from the name: the delivery function
      // itself is in the machine's definition, so a reference would be a dependency cycle.
      if (access.startDeliveries) {
        fns[name].addEnvironment('DELIVERY_STATE_MACHINE_ARN', deliveryMachine.arn);
        fns[name].addToRolePolicy(
          new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [deliveryMachine.arn] }),
        );
      }
      // The reconciler lists each machine's running executions to find open work nobody is driving.
      if (access.inspectExecutions) {
        fns[name].addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['states:ListExecutions'],
            resources: [
              this.dutyCycle.stateMachineArn,
              this.caseWorkflow.stateMachineArn,
              deliveryMachine.arn,
            ],
          }),
        );
      }
    }

    // ---------------------------------------------------------------- daily dispatch
    this.scheduleDlq = new sqs.Queue(this, 'DispatchScheduleDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // An explicit role, so the accepted findings below can name it; only this account's default schedule
    // group may assume it (confused-deputy protection).
    const scheduleRole = new iam.Role(this, 'DispatchScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': this.account,
            'aws:SourceArn': this.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
      description: 'EventBridge Scheduler invoking the safeduty dispatch and reconcile functions',
    });
    // Dispatch and the reconciler are invoked asynchronously: what Lambda's own retries cannot finish lands here
    // (and raises an alarm) instead of being dropped.
    this.asyncFailures = new sqs.Queue(this, 'AsyncInvokeFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const fn of [fns.dispatch, fns.reconcile, fns.mailEvents]) {
      fn.configureAsyncInvoke({
        onFailure: new destinations.SqsDestination(this.asyncFailures),
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      });
    }
    this.dispatchSchedule = new scheduler.Schedule(this, 'DailyDispatch', {
      description: 'Starts the duty cycles whose period has begun, daily at 00:05 China Standard Time',
      // Periods are Chinese calendar days: run in Asia/Shanghai whatever the deployment region.
      schedule: scheduler.ScheduleExpression.expression('cron(5 0 * * ? *)', TimeZone.ASIA_SHANGHAI),
      timeWindow: scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(fns.dispatch, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // Dispatch is idempotent (execution names derive from duty and period): retrying is always safe.
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.scheduleDlq,
      }),
    });
    // Every 15 minutes: open work without a running execution is started again, a lost dispatch made up,
    // undelivered notices get a delivery run (functions/core/reconcile.ts).
    this.reconcileSchedule = new scheduler.Schedule(this, 'Reconcile', {
      description: 'Resumes open cycles and cases without a running execution and undelivered notices',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(15)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(fns.reconcile, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
        maxEventAge: Duration.minutes(15),
        deadLetterQueue: this.scheduleDlq,
      }),
    });

    // ---------------------------------------------------------------- bounces and complaints
    // SES accepts an email to an address on the account's suppression list, or one that bounces later, and
    // reports it afterwards: the configuration set sends those events to EventBridge, and mailEvents marks the
    // address undeliverable and tells 安委办 (functions/handlers/mail-events.ts).
    const configurationSet = ses.ConfigurationSet.fromConfigurationSetName(
      this,
      'ConfigurationSetRef',
      props.configurationSetName,
    );
    this.mailEventsDestination = new ses.ConfigurationSetEventDestination(this, 'MailEventsDestination', {
      configurationSet,
      destination: ses.EventDestination.eventBus(
        events.EventBus.fromEventBusName(this, 'DefaultBus', 'default'),
      ),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    this.mailEventsRule = new events.Rule(this, 'MailEventsRule', {
      description: 'Bounces and complaints of safeduty emails, to the mailEvents function',
      eventPattern: {
        source: ['aws.ses'],
        detailType: ['Email Bounced', 'Email Complaint Received'],
        detail: { mail: { tags: { 'ses:configuration-set': [props.configurationSetName] } } },
      },
      targets: [
        new eventsTargets.LambdaFunction(fns.mailEvents, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: this.scheduleDlq,
        }),
      ],
    });

    // ---------------------------------------------------------------- alarms
    // A customer managed key: CloudWatch must be allowed in the key policy to publish to an encrypted topic,
    // which the AWS managed aws/sns key cannot grant.
    const alarmKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the safeduty alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'safeduty alarms',
      masterKey: alarmKey,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a resource policy, which replaces the default one: allow this account's
    // alarms explicitly.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
    // Required at synth (infra/app.ts): an alarm nobody hears is no alarm.
    const subscription = this.alarmTopic.addSubscription(
      new subscriptions.EmailSubscription(settings.alarmEmail),
    );
    acknowledge(subscription, {
      'Serverless-SNSRedrivePolicy':
        'Email subscription for operators: SNS retries email delivery itself, and a DLQ of undelivered alarm ' +
        'mails would need its own alarm, delivered the same way. The alarm state stays visible in CloudWatch.',
    });
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);
    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) =>
      addAlarm(this, alarmId, metric, description, alarmAction);
    alarm(
      'DutyCycleFailedAlarm',
      this.dutyCycle.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
      'A duty-cycle execution failed: the cycle record holds lastError; the reconciler resumes it within 15 minutes.',
    );
    alarm(
      'DutyCycleTimedOutAlarm',
      this.dutyCycle.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
      'A duty-cycle execution timed out: its reminders have stopped.',
    );
    alarm(
      'DutyCycleAbortedAlarm',
      this.dutyCycle.metricAborted({ period, statistic: cloudwatch.Stats.SUM }),
      'A duty-cycle execution was aborted (stopped by hand?): the reconciler resumes the cycle within 15 minutes.',
    );
    caseMachine.addAlarms(this, 'CaseWorkflow', alarmAction);
    deliveryMachine.addAlarms(this, 'Delivery', alarmAction);
    // Per-function errors, throttles and durations, DynamoDB throttling, SES reputation, the product's figures and
    // the dashboard.
    this.observability = new Observability(this, 'Observability', {
      functions: fns,
      machines: [
        { title: 'duty cycle', machine: this.dutyCycle },
        { title: 'case', machine: caseMachine.stateMachine },
        { title: 'delivery', machine: deliveryMachine.stateMachine },
      ],
      tableName: props.table.tableName,
      alarmAction,
    });
    alarm(
      'DispatchScheduleDlqAlarm',
      this.scheduleDlq.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'The scheduler could not invoke dispatch or the reconciler after its retries: the reconciler makes up a lost ' +
        'day once it runs again; check the functions and the schedule role.',
    );
    alarm(
      'AsyncInvokeFailuresAlarm',
      this.asyncFailures.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'Dispatch or the reconciler failed after Lambda retried it twice (the message holds the error): the next ' +
        'reconciler run makes up a lost dispatch; see the function log group.',
    );
    // The delivery run logs this when SES refuses the account itself (sending paused, daily quota used up): no
    // email goes out until it is fixed.
    const accountStopped = new logs.MetricFilter(this, 'MailAccountStoppedFilter', {
      logGroup: fns.deliver.logGroup,
      filterPattern: logs.FilterPattern.stringValue(
        '$.message',
        '=',
        'the mail account cannot send: delivery stopped',
      ),
      metricNamespace: 'safeduty',
      metricName: 'MailAccountStopped',
      metricValue: '1',
    });
    alarm(
      'MailAccountStoppedAlarm',
      accountStopped.metric({ period, statistic: cloudwatch.Stats.SUM }),
      'SES refused the account (sending paused or the daily quota used up): no email goes out. Check the SES ' +
        'account dashboard; delivery retries every 15 minutes and sends everything owed once SES accepts again.',
    );

    // ---------------------------------------------------------------- HTTP API (API Gateway + Cognito)
    this.api = new SafedutyApi(this, 'Api', {
      handler: fns.api,
      logRetention: LOG_RETENTION,
      publicUrl: settings.consoleUrl,
    });
    alarm(
      'ApiServerErrorsAlarm',
      this.api.httpApi.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
      'The HTTP API answered 5xx: client input never causes one, so see the api function log group.',
    );

    new CfnOutput(this, 'TableName', { value: props.table.tableName });
    new CfnOutput(this, 'DutyCycleStateMachineArn', { value: this.dutyCycle.stateMachineArn });
    new CfnOutput(this, 'CaseStateMachineArn', { value: this.caseWorkflow.stateMachineArn });
    new CfnOutput(this, 'DeliveryStateMachineArn', { value: this.delivery.stateMachineArn });
    new CfnOutput(this, 'DispatchFunctionName', {
      value: fns.dispatch.functionName,
      description: "Invoke it once after the first deployment to start today's cycles (then daily at 00:05)",
    });
    new CfnOutput(this, 'SesConfigurationSet', { value: props.configurationSetName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'LinkSecretParameter', {
      value: settings.linkSecretParameter,
      description: 'Create it before the first cycle runs: an SSM SecureString of at least 32 characters',
    });

    this.acknowledgeAcceptedFindings(scheduleRole);
  }

  private createFunction(
    name: HandlerName,
    spec: HandlerSpec,
    props: StatelessStackProps,
    configurationSetArn: string,
  ): NodejsFunction {
    const id = pascal(name);
    const { settings, table } = props;
    const { access } = spec;

    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role without the AWSLambdaBasicExecutionRole managed policy: it may write to its own log
    // group only, and gets exactly the grants its registry entry asks for.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `safeduty ${name} function`,
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: settings.logLevel,
      CONSOLE_URL: settings.consoleUrl,
      SAFETY_OFFICE_UNIT_ID: settings.safetyOfficeUnitId,
      // On AWS administrators are authenticated by the API Gateway JWT authorizer (Cognito), never by the
      // local runtime's bearer token.
      AUTH_MODE: 'cognito',
    };
    if (access.table) environment.TABLE_NAME = table.tableName;
    if (access.sendEmail) {
      environment.SENDER_ADDRESS = settings.senderAddress;
      environment.SES_CONFIGURATION_SET = props.configurationSetName;
    }
    // SMS only where the deployment has an origination identity (mainland China needs a registered sender):
    // without one the function gets neither the variables nor the permission, and notices go by email.
    const smsIdentity = access.sendSms ? settings.smsOriginationIdentity : undefined;
    if (smsIdentity) {
      environment.SMS_ORIGINATION_IDENTITY = smsIdentity;
      if (settings.smsConfigurationSet) environment.SMS_CONFIGURATION_SET = settings.smsConfigurationSet;
      if (settings.smsSignature) environment.SMS_SIGNATURE = settings.smsSignature;
    }
    if (access.linkSecret) environment.LINK_SECRET_PARAMETER = settings.linkSecretParameter;
    if (access.attachments) environment.ATTACHMENTS_BUCKET = props.attachmentsBucketName;
    // The deployment's own files travel inside the bundle (copied next to the handler), so what runs is exactly
    // what the synth validated, and changing one changes the asset and redeploys the functions.
    const deploymentFiles = [
      { file: settings.catalogFile, bundled: 'catalog.json', env: CATALOG_ENV },
      { file: settings.caseTypesFile, bundled: 'case-types.json', env: CASE_TYPES_ENV },
      { file: settings.deliveryPolicyFile, bundled: 'delivery-policy.json', env: DELIVERY_POLICY_ENV },
    ].filter((f): f is { file: string; bundled: string; env: string } => f.file !== undefined);
    for (const f of deploymentFiles) environment[f.env] = `/var/task/${f.bundled}`;

    const fn = new NodejsFunction(this, `${id}Function`, {
      description: spec.description,
      entry: path.join(PROJECT_ROOT, spec.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      environment,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // ESM output still meets CommonJS dependencies that call require(): give them one.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        minify: true,
        // Error classes name themselves after their constructor (new.target.name), and Step Functions matches
        // Retry/Catch on that name (ValidationError is not retried): minification must not rename classes.
        keepNames: true,
        sourceMap: true,
        // The SDK versions pinned in package-lock.json, not whichever the Lambda runtime ships this month.
        bundleAwsSDK: true,
        // Only the source tree builds the console on request (console-assets.ts); a bundle carries it built.
        externalModules: ['esbuild'],
        ...(deploymentFiles.length > 0 || name === 'api'
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (input: string, output: string) => [
                  ...deploymentFiles.map(
                    (f) => `cp ${JSON.stringify(f.file)} ${JSON.stringify(path.join(output, f.bundled))}`,
                  ),
                  ...(name === 'api' ? consoleBuildCommands(input, output) : []),
                ],
              },
            }
          : {}),
      },
    });

    if (access.attachments) {
      // Presigned uploads and reads act with these rights: the report files only, nothing else in the bucket.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:GetObject'],
          resources: [`arn:${Aws.PARTITION}:s3:::${props.attachmentsBucketName}/attachments/*`],
        }),
      );
      // Without it S3 answers a missing file with 403, not 404: the check could not tell "never uploaded".
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [`arn:${Aws.PARTITION}:s3:::${props.attachmentsBucketName}`],
          conditions: { StringLike: { 's3:prefix': 'attachments/*' } },
        }),
      );
      const nagName = props.attachmentsBucketName
        .replace(Aws.ACCOUNT_ID, '<AWS::AccountId>')
        .replace(Aws.REGION, '<AWS::Region>');
      acknowledge(role, {
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${nagName}/attachments/*]`]:
          'Report files are stored under keys made when a unit uploads one (a random id per file); the function ' +
          'signs uploads and reads of that folder only.',
      });
    }
    if (access.table)
      for (const statement of tableStatements(access.table, table.tableArn, props.tableIndexNames))
        role.addToPrincipalPolicy(statement);
    if (access.sendEmail) {
      // SES v2 authorizes SendEmail against both the sending identity and the configuration set.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: [props.emailIdentityArn, configurationSetArn],
        }),
      );
      // The account's send rate, which delivery keeps under.
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ses:GetAccount'], resources: ['*'] }));
    }
    if (smsIdentity) {
      // SendTextMessage authorizes against the origination identity used (phone number, pool or sender ID); the
      // configuration set is not one of its resource types. So: this identity, nothing else in the account.
      const resources = smsOriginationResources(smsIdentity, (resource, resourceName) =>
        this.formatArn({ service: 'sms-voice', resource, resourceName }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sms-voice:SendTextMessage'], resources }),
      );
      for (const arn of resources.filter((r) => r.endsWith('/*'))) {
        const nagArn = arn
          .replace(Aws.PARTITION, '<AWS::Partition>')
          .replace(Aws.REGION, '<AWS::Region>')
          .replace(Aws.ACCOUNT_ID, '<AWS::AccountId>');
        acknowledge(role, {
          [`AwsSolutions-IAM5[Resource::${nagArn}]`]:
            "A sender ID's ARN ends with the country it is registered for; the wildcard covers that one sender ID " +
            'in its countries, no other identity.',
        });
      }
    }
    if (access.linkSecret) {
      // No kms:Decrypt statement: the parameter is encrypted with the AWS managed key aws/ssm, whose key policy
      // already lets every principal of the account decrypt through Parameter Store (a customer managed key
      // would need one). What guards the secret is ssm:GetParameter on this one parameter.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          // SSM ARNs carry the name without its leading slash: parameter/safeduty/link-secret.
          resources: [
            this.formatArn({
              service: 'ssm',
              resource: 'parameter',
              resourceName: settings.linkSecretParameter.replace(/^\//, ''),
            }),
          ],
        }),
      );
    }
    return fn;
  }

  /**
   * The cdk-nag findings accepted, each with its reason. cdk-nag 3 acknowledges one exact finding id per call
   * (`Rule[Finding]` for granular rules), on the construct that carries it or an ancestor.
   */
  private acknowledgeAcceptedFindings(scheduleRole: iam.Role): void {
    const xray =
      'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions ' +
      '(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).';
    const node22 =
      'Node.js 22 is the runtime the design pins (bundling target node22, engines, the local runtime); moving ' +
      'to 24 is a deliberate upgrade of the whole toolchain, not a per-function setting.';
    for (const [name, fn] of Object.entries(this.functions) as [HandlerName, NodejsFunction][]) {
      const asynchronous = name === 'dispatch' || name === 'reconcile';
      acknowledge(fn, {
        'AwsSolutions-L1': node22,
        'Serverless-LambdaLatestVersion': node22,
        'Serverless-LambdaDLQ': asynchronous
          ? `${name} is invoked asynchronously by EventBridge Scheduler and has an on-failure destination (the ` +
            'AsyncInvokeFailures queue, alarmed), which records the error as well as the event; a DLQ would add nothing.'
          : `${name} is only invoked synchronously (by Step Functions, which retries and records failures, or by ` +
            'API Gateway): a function DLQ, which only serves asynchronous invocations, would never receive anything.',
      });
      acknowledge(fn.role as iam.Role, {
        'AwsSolutions-IAM5[Resource::*]':
          name === 'deliver'
            ? `${xray} ses:GetAccount (the account's send rate) has no resource either.`
            : xray,
      });
    }
    const advanceArn = `<${this.getLogicalId(this.functions.cycleAdvance.node.defaultChild as CfnElement)}.Arn>`;
    const dispatchArn = `<${this.getLogicalId(this.functions.dispatch.node.defaultChild as CfnElement)}.Arn>`;
    acknowledge(this.dutyCycle.role as iam.Role, {
      'AwsSolutions-IAM5[Resource::*]':
        `${xray} The CloudWatch Logs delivery actions Step Functions needs for logging (logs:CreateLogDelivery, ` +
        'logs:DescribeResourcePolicies, ...) also support only "*" ' +
        '(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      [`AwsSolutions-IAM5[Resource::${advanceArn}:*]`]:
        'Versions and aliases of the one cycleAdvance function (lambda:InvokeFunction from the LambdaInvoke task).',
    });
    const reconcileArn = `<${this.getLogicalId(this.functions.reconcile.node.defaultChild as CfnElement)}.Arn>`;
    acknowledge(scheduleRole, {
      [`AwsSolutions-IAM5[Resource::${dispatchArn}:*]`]:
        'Versions and aliases of the one dispatch function (lambda:InvokeFunction granted to the schedule target).',
      [`AwsSolutions-IAM5[Resource::${reconcileArn}:*]`]:
        'Versions and aliases of the one reconcile function (lambda:InvokeFunction granted to the schedule target).',
    });
    acknowledge(this.scheduleDlq, {
      'AwsSolutions-SQS3':
        'This queue is itself the dead-letter queue of the dispatch and reconcile schedules; its depth is alarmed.',
      'Serverless-SQSRedrivePolicy':
        'This queue is itself a dead-letter queue; nothing consumes it automatically.',
    });
    acknowledge(this.asyncFailures, {
      'AwsSolutions-SQS3':
        'This queue is itself the on-failure destination of dispatch and the reconciler; its depth is alarmed.',
      'Serverless-SQSRedrivePolicy':
        'This queue is itself a failure destination; nothing consumes it automatically.',
    });
  }
}

/**
 * The ARNs IAM checks SendTextMessage against for an origination identity (infra/app.ts validated its form): an
 * ARN as given; a phone number or pool id as its ARN; a sender ID as its ARN in any country it is registered for.
 */
export function smsOriginationResources(
  identity: string,
  arnOf: (resource: 'phone-number' | 'pool' | 'sender-id', resourceName: string) => string,
): string[] {
  if (identity.startsWith('arn:')) return [identity];
  // The same id form infra/app.ts accepts; a sender ID (at most 11 characters) cannot take it.
  const id = /^(phone|pool)-[A-Za-z0-9]{8,}$/.exec(identity);
  if (id) return [arnOf(id[1] === 'pool' ? 'pool' : 'phone-number', identity)];
  return [arnOf('sender-id', `${identity}/*`)];
}

function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}

function entries(registry: typeof handlers): [HandlerName, HandlerSpec][] {
  return Object.entries(registry) as [HandlerName, HandlerSpec][];
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The administrators' console travels in the api function's bundle (`console/`, read by
 * functions/http/console-assets.ts): its script built by the same esbuild, its page and styles copied.
 */
export function consoleBuildCommands(input: string, output: string): string[] {
  const src = (f: string) => JSON.stringify(path.join(input, 'console', f));
  const out = (f: string) => JSON.stringify(path.join(output, 'console', f));
  return [
    `mkdir -p ${JSON.stringify(path.join(output, 'console'))}`,
    `${JSON.stringify(path.join(input, 'node_modules', '.bin', 'esbuild'))} ${src('app.ts')} --bundle --format=esm ` +
      `--minify --legal-comments=none --target=chrome110,firefox110,safari16 --outfile=${out('app.js')}`,
    `${JSON.stringify(path.join(input, 'node_modules', '.bin', 'esbuild'))} ${src('unit.ts')} --bundle --format=esm ` +
      `--minify --legal-comments=none --target=chrome110,firefox110,safari16 --outfile=${out('unit.js')}`,
    `cp ${src('index.html')} ${out('index.html')}`,
    `cp ${src('app.css')} ${out('app.css')}`,
  ];
}
