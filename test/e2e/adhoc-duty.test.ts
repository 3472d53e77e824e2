// Ad-hoc duties an administrator creates at run time: a 国庆节前检查 for every town, and a collection from the
// enterprises of one town, each run as a cycle of the duty-cycle machine on the virtual clock.
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { generateRoster } from '../../local/roster.ts';
import type { Runtime } from '../../local/runtime.ts';
import { api, mailItems, sentMails, startTestRuntime } from '../support/runtime.ts';

let rt: Runtime | undefined;
const savedToken = process.env.SAFEDUTY_ADMIN_TOKEN;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  if (savedToken === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
  else process.env.SAFEDUTY_ADMIN_TOKEN = savedToken;
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const roster = generateRoster({ towns: 4, departments: 3, enterprises: 12, sites: 0 }, 2023);
const towns = roster.units.filter((u) => u.kind === 'town');
const shanghaiDay = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
const shanghaiTime = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 16);

/** The county on 2023-09-18 10:00, running the ad-hoc duty alone (no catalog cycles: no schedule, no make-up). */
const startCounty = () =>
  startTestRuntime({
    clock: '2023-09-18T10:00:00+08:00',
    units: roster.units,
    leaders: roster.leaders,
    scheduler: false,
    reconciler: false,
  });

/** Every item about a duty in the mail sent so far, with its recipient and send time. */
const itemsAbout = (runtime: Runtime, title: string) =>
  sentMails(runtime).flatMap((m) =>
    mailItems(m)
      .filter((i) => i.title.includes(title))
      .map((i) => ({ ...i, to: m.to[0]?.toLowerCase() ?? '', at: m.at })),
  );

const NATIONAL_DAY = {
  titleZh: '国庆节前安全生产大检查',
  instructionZh: '各乡镇于9月27日前完成国庆节前安全生产大检查，并报送检查情况。',
  documentNo: '襄安办〔2023〕12号',
  responsible: { kinds: ['town'] },
  deadline: { date: '2023-09-27', time: '18:00' },
};

describe('an ad-hoc duty', () => {
  it('runs a 国庆节前检查 for all towns: reminders before the deadline, escalations that skip the holiday', async () => {
    rt = await startCounty();
    const created = await api(rt, 'POST', '/duties', NATIONAL_DAY);
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(id).toMatch(/^adhoc-20230918-[0-9a-f]{4}$/);
    expect(created.json).toMatchObject({
      periodKey: '2023',
      deadlineAt: '2023-09-27T18:00:00+08:00',
      responsibleCount: towns.length,
      documentNo: '襄安办〔2023〕12号',
      status: 'active',
    });
    // The same request again is the same duty, not a second one.
    const again = await api(rt, 'POST', '/duties', { ...NATIONAL_DAY, id });
    expect(again.status).toBe(200);

    // One town reports on time.
    const [onTime, ...late] = towns;
    const sub = await api(rt, 'POST', `/cycles/${id}/2023/submissions`, {
      unitId: onTime!.id,
      note: '已完成检查，发现隐患3处已整改',
    });
    expect(sub.status).toBe(201);

    await rt.advanceTo(new Date('2023-10-09T12:00:00+08:00'));
    const items = itemsAbout(rt, '国庆节前安全生产大检查');
    const contact = (u: (typeof towns)[number]) => u.contact.email.toLowerCase();

    // Reminders before the deadline to every town that had not reported; none to the town that had.
    const reminders = items.filter((i) => i.kind === 'reminder');
    for (const t of late) {
      const mine = reminders.filter((r) => r.to === contact(t));
      expect(mine.length, t.id).toBeGreaterThan(0);
      for (const r of mine) expect(r.at).toBeLessThan(Date.parse('2023-09-27T18:00:00+08:00'));
    }
    expect(
      reminders.filter((r) => r.to === contact(onTime!) && r.at > Date.parse('2023-09-18T12:00:00+08:00')),
    ).toEqual([]);

    // Escalations: the first on 09-28, none over the holiday (09-29 to 10-06), resuming on the 调休 Saturday 10-07.
    const escalations = items.filter((i) => i.kind === 'escalation');
    const days = [...new Set(escalations.map((e) => shanghaiDay(e.at)))].sort();
    expect(days).toEqual(['2023-09-28', '2023-10-07', '2023-10-08']);
    for (const e of escalations)
      expect(shanghaiTime(e.at) >= '08:00' && shanghaiTime(e.at) < '20:00').toBe(true);
    const levels = escalations.map((e) => `${shanghaiDay(e.at)} ${e.level ?? '?'}`);
    expect(levels).toContain('2023-10-07 2');
    for (const e of escalations) expect(e.units.some((u) => u.includes(onTime!.name))).toBe(false);

    // Like a catalog duty: in the overdue ledger, the delivery record and the audit.
    const overdue = await api(rt, 'GET', '/overdue?limit=1000');
    const rows = overdue.json.items as { item: string; unitId: string }[];
    expect(
      rows
        .filter((r) => r.item === `cycle:${id}:2023`)
        .map((r) => r.unitId)
        .sort(),
    ).toEqual(late.map((t) => t.id).sort());
    const record = await api(
      rt,
      'GET',
      `/deliveries?from=2023-09-18&to=2023-10-09&subject=CYCLE%23${id}%232023`,
    );
    expect((record.json.deliveries as unknown[]).length).toBeGreaterThan(0);
    const audit = await api(rt, 'GET', `/audit?subject=cycle:${id}:2023`);
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toContain('adhoc-duty-created');
    const listed = await api(rt, 'GET', '/adhoc-duties');
    expect((listed.json.duties as { id: string }[]).map((d) => d.id)).toEqual([id]);
    // And in the annual assessment: on time for the town that reported, missed for the others.
    const assessed = await api(rt, 'GET', '/assessment?year=2023&limit=1000');
    const dutyOf = (unitId: string) =>
      (
        assessed.json.units as {
          unit: { id: string };
          duties: { dutyId: string; onTime: number; missed: number }[];
        }[]
      )
        .find((u) => u.unit.id === unitId)
        ?.duties.find((d) => d.dutyId === id);
    expect(dutyOf(onTime!.id)).toMatchObject({ onTime: 1, missed: 0 });
    for (const t of late) expect(dutyOf(t.id), t.id).toMatchObject({ onTime: 0, missed: 1 });
  }, 300_000);

  it('moves reminders and escalations when the deadline is extended mid-way, and tells each town once', async () => {
    rt = await startCounty();
    const created = await api(rt, 'POST', '/duties', NATIONAL_DAY);
    const id = created.json.id as string;
    const [early, afterExtension, ...late] = towns;
    await api(rt, 'POST', `/cycles/${id}/2023/submissions`, { unitId: early!.id, note: '已完成检查' });
    // The first reminder (two working days before) has gone out when the extension comes.
    await rt.advanceTo(new Date('2023-09-25T15:00:00+08:00'));
    const extended = await api(rt, 'POST', `/adhoc-duties/${id}/extend`, {
      deadline: { date: '2023-10-12', time: '18:00' },
      reasonZh: '部分乡镇检查任务较重',
    });
    expect(extended.status, JSON.stringify(extended.json)).toBe(200);
    expect(extended.json).toMatchObject({ deadlineAt: '2023-10-12T18:00:00+08:00' });
    // The same request again (a retry) changes nothing more.
    const again = await api(rt, 'POST', `/adhoc-duties/${id}/extend`, {
      deadline: { date: '2023-10-12', time: '18:00' },
      reasonZh: '部分乡镇检查任务较重',
    });
    expect(again.status).toBe(200);
    expect(again.json.applied).toEqual([]);
    // An earlier deadline is no extension.
    const earlier = await api(rt, 'POST', `/adhoc-duties/${id}/extend`, {
      deadline: { date: '2023-10-10', time: '18:00' },
    });
    expect(earlier.status).toBe(400);
    expect((earlier.json.issues as { field: string }[])[0]?.field).toBe('deadline');

    await rt.advanceTo(new Date('2023-10-09T09:30:00+08:00'));
    await api(rt, 'POST', `/cycles/${id}/2023/submissions`, { unitId: afterExtension!.id, note: '已完成' });
    await rt.advanceTo(new Date('2023-10-17T12:00:00+08:00'));

    const items = itemsAbout(rt, '国庆节前安全生产大检查');
    const contact = (u: (typeof towns)[number]) => u.contact.email.toLowerCase();
    // Told once, with the old and new deadline and the reason; the town that had reported is not told.
    for (const t of [afterExtension!, ...late]) {
      const told = items.filter((i) => i.kind === 'change' && i.to === contact(t));
      expect(told.length, t.id).toBe(1);
      expect(told[0]?.text).toContain('由2023年9月27日（星期三）18:00延至2023年10月12日（星期四）18:00');
      expect(told[0]?.text).toContain('部分乡镇检查任务较重');
    }
    expect(items.filter((i) => i.to === contact(early!) && i.kind === 'change')).toEqual([]);
    // Nothing of the old deadline after the extension: no escalation on 09-28 or over the holiday.
    const escalations = items.filter((i) => i.kind === 'escalation');
    expect(escalations.length).toBeGreaterThan(0);
    for (const e of escalations) expect(shanghaiDay(e.at) >= '2023-10-13', shanghaiDay(e.at)).toBe(true);
    // Reminders for the new deadline, before it; none to the town that reported after the extension.
    for (const t of late) {
      const moved = items.filter(
        (i) => i.kind === 'reminder' && i.to === contact(t) && i.at > Date.parse('2023-10-01T00:00:00+08:00'),
      );
      expect(moved.length, t.id).toBeGreaterThan(0);
      for (const r of moved) expect(r.at).toBeLessThan(Date.parse('2023-10-12T18:00:00+08:00'));
    }
    expect(
      items.filter(
        (i) => i.to === contact(afterExtension!) && i.at > Date.parse('2023-10-09T10:00:00+08:00'),
      ),
    ).toEqual([]);
    const cycle = await api(rt, 'GET', `/cycles/${id}/2023`);
    expect(cycle.json.deadline).toBe('2023-10-12T18:00:00+08:00');
    const audit = await api(rt, 'GET', `/audit?subject=cycle:${id}:2023`);
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining(['adhoc-duty-created', 'adhoc-duty-extended']),
    );
  }, 300_000);

  it('stops everything when cancelled, tells the units why, and adds and removes units while running', async () => {
    rt = await startCounty();
    const created = await api(rt, 'POST', '/duties', NATIONAL_DAY);
    const id = created.json.id as string;
    const [first, removed, ...rest] = towns;
    const enterprise = roster.units.find((u) => u.kind === 'enterprise')!;
    // A town removed and an enterprise added: each told once, the enterprise then reminded like the towns.
    const changed = await api(rt, 'POST', `/adhoc-duties/${id}/units`, {
      add: [enterprise.id],
      remove: [removed!.id],
      reasonZh: '按属地调整',
    });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    const unknown = await api(rt, 'POST', `/adhoc-duties/${id}/units`, { add: ['no-such-unit'] });
    expect(unknown.status).toBe(400);
    expect((unknown.json.issues as { field: string }[])[0]?.field).toBe('add[0]');
    await api(rt, 'POST', `/cycles/${id}/2023/submissions`, { unitId: first!.id, note: '已完成检查' });
    await rt.advanceTo(new Date('2023-09-26T12:00:00+08:00'));
    const cancelled = await api(rt, 'POST', `/adhoc-duties/${id}/cancel`, {
      reasonZh: '已并入全县安全生产大检查',
    });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    expect((await api(rt, 'POST', `/adhoc-duties/${id}/cancel`, { reasonZh: '再次' })).status).toBe(200);
    const tooLate = await api(rt, 'POST', `/adhoc-duties/${id}/extend`, {
      deadline: { date: '2023-10-12', time: '18:00' },
    });
    expect(tooLate.status).toBe(409);
    await rt.advanceTo(new Date('2023-10-16T12:00:00+08:00'));

    const items = itemsAbout(rt, '国庆节前安全生产大检查');
    const mine = (u: { contact: { email: string } }) =>
      items.filter((i) => i.to === u.contact.email.toLowerCase());
    const cancelledAt = Date.parse('2023-09-26T12:00:00+08:00');
    for (const t of rest) {
      const told = mine(t).filter((i) => i.kind === 'change' && i.text.includes('已取消本项工作'));
      expect(told.length, t.id).toBe(1);
      expect(told[0]?.text).toContain('已并入全县安全生产大检查');
      expect(
        mine(t).filter((i) => i.at > cancelledAt && i.kind !== 'change'),
        t.id,
      ).toEqual([]);
    }
    // The added enterprise: told it was added, reminded before the cancellation, told of it.
    expect(
      mine(enterprise)
        .filter((i) => i.kind === 'change')
        .map((i) => /县安委办已将(\S+?)列为/.test(i.text) || i.text.includes('已取消')),
    ).toEqual([true, true]);
    expect(mine(enterprise).some((i) => i.kind === 'reminder')).toBe(true);
    // The removed town: told once, nothing else after.
    const removedItems = mine(removed!).filter((i) => i.at > Date.parse('2023-09-18T10:00:00+08:00'));
    expect(removedItems.map((i) => i.kind)).toEqual(['change']);
    expect(removedItems[0]?.text).toContain('移出本项工作的责任单位');
    // The town that reported hears nothing of the cancellation, and nobody is escalated or overdue.
    expect(mine(first!).filter((i) => i.kind === 'change')).toEqual([]);
    expect(items.filter((i) => i.kind === 'escalation')).toEqual([]);
    const cycle = await api(rt, 'GET', `/cycles/${id}/2023`);
    expect(cycle.json.status).toBe('cancelled');
    const overdue = await api(rt, 'GET', '/overdue?limit=1000');
    expect((overdue.json.items as { item: string }[]).filter((r) => r.item === `cycle:${id}:2023`)).toEqual(
      [],
    );
    const audit = await api(rt, 'GET', `/audit?subject=cycle:${id}:2023`);
    expect((audit.json.entries as { action: string }[]).map((e) => e.action)).toEqual([
      'adhoc-duty-created',
      'adhoc-duty-units-changed',
      'submission',
      'adhoc-duty-cancelled',
    ]);
  }, 300_000);

  it('recurs every Friday during the flood season, a holiday Friday moved to the working day before, until cancelled', async () => {
    rt = await startTestRuntime({
      clock: '2023-06-01T10:00:00+08:00',
      units: roster.units.filter((u) => u.kind === 'town' || u.kind === 'county-department'),
      leaders: roster.leaders,
      reconciler: false,
    });
    process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
    const created = await cli(
      'duties',
      'create',
      '--api',
      rt.apiUrl,
      '--title',
      '汛期每周隐患排查报告',
      '--instruction',
      '汛期内各乡镇每周五前报送本周防汛隐患排查情况。',
      '--kinds',
      '乡镇',
      '--every',
      '周五',
      '--from',
      '2023-06-01',
      '--until',
      '2023-06-30',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain('每周五 17:00 截止（2023-06-01 至 2023-06-30）');
    expect(created.out).toContain('本期截止 2023-06-02 17:00');
    const id = /编号 (adhoc-[0-9a-f-]+)/.exec(created.out)?.[1] as string;
    const bad = await cli(
      'duties',
      'create',
      '--api',
      rt.apiUrl,
      '--title',
      '检查',
      '--instruction',
      '请完成检查工作',
      '--kinds',
      '乡镇',
      '--every',
      '周八',
      '--from',
      '2023-06-01',
      '--until',
      '2023-06-30',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--every 应为“周五”');

    // The Dragon Boat holiday (06-22 to 06-24) takes the fourth Friday: that week is due on Wednesday 06-21.
    await rt.advanceTo(new Date('2023-06-20T12:00:00+08:00'));
    const cancelled = await cli(
      'duties',
      'cancel',
      id,
      '--api',
      rt.apiUrl,
      '--reason',
      '汛期工作调整，改为按日报送',
    );
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toContain('已取消');
    await rt.advanceTo(new Date('2023-07-05T12:00:00+08:00'));
    const cycles = await api(rt, 'GET', `/cycles?duty=${id}`);
    const rows = cycles.json.cycles as { periodKey: string; deadline: string; status: string }[];
    expect(rows.map((c) => [c.periodKey, c.deadline.slice(0, 16), c.status])).toEqual([
      ['2023-W22', '2023-06-02T17:00', 'closed'],
      ['2023-W23', '2023-06-09T17:00', 'closed'],
      ['2023-W24', '2023-06-16T17:00', 'closed'],
      ['2023-W25', '2023-06-21T17:00', 'cancelled'],
    ]);
    const town = towns[0]!;
    const mine = sentMails(rt)
      .filter((m) => m.to[0]?.toLowerCase() === town.contact.email.toLowerCase())
      .flatMap((m) =>
        mailItems(m)
          .filter((i) => i.title.includes('汛期每周隐患排查报告'))
          .map((i) => ({ ...i, at: m.at })),
      );
    // Reminded each week, told of the cancellation once, nothing after it.
    for (const day of ['2023-06-0', '2023-06-1'])
      expect(mine.some((i) => i.kind === 'reminder' && shanghaiDay(i.at).startsWith(day))).toBe(true);
    expect(mine.filter((i) => i.kind === 'change').map((i) => i.text.includes('汛期工作调整'))).toEqual([
      true,
    ]);
    expect(mine.filter((i) => i.at > Date.parse('2023-06-20T12:00:00+08:00') && i.kind !== 'change')).toEqual(
      [],
    );
  }, 300_000);

  it('for the enterprises of one town reaches those enterprises only', async () => {
    rt = await startCounty();
    const town = towns[0]!;
    const ours = roster.units.filter((u) => u.kind === 'enterprise' && u.parentId === town.id);
    expect(ours.length).toBeGreaterThan(0);
    // From the CLI, in the words an administrator uses (乡镇, 企业).
    process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
    const created = await cli(
      'duties',
      'create',
      '--api',
      rt.apiUrl,
      '--title',
      '燃气安全专项排查',
      '--instruction',
      `请${town.name}辖区内企业在5个工作日内完成燃气设施自查并报送。`,
      '--kinds',
      '企业',
      '--towns',
      town.id,
      '--workdays',
      '5',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(
      new RegExp(
        `^已发起专项工作“燃气安全专项排查”（编号 adhoc-20230918-[0-9a-f]{4}，周期 2023）：截止 2023-09-25 17:00，责任单位 ${ours.length} 个。`,
      ),
    );
    // The same command with one mistake each: a kind nobody has, a deadline already past.
    const mistake = (...last: string[]) =>
      cli(
        'duties',
        'create',
        '--api',
        rt!.apiUrl,
        '--title',
        '检查',
        '--instruction',
        '请完成检查工作',
        ...last,
      );
    const mistaken = await mistake('--kinds', '村', '--workdays', '5');
    expect(mistaken.code).toBe(2);
    expect(mistaken.err).toContain('--kinds 中的“村”不是单位类型');
    const past = await mistake('--kinds', '乡镇', '--deadline', '2023-09-01 18:00');
    expect(past.code).toBe(2);
    expect(past.err).toContain('截止时间 2023-09-01 18:00 已经过去');
    const listed = await cli('duties', 'list', '--api', rt.apiUrl);
    expect(listed.out).toContain('共 1 项专项工作');
    await rt.advanceTo(new Date('2023-09-26T10:00:00+08:00'));
    const reached = new Set(
      sentMails(rt)
        .filter((m) => mailItems(m).some((i) => i.title.includes('燃气安全专项排查')))
        .map((m) => m.to[0]?.toLowerCase()),
    );
    for (const u of ours) expect(reached.has(u.contact.email.toLowerCase()), u.id).toBe(true);
    const others = roster.units.filter((u) => u.kind === 'enterprise' && u.parentId !== town.id);
    for (const u of others) expect(reached.has(u.contact.email.toLowerCase()), u.id).toBe(false);
  }, 300_000);

  it('starts a 国庆节前检查 from its template, dated by the official calendar', async () => {
    rt = await startCounty();
    process.env.SAFEDUTY_ADMIN_TOKEN = rt.adminToken;
    const listed = await cli('duties', 'templates', '--api', rt.apiUrl);
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain(
      '国庆节前检查  2023年：2023-09-27 18:00 截止（国庆放假（9月29日）前第2个工作日18:00前报送）',
    );
    const created = await cli(
      'duties',
      'create',
      '--api',
      rt.apiUrl,
      '--template',
      '国庆节前检查',
      '--document',
      '襄安办〔2023〕12号',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain('“国庆节前安全生产大检查”');
    expect(created.out).toContain(`截止 2023-09-27 18:00，责任单位 ${towns.length + 3} 个`);
    const unknown = await cli('duties', 'create', '--api', rt.apiUrl, '--template', '中秋节前检查');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('没有名为“中秋节前检查”的模板');
    const unpublished = await cli('duties', 'templates', '--api', rt.apiUrl, '--year', '2027');
    expect(unpublished.code).not.toBe(0);
    expect(unpublished.err).toContain('2027 年没有官方节假日数据');
  }, 120_000);

  it('refuses a past deadline, an empty responsible set, unknown units and a ladder that names no one, writing nothing', async () => {
    rt = await startCounty();
    const cases: [unknown, string][] = [
      [{ ...NATIONAL_DAY, deadline: { date: '2023-09-01', time: '18:00' } }, 'deadline'],
      [{ ...NATIONAL_DAY, responsible: {} }, 'responsible.kinds'],
      [
        { ...NATIONAL_DAY, responsible: { kinds: ['town'], towns: ['no-such-town'] } },
        'responsible.towns[0]',
      ],
      [{ ...NATIONAL_DAY, responsible: { units: ['nobody'] } }, 'responsible.units[0]'],
      [
        { ...NATIONAL_DAY, escalation: [{ level: 1, offset: { amount: 1, unit: 'workdays' }, notify: [] }] },
        'escalation[0].notify',
      ],
      [{ ...NATIONAL_DAY, titleZh: '国庆\\u202e检查' }, 'titleZh'],
      [{ ...NATIONAL_DAY, deadline: { date: '2023-02-30', time: '18:00' } }, 'deadline.date'],
    ];
    for (const [body, field] of cases) {
      const r = await api(
        rt,
        'POST',
        '/duties',
        JSON.parse(JSON.stringify(body).replace('\\\\u202e', '\\u202e')),
      );
      expect(r.status, field).toBe(400);
      expect(
        (r.json.issues as { field: string }[]).map((i) => i.field),
        field,
      ).toContain(field);
      expect(typeof r.json.message).toBe('string');
    }
    expect((await api(rt, 'GET', '/adhoc-duties')).json.count).toBe(0);
  }, 120_000);
});
