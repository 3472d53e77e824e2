import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { Runtime } from '../../local/runtime.ts';
import { caseCounty } from '../support/case-county.ts';
import { startTestRuntime, tempDir } from '../support/runtime.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('safeduty cases (CLI)', () => {
  const dir = tempDir('safeduty-cases-cli-');
  let rt: Runtime;
  const saved = process.env.SAFEDUTY_ADMIN_TOKEN;

  beforeAll(async () => {
    delete process.env.SAFEDUTY_ADMIN_TOKEN;
    const { units, leaders } = caseCounty();
    // With a data folder the runtime writes its admin token there, where the CLI finds it with --data.
    rt = await startTestRuntime({
      clock: '2023-03-06T10:00:00+08:00',
      units,
      leaders,
      dataDir: join(dir.path, 'data'),
      scheduler: false,
    });
  });
  afterAll(async () => {
    await rt.close();
    dir.remove();
    if (saved === undefined) delete process.env.SAFEDUTY_ADMIN_TOKEN;
    else process.env.SAFEDUTY_ADMIN_TOKEN = saved;
  });

  const file = (name: string, content: unknown) => {
    const path = join(dir.path, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const run = async (...args: string[]) => {
    const c = capture();
    const code = await main(['cases', ...args, '--api', rt.apiUrl, '--data', join(dir.path, 'data')], c.io);
    return { code, ...c };
  };

  it('opens a case from a file and lists it, in Chinese', async () => {
    const caseFile = file('case.json', {
      caseId: 'mh-cli-1',
      title: '液氨储罐区安全阀失效',
      responsibleUnitId: 'ent-a',
      supervisingUnitId: 'dept-emergency',
      term: { until: '2023-06-30' },
      fields: { hazard: '安全阀校验过期', grade: '重大事故隐患' },
    });
    const opened = await run('open', 'major-hazard-rectification', '--file', caseFile);
    expect(opened.err).toEqual([]);
    expect(opened.code).toBe(0);
    expect(opened.out).toEqual([
      '已立案：mh-cli-1（重大事故隐患挂牌督办整改）“液氨储罐区安全阀失效”',
      '  当前阶段：待报送整改方案，期限 2023-03-20T18:00:00+08:00；整改期限 2023-06-30T18:00:00+08:00',
    ]);
    const listed = await run('list', '--type', 'major-hazard-rectification');
    expect(listed.code).toBe(0);
    expect(listed.out).toEqual([
      '共 1 件：',
      '  mh-cli-1  液氨储罐区安全阀失效  待报送整改方案，期限 2023-03-20T18:00:00+08:00',
    ]);
    const json = await run('list', '--json');
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({ count: 1, cases: [{ caseId: 'mh-cli-1' }] });

    const planFile = file('plan.json', {
      fields: {
        responsibility: '总经理',
        measures: '更换',
        funding: '12万元',
        timeline: '6月底',
        contingency: '专项预案',
      },
    });
    const ev = await run('event', 'mh-cli-1', 'plan-submitted', '--file', planFile);
    expect(ev.code).toBe(0);
    expect(ev.out).toEqual([
      '已办理：plan-submitted；案件 mh-cli-1 当前阶段：整改中，期限 2023-06-30T18:00:00+08:00',
    ]);
    const show = await run('show', 'mh-cli-1');
    expect(show.out[0]).toBe('mh-cli-1（重大事故隐患挂牌督办整改）“液氨储罐区安全阀失效”');
    expect(show.out.at(-1)).toContain('completion-reported（报告整改完成，申请验收）');
  });

  it('exits 2 with a Chinese message on bad input, locally or from the API', async () => {
    const unknownType = await run('open', 'flood-control', '--file', file('x.json', {}));
    expect(unknownType.code).toBe(2);
    expect(unknownType.err[0]).toMatch(/^未知的案件类型：flood-control/);

    const noFile = await run('open', 'major-hazard-rectification', '--file', join(dir.path, 'missing.json'));
    expect(noFile.code).toBe(2);
    expect(noFile.err[0]).toMatch(/^无法读取案件文件/);

    const badJson = await run('open', 'major-hazard-rectification', '--file', file('bad.json', '{"title": '));
    expect(badJson.code).toBe(2);
    expect(badJson.err[0]).toMatch(/^案件文件不是有效的 JSON/);

    const rejected = await run(
      'open',
      'major-hazard-rectification',
      '--file',
      file('partial.json', { title: '缺字段' }),
    );
    expect(rejected.code).toBe(2);
    expect(rejected.err[0]).toBe('请求被拒绝（HTTP 400）：请求内容有误');
    expect(rejected.err.slice(1)).toEqual(expect.arrayContaining(['  - responsibleUnitId：必填']));

    const wrongStage = await run('event', 'mh-cli-1', 'acceptance-passed');
    expect(wrongStage.code).toBe(2);
    expect(wrongStage.err[0]).toMatch(/^请求被拒绝（HTTP 409）：案件当前处于“整改中”阶段/);

    const usage = await run('reopen');
    expect(usage.code).toBe(2);
    expect(usage.err[0]).toMatch(/^用法：safeduty cases open/);
  });

  it('shows the case types offline', async () => {
    const c = capture();
    expect(await main(['cases', 'types'], c.io)).toBe(0);
    expect(c.out[0]).toBe('major-hazard-rectification  重大事故隐患挂牌督办整改');
    expect(c.out.join('\n')).toContain(
      '阶段 awaiting-plan（待报送整改方案）：报送“五到位”整改方案，期限 进入后第10个工作日 18:00',
    );
  });
});
