// The SMS endpoint the local handlers talk to: AWS End User Messaging SMS's SendTextMessage over the protocol the
// SDK speaks (awsJson1_0: POST /, `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`, errors as `__type`). It
// answers as the service would under the faults switched on (down, throttled, refused or opted-out numbers,
// transient errors) and keeps every accepted message with its virtual send time — the phones' inboxes.
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { SMS_RECORD_CONTEXT_KEY } from '../functions/adapters/sms.ts';
import type { VirtualClock } from './clock.ts';
import type { FaultState } from './faults.ts';
import { rng } from './roster.ts';
import { GatewayServer, readAll, readLog } from './gateway-server.ts';

export interface SentSms {
  messageId: string;
  /** The destination, E.164. */
  to: string;
  text: string;
  /** The origination identity asked for, if any. */
  from?: string;
  configurationSet?: string;
  /** The delivery record key the message carried in its Context. */
  ref?: string;
  /** Billed message parts (70 characters a part for Chinese text, 160 for plain GSM text; fewer when split). */
  parts: number;
  /** Virtual send time (epoch ms). */
  at: number;
}

export interface SmsGatewayStats {
  sent: number;
  throttled: number;
  rejected: number;
  optedOut: number;
  invalid: number;
  transient: number;
  refusedWhileDown: number;
}

export interface SmsGatewayOptions {
  clock: VirtualClock;
  faults: FaultState;
  /** 'all': keep every message (and append it to `file`); 'stats': only count (the simulator). */
  keep: 'all' | 'stats';
  file?: string;
  port?: number;
}

const TARGET_PREFIX = 'PinpointSMSVoiceV2.';
/** E.164: a plus, a country code not starting with 0, at most 15 digits. The service refuses anything else. */
const E164 = /^\+[1-9]\d{1,14}$/;
/** SendTextMessage's MessageBody limit. */
const MAX_BODY = 1600;

/** Billed parts: UCS-2 (any non-ASCII character, so all Chinese text) 70 / 67, GSM 7-bit 160 / 153. */
export function smsParts(text: string): number {
  const chars = [...text].length;
  // eslint-disable-next-line no-control-regex
  const unicode = /[^\x00-\x7f]/.test(text);
  const [single, multi] = unicode ? [70, 67] : [160, 153];
  return chars <= single ? 1 : Math.ceil(chars / multi);
}

/**
 * An error as the service sends it: the shape name in `__type` (which the SDK reads first), the modeled members
 * (`Message`, `Reason`, …) beside it, 400 for client errors and 500 for InternalServerException.
 */
function smsError(
  res: ServerResponse,
  status: number,
  type: string,
  members: Record<string, unknown> & { Message: string },
): void {
  const requestId = randomUUID();
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
  res.end(JSON.stringify({ __type: `com.amazonaws.pinpointsmsvoicev2#${type}`, ...members }));
}

interface SendTextMessageInput {
  DestinationPhoneNumber?: unknown;
  OriginationIdentity?: unknown;
  MessageBody?: unknown;
  MessageType?: unknown;
  ConfigurationSetName?: unknown;
  Context?: unknown;
}

export class SmsGateway {
  /** Every accepted message, in send order (kept across restarts when a file is given). */
  readonly sent: SentSms[] = [];
  readonly stats: SmsGatewayStats = {
    sent: 0,
    throttled: 0,
    rejected: 0,
    optedOut: 0,
    invalid: 0,
    transient: 0,
    refusedWhileDown: 0,
  };
  /** Called for every accepted message. */
  onSent?: (message: SentSms) => void;
  private readonly server = new GatewayServer(
    (req, res) => this.handle(req, res),
    (res, err) => smsError(res, 500, 'InternalServerException', { Message: String(err) }),
  );
  private recent: number[] = [];
  private random: () => number;
  private seed: number;

  constructor(private readonly options: SmsGatewayOptions) {
    this.seed = options.faults.current.sms.seed;
    this.random = rng(this.seed);
    if (options.keep === 'all') this.sent.push(...readLog<SentSms>(options.file));
  }

  async start(): Promise<string> {
    return this.server.start(this.options.port);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Accepted messages, in send order, to one number and/or from a virtual instant on. */
  messages(filter: { to?: string; since?: number } = {}): SentSms[] {
    return this.sent.filter(
      (m) =>
        (filter.to === undefined || m.to === filter.to) &&
        (filter.since === undefined || m.at >= filter.since),
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const f = this.options.faults.current.sms;
    const now = this.options.clock.nowMs();
    if (f.seed !== this.seed) {
      this.seed = f.seed;
      this.random = rng(f.seed);
    }
    if (f.downUntil && now < Date.parse(f.downUntil)) {
      // Unreachable: the connection drops, as when the endpoint cannot be reached (a network error to the SDK).
      this.stats.refusedWhileDown++;
      req.socket.destroy();
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || target !== `${TARGET_PREFIX}SendTextMessage`)
      return smsError(res, 400, 'ValidationException', {
        Message: `Operation not supported by the local SMS emulator: ${target || req.method}`,
        Reason: 'UNKNOWN_OPERATION',
      });

    let input: SendTextMessageInput;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as SendTextMessageInput;
    } catch {
      return smsError(res, 400, 'ValidationException', {
        Message: 'The request body could not be parsed.',
        Reason: 'CANNOT_PARSE',
      });
    }
    const invalid = (name: string, message: string, reason = 'FIELD_VALIDATION_FAILED') => {
      this.stats.invalid++;
      smsError(res, 400, 'ValidationException', {
        Message: message,
        Reason: reason,
        Fields: [{ Name: name, Message: message }],
      });
    };
    const to = input.DestinationPhoneNumber;
    if (typeof to !== 'string' || to === '')
      return invalid('DestinationPhoneNumber', 'DestinationPhoneNumber is required.', 'MISSING_PARAMETER');
    if (!E164.test(to))
      return invalid('DestinationPhoneNumber', `Invalid destination phone number, must be E.164: ${to}`);
    const text = input.MessageBody;
    if (typeof text !== 'string' || text === '')
      return invalid('MessageBody', 'MessageBody is required.', 'MISSING_PARAMETER');
    if ([...text].length > MAX_BODY)
      return invalid(
        'MessageBody',
        `MessageBody must be at most ${MAX_BODY} characters.`,
        'MAXIMUM_SIZE_EXCEEDED',
      );
    if (
      input.MessageType !== undefined &&
      input.MessageType !== 'TRANSACTIONAL' &&
      input.MessageType !== 'PROMOTIONAL'
    )
      return invalid('MessageType', `Invalid MessageType: ${String(input.MessageType)}`);

    this.recent = this.recent.filter((t) => t > now - 1000);
    if (this.recent.length >= f.maxSendRate) {
      this.stats.throttled++;
      return smsError(res, 400, 'ThrottlingException', { Message: 'Rate exceeded' });
    }
    if (f.transientErrorRate > 0 && this.random() < f.transientErrorRate) {
      this.stats.transient++;
      return smsError(res, 500, 'InternalServerException', {
        Message: 'Internal server error',
        RequestId: randomUUID(),
      });
    }
    if (f.optedOutNumbers.includes(to)) {
      this.stats.optedOut++;
      return smsError(res, 400, 'ConflictException', {
        Message: `The destination phone number ${to} has opted out of receiving messages.`,
        Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
        ResourceType: 'opt-out-list',
        ResourceId: 'Default',
      });
    }
    if (f.rejectNumbers.includes(to)) {
      this.stats.rejected++;
      return smsError(res, 400, 'ValidationException', {
        Message: `The destination phone number ${to} cannot receive text messages.`,
        Reason: 'INVALID_PARAMETER',
        Fields: [{ Name: 'DestinationPhoneNumber', Message: 'Not a reachable mobile number.' }],
      });
    }
    this.recent.push(now);

    const context = input.Context as Record<string, unknown> | undefined;
    const ref = context?.[SMS_RECORD_CONTEXT_KEY];
    const message: SentSms = {
      messageId: randomUUID(),
      to,
      text: this.options.keep === 'all' ? text : '',
      ...(typeof input.OriginationIdentity === 'string' ? { from: input.OriginationIdentity } : {}),
      ...(typeof input.ConfigurationSetName === 'string'
        ? { configurationSet: input.ConfigurationSetName }
        : {}),
      ...(typeof ref === 'string' ? { ref } : {}),
      parts: smsParts(text),
      at: now,
    };
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ MessageId: message.messageId }));
    this.stats.sent++;
    if (this.options.keep === 'all') {
      this.sent.push(message);
      if (this.options.file) {
        mkdirSync(dirname(this.options.file), { recursive: true });
        appendFileSync(this.options.file, `${JSON.stringify(message)}\n`);
      }
    }
    this.onSent?.(message);
  }
}
