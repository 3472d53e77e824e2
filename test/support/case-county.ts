import type { Leader, Unit } from '../../functions/core/model.ts';
import type { Runtime } from '../../local/runtime.ts';
import { api, countyCore, emails, LEADER_A, testEnterprise, type StoredEmail } from './runtime.ts';

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

/** `【提醒】 ent-a.contact@…` — the bracketed prefix of the subject and the recipient, for exact comparisons. */
export function brief(e: StoredEmail): string {
  const prefix = /^【[^】]+】/.exec(e.subject)?.[0] ?? '?';
  const level = /（第(\d)级督办）$/.exec(e.subject)?.[1];
  return `${prefix}${level ? `L${level}` : ''} ${e.destination.to.join(',')}`;
}

/** The emails of one case sent since the last call, as sorted `prefix recipient` lines. */
export function caseMail(rt: Runtime, caseId: string) {
  let seen = 0;
  return async (): Promise<string[]> => {
    const mine = (await emails(rt)).filter((e) => (e.body.text ?? '').includes(`案件编号：${caseId}`));
    const fresh = mine.slice(seen);
    seen = mine.length;
    return fresh.map(brief).sort();
  };
}

/** The signed case link in the latest email of this case to `to`. */
export async function caseLinkFor(rt: Runtime, caseId: string, to: string): Promise<string> {
  const found = (await emails(rt))
    .filter((e) => e.destination.to.includes(to) && (e.body.text ?? '').includes(`案件编号：${caseId}`))
    .at(-1);
  const token = /\?link=([\w.-]+)/.exec(found?.body.text ?? '')?.[1];
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
