import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { toShanghaiIso } from '../workflows/calendar.ts';
import type { ApiEvent, ApiResult } from '../functions/http/types.ts';
import { MAX_BODY_BYTES } from '../functions/http/schemas.ts';
import type { VirtualClock } from './clock.ts';
import { faultsPatchSchema, type FaultState } from './faults.ts';
import { invoke } from './handlers.ts';
import type { SesGateway } from './ses-gateway.ts';
import type { SmsGateway } from './sms-gateway.ts';
import { smsInboxHtml, smsInboxJson, smsInboxQuery } from './sms-inbox.ts';

const advanceSchema = z.object({ advanceTo: z.iso.datetime({ offset: true }) }).strict();

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The HTTP API on 127.0.0.1: requests become API Gateway (HTTP API, payload 2.0) events for the same Lambda
 * handler. `/_local/clock` is served here only; it is never part of the deployed API.
 */
export async function startApiServer(options: {
  port: number;
  clock: VirtualClock;
  advanceTo: (at: Date) => Promise<void>;
  adminToken: string;
  faults: FaultState;
  mail: SesGateway;
  /** The SMS gateway, whose texts `/_local/sms` shows. */
  sms?: SmsGateway;
}): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const send = (r: ApiResult) => {
        res.writeHead(r.statusCode ?? 200, (r.headers ?? {}) as Record<string, string>);
        res.end(r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64') : (r.body ?? ''));
      };
      // Concatenated, not resolved against a base: a target such as `//x` is a path here, not a host.
      const target = req.url ?? '/';
      const url = new URL(`http://localhost${target.startsWith('/') ? '' : '/'}${target}`);
      // Read a little past the limit so the handler sees an oversized body and answers 413 itself.
      const body = await readBody(req, MAX_BODY_BYTES + 1);
      if (body === 'too-large') {
        send({
          statusCode: 413,
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify({
            error: 'payload-too-large',
            message: '请求体超过 1 MiB 上限',
            issues: [{ field: '(body)', problem: `must be at most ${MAX_BODY_BYTES} bytes` }],
          }),
        });
        return;
      }
      if (url.pathname === '/_local/clock') {
        await localClock(req.method ?? 'GET', body, options, send);
        return;
      }
      if (url.pathname === '/_local/sms') {
        send(localSms(req, url, options));
        return;
      }
      if (url.pathname === '/_local/faults' || url.pathname === '/_local/mail') {
        if (req.headers.authorization !== `Bearer ${options.adminToken}`)
          return send(jsonReply(401, { error: 'unauthorized', message: '需要管理员令牌', issues: [] }));
        if (url.pathname === '/_local/faults')
          return send(localFaults(req.method ?? 'GET', body, options.faults));
        const since = Number(url.searchParams.get('since') ?? 0);
        const to = url.searchParams.get('to')?.toLowerCase();
        const mails = options.mail
          .since(Number.isFinite(since) ? since : 0)
          .filter((m) => !to || m.to.some((a) => a.toLowerCase() === to));
        // `limit`: the newest N, newest first (the console's mail view); without it, all in send order.
        const limit = Number(url.searchParams.get('limit'));
        const shown = Number.isInteger(limit) && limit > 0 ? mails.slice(-limit).reverse() : mails;
        return send(jsonReply(200, { count: mails.length, mails: shown }));
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const query: Record<string, string> = {};
      url.searchParams.forEach((v, k) => {
        query[k] = v;
      });
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ''),
        headers,
        queryStringParameters: Object.keys(query).length ? query : undefined,
        body: body.length ? body.toString('base64') : undefined,
        isBase64Encoded: true,
        requestContext: {
          accountId: 'local',
          apiId: 'local',
          domainName: 'localhost',
          domainPrefix: 'localhost',
          http: {
            method: req.method ?? 'GET',
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: req.socket.remoteAddress ?? '',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId: crypto.randomUUID(),
          routeKey: '$default',
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
      } as unknown as ApiEvent;
      send((await invoke('api', event)) as ApiResult);
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'internal', message: '服务器内部错误' }));
      console.error(err);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

async function localClock(
  method: string,
  body: Buffer,
  options: { clock: VirtualClock; advanceTo: (at: Date) => Promise<void> },
  send: (r: ApiResult) => void,
): Promise<void> {
  const reply = (status: number, b: unknown) =>
    send({
      statusCode: status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(b),
    });
  const now = () => ({ now: toShanghaiIso(options.clock.now()), epochMs: options.clock.nowMs() });
  if (method === 'GET') return reply(200, now());
  if (method !== 'POST') return reply(405, { error: 'method-not-allowed', message: '不支持该请求方法' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return reply(400, {
      error: 'invalid-request',
      message: '请求体不是有效的 JSON',
      issues: [{ field: '(body)', problem: 'malformed JSON' }],
    });
  }
  const r = advanceSchema.safeParse(parsed);
  if (!r.success) {
    return reply(400, {
      error: 'invalid-request',
      message: '请求内容有误',
      issues: r.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', problem: i.message })),
    });
  }
  const target = new Date(r.data.advanceTo);
  // The clock never goes back. Asked for an instant it has passed (a delivery's pacing moves it on), it runs what
  // is due by now (work started since, such as a new case's execution) and says so.
  const past = target.getTime() < options.clock.nowMs();
  await options.advanceTo(past ? options.clock.now() : target);
  return reply(200, { ...now(), ...(past ? { alreadyPast: true } : {}) });
}

function jsonReply(status: number, body: unknown): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/**
 * The SMS inbox: HTML for people, JSON with `format=json`. Admin only, like `/_local/mail`; a browser cannot send
 * the bearer header, so the page also takes the token as `?token=` (the link `npm start` prints carries it).
 */
function localSms(
  req: IncomingMessage,
  url: URL,
  options: { adminToken: string; sms?: SmsGateway },
): ApiResult {
  const json = url.searchParams.get('format') === 'json';
  const authorized =
    req.headers.authorization === `Bearer ${options.adminToken}` ||
    url.searchParams.get('token') === options.adminToken;
  if (!authorized)
    return json
      ? jsonReply(401, { error: 'unauthorized', message: '需要管理员令牌', issues: [] })
      : htmlReply(
          401,
          '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>需要管理员令牌</title>' +
            '<p>需要管理员令牌：请打开 npm start 打印的短信收件箱链接（链接中带有令牌）。</p></html>',
        );
  if ((req.method ?? 'GET') !== 'GET')
    return jsonReply(405, { error: 'method-not-allowed', message: '不支持该请求方法', issues: [] });
  const query = smsInboxQuery(url.searchParams);
  const all = options.sms?.sent ?? [];
  return json
    ? jsonReply(200, smsInboxJson(all, query))
    : htmlReply(200, smsInboxHtml(all, query, options.adminToken));
}

function htmlReply(status: number, body: string): ApiResult {
  return {
    statusCode: status,
    // The page holds the admin token in its links: never cached, never framed.
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body,
  };
}

/** GET: the faults in force; PUT: switch some on or off (a partial update), answered with what is now in force. */
function localFaults(method: string, body: Buffer, faults: FaultState): ApiResult {
  if (method === 'GET') return jsonReply(200, faults.current);
  if (method !== 'PUT')
    return jsonReply(405, { error: 'method-not-allowed', message: '不支持该请求方法', issues: [] });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    return jsonReply(400, {
      error: 'invalid-request',
      message: '请求体不是有效的 JSON',
      issues: [{ field: '(body)', problem: 'malformed JSON' }],
    });
  }
  const r = faultsPatchSchema.safeParse(parsed);
  if (!r.success)
    return jsonReply(400, {
      error: 'invalid-request',
      message: '故障设置有误',
      issues: r.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', problem: i.message })),
    });
  return jsonReply(200, faults.apply(r.data));
}
