import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Leader, Unit } from '../../functions/core/model.ts';
import type { FaultsPatch } from '../../local/faults.ts';
import { startRuntime, type Runtime } from '../../local/runtime.ts';
import type { SentMail } from '../../local/ses-gateway.ts';

export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
  at: number;
}

export function tempDir(prefix = 'safeduty-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startTestRuntime(options: {
  clock: string;
  units: Unit[];
  leaders?: Leader[];
  dataDir?: string | null;
  scheduler?: boolean;
  faults?: FaultsPatch;
  reconcileEveryMs?: number;
  /** The reconciler (on by default, as on AWS); off where a test is about one workflow alone. */
  reconciler?: boolean;
}): Promise<Runtime> {
  const rt = await startRuntime({
    dataDir: options.dataDir ?? null,
    port: 0,
    sesPort: 0,
    speed: 0,
    clockStart: new Date(options.clock),
    seed: { units: options.units, leaders: options.leaders ?? [] },
    scheduler: options.scheduler ?? true,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.reconcileEveryMs ? { reconcileEveryMs: options.reconcileEveryMs } : {}),
    ...(options.reconciler === false ? { reconciler: false } : {}),
  });
  return rt;
}

/** The emails the local SES gateway accepted, with their virtual send times. */
export function sentMails(rt: Runtime, sinceMs = 0): SentMail[] {
  return rt.mail.since(sinceMs);
}

/** One item of an email: its title, and the units it lists or speaks to. */
export interface MailItem {
  kind: 'reminder' | 'escalation' | 'case' | 'problem' | 'change' | 'calendar' | 'rollup';
  level?: number;
  title: string;
  /** Units listed in a digest, or the reader's own units ("您单位…"). */
  units: string[];
  own: boolean;
  text: string;
}

/**
 * The items of an email's plain text: `（n）title` then indented lines. Kinds come from the section an item is in
 * (待办, 督办, 案件, 无法送达, 工作安排变更).
 */
export function mailItems(mail: Pick<SentMail, 'text'>): MailItem[] {
  const out: MailItem[] = [];
  let section: MailItem['kind'] = 'reminder';
  for (const block of (mail.text ?? '').split('\n\n')) {
    const head = block.split('\n')[0] ?? '';
    if (/^(?:[一二三四五六七八]、)?待办事项/.test(head)) section = 'reminder';
    else if (/^(?:[一二三四五六七八]、)?督办事项/.test(head)) section = 'escalation';
    else if (/^(?:[一二三四五六七八]、)?(?:案件动态|紧急事项)/.test(head)) section = 'case';
    else if (/^(?:[一二三四五六七八]、)?无法送达/.test(head)) section = 'problem';
    else if (/^(?:[一二三四五六七八]、)?工作安排变更/.test(head)) section = 'change';
    else if (/^(?:[一二三四五六七八]、)?节假日安排/.test(head)) section = 'calendar';
    else if (/^(?:[一二三四五六七八]、)?汇总情况/.test(head)) section = 'rollup';
    const m = /^（\d+）(.*)$/.exec(head);
    if (!m) continue;
    const title = m[1] ?? '';
    const level = /【第(\d+)级督办】/.exec(title)?.[1];
    const listed = [...block.matchAll(/^\s+\d+\. (.+?)（联系人/gm)].map((x) => x[1] ?? '');
    const own = /您单位(.+?)尚未完成/.exec(block)?.[1];
    const single = /^\s+单位：(.+)$/m.exec(block)?.[1];
    const several = /^\s+单位（\d+个）：(.+)$/m.exec(block)?.[1]?.split('、');
    out.push({
      kind: section,
      ...(level ? { level: Number(level) } : {}),
      title,
      units: listed.length > 0 ? listed : own ? own.split('、') : single ? [single] : (several ?? []),
      own: own !== undefined,
      text: block,
    });
  }
  return out;
}

export async function emails(rt: Runtime): Promise<StoredEmail[]> {
  const res = await fetch(`${rt.sesUrl}/store`);
  const body = (await res.json()) as { emails: StoredEmail[] };
  return body.emails;
}

export async function advance(rt: Runtime, iso: string): Promise<void> {
  const res = await fetch(`${rt.apiUrl}/_local/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceTo: iso }),
  });
  if (res.status !== 200) throw new Error(`advance failed: ${res.status} ${await res.text()}`);
}

export async function api(
  rt: Runtime,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${rt.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${rt.adminToken}`, ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json: json as Record<string, unknown>, text };
}

const person = (id: string, role: string, name: string) => ({ name, email: `${id}.${role}@example.gov.cn` });

/** The county units every test roster has: 安委办 and the emergency management bureau that supervises enterprises. */
export function countyCore(): Unit[] {
  return [
    {
      id: 'county-safety-office',
      name: '县安委办',
      kind: 'county-body',
      contact: person('office', 'contact', '安委办联络员'),
      principal: person('office', 'principal', '安委办主任'),
      active: true,
    },
    {
      id: 'dept-emergency',
      name: '县应急管理局',
      kind: 'county-department',
      contact: person('dept', 'contact', '应急局联络员'),
      principal: person('dept', 'principal', '应急局局长'),
      leaderInChargeId: 'leader-a',
      supervisingDepartmentId: 'county-safety-office',
      active: true,
    },
  ];
}

/**
 * A test enterprise supervised by the emergency management bureau, with leader-a in charge; county-supervised
 * (县属监管企业), so it owes the year-end report too.
 */
export function testEnterprise(id: string, extra: Partial<Unit> = {}): Unit {
  return {
    attributes: ['县属监管企业'],
    id,
    name: `${id}有限公司`,
    kind: 'enterprise',
    contact: person(id, 'contact', `${id}联络员`),
    principal: person(id, 'principal', `${id}负责人`),
    supervisingDepartmentId: 'dept-emergency',
    leaderInChargeId: 'leader-a',
    active: true,
    ...extra,
  };
}

/** The county leader every test roster has. */
export const LEADER_A: Leader = {
  id: 'leader-a',
  titleZh: '副县长',
  holder: { name: '分管县领导', email: 'leader-a@example.gov.cn' },
};

/** A tiny roster: the safety office, one supervising department, a leader, and enterprises. */
export function tinyCounty(enterpriseIds: string[]): { units: Unit[]; leaders: Leader[] } {
  return { units: [...countyCore(), ...enterpriseIds.map((id) => testEnterprise(id))], leaders: [LEADER_A] };
}
