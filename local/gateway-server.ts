// What the local SES and SMS endpoints share: an HTTP server on the loopback address, the request body, and the
// log of what they accepted, one JSON line per message, kept in the data folder across restarts.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The messages a log holds. A line torn by a kill in the middle of the write is skipped (that message's record is
 * the delivery record's), and the file gets a line end so the next message starts a line of its own.
 */
export function readLog<T>(file: string | undefined): T[] {
  if (!file || !existsSync(file)) return [];
  const saved = readFileSync(file, 'utf8');
  if (saved.length > 0 && !saved.endsWith('\n')) appendFileSync(file, '\n');
  const out: T[] = [];
  for (const line of saved.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn: see above
    }
  }
  return out;
}

/** A loopback server for one endpoint; an unexpected error answers 500 in the service's own error shape. */
export class GatewayServer {
  private server?: Server;

  constructor(
    private readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    private readonly internalError: (res: ServerResponse, err: unknown) => void,
  ) {}

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.internalError(res, err);
        else res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
