import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlers, type HandlerName } from '../functions/registry.ts';
import { localContext } from '../functions/handlers/common.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const loaded = new Map<HandlerName, Promise<Handler>>();

/** How the local runtime times invocations: its virtual clock and each function's time budget. */
export interface InvocationTiming {
  nowMs(): number;
  budgetMs(name: HandlerName): number;
}
let timing: InvocationTiming | undefined;
const current = new AsyncLocalStorage<{ name: HandlerName; deadline: number }>();

export function configureInvocations(t: InvocationTiming | undefined): void {
  timing = t;
}

/** The virtual instant the running invocation times out at, if code is running inside one. */
export function invocationDeadline(): number | undefined {
  return current.getStore()?.deadline;
}

/** The registry function whose invocation is running, if code is running inside one. */
export function invokedFunction(): HandlerName | undefined {
  return current.getStore()?.name;
}

/** Watchers of every invocation's result (the simulator counts what handlers report). */
export const invocationObservers = new Set<(name: HandlerName, event: unknown, result: unknown) => void>();

/** What Lambda reports when a function runs past its timeout. */
export class LambdaTimeoutError extends Error {
  override name = 'Sandbox.Timedout';
}

/**
 * Calls a registry handler in-process, the same module the CDK app bundles into its Lambda function, with a
 * context whose remaining time counts down on the virtual clock from the function's budget (its timeout, or the
 * budget a fault sets). Running past it fails the invocation as Lambda would.
 */
export async function invoke(name: HandlerName, event: unknown): Promise<unknown> {
  let h = loaded.get(name);
  if (!h) {
    h = import(resolve(root, handlers[name].entry)).then((m: { handler: Handler }) => m.handler);
    loaded.set(name, h);
  }
  const handler = await h;
  const now = () => timing?.nowMs() ?? Date.now();
  const budget = timing?.budgetMs(name) ?? handlers[name].timeoutSeconds * 1000;
  const deadline = now() + budget;
  const result = await current.run({ name, deadline }, () =>
    handler(
      event,
      localContext(name, () => deadline - now()),
    ),
  );
  if (now() > deadline)
    throw new LambdaTimeoutError(`Task timed out after ${(budget / 1000).toFixed(2)} seconds`);
  for (const observe of invocationObservers) observe(name, event, result);
  return result;
}

export { handlers };
