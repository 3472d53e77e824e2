import { Console } from 'node:console';
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { refreshOfficialCalendar } from '../adapters/calendar-store.ts';
import { publishMetrics } from '../adapters/metrics.ts';
import { tracer } from '../adapters/tracing.ts';
import { ValidationError, fieldPath } from '../core/errors.ts';

export const logger = new Logger({
  serviceName: 'safeduty',
  logLevel: (process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
});

/**
 * Where the handlers' log records go. On Lambda, stdout (CloudWatch); the local runtime sends them to a file in its
 * data folder, so a county official's terminal shows the product's own messages only (`--verbose` keeps them there).
 */
export function sendLogsTo(stream: NodeJS.WritableStream): void {
  // Powertools writes through its own Console instance: one over the stream instead.
  (logger as unknown as { console: Console }).console = new Console({ stdout: stream, stderr: stream });
}

/** The narrow logging surface the domain core uses (Powertools on AWS, anything locally). */
export const domainLog = {
  warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
};

/** The local runtime's Lambda context; `remainingMs` counts down on its virtual clock. */
export function localContext(functionName: string, remainingMs: () => number = () => 900_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'local',
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, remainingMs()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Parses a workflow input with zod; a bad input is a named, non-retryable error in the execution history. */
export function parseInput<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const r = schema.safeParse(event);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ field: fieldPath(i.path), problem: i.message }));
    throw new ValidationError(
      `invalid input: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`,
      '输入无效',
      issues,
    );
  }
  return r.data;
}

/**
 * A workflow task handler: zod-validated input, structured logs with the Lambda context, nothing else.
 * The domain work lives in functions/core.
 */
export function workflowHandler<S extends z.ZodType, R>(
  schema: S,
  fn: (input: z.infer<S>, context: Context) => Promise<R>,
) {
  return (
    middy<unknown, R>()
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(publishMetrics())
      // Every function plans on the official calendar, including the years administrators loaded.
      .before(() => refreshOfficialCalendar())
      .handler(async (event: unknown, context: Context) => fn(parseInput(schema, event), context))
  );
}
