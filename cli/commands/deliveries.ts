// `safeduty deliveries`: the delivery record, as 安委办 reads it — who was sent what and when, and what could not be
// delivered and why.
import { parse } from '../main.ts';
import { COMMON, call, run, target } from '../api-client.ts';
import { UsageError, type Io } from '../output.ts';

const STATUS_ZH = { sent: '已发送', failed: '被拒收', suppressed: '未发送' } as const;
type Status = keyof typeof STATUS_ZH;

const USAGE =
  '用法：safeduty deliveries [--from 日期] [--to 日期] [--recipient 邮箱] [--status sent|failed|suppressed] ' +
  '[--subject CYCLE#职责#周期|CASE#案件编号] [--limit N] [--all] [--json]';

interface Delivery {
  address: string;
  name: string;
  sentAt: string;
  status: Status;
  subjectLine: string;
  carried: { kind: string; titleZh: string }[];
  reasonZh?: string;
  error?: string;
}

interface Page {
  from: string;
  to: string;
  deliveries: Delivery[];
  next: string | null;
}

/** `2023-02-06 09:00` from an ISO instant in +08:00. */
function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export async function deliveriesCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    from: { type: 'string' },
    to: { type: 'string' },
    recipient: { type: 'string' },
    status: { type: 'string' },
    subject: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}\n${USAGE}`);
  for (const field of ['from', 'to'] as const) {
    const v = values[field];
    if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v))
      throw new UsageError(`--${field} 应为日期，例如 2023-02-06：${v}`);
  }
  if (values.status !== undefined && !Object.hasOwn(STATUS_ZH, values.status))
    throw new UsageError(
      `--status 应为 sent（已发送）、failed（被拒收）或 suppressed（未发送）之一：${values.status}`,
    );
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new UsageError(`--limit 应为 1 到 200 之间的整数：${values.limit}`);
  const t = target(values);

  const query = new URLSearchParams({ limit: String(limit) });
  for (const k of ['from', 'to', 'recipient', 'status', 'subject'] as const) {
    const v = values[k];
    if (v !== undefined) query.set(k, v);
  }
  return run(io, async () => {
    const pages: Page[] = [];
    let next: string | null = null;
    do {
      if (next) query.set('cursor', next);
      const r = await call(t, 'GET', `/deliveries?${query.toString()}`);
      const page = r.json as Page;
      pages.push(page);
      next = page.next;
    } while (values.all && next);
    const rows = pages.flatMap((p) => p.deliveries);
    const first = pages[0] as Page;
    if (values.json)
      return io.out(JSON.stringify({ from: first.from, to: first.to, deliveries: rows, next }));

    if (rows.length === 0) return io.out(`${first.from} 至 ${first.to} 没有符合条件的邮件记录。`);
    io.out(`${first.from} 至 ${first.to} 的邮件记录（新的在前，${rows.length} 封）：`);
    for (const d of rows) {
      const items = d.carried.length > 1 ? `（${d.carried.length} 项）` : '';
      io.out(`  ${when(d.sentAt)}  ${STATUS_ZH[d.status]}  ${d.name} <${d.address}>`);
      io.out(`      ${d.subjectLine}${items}`);
      if (d.status !== 'sent') io.out(`      原因：${d.reasonZh ?? d.error ?? '未知'}`);
    }
    if (next) io.out(`还有更多记录：加 --all 列出全部，或用 --from/--to、--recipient、--status 缩小范围。`);
  });
}
