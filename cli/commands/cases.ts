import { loadCaseTypes } from '../../workflows/cases/index.ts';
import {
  ACTOR_ZH,
  CASE_POSITION_ZH,
  OFFSET_UNIT_ZH,
  type CaseDeadlineRule,
  type CasePosition,
  type Offset,
} from '../../workflows/cases/schema.ts';
import { parse } from '../main.ts';
import { COMMON, call as apiCall, callAllPages, run, target, type Target } from '../api-client.ts';
import { EXIT, UsageError, type Io, readJsonObject } from '../output.ts';

/**
 * `safeduty cases …`: open and list cases through the HTTP API (the local runtime by default, a deployment with
 * `--api`), and show the case types offline. The token comes from SAFEDUTY_ADMIN_TOKEN or the data folder's
 * `admin-token` file. Exit codes: 0 done, 2 bad input (including a 4xx answer, whose message and issues are
 * printed), 1 anything else.
 */
const USAGE =
  '用法：safeduty cases open <案件类型> --file <案件.json> | list [--type 类型] [--status open|closed] [--town 镇] [--overdue] | show <案件编号> | event <案件编号> <事件> [--file <事件.json>] | types';

/** The API client's call, with a JSON body sent under an idempotency key (a retry records nothing twice). */
async function call(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const a = await apiCall(
    t,
    method,
    path,
    body !== undefined ? { body: JSON.stringify(body), idempotent: true } : {},
  );
  return { status: a.status, json: (a.json ?? {}) as Record<string, unknown>, text: a.text };
}

const connection = target;

interface Summary {
  caseId: string;
  title: string;
  typeTitleZh: string;
  stageTitleZh: string;
  status: string;
  deadline: string | null;
  term: string;
  termLabelZh: string;
  termNoteZh?: string;
  overdue: { workdaysOverdue: number; escalationLevel: number } | null;
}

function line(s: Summary): string {
  const overdue = s.overdue
    ? `，已逾期 ${s.overdue.workdaysOverdue} 个工作日${s.overdue.escalationLevel ? `（第 ${s.overdue.escalationLevel} 级督办）` : ''}`
    : '';
  return `  ${s.caseId}  ${s.title}  ${s.stageTitleZh}${s.deadline ? `，期限 ${s.deadline}` : ''}${overdue}`;
}

export async function casesCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'open':
      return openCommand(rest, io);
    case 'list':
      return listCommand(rest, io);
    case 'show':
      return showCommand(rest, io);
    case 'event':
      return eventCommand(rest, io);
    case 'types':
      return typesCommand(rest, io);
    default:
      throw new UsageError(USAGE);
  }
}

async function openCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, file: { type: 'string' } });
  const [type, ...extra] = positionals;
  if (!type || extra.length > 0 || !values.file)
    throw new UsageError('用法：safeduty cases open <案件类型> --file <案件.json> [--api 地址]');
  const types = loadCaseTypes();
  if (!types.get(type))
    throw new UsageError(`未知的案件类型：${type}（可选：${types.types.map((t) => t.id).join('、')}）`);
  const body = readJsonObject(values.file, '案件');
  if (body.type !== undefined && body.type !== type)
    throw new UsageError(`案件文件中的类型（${String(body.type)}）与命令行不一致：${type}`);
  const c = connection(values);
  return run(io, async () => {
    const r = await call(c, 'POST', '/cases', { ...body, type });
    if (values.json) return io.out(r.text);
    const s = r.json as unknown as Summary & { workflowStarted: boolean };
    io.out(`已立案：${s.caseId}（${s.typeTitleZh}）“${s.title}”`);
    io.out(
      `  当前阶段：${s.stageTitleZh}，期限 ${s.deadline ?? '—'}；${s.termLabelZh} ${s.term}${s.termNoteZh ? `（${s.termNoteZh}）` : ''}`,
    );
    if (!s.workflowStarted) io.err('注意：工作流未能启动，提醒暂未生效；下一次办理该案件时会自动重新启动。');
  });
}

async function listCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON,
    type: { type: 'string' },
    status: { type: 'string' },
    town: { type: 'string' },
    stage: { type: 'string' },
    overdue: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  if (values.status !== undefined && values.status !== 'open' && values.status !== 'closed')
    throw new UsageError('--status 应为 open 或 closed');
  const types = loadCaseTypes();
  if (values.type !== undefined && !types.get(values.type))
    throw new UsageError(
      `未知的案件类型：${values.type}（可选：${types.types.map((t) => t.id).join('、')}）`,
    );
  const c = connection(values);
  return run(io, async () => {
    const q = new URLSearchParams();
    for (const key of ['type', 'status', 'town', 'stage'] as const) {
      const v = values[key];
      if (v !== undefined) q.set(key, v);
    }
    if (values.overdue) q.set('overdue', 'true');
    const { items } = await callAllPages(c, `/cases${q.size ? `?${q}` : ''}`, 'cases');
    if (values.json) return io.out(JSON.stringify({ count: items.length, cases: items }));
    const cases = items as Summary[];
    if (cases.length === 0) return io.out('没有符合条件的案件。');
    io.out(`共 ${cases.length} 件：`);
    for (const s of cases) io.out(line(s));
  });
}

async function showCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  const [caseId, ...extra] = positionals;
  if (!caseId || extra.length > 0) throw new UsageError('用法：safeduty cases show <案件编号> [--json]');
  const c = connection(values);
  return run(io, async () => {
    const r = await call(c, 'GET', `/cases/${encodeURIComponent(caseId)}`);
    if (values.json) return io.out(r.text);
    const s = r.json as unknown as Summary & {
      history: { seq: number; event: string; at: string; actor: string }[];
      allowedEvents: { id: string; titleZh: string }[];
    };
    io.out(`${s.caseId}（${s.typeTitleZh}）“${s.title}”`);
    io.out(line(s).trim());
    io.out('办理记录：');
    for (const h of s.history) io.out(`  ${h.at}  ${h.event}  ${h.actor}`);
    io.out(
      `当前可办理：${s.allowedEvents.map((e) => `${e.id}（${e.titleZh}）`).join('、') || '无（已办结）'}`,
    );
  });
}

async function eventCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, file: { type: 'string' } });
  const [caseId, event, ...extra] = positionals;
  if (!caseId || !event || extra.length > 0)
    throw new UsageError('用法：safeduty cases event <案件编号> <事件> [--file <事件.json>] [--api 地址]');
  const body = values.file ? readJsonObject(values.file, '事件') : {};
  const c = connection(values);
  return run(io, async () => {
    const r = await call(c, 'POST', `/cases/${encodeURIComponent(caseId)}/events`, { ...body, event });
    if (values.json) return io.out(r.text);
    const s = r.json.case as Summary;
    io.out(
      `已办理：${event}；案件 ${s.caseId} 当前阶段：${s.stageTitleZh}${s.deadline ? `，期限 ${s.deadline}` : ''}`,
    );
  });
}

function ruleZh(r: CaseDeadlineRule | undefined): string {
  if (!r) return '—';
  if (r.type === 'term') return '整改期限';
  return r.type === 'workdays-after-entry'
    ? `进入后第${r.n}个工作日 ${r.time}`
    : `进入后${r.n}天（遇休息日顺延）${r.time}`;
}

/** Whom a step addresses, e.g. `责任单位联络人、产权人、使用人（经营者）`. */
function positionsZh(positions: readonly CasePosition[]): string {
  return positions.map((p) => CASE_POSITION_ZH[p]).join('、');
}

function offsetZh(o: Offset): string {
  return `${o.amount < 0 ? '前' : '后'}${Math.abs(o.amount)}${OFFSET_UNIT_ZH[o.unit]}${o.at ? ` ${o.at}` : ''}`;
}

async function typesCommand(args: string[], io: Io): Promise<number> {
  // --api and --data are accepted as on every command; the types are the deployment's own files, read here.
  const { values, positionals } = parse(args, COMMON);
  if (positionals.length > 0) throw new UsageError(`多余的参数：${positionals.join(' ')}`);
  const types = loadCaseTypes();
  if (values.json) {
    io.out(JSON.stringify({ types: types.types }, null, 2));
    return EXIT.ok;
  }
  for (const t of types.types) {
    io.out(`${t.id}  ${t.titleZh}`);
    io.out(`  依据：${t.clause.section}——“${t.clause.quote}”`);
    if (t.onOpen) io.out(`  立案通知：${t.onOpen.prefixZh} → ${positionsZh(t.onOpen.positions)}`);
    for (const s of t.stages) {
      if (s.terminal) {
        io.out(`  阶段 ${s.id}（${s.titleZh}）：办结`);
        continue;
      }
      io.out(`  阶段 ${s.id}（${s.titleZh}）：${s.actionZh}，期限 ${ruleZh(s.deadline)}`);
      io.out(
        `    提醒：${s.reminders.map(offsetZh).join('；') || '无'}${s.reminders.length > 0 && s.remind ? ` → ${positionsZh(s.remind)}` : ''}`,
      );
      io.out(
        `    督办：${s.escalation.map((e) => `第${e.level}级 ${offsetZh(e.offset)} → ${positionsZh(e.notify)}`).join('；')}`,
      );
      if (s.policyNote) io.out(`    说明：${s.policyNote}`);
    }
    for (const e of t.events)
      io.out(
        `  事件 ${e.id}（${e.titleZh}）：${e.from.join('/')} → ${e.to ?? '（阶段不变）'}，由${e.by.map((b) => ACTOR_ZH[b]).join('或')}办理${e.notify ? `；${e.notify.prefixZh} → ${positionsZh(e.notify.positions)}` : ''}`,
      );
    io.out('');
  }
  return EXIT.ok;
}
