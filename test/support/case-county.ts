import { afterEach, beforeAll } from 'vitest';
import type { Leader, Unit } from '../../functions/core/model.ts';
import type { Runtime } from '../../local/runtime.ts';
import type { SentMail } from '../../local/ses-gateway.ts';
import {
  api,
  countyCore,
  LEADER_A,
  mailItems,
  sentMails,
  startTestRuntime,
  testEnterprise,
  type MailItem,
} from './runtime.ts';

export const mail = (id: string, role: string) => `${id}.${role}@example.gov.cn`;
const person = (id: string, role: string, name: string) => ({ name, email: mail(id, role) });

/**
 * A small county for case tests: 安委办, the emergency management bureau (supervises enterprises) and the
 * housing bureau (supervises self-built houses), two towns, two enterprises in town-a (ent-a with a staff
 * representative, ent-b without), and one county leader.
 */
export function caseCounty(): { units: Unit[]; leaders: Leader[] } {
  const units: Unit[] = [
    ...countyCore(),
    {
      id: 'dept-housing',
      name: '县住房和城乡建设局',
      kind: 'county-department',
      contact: person('housing', 'contact', '住建局联络员'),
      principal: person('housing', 'principal', '住建局局长'),
      leaderInChargeId: 'leader-a',
      active: true,
    },
    ...['town-a', 'town-b'].map((id) => ({
      id,
      name: id === 'town-a' ? '青山镇' : '河东镇',
      kind: 'town' as const,
      contact: person(id, 'contact', `${id}联络员`),
      principal: person(id, 'principal', `${id}镇长`),
      leaderInChargeId: 'leader-a',
      active: true,
    })),
    ...['ent-a', 'ent-b'].map((id) =>
      testEnterprise(id, {
        parentId: 'town-a',
        ...(id === 'ent-a' ? { staffRepresentative: person(id, 'staff', `${id}职工代表`) } : {}),
      }),
    ),
  ];
  return { units, leaders: [LEADER_A] };
}

/** `【提醒】 ent-a.contact@…` — the bracketed prefix of an item's subject and the recipient, for exact comparisons. */
export function brief(item: MailItem, to: string[]): string {
  const prefix = /^【[^】]+】/.exec(item.title)?.[0] ?? '?';
  const level = /（第(\d)级督办）/.exec(item.title)?.[1];
  return `${prefix}${level ? `L${level}` : ''} ${to.join(',')}`;
}

/** The items about one case in an email (several cases' notices can share one email). */
export function caseItems(m: SentMail, caseId: string): MailItem[] {
  return mailItems(m).filter((i) => i.text.includes(`案件编号：${caseId}`));
}

/** The emails that carried a notice of one case (newest last). */
export function caseEmails(rt: Runtime, caseId: string): SentMail[] {
  return sentMails(rt).filter((m) => caseItems(m, caseId).length > 0);
}

/**
 * Every item of every email as if it were an email of its own (subject = the item's own subject, text = the item):
 * how case tests read what was said, now that one email can carry several cases' notices.
 */
export function itemEmails(
  rt: Runtime,
): { subject: string; destination: { to: string[] }; body: { text: string } }[] {
  return sentMails(rt).flatMap((m) =>
    mailItems(m).map((i) => ({ subject: i.title, destination: { to: m.to }, body: { text: i.text } })),
  );
}

/**
 * What was said about one case since the last call, as sorted `prefix recipient` lines (one per item). The mail
 * log survives restarts: `skip` leaves out what an earlier run sent.
 */
export function caseMail(rt: Runtime, caseId: string, options: { skip?: number } = {}) {
  let seen = 0;
  return async (): Promise<string[]> => {
    const mine = caseEmails(rt, caseId).slice(options.skip ?? 0);
    const fresh = mine.slice(seen);
    seen = mine.length;
    return fresh.flatMap((m) => caseItems(m, caseId).map((i) => brief(i, m.to))).sort();
  };
}

/** The signed case link in the latest item about this case sent to `to`. */
export async function caseLinkFor(rt: Runtime, caseId: string, to: string): Promise<string> {
  const found = caseEmails(rt, caseId)
    .filter((m) => m.to.includes(to))
    .flatMap((m) => caseItems(m, caseId))
    .at(-1);
  const token = new RegExp(`/cases/${caseId}\\?link=([\\w.-]+)`).exec(found?.text ?? '')?.[1];
  if (!token) throw new Error(`no case link in an email to ${to}`);
  return token;
}

export async function openMajorHazard(
  rt: Runtime,
  overrides: Record<string, unknown> = {},
): Promise<{ caseId: string; json: Record<string, unknown>; status: number }> {
  const res = await api(rt, 'POST', '/cases', {
    type: 'major-hazard-rectification',
    title: '液氨储罐区安全阀失效',
    responsibleUnitId: 'ent-a',
    supervisingUnitId: 'dept-emergency',
    term: { until: '2023-06-30' },
    fields: { hazard: '液氨储罐区2号储罐安全阀校验过期', grade: '重大事故隐患' },
    ...overrides,
  });
  return { caseId: String(res.json.caseId), json: res.json, status: res.status };
}

export const FIVE_PARTS = {
  responsibility: '总经理负责，安全科具体落实',
  measures: '更换安全阀并重新校验，增设压力联锁',
  funding: '专项资金12万元',
  timeline: '2023年6月20日前完成',
  contingency: '修订液氨泄漏专项应急预案并组织演练',
};

export async function event(
  rt: Runtime,
  caseId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return api(rt, 'POST', `/cases/${caseId}/events`, body, headers);
}

/**
 * Runtimes for a file of case tests: the case county, no scheduler, the reconciler every 6 hours (the walks span
 * months); the first one, which loads the emulators, is paid for before the first test; each closed after its test.
 */
export function caseRuntimes(): (clock: string) => Promise<Runtime> {
  let runtimes: Runtime[] = [];
  const start = async (clock: string): Promise<Runtime> => {
    const { units, leaders } = caseCounty();
    const rt = await startTestRuntime({
      clock,
      units,
      leaders,
      scheduler: false,
      reconcileEveryMs: 6 * 3_600_000,
    });
    runtimes.push(rt);
    return rt;
  };
  beforeAll(async () => {
    await (await start('2023-01-02T00:00:00+08:00')).close();
    runtimes = [];
  });
  afterEach(async () => {
    for (const rt of runtimes) await rt.close();
    runtimes = [];
  });
  return start;
}
