import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE } from '../functions/adapters/metrics.ts';
import { UNADDRESSED_MESSAGE } from '../functions/core/directory.ts';
import type { HandlerName } from '../functions/registry.ts';
import { handlers } from '../functions/registry.ts';

/**
 * An alarm as every safeduty alarm is: at least one (or `threshold`) in a 5-minute period, missing data normal (no
 * executions, no errors), notifying the alarm topic.
 */
export function addAlarm(
  scope: Construct,
  id: string,
  metric: cloudwatch.IMetric,
  description: string,
  action: cloudwatch.IAlarmAction,
  options: Partial<cloudwatch.AlarmProps> = {},
): cloudwatch.Alarm {
  const a = new cloudwatch.Alarm(scope, id, {
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No data is the normal state (nothing ran), not an unknown one.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
    ...options,
  });
  a.addAlarmAction(action);
  return a;
}

export interface ObservabilityProps {
  functions: Record<HandlerName, LambdaFunction>;
  machines: { title: string; machine: sfn.IStateMachine }[];
  tableName: string;
  alarmAction: cloudwatch.IAlarmAction;
}

/**
 * What an operator watches: a dashboard of the product's own figures (notices owed, emails sent, failed and
 * suppressed, overdue units, open cycles, what the reconciler resumed) beside the platform's (executions, Lambda
 * errors, throttles and durations, DynamoDB throttling, SES reputation), and the alarms that go with them.
 * The machines' failed, timed-out and aborted alarms are the machines' own (AdvanceLoopMachine.addAlarms).
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    // Unlabelled, so an alarm on one is a plain metric alarm; the dashboard labels them.
    const product = (name: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: 'safeduty' },
        statistic,
        period,
      });
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      description: string,
      options: Partial<cloudwatch.AlarmProps> = {},
    ) => addAlarm(this, alarmId, metric, description, props.alarmAction, options);

    // ------------------------------------------------------------ Lambda: errors that outlast retries, throttles,
    // durations near the timeout
    const retriedByCaller: Record<HandlerName, string> = {
      cycleAdvance: 'the state machine retries it',
      caseAdvance: 'the state machine retries it',
      deliver: 'the state machine retries it',
      dispatch: 'Lambda retries the asynchronous invoke, then the on-failure queue (alarmed) gets it',
      reconcile: 'Lambda retries the asynchronous invoke, then the on-failure queue (alarmed) gets it',
      mailEvents: 'EventBridge retries the invocation',
      api: '',
    };
    for (const name of Object.keys(props.functions) as HandlerName[]) {
      const fn = props.functions[name];
      const pascal = name[0]?.toUpperCase() + name.slice(1);
      const retried = retriedByCaller[name];
      alarm(
        `${pascal}ErrorsAlarm`,
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        retried
          ? `The ${name} function has failed in three consecutive 5-minute periods: ${retried}, so one error that a ` +
              'retry overcame raises nothing; errors that keep coming mean the retries are not succeeding (see its log group).'
          : `The ${name} function reported errors (see its log group).`,
        retried ? { evaluationPeriods: 3, datapointsToAlarm: 3 } : {},
      );
      alarm(
        `${pascal}ThrottlesAlarm`,
        fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
        `The ${name} function was throttled: the account's concurrency is exhausted (raise the quota, or look for a runaway caller).`,
      );
      const timeoutMs = handlers[name].timeoutSeconds * 1000;
      // Delivery hands over to its next invocation with at least 20 s left: near its timeout is never normal.
      const share = name === 'deliver' ? 0.97 : 0.8;
      alarm(
        `${pascal}DurationAlarm`,
        fn.metricDuration({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        `The ${name} function ran longer than ${Math.round(share * 100)} % of its ${handlers[name].timeoutSeconds} s ` +
          'timeout: the next such invocation may time out.',
        { threshold: Math.round(share * timeoutMs) },
      );
    }

    // ------------------------------------------------------------ DynamoDB throttling (on-demand: throttle events)
    const tableMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.tableName },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    const throttled = new cloudwatch.MathExpression({
      expression: 'r + w',
      usingMetrics: { r: tableMetric('ReadThrottleEvents'), w: tableMetric('WriteThrottleEvents') },
      period,
      label: 'throttled requests',
    });
    alarm(
      'TableThrottledAlarm',
      throttled,
      'DynamoDB throttled requests on the table (on-demand: a burst past twice the previous peak, or the account ' +
        'limit). The SDK retried them; persistent throttling slows sweeps and delivery.',
    );

    // ------------------------------------------------------------ SES reputation (account-wide, published hourly)
    const reputation = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SES',
        metricName,
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      });
    alarm(
      'SesBounceRateAlarm',
      reputation('Reputation.BounceRate'),
      'The account bounce rate passed 5 %: SES reviews accounts at 5 % and may pause sending at 10 %. Check the ' +
        'undeliverable addresses (GET /deliveries?status=failed) and correct the roster.',
      { threshold: 0.05 },
    );
    alarm(
      'SesComplaintRateAlarm',
      reputation('Reputation.ComplaintRate'),
      'The account complaint rate passed 0.1 %: SES reviews accounts at 0.1 % and may pause sending at 0.5 %.',
      { threshold: 0.001 },
    );

    // ------------------------------------------------------------ the product's own figures
    const sent = product(METRIC.emailsSent);
    const failed = product(METRIC.emailsFailed);
    const suppressed = product(METRIC.emailsSuppressed);
    const notices = product(METRIC.noticesRecorded);
    const overdue = product(METRIC.unitsOverdueAtClose);
    const open = product(METRIC.cyclesOpen, cloudwatch.Stats.MAXIMUM);
    const resumed = product(METRIC.executionsResumed);
    const labelled = (m: cloudwatch.Metric, label: string) => m.with({ label });
    alarm(
      'ReconcilerResumedAlarm',
      resumed,
      'The reconciler found work without a running execution (a failed, aborted or lost execution, a missed ' +
        "dispatch, undelivered notices) and started it again: nothing is lost, but find out why (the reconcile function's log says what).",
    );
    alarm(
      'EmailsRefusedAlarm',
      failed,
      'Ten or more emails were refused in 5 minutes (addresses the mail service rejects or bounced): check GET ' +
        '/deliveries?status=failed and the roster.',
      { threshold: 10 },
    );

    // A notice with nobody to go to (a vacant position, and no 安委办 unit to fall back to) is logged by the
    // producers; counted here so it is never dropped silently.
    const unaddressed = (['cycleAdvance', 'caseAdvance'] as const).map(
      (name) =>
        new logs.MetricFilter(this, `${name[0]?.toUpperCase()}${name.slice(1)}UnaddressedFilter`, {
          logGroup: props.functions[name].logGroup,
          filterPattern: logs.FilterPattern.stringValue('$.message', '=', UNADDRESSED_MESSAGE),
          metricNamespace: METRICS_NAMESPACE,
          metricName: 'NoticesUnaddressed',
          metricValue: '1',
        }),
    );
    alarm(
      'NoticesUnaddressedAlarm',
      (unaddressed[0] as logs.MetricFilter).metric({ period, statistic: cloudwatch.Stats.SUM }),
      'A reminder or escalation had nobody to go to: its position is vacant and the 安委办 unit it falls back to ' +
        '(safeduty:safetyOfficeUnitId, default county-safety-office) is not in the roster. Add that unit (and fill the ' +
        "position); the producer's log line names the unit and position.",
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.days(7),
    });
    const width = 12;
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# safeduty\nNotices owed and emails delivered (the product), then executions, functions, table and SES. ' +
          'Runbook: docs/delivery.md (faults) and README (operations).',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Emails',
        left: [
          labelled(sent, 'sent'),
          labelled(failed, 'refused'),
          labelled(suppressed, 'not sent: address undeliverable'),
        ],
        width,
      }),
      new cloudwatch.GraphWidget({ title: 'Notices recorded', left: [labelled(notices, 'notices')], width }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Units overdue when their cycle closed',
        left: [labelled(overdue, 'units')],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cycles open; executions resumed by the reconciler',
        left: [labelled(open, 'cycles open')],
        right: [labelled(resumed, 'resumed')],
        width,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Executions failed, timed out, aborted',
        left: props.machines.flatMap(({ title, machine }) => [
          machine.metricFailed({ period, statistic: cloudwatch.Stats.SUM, label: `${title} failed` }),
          machine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM, label: `${title} timed out` }),
          machine.metricAborted({ period, statistic: cloudwatch.Stats.SUM, label: `${title} aborted` }),
        ]),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: (Object.keys(props.functions) as HandlerName[]).map((n) =>
          props.functions[n].metricErrors({ period, statistic: cloudwatch.Stats.SUM, label: `${n} errors` }),
        ),
        right: (Object.keys(props.functions) as HandlerName[]).map((n) =>
          props.functions[n].metricThrottles({
            period,
            statistic: cloudwatch.Stats.SUM,
            label: `${n} throttles`,
          }),
        ),
        width,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function duration (max, ms)',
        left: (Object.keys(props.functions) as HandlerName[]).map((n) =>
          props.functions[n].metricDuration({ period, statistic: cloudwatch.Stats.MAXIMUM, label: n }),
        ),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttling; SES bounce and complaint rates',
        left: [throttled],
        right: [reputation('Reputation.BounceRate'), reputation('Reputation.ComplaintRate')],
        width,
      }),
    );
  }
}
