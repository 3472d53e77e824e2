import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalStepFunctions } from './engine.ts';

/**
 * A Step Functions endpoint (AWS JSON 1.0 protocol) over the local engine, so handlers start and inspect
 * executions with the real SDK client exactly as on AWS. Only the operations safeduty uses are served.
 */
export async function startSfnServer(
  engine: LocalStepFunctions,
  port = 0,
): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        reply(400, { __type: 'SerializationException', message: 'malformed JSON' });
        return;
      }
      try {
        switch (target) {
          case 'StartExecution': {
            const input = JSON.parse(String(body.input ?? '{}'));
            const e = engine.startExecution(
              String(body.stateMachineArn),
              String(body.name ?? crypto.randomUUID()),
              input,
            );
            reply(200, { executionArn: e.executionArn, startDate: e.startDate / 1000 });
            return;
          }
          case 'DescribeExecution': {
            const e = engine.describe(String(body.executionArn));
            reply(200, {
              executionArn: e.executionArn,
              stateMachineArn: e.stateMachineArn,
              name: e.name,
              status: e.status,
              startDate: e.startDate / 1000,
              ...(e.stopDate ? { stopDate: e.stopDate / 1000 } : {}),
              input: JSON.stringify(e.input),
              ...(e.output !== undefined ? { output: JSON.stringify(e.output) } : {}),
              ...(e.error ? { error: e.error, cause: e.cause } : {}),
            });
            return;
          }
          case 'ListExecutions': {
            const list = engine.list(
              body.stateMachineArn ? String(body.stateMachineArn) : undefined,
              body.statusFilter as 'RUNNING' | undefined,
            );
            const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 1000;
            reply(200, {
              executions: list.slice(0, max).map((e) => ({
                executionArn: e.executionArn,
                stateMachineArn: e.stateMachineArn,
                name: e.name,
                status: e.status,
                startDate: e.startDate / 1000,
                ...(e.stopDate ? { stopDate: e.stopDate / 1000 } : {}),
              })),
            });
            return;
          }
          default:
            reply(400, {
              __type: 'UnknownOperationException',
              message: `operation ${target} is not served locally`,
            });
        }
      } catch (err) {
        const e = err as { name?: string; message?: string };
        reply(400, { __type: e.name ?? 'InternalFailure', message: e.message ?? String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${actual}`, server };
}
