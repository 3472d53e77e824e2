import { appendFileSync } from 'node:fs';
import { setTableGuard } from '../functions/adapters/clients.ts';
import { handlers, type HandlerSpec } from '../functions/registry.ts';
import {
  allows,
  replacesAppendOnly,
  tableRequests,
  type TableAccess,
  type TableRequest,
} from '../functions/table-access.ts';
import { invokedFunction } from './handlers.ts';

/** What DynamoDB answers a request IAM does not allow (a client error: the SDK does not retry it). */
export class AccessDeniedException extends Error {
  override name = 'AccessDeniedException';
  readonly $fault = 'client';
}

function describe(r: TableRequest): string {
  return `${r.action}${r.index ? ` on index ${r.index}` : ''} (${[...new Set(r.leadingKeys)].join(', ') || 'no key'})`;
}

/**
 * Every DynamoDB request a registry function makes locally is checked against that function's table grants,
 * as IAM checks them on AWS: a grant the registry forgot fails here, in a test, not at a county. Code outside
 * any invocation (the local runtime's own seeding and inspection) is not a Lambda function and is not checked.
 */
export function enforceTableGrants(): void {
  const log = process.env.SAFEDUTY_TABLE_ACCESS_LOG;
  setTableGuard((commandName, input) => {
    const name = invokedFunction();
    if (!name) return;
    const access: TableAccess | undefined = (handlers[name].access as HandlerSpec['access']).table;
    if (!log && access && replacesAppendOnly(access, commandName, input))
      throw new AccessDeniedException(
        `${name} may only add audit entries, not replace one (a put needs attribute_not_exists)`,
      );
    for (const request of tableRequests(commandName, input)) {
      if (log) appendFileSync(log, `${JSON.stringify({ name, ...request })}\n`);
      else if (!access || !allows(access, request))
        throw new AccessDeniedException(
          `User: arn:aws:sts::000000000000:assumed-role/${name} is not authorized to perform ${describe(request)}`,
        );
    }
  });
}
