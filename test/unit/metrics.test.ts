// The operator's figures: counted inside Lambda only, published once per invocation, nothing when nothing happened.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { count, METRIC, metrics, publishMetrics } from '../../functions/adapters/metrics.ts';

afterEach(() => {
  metrics.clearMetrics();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('metrics', () => {
  it('counts nothing outside Lambda (locally, in tests): no EMF lines in a terminal', () => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', undefined as unknown as string);
    count(METRIC.emailsSent, 3);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('inside Lambda, counts what happened and publishes it after the invocation, or when it failed', async () => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'safeduty-deliver');
    const published = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      metrics.clearMetrics();
      return metrics;
    });
    const flush = publishMetrics();
    count(METRIC.emailsSent, 0);
    count(METRIC.emailsFailed, 0);
    expect(metrics.hasStoredMetrics()).toBe(false);
    await flush.after?.({} as never);
    expect(published).not.toHaveBeenCalled();

    count(METRIC.emailsSent, 14);
    count(METRIC.cyclesOpen, 0);
    expect(metrics.hasStoredMetrics()).toBe(true);
    await flush.onError?.({} as never);
    expect(published).toHaveBeenCalledTimes(1);
  });
});
