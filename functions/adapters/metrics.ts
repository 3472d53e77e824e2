import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';

/**
 * The figures an operator watches, as CloudWatch metrics (Embedded Metric Format in the function's log, namespace
 * `safeduty`): what is owed, what went out, what the reconciler had to pick up. The dashboard and the alarms of
 * infra/observability.ts read them. Counted only inside Lambda (AWS_LAMBDA_FUNCTION_NAME is set there): locally
 * and in tests nothing reads them, and EMF lines would only clutter the terminal.
 */
export const METRICS_NAMESPACE = 'safeduty';
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'safeduty' });

/** Metric names, shared with the stack that graphs and alarms on them. */
export const METRIC = {
  noticesRecorded: 'NoticesRecorded',
  emailsSent: 'EmailsSent',
  emailsFailed: 'EmailsFailed',
  emailsSuppressed: 'EmailsSuppressed',
  unitsOverdueAtClose: 'UnitsOverdueAtClose',
  cyclesOpen: 'CyclesOpen',
  executionsResumed: 'ExecutionsResumed',
} as const;

const inLambda = () => process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;

export function count(name: (typeof METRIC)[keyof typeof METRIC], value: number): void {
  if (!inLambda()) return;
  if (value > 0 || name === METRIC.cyclesOpen) metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Publishes what the invocation counted, after it and when it failed; an invocation that counted nothing publishes
 * nothing (Powertools' own middleware warns on every such one).
 */
export function publishMetrics(): middy.MiddlewareObj {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
