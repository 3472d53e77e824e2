import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEF } from '../functions/adapters/table-def.ts';
import { countIndexWrites } from './dynalite-capacity.ts';

const require = createRequire(import.meta.url);

function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** dynalite: DynamoDB on LevelDB, persisted under `path` (in memory without one). */
export async function startDynamo(options: {
  path?: string;
  port?: number;
}): Promise<{ endpoint: string; server: Server }> {
  // Write units as DynamoDB bills them, index writes included (what the simulator measures and the bench prices);
  // before dynalite loads, which takes its actions at load.
  countIndexWrites(TABLE_DEF.indexes);
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  const port = await listen(server, options.port ?? 0);
  return { endpoint: `http://127.0.0.1:${port}`, server };
}

/** aws-ses-v2-local: keeps every email in memory and shows it on its inbox page (GET /). */
export async function startSes(options: { port?: number }): Promise<{ endpoint: string; server: Server }> {
  const mod = require('aws-ses-v2-local') as {
    default: (c: { port: number; host: string }) => Promise<Server>;
  };
  const port = options.port ?? 0;
  const server = await mod.default({ port, host: '127.0.0.1' });
  // Its listen callback is also called when listening failed (Express 5): no address then means the port is taken.
  const address = server.address() as AddressInfo | null;
  if (!address) throw Object.assign(new Error(`port ${port} in use`), { code: 'EADDRINUSE', port });
  const actual = address.port;
  const endpoint = `http://127.0.0.1:${actual}`;
  // Its inbox lives in module state: a runtime started again in the same process starts with an empty one.
  await fetch(`${endpoint}/clear-store`, { method: 'POST' });
  return { endpoint, server };
}

/** Creates the table (same keys as the CDK stack) unless it exists. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let exists = true;
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    exists = false;
  }
  const attrs = new Set<string>([TABLE_DEF.partitionKey, TABLE_DEF.sortKey]);
  for (const i of TABLE_DEF.indexes) {
    attrs.add(i.partitionKey);
    attrs.add(i.sortKey);
  }
  try {
    if (!exists)
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: TABLE_DEF.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_DEF.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: TABLE_DEF.indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  // A new table answers "not found" until it is ACTIVE, even with dynalite's zero creation delay.
  try {
    for (let i = 0; i < 200; i++) {
      const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (out.Table?.GlobalSecondaryIndexes ?? []).every(
        (g) => g.IndexStatus === 'ACTIVE',
      );
      if (out.Table?.TableStatus === 'ACTIVE' && indexesActive) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}

export interface EmulatorHost {
  dynamo: string;
  ses: string;
  pid: number | undefined;
  close(): Promise<void>;
}

/** Starts both emulators in a child process (see emulator-host.ts). */
export async function startEmulatorHost(options: {
  path?: string;
  dynamoPort?: number;
  sesPort?: number;
}): Promise<EmulatorHost> {
  const child = spawn(
    process.execPath,
    [
      // The emulators' garbage is collected lazily; a cap keeps a long simulation's memory flat.
      '--max-old-space-size=384',
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(new URL('./emulator-host.ts', import.meta.url)),
      JSON.stringify(options),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    // A port already taken is reported on the line instead of the endpoints.
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`emulator host exited with code ${code}`)));
  });
  const endpoints = JSON.parse(line) as {
    dynamo: string;
    ses: string;
    error?: { code: string; port?: number };
  };
  if (endpoints.error) throw Object.assign(new Error(endpoints.error.code), endpoints.error);
  return {
    ...endpoints,
    pid: child.pid,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/** A process's peak resident memory in MiB (Linux VmHWM), or undefined where /proc is not available. */
export function peakRssMb(pid: number | 'self' = 'self'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
