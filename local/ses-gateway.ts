// The SES endpoint the local handlers talk to: it answers as SES would under the faults switched on (down,
// throttled, refusing addresses, transient errors, sandbox, paused, quota), passes the rest to the SES emulator
// (aws-ses-v2-local, the independent implementation of the API, with its inbox page), and keeps every email with
// its virtual send time.
import { appendFileSync, mkdirSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { shanghaiDateOf } from '../workflows/calendar.ts';
import type { VirtualClock } from './clock.ts';
import type { FaultState } from './faults.ts';
import { rng } from './roster.ts';
import { GatewayServer, readAll, readLog } from './gateway-server.ts';

export interface SentMail {
  messageId: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  /** Virtual send time (epoch ms). */
  at: number;
}

export interface GatewayStats {
  sent: number;
  throttled: number;
  rejected: number;
  transient: number;
  refusedWhileDown: number;
  /** The most emails one address received on one day (Asia/Shanghai), and which. */
  maxPerAddressDay: { count: number; address?: string; day?: string };
}

export interface GatewayOptions {
  clock: VirtualClock;
  faults: FaultState;
  /** Where accepted emails go (the SES emulator). */
  backend: () => string;
  /** The sender address (always verified, as a verified identity is). */
  sender: string;
  /** 'all': keep every email (and append it to `file`); 'stats': only count (the simulator). */
  keep: 'all' | 'stats';
  file?: string;
  port?: number;
}

function sesError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ message }));
}

export class SesGateway {
  readonly mails: SentMail[] = [];
  readonly stats: GatewayStats = {
    sent: 0,
    throttled: 0,
    rejected: 0,
    transient: 0,
    refusedWhileDown: 0,
    maxPerAddressDay: { count: 0 },
  };
  /** Called with the SES event of an accepted email that bounces (the runtime hands it to mailEvents). */
  onMailEvent?: (event: unknown) => void;
  /** Called for every accepted email (the simulator counts them). */
  onSent?: (mail: SentMail) => void;
  private readonly server = new GatewayServer(
    (req, res) => this.handle(req, res),
    (res, err) => sesError(res, 500, 'InternalFailure', String(err)),
  );
  private recent: number[] = [];
  private day: number[] = [];
  private perAddressDay = new Map<string, number>();
  private random: () => number;
  private seed: number;

  constructor(private readonly options: GatewayOptions) {
    this.seed = options.faults.current.ses.seed;
    this.random = rng(this.seed);
    if (options.keep === 'all') this.mails.push(...readLog<SentMail>(options.file));
  }

  async start(): Promise<string> {
    return this.server.start(this.options.port);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Emails sent at or after a virtual instant. */
  since(ms: number): SentMail[] {
    return this.mails.filter((m) => m.at >= ms);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const f = this.options.faults.current.ses;
    const now = this.options.clock.nowMs();
    if (f.seed !== this.seed) {
      this.seed = f.seed;
      this.random = rng(f.seed);
    }
    if (f.downUntil && now < Date.parse(f.downUntil)) {
      // Unreachable: the connection drops, as when the endpoint cannot be reached.
      this.stats.refusedWhileDown++;
      req.socket.destroy();
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v2/email/account') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ProductionAccessEnabled: !f.sandbox,
          SendingEnabled: !f.sendingPaused,
          EnforcementStatus: 'HEALTHY',
          SendQuota: {
            MaxSendRate: f.maxSendRate,
            Max24HourSend: f.max24HourSend,
            SentLast24Hours: this.day.length,
          },
        }),
      );
      return;
    }
    if (req.method !== 'POST' || path !== '/v2/email/outbound-emails') {
      await this.forward(req, res, body);
      return;
    }

    const input = JSON.parse(body.toString('utf8') || '{}') as {
      Destination?: { ToAddresses?: string[] };
      EmailTags?: { Name: string; Value: string }[];
      Content?: {
        Simple?: {
          Subject?: { Data?: string };
          Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
        };
      };
    };
    const to = input.Destination?.ToAddresses ?? [];
    this.recent = this.recent.filter((t) => t > now - 1000);
    this.day = this.day.filter((t) => t > now - 24 * 3_600_000);
    if (f.sendingPaused)
      return sesError(res, 400, 'SendingPausedException', 'Sending is paused for this account.');
    if (this.recent.length >= f.maxSendRate) {
      this.stats.throttled++;
      return sesError(res, 429, 'TooManyRequestsException', 'Maximum sending rate exceeded.');
    }
    if (this.day.length >= f.max24HourSend)
      return sesError(res, 400, 'LimitExceededException', 'Daily message quota exceeded.');
    if (f.transientErrorRate > 0 && this.random() < f.transientErrorRate) {
      this.stats.transient++;
      return sesError(res, 503, 'ServiceUnavailable', 'Service Unavailable');
    }
    const lower = (a: string) => a.trim().toLowerCase();
    const rejected = new Set(f.rejectAddresses.map(lower));
    const refused = to.find((a) => rejected.has(lower(a)));
    if (refused) {
      this.stats.rejected++;
      return sesError(res, 400, 'MessageRejected', `Address blacklisted: ${refused}`);
    }
    if (f.sandbox) {
      const verified = new Set([...f.verifiedAddresses, this.options.sender].map(lower));
      const unverified = to.filter((a) => !verified.has(lower(a)));
      if (unverified.length > 0) {
        this.stats.rejected++;
        return sesError(
          res,
          400,
          'MessageRejected',
          `Email address is not verified. The following identities failed the check in region AP-SOUTHEAST-1: ${unverified.join(', ')}`,
        );
      }
    }
    this.recent.push(now);
    this.day.push(now);
    // Round trips vary, so the sends of one batch come back one by one, not all at once.
    if (f.latencyMs > 0) await new Promise((r) => setTimeout(r, f.latencyMs * (0.5 + Math.random())));
    // Counting only (the simulator): answer as SES does without handing the email to the emulator, which would
    // keep a year of emails (a gigabyte at county size) that nobody reads.
    const answer = this.options.keep === 'all' ? await this.forward(req, res, body) : this.accept(res);
    if (!answer) return;
    const simple = input.Content?.Simple;
    const mail: SentMail = {
      messageId: answer.MessageId ?? 'unknown',
      to,
      subject: simple?.Subject?.Data ?? '',
      at: now,
      ...(this.options.keep === 'all'
        ? { text: simple?.Body?.Text?.Data, html: simple?.Body?.Html?.Data }
        : {}),
    };
    this.count(mail);
    const bouncing = new Set(f.bounceAddresses.map(lower));
    const bounced = to.filter((a) => bouncing.has(lower(a)));
    if (bounced.length > 0)
      this.onMailEvent?.(bounceEvent(mail.messageId, to, bounced, input.EmailTags ?? []));
    const complaining = new Set(f.complaintAddresses.map(lower));
    const complained = to.filter((a) => complaining.has(lower(a)));
    if (complained.length > 0)
      this.onMailEvent?.(complaintEvent(mail.messageId, to, complained, input.EmailTags ?? []));
  }

  private accept(res: ServerResponse): { MessageId: string } {
    const MessageId = `counted-${this.stats.sent + 1}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ MessageId }));
    return { MessageId };
  }

  private count(mail: SentMail): void {
    this.stats.sent++;
    const day = shanghaiDateOf(new Date(mail.at));
    for (const a of mail.to) {
      const key = `${a.toLowerCase()}|${day}`;
      const n = (this.perAddressDay.get(key) ?? 0) + 1;
      this.perAddressDay.set(key, n);
      if (n > this.stats.maxPerAddressDay.count) this.stats.maxPerAddressDay = { count: n, address: a, day };
    }
    // Keep only the current day's counts: the maximum is already recorded.
    if (this.perAddressDay.size > 50_000)
      for (const k of this.perAddressDay.keys()) if (!k.endsWith(day)) this.perAddressDay.delete(k);
    if (this.options.keep === 'all') {
      this.mails.push(mail);
      if (this.options.file) {
        mkdirSync(dirname(this.options.file), { recursive: true });
        appendFileSync(this.options.file, `${JSON.stringify(mail)}\n`);
      }
    }
    this.onSent?.(mail);
  }

  /** Passes the request to the SES emulator and its answer back; returns the parsed answer on success. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ): Promise<{ MessageId?: string } | undefined> {
    const target = new URL(req.url ?? '/', this.options.backend());
    return new Promise((resolve, reject) => {
      const out = request(
        target,
        { method: req.method, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const buf = Buffer.concat(chunks);
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(buf);
            if ((answer.statusCode ?? 500) >= 300) return resolve(undefined);
            try {
              resolve(JSON.parse(buf.toString('utf8') || '{}') as { MessageId?: string });
            } catch {
              resolve({});
            }
          });
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}

/** The event SES sends through EventBridge for a complaint (the fields safeduty reads, and a few). */
function complaintEvent(
  messageId: string,
  destination: string[],
  complained: string[],
  tags: { Name: string; Value: string }[],
): unknown {
  return {
    source: 'aws.ses',
    'detail-type': 'Email Complaint Received',
    detail: {
      eventType: 'Complaint',
      mail: { messageId, destination, tags: Object.fromEntries(tags.map((t) => [t.Name, [t.Value]])) },
      complaint: {
        complainedRecipients: complained.map((emailAddress) => ({ emailAddress })),
        complaintFeedbackType: 'abuse',
      },
    },
  };
}

/** The event SES sends through EventBridge for a permanent bounce (only the fields safeduty reads, and a few). */
function bounceEvent(
  messageId: string,
  destination: string[],
  bounced: string[],
  tags: { Name: string; Value: string }[],
): unknown {
  return {
    source: 'aws.ses',
    'detail-type': 'Email Bounced',
    detail: {
      eventType: 'Bounce',
      mail: {
        messageId,
        destination,
        tags: Object.fromEntries(tags.map((t) => [t.Name, [t.Value]])),
      },
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: bounced.map((emailAddress) => ({
          emailAddress,
          diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        })),
      },
    },
  };
}
