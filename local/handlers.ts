import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlers, type HandlerName } from '../functions/registry.ts';
import { localContext } from '../functions/handlers/common.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const loaded = new Map<HandlerName, Promise<Handler>>();

/** Calls a registry handler in-process, the same module the CDK app bundles into its Lambda function. */
export async function invoke(name: HandlerName, event: unknown): Promise<unknown> {
  let h = loaded.get(name);
  if (!h) {
    h = import(resolve(root, handlers[name].entry)).then((m: { handler: Handler }) => m.handler);
    loaded.set(name, h);
  }
  return (await h)(event, localContext(name));
}

export { handlers };
