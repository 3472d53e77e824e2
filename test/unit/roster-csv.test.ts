import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditKey, parseAuditSubject, publicSubject } from '../../functions/core/audit-subjects.ts';
import { CsvSyntaxError, csvField, parseCsv, toCsv } from '../../functions/core/csv.ts';
import {
  listOverdue,
  overdueCsv,
  overdueSources,
  registerOverdueSource,
  type OverdueItem,
} from '../../functions/core/overdue-ledger.ts';
import { crossCheck, parseRosterCsv, parseRosterJson } from '../../functions/core/roster-import.ts';
import { exampleRoster, exampleRosterCsv } from '../support/http.ts';

describe('CSV', () => {
  it('parses quotes, escaped quotes, embedded newlines, CRLF, a BOM and blank lines', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\n1,,3\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'two\nlines'] },
      { line: 5, fields: ['1', '', '3'] },
    ]);
    expect(parseCsv('a,b')).toEqual([{ line: 1, fields: ['a', 'b'] }]);
    expect(parseCsv('')).toEqual([]);
    expect(() => parseCsv('a,"b\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('"a"b,c')).toThrow(/引号结束后紧跟了多余的字符/);
  });

  it('round-trips any table of strings through toCsv and parseCsv', () => {
    const cell = fc.string({
      unit: fc.constantFrom('a', 'z', '镇', ',', '"', '\n', '\r', ' ', '1'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        (rows) => {
          const safe = rows.map((r) => r.map((c) => c.replace(/^[=+\-@\t\r]/, 'x')));
          const width = safe[0]!.length;
          const table = safe.map((r) => [...r, ...Array<string>(width).fill('')].slice(0, width));
          const [header, ...body] = table;
          const parsed = parseCsv(toCsv(header!, body));
          // A record whose every field is empty is a blank line: parsers skip it, and so does ours.
          const expected = table.filter((r) => !(r.length === 1 && r[0] === ''));
          expect(parsed.map((r) => r.fields)).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('neutralizes cells a spreadsheet would run as formulas', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-3)).toBe('-3');
    expect(toCsv(['a'], [['x']])).toBe('\uFEFFa\r\nx\r\n');
  });
});

describe('roster files', () => {
  it('reads a spreadsheet headed in Chinese, with kinds written in Chinese', () => {
    const r = parseRosterCsv(
      '单位编号,单位名称,单位类型,上级单位,联络人,联络人邮箱,主要负责人,主要负责人邮箱\n' +
        'town-009,古韩镇,乡镇,,甲,a@example.gov.cn,乙,b@example.gov.cn\n' +
        'ent-009,古韩煤业,企业,town-009,丙,c@example.gov.cn,丁,d@example.gov.cn\n' +
        'x-1,某,村,,戊,e@example.gov.cn,己,f@example.gov.cn\n',
    );
    expect(r.issues).toEqual([
      {
        row: 4,
        field: '单位类型',
        problem: '应为单位类型：乡镇、县直部门、企业、班组场点、县级议事机构、县领导',
      },
    ]);
    const ok = parseRosterCsv(
      '单位编号,单位名称,单位类型,上级单位,联络人,联络人邮箱,主要负责人,主要负责人邮箱\n' +
        'ent-009,古韩煤业,企业,town-009,丙,c@example.gov.cn,丁,d@example.gov.cn\n',
    );
    expect(ok.issues).toEqual([]);
    expect(ok.located.units.map((u) => [u.id, u.kind, u.parentId])).toEqual([
      ['ent-009', 'enterprise', 'town-009'],
    ]);
    expect(
      parseRosterJson({ units: [{ ...exampleRoster().units[0], kind: '县直部门' }] }).located.units[0]?.kind,
    ).toBe('county-department');
  });

  it('reads the example CSV into the same units as the example JSON', () => {
    const csv = parseRosterCsv(exampleRosterCsv());
    const json = parseRosterJson(JSON.parse(JSON.stringify(exampleRoster())));
    expect(csv.issues).toEqual([]);
    expect(json.issues).toEqual([]);
    expect(csv.located.units).toEqual(json.located.units);
    expect(crossCheck(json.located, { units: [], leaders: [] })).toEqual([]);
  });

  it('accepts columns in any order and leaves empty optional cells out', () => {
    const r = parseRosterCsv(
      'name,id,kind,contactName,contactEmail,principalName,principalEmail\r\n' +
        ' 青山镇 ,town-001,town,甲,a@example.gov.cn,乙,b@example.gov.cn\r\n',
    );
    expect(r.issues).toEqual([]);
    expect(r.located.units).toEqual([
      {
        id: 'town-001',
        name: '青山镇',
        kind: 'town',
        contact: { name: '甲', email: 'a@example.gov.cn' },
        principal: { name: '乙', email: 'b@example.gov.cn' },
        active: true,
      },
    ]);
  });

  it('names the row and column of each problem', () => {
    const r = parseRosterCsv(
      'id,name,kind,contactName,contactEmail,principalName,principalEmail,staffName,staffEmail\r\n' +
        'Town 1,青山镇,town,甲,a@example.gov.cn,乙,b@example.gov.cn,,\r\n' +
        'town-002,,town,甲,a@example.gov.cn,乙,b@example.gov.cn,丙,\r\n',
    );
    expect(r.issues).toEqual([
      { row: 2, field: 'id', problem: '应为1至63个小写字母、数字或连字符，以字母或数字开头' },
      { row: 3, field: 'name', problem: '不能为空' },
      { row: 3, field: 'staffEmail', problem: '不是有效的邮箱地址' },
    ]);
  });

  it('finds duplicates and unresolved references against the file and the table', () => {
    const { located } = parseRosterJson({
      units: [{ ...exampleRoster().units[4], parentId: 'town-002' }, { ...exampleRoster().units[4] }],
    });
    const issues = crossCheck(located, {
      units: exampleRoster().units.slice(0, 3),
      leaders: exampleRoster().leaders,
    });
    expect(issues).toEqual([
      { field: 'units[1].id', problem: '编号 town-001 重复（另见units[0].id）' },
      { field: 'units[0].parentId', problem: '单位不存在：town-002' },
    ]);
  });
});

describe('audit subjects', () => {
  it('maps the API spelling to the stored key and back', () => {
    for (const [text, key] of [
      ['cycle:risk-prejudgment-weekly:2023-W06', 'CYCLE#risk-prejudgment-weekly#2023-W06'],
      ['unit:town-001', 'UNIT#town-001'],
      ['leader:leader-executive', 'LEADER#leader-executive'],
      ['case:mh-20230306-k3f9a1', 'CASE#mh-20230306-k3f9a1'],
    ]) {
      expect(auditKey(parseAuditSubject(text!))).toBe(key);
      expect(publicSubject(key!)).toBe(text);
    }
    for (const bad of [
      '',
      'unit',
      'unit:',
      'unit:A',
      'unit:a:b',
      'cycle:x',
      'cycle:x:y:z',
      'case:a#b',
      'UNIT#x',
    ])
      expect(() => parseAuditSubject(bad), bad).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('overdue ledger', () => {
  const item = (
    unitId: string,
    workdaysOverdue: number,
    escalationLevel: number,
    kind: 'cycle' | 'case' = 'cycle',
  ): OverdueItem => ({
    kind,
    item: kind === 'cycle' ? 'cycle:d:2023-W06' : 'case:c-1',
    titleZh: kind === 'cycle' ? '周预判' : '=重大隐患整改',
    unitId,
    unitName: `${unitId}单位`,
    deadline: '2023-02-06T18:00:00+08:00',
    workdaysOverdue,
    escalationLevel,
  });

  it('merges every registered source, most overdue first; a source registered again replaces the first', async () => {
    registerOverdueSource({ name: 'test-a', list: async () => [item('b', 1, 1), item('a', 3, 1)] });
    registerOverdueSource({ name: 'test-b', list: async () => [item('c', 1, 2, 'case')] });
    registerOverdueSource({ name: 'test-b', list: async () => [item('c', 2, 2, 'case')] });
    expect(overdueSources()).toEqual(expect.arrayContaining(['test-a', 'test-b']));
    const now = new Date('2023-02-08T10:00:00+08:00');
    expect((await listOverdue(now)).map((i) => `${i.unitId}:${i.workdaysOverdue}`)).toEqual([
      'a:3',
      'c:2',
      'b:1',
    ]);
    const csv = overdueCsv(await listOverdue(now));
    expect(csv.startsWith('\uFEFF单位编号,')).toBe(true);
    expect(csv).toContain("c,c单位,,,案件,'=重大隐患整改,case:c-1,2023年2月6日 18:00,2,第2级\r\n");
  });
});
