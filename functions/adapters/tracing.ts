import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray tracing of the functions (tracing is active on them and on the state machines): each invocation a segment,
 * each AWS SDK call a subsegment. Powertools turns itself off outside Lambda, so the local runtime and the tests
 * run untraced.
 */
export const tracer = new Tracer({ serviceName: 'safeduty' });
