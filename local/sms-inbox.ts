// The local SMS inbox (`GET /_local/sms`): every text the SMS gateway accepted, as each phone received it, with its
// virtual send time. A page for people (in Chinese) and the same list as JSON for tests and scripts.
import { escapeHtml } from '../functions/core/html.ts';
import { minuteLabel } from '../functions/core/labels.ts';
import { toShanghaiIso } from '../workflows/calendar.ts';
import type { SentSms } from './sms-gateway.ts';

export interface SmsInboxQuery {
  /** Only this number (E.164). */
  to?: string;
  /** Only messages sent at or after this virtual instant (epoch ms). */
  since?: number;
  /** JSON: the newest N, newest first; without it, all in send order (as `/_local/mail`). */
  limit?: number;
}

export function smsInboxQuery(params: URLSearchParams): SmsInboxQuery {
  const to = params.get('to')?.trim();
  const since = Number(params.get('since') ?? '');
  const limit = Number(params.get('limit') ?? '');
  return {
    ...(to ? { to } : {}),
    ...(params.has('since') && Number.isFinite(since) ? { since } : {}),
    ...(Number.isInteger(limit) && limit > 0 ? { limit } : {}),
  };
}

/** `{ count, messages }`: the shape of `/_local/mail`, for texts. */
export function smsInboxJson(
  all: readonly SentSms[],
  query: SmsInboxQuery,
): { count: number; messages: SentSms[] } {
  const matching = all.filter(
    (m) =>
      (query.to === undefined || m.to === query.to) && (query.since === undefined || m.at >= query.since),
  );
  const messages = query.limit ? matching.slice(-query.limit).reverse() : [...matching];
  return { count: matching.length, messages };
}

/** `2023年2月6日 09:00:03`, Asia/Shanghai. */
function sentAtLabel(ms: number): string {
  const iso = toShanghaiIso(new Date(ms));
  return `${minuteLabel(iso)}${iso.slice(16, 19)}`;
}

const URL_PATTERN = /https?:\/\/[^\s<>"'，。；！？、（）【】《》]+/g;

/** The text escaped, its links clickable (a link ends at whitespace or Chinese punctuation). */
export function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(URL_PATTERN)) {
    // Trailing ASCII punctuation ends a sentence, not the link.
    const url = m[0].replace(/[.,;:!?)]+$/, '');
    out += escapeHtml(text.slice(last, m.index)) + `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = m.index + url.length;
  }
  return out + escapeHtml(text.slice(last));
}

/** The page: one section per phone number (most recently texted first), each number's messages newest first. */
export function smsInboxHtml(all: readonly SentSms[], query: SmsInboxQuery, token: string): string {
  const shown = smsInboxJson(all, { ...query, limit: undefined }).messages;
  const byNumber = new Map<string, SentSms[]>();
  for (const m of shown) byNumber.set(m.to, [...(byNumber.get(m.to) ?? []), m]);
  const numbers = [...byNumber.entries()]
    .map(([to, list]) => ({ to, list: [...list].reverse() }))
    .sort((a, b) => (b.list[0]?.at ?? 0) - (a.list[0]?.at ?? 0));
  const self = (to?: string) =>
    `/_local/sms?${new URLSearchParams({ token, ...(to ? { to } : {}) }).toString()}`;
  const sections = numbers.map(
    ({ to, list }) => `<section class="phone">
<h2><a href="${escapeHtml(self(to))}">${escapeHtml(to)}</a> <span class="muted">共 ${list.length} 条</span></h2>
${list
  .map(
    (m) => `<article class="sms">
<div class="meta">发送时间：${escapeHtml(sentAtLabel(m.at))}${m.from ? ` · 发送方：${escapeHtml(m.from)}` : ''} · 计费 ${m.parts} 条</div>
<p>${linkify(m.text)}</p>
</article>`,
  )
  .join('\n')}
</section>`,
  );
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>短信收件箱（本地运行）</title>
<style>
body { font-family: system-ui, "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5rem auto; max-width: 46rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.muted, .meta { color: #59636e; font-size: .9rem; font-weight: normal; }
.sms { background: #f0f4f8; border-radius: .8rem; padding: .6rem .9rem; margin: .5rem 0; }
.sms p { margin: .3rem 0 0; white-space: pre-wrap; word-break: break-all; }
form { margin: 1rem 0; } input[name=to] { width: 14rem; }
</style>
</head>
<body>
<h1>短信收件箱 <span class="muted">本地运行：系统发出的每条短信，按收件手机号查看，时间为虚拟时钟的发送时间（北京时间）</span></h1>
<form method="get" action="/_local/sms">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label>手机号 <input name="to" value="${escapeHtml(query.to ?? '')}" placeholder="+8613800000000"></label>
<button type="submit">查看</button>
${query.to ? `<a href="${escapeHtml(self())}">全部号码</a>` : ''}
<a href="${escapeHtml(query.to ? self(query.to) : self())}">刷新</a>
</form>
<p>${query.to ? `${escapeHtml(query.to)} 共收到 ${shown.length} 条短信。` : `共 ${shown.length} 条短信，${numbers.length} 个手机号。`}</p>
${sections.length > 0 ? sections.join('\n') : '<p class="muted">还没有发出的短信。</p>'}
</body>
</html>
`;
}
