import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cycleItem, signLink } from '../../functions/core/links.ts';
import type { Runtime } from '../../local/runtime.ts';
import { runCli } from '../support/cli.ts';
import { call, exampleRoster } from '../support/http.ts';
import { startTestRuntime } from '../support/runtime.ts';

/**
 * An ad-hoc duty for the units with an attribute (the gas enterprises), with its own report form: what the
 * administrator types on the CLI is what each unit's page asks for, and only those units owe it.
 */
let rt: Runtime;

beforeAll(async () => {
  rt = await startTestRuntime({ clock: '2023-09-18T09:00:00+08:00', ...exampleRoster() });
}, 60_000);
afterAll(async () => {
  await rt?.close();
});

describe('an ad-hoc duty by attribute, with its own form', () => {
  it('owes the units with the attribute only, and asks them for the fields and files the administrator named', async () => {
    const tag = await runCli(rt, 'units', 'edit', 'ent-0002', '--attributes', '燃气、人员密集场所');
    expect(tag.code, tag.err).toBe(0);
    expect(tag.out).toContain('单位属性：燃气、人员密集场所');

    const created = await runCli(
      rt,
      'duties',
      'create',
      '--title',
      '燃气企业节前专项检查',
      '--instruction',
      '各燃气企业于9月27日前完成燃气设施专项检查并报送情况。',
      '--kinds',
      '企业',
      '--attributes',
      '燃气',
      '--deadline',
      '2023-09-27 18:00',
      '--field',
      '检查情况',
      '--field',
      '发现隐患数:数字',
      '--field',
      '备注:选填',
      '--attach',
      '现场照片',
      '--id',
      'gas-check-2023',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain('责任单位 1 个');

    const cycle = await call(rt, 'GET', '/cycles/gas-check-2023/2023');
    expect((cycle.json.units as { unitId: string }[]).map((u) => u.unitId)).toEqual(['ent-0002']);

    const link = signLink(
      {
        u: 'ent-0002',
        i: cycleItem('gas-check-2023', '2023'),
        e: Math.floor(rt.clock.nowMs() / 1000) + 86_400,
      },
      process.env.SAFEDUTY_LINK_SECRET as string,
    );
    const page = await (await fetch(`${rt.apiUrl}/links/${link}`)).text();
    for (const text of ['检查情况', '发现隐患数', '备注（选填）', '现场照片（选填）'])
      expect(page).toContain(text);
    const refused = await fetch(`${rt.apiUrl}/links/${link}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evidence: { fields: { field1: '已检查', field2: '两处' } } }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { issues: { problem: string }[] }).issues).toEqual([
      { field: 'evidence.fields.field2', problem: '“发现隐患数”应为不小于 0 的整数' },
    ]);
    const done = await fetch(`${rt.apiUrl}/links/${link}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evidence: { fields: { field1: '调压站、管网已检查', field2: '2' } } }),
    });
    expect(done.status).toBe(201);
  });

  it('refuses a form it cannot read, and an attribute nobody has, before anything is written', async () => {
    const badField = await runCli(
      rt,
      'duties',
      'create',
      '--title',
      '某项检查',
      '--instruction',
      '完成某项检查。',
      '--kinds',
      '企业',
      '--deadline',
      '2023-09-27 18:00',
      '--field',
      '数量:小数',
    );
    expect(badField.code).toBe(2);
    expect(badField.err).toContain('--field 中的“小数”不认识');
    const nobody = await call(rt, 'POST', '/duties', {
      body: {
        titleZh: '危化品专项检查',
        instructionZh: '各危化品企业完成专项检查。',
        responsible: { kinds: ['enterprise'], attributes: ['危险化学品'] },
        deadline: { date: '2023-09-27', time: '18:00' },
      },
    });
    expect(nobody.status).toBe(400);
    expect(nobody.json.issues).toEqual([{ field: 'responsible', problem: '按此范围没有任何在册的责任单位' }]);
  });
});
