import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  CATALOG_ENV,
  CatalogError,
  UnknownDutyError,
  loadCatalog,
  noticeText,
  quoteAppearsInNotice,
} from '../../workflows/catalog/index.ts';
import {
  POSITIONS,
  UNIT_KINDS,
  catalogFileSchema,
  inDutyScope,
  type Duty,
} from '../../workflows/catalog/schema.ts';

const DUTIES_FILE = fileURLToPath(new URL('../../workflows/catalog/duties.json', import.meta.url));
const EXAMPLE_FILE = fileURLToPath(new URL('../../examples/catalog-extension.json', import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), 'safeduty-catalog-'));
let fileCount = 0;

afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});

function writeTemp(content: unknown): string {
  const file = join(tmp, `catalog-${++fileCount}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** A valid duty for extension files; overrides replace top-level fields. */
function extDuty(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ext-duty',
    titleZh: '测试职责',
    clause: { section: '测试', quote: '测试条款内容' },
    responsibleKinds: ['town'],
    cadence: { kind: 'weekly' },
    deadline: { type: 'after-period-start', days: 4, time: '17:00' },
    nonWorkdayPolicy: 'previous-workday',
    evidenceZh: '检查记录',
    reminders: [{ amount: -1, unit: 'workdays', at: '09:00' }],
    escalation: [
      { level: 1, offset: { amount: 1, unit: 'workdays', at: '09:00' }, notify: ['contact', 'principal'] },
      { level: 2, offset: { amount: 3, unit: 'workdays', at: '09:00' }, notify: ['supervising-department'] },
    ],
    ...overrides,
  };
}

function catalogError(fn: () => unknown): CatalogError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogError);
    return err as CatalogError;
  }
  throw new Error('expected a CatalogError');
}

const rawBuiltIn: { duties: { id: string }[] } = JSON.parse(readFileSync(DUTIES_FILE, 'utf8'));
const builtIn = loadCatalog();

const REQUIRED: [id: string, cadence: Duty['cadence']['kind'], kinds: string[]][] = [
  ['monthly-safety-meeting', 'monthly', ['town', 'county-body']],
  ['leader-monthly-field-visit', 'monthly', ['county-leader']],
  ['regular-safety-study', 'quarterly', ['town', 'county-department']],
  ['enterprise-hazard-self-check', 'monthly', ['enterprise']],
  ['accident-units-targeted-inspection', 'yearly', ['county-department', 'county-body']],
  ['risk-prejudgment-monthly', 'monthly', ['county-department']],
  ['risk-prejudgment-weekly', 'weekly', ['town', 'enterprise']],
  ['risk-prejudgment-daily', 'daily', ['site']],
  ['hazard-daily-report', 'daily', ['site']],
  ['year-end-safety-report', 'yearly', ['enterprise']],
  ['annual-comprehensive-drill', 'yearly', ['county-body']],
  ['annual-inspection-plan', 'yearly', ['county-department']],
];

describe('built-in catalog', () => {
  it('validates against the catalog file schema', () => {
    const result = catalogFileSchema.safeParse(rawBuiltIn);
    expect(result.error?.issues).toBeUndefined();
    expect(builtIn.duties.length).toBe(rawBuiltIn.duties.length);
    expect(builtIn.sources[0]?.source).toMatch(/^襄政发〔2023〕1 号/);
  });

  it.each(REQUIRED)('has %s (%s, %j)', (id, cadence, kinds) => {
    const duty = builtIn.require(id);
    expect(duty.cadence.kind).toBe(cadence);
    expect([...duty.responsibleKinds].sort()).toEqual([...kinds].sort());
    expect(duty.enabled).toBe(true);
  });

  it('sets the year-end report for 31 December', () => {
    expect(builtIn.require('year-end-safety-report').deadline).toEqual({
      type: 'fixed-date',
      date: '12-31',
      time: '18:00',
    });
  });

  it('has unique ids', () => {
    const ids = rawBuiltIn.duties.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(builtIn.duties.map((d) => [d.id, d] as const))('%s quotes the notice exactly', (_id, duty) => {
    expect(quoteAppearsInNotice(duty.clause.quote)).toBe(true);
    // Headings are the notice's own (一、 … 八、), even where the PDF extraction put them out of place.
    expect(duty.clause.section).toMatch(/^[一二三四五六七八]、/);
    expect(quoteAppearsInNotice(duty.clause.section)).toBe(true);
  });

  it.each(builtIn.duties.map((d) => [d.id, d] as const))('%s has valid kinds and ladder', (_id, duty) => {
    expect(duty.responsibleKinds.length).toBeGreaterThan(0);
    expect(new Set(duty.responsibleKinds).size).toBe(duty.responsibleKinds.length);
    for (const kind of duty.responsibleKinds) expect(UNIT_KINDS).toContain(kind);
    duty.escalation.forEach((e, i) => {
      expect(e.level).toBe(i + 1);
      expect(e.offset.amount).toBeGreaterThan(0);
      for (const p of e.notify) expect(POSITIONS).toContain(p);
    });
    for (const r of duty.reminders) expect(r.amount).toBeLessThan(0);
    // Daily duties run for every site every day: keep their ladders short.
    if (duty.cadence.kind === 'daily') expect(duty.escalation.length).toBeLessThanOrEqual(2);
    expect(duty.titleZh).toMatch(/[\u4e00-\u9fff]/);
    expect(duty.evidenceZh).toMatch(/[\u4e00-\u9fff]/);
  });

  it('is cached and frozen', () => {
    expect(loadCatalog()).toBe(builtIn);
    expect(Object.isFrozen(builtIn.duties)).toBe(true);
    expect(Object.isFrozen(builtIn.require('hazard-daily-report').deadline)).toBe(true);
  });
});

describe('catalog lookups', () => {
  it('get and require', () => {
    expect(builtIn.get('hazard-daily-report')?.cadence.kind).toBe('daily');
    expect(builtIn.get('no-such-duty')).toBeUndefined();
    try {
      builtIn.require('no-such-duty');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownDutyError);
      expect((err as UnknownDutyError).code).toBe('unknown-duty');
      expect((err as UnknownDutyError).messageZh).toBe('未知的职责：no-such-duty');
    }
  });

  it('forKind lists the duties a unit kind owes', () => {
    const site = builtIn.forKind('site').map((d) => d.id);
    expect(site).toEqual(expect.arrayContaining(['hazard-daily-report', 'risk-prejudgment-daily']));
    expect(site).not.toContain('monthly-safety-meeting');
    expect(builtIn.forKind('town').map((d) => d.id)).toContain('monthly-safety-meeting');
    for (const kind of UNIT_KINDS) expect(builtIn.forKind(kind).length).toBeGreaterThan(0);
  });
});

describe('notice', () => {
  it('bundles the notice text', () => {
    expect(noticeText()).toContain('襄政发〔2023〕1 号');
  });

  it('compares quotes without whitespace', () => {
    expect(quoteAppearsInNotice('县属监管企业要于年底前向县安委办')).toBe(true);
    expect(quoteAppearsInNotice('县属监管企业要于 年\n底前')).toBe(true);
    expect(quoteAppearsInNotice('每周至少召开一次会议')).toBe(false);
    expect(quoteAppearsInNotice(' \n ')).toBe(false);
  });
});

describe('catalog files', () => {
  it('extends the built-in catalog and overrides a duty by id', () => {
    const override = {
      ...builtIn.require('hazard-daily-report'),
      deadline: { type: 'period-end', time: '17:00' },
    };
    const file = writeTemp({ source: '测试扩展', duties: [extDuty(), override] });
    const catalog = loadCatalog({ file });
    expect(catalog.duties.length).toBe(builtIn.duties.length + 1);
    expect(catalog.duties.at(-1)?.id).toBe('ext-duty');
    expect(catalog.require('hazard-daily-report').deadline).toEqual({ type: 'period-end', time: '17:00' });
    // Overrides keep their place in the built-in order.
    expect(catalog.duties.map((d) => d.id).slice(0, -1)).toEqual(builtIn.duties.map((d) => d.id));
    expect(catalog.sources.map((s) => s.source)).toEqual([builtIn.sources[0]?.source, '测试扩展']);
    // The cached built-in catalog is untouched.
    expect(loadCatalog().require('hazard-daily-report').deadline.time).toBe('18:00');
  });

  it('replaces the built-in catalog in replace mode', () => {
    const file = writeTemp({ mode: 'replace', duties: [extDuty()] });
    const catalog = loadCatalog({ file });
    expect(catalog.duties.map((d) => d.id)).toEqual(['ext-duty']);
    expect(catalog.get('monthly-safety-meeting')).toBeUndefined();
  });

  it('keeps disabled duties listed but out of forKind', () => {
    const file = writeTemp({ duties: [{ ...builtIn.require('hazard-daily-report'), enabled: false }] });
    const catalog = loadCatalog({ file });
    expect(catalog.require('hazard-daily-report').enabled).toBe(false);
    expect(catalog.forKind('site').map((d) => d.id)).not.toContain('hazard-daily-report');
  });

  it('reads the file named by SAFEDUTY_CATALOG, unless a file is given', () => {
    const fromEnv = writeTemp({ mode: 'replace', duties: [extDuty({ id: 'from-env' })] });
    const explicit = writeTemp({ mode: 'replace', duties: [extDuty({ id: 'explicit' })] });
    vi.stubEnv(CATALOG_ENV, fromEnv);
    expect(loadCatalog().duties.map((d) => d.id)).toEqual(['from-env']);
    expect(loadCatalog({ file: explicit }).duties.map((d) => d.id)).toEqual(['explicit']);
    vi.stubEnv(CATALOG_ENV, '');
    expect(loadCatalog()).toBe(builtIn);
  });

  it('accepts the example extension file', () => {
    const catalog = loadCatalog({ file: EXAMPLE_FILE });
    expect(catalog.get('town-flood-control-readiness')?.cadence.kind).toBe('seasonal');
    expect(catalog.require('annual-inspection-plan').deadline).toMatchObject({ date: '02-28' });
  });
});

describe('invalid catalog files', () => {
  const cases: [
    name: string,
    content: unknown,
    expected: { dutyId?: string; dutyIndex?: number; field: string; problem: RegExp },
  ][] = [
    [
      'missing titleZh',
      { duties: [extDuty({ titleZh: undefined })] },
      { dutyId: 'ext-duty', field: 'titleZh', problem: /required field is missing/ },
    ],
    [
      'reminder with a positive amount',
      { duties: [extDuty({ reminders: [{ amount: 2, unit: 'days' }] })] },
      { dutyId: 'ext-duty', field: 'reminders[0].amount', problem: /before the deadline/ },
    ],
    [
      'escalation levels out of order',
      {
        duties: [
          extDuty({
            escalation: [
              { level: 1, offset: { amount: 1, unit: 'hours' }, notify: ['contact'] },
              { level: 3, offset: { amount: 1, unit: 'workdays' }, notify: ['principal'] },
            ],
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'escalation[1].level', problem: /in order; expected 2/ },
    ],
    [
      'escalation before the deadline',
      {
        duties: [
          extDuty({ escalation: [{ level: 1, offset: { amount: -1, unit: 'hours' }, notify: ['contact'] }] }),
        ],
      },
      { dutyId: 'ext-duty', field: 'escalation[0].offset.amount', problem: /after the deadline/ },
    ],
    [
      'unknown unit kind',
      { duties: [extDuty({ responsibleKinds: ['town', 'village'] })] },
      { dutyId: 'ext-duty', field: 'responsibleKinds[1]', problem: /"village".*county-department/ },
    ],
    [
      'bad time 25:00',
      { duties: [extDuty({ deadline: { type: 'period-end', time: '25:00' } })] },
      { dutyId: 'ext-duty', field: 'deadline.time', problem: /HH:MM/ },
    ],
    [
      'unknown deadline type',
      { duties: [extDuty({ deadline: { type: 'whenever', time: '18:00' } })] },
      { dutyId: 'ext-duty', field: 'deadline.type', problem: /"whenever".*fixed-date/ },
    ],
    [
      'duplicate id',
      { duties: [extDuty(), extDuty()] },
      { dutyId: 'ext-duty', dutyIndex: 1, field: 'id', problem: /duplicate id: duties\[0\]/ },
    ],
    [
      'malformed JSON',
      '{ "duties": [ { "id": "ext-duty", } ',
      { field: '(file)', problem: /malformed JSON/ },
    ],
    [
      'unknown extra field',
      { duties: [extDuty({ colour: 'red' })] },
      { dutyId: 'ext-duty', field: 'colour', problem: /unknown field/ },
    ],
    [
      'unknown nested field',
      {
        duties: [
          extDuty({
            escalation: [
              { level: 1, offset: { amount: 1, unit: 'days', when: 'later' }, notify: ['contact'] },
            ],
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'escalation[0].offset.when', problem: /unknown field/ },
    ],
    [
      'bad id, named by index',
      { duties: [extDuty(), extDuty({ id: 'Bad_Id', titleZh: 'x' })] },
      { dutyIndex: 1, field: 'id', problem: /kebab-case/ },
    ],
    [
      'a date that does not exist every year',
      {
        duties: [
          extDuty({
            cadence: { kind: 'yearly' },
            deadline: { type: 'fixed-date', date: '02-30', time: '18:00' },
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'deadline.date', problem: /exists every year/ },
    ],
    [
      'a seasonal window across the new year',
      {
        duties: [
          extDuty({
            cadence: {
              kind: 'seasonal',
              season: { id: 'winter', titleZh: '冬季', from: '11-01', to: '03-31' },
            },
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'cadence.season.to', problem: /within one year/ },
    ],
    [
      'a week that could cross the new year',
      {
        duties: [
          extDuty({
            cadence: {
              kind: 'seasonal',
              season: { id: 'ny', titleZh: '元旦周', weekContaining: '12-30', weekStartsOn: 1 },
            },
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'cadence.season.weekContaining', problem: /inside one calendar year/ },
    ],
    [
      'a fixed date in a week that moves every year',
      {
        duties: [
          extDuty({
            cadence: {
              kind: 'seasonal',
              season: { id: 'wk', titleZh: '宣传周', weekContaining: '05-12', weekStartsOn: 6 },
            },
            deadline: { type: 'fixed-date', date: '05-12', time: '18:00' },
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'deadline.date', problem: /week that moves/ },
    ],
    [
      'a checkpoint in a monthly duty',
      {
        duties: [
          extDuty({
            checkpoints: [{ date: '03-15', titleZh: '进度', notify: ['principal'] }],
          }),
        ],
      },
      { dutyId: 'ext-duty', field: 'checkpoints', problem: /yearly and seasonal/ },
    ],
    ['unknown mode', { mode: 'merge', duties: [] }, { field: 'mode', problem: /"merge".*extend/ }],
  ];

  it.each(cases)('rejects %s', (_name, content, expected) => {
    const file = writeTemp(content);
    const err = catalogError(() => loadCatalog({ file }));
    const issue = err.issues.find((i) => i.field === expected.field);
    expect(issue, `issues: ${JSON.stringify(err.issues)}`).toBeDefined();
    expect(issue?.dutyId).toBe(expected.dutyId);
    if (expected.dutyIndex !== undefined) expect(issue?.dutyIndex).toBe(expected.dutyIndex);
    expect(issue?.problem).toMatch(expected.problem);
    // The message names the duty (by id, or by index when there is no valid id), the field and the problem.
    expect(err.message).toContain(file);
    if (expected.dutyId !== undefined) expect(err.message).toContain(`duty "${expected.dutyId}"`);
    else if (expected.dutyIndex !== undefined) expect(err.message).toContain(`duties[${expected.dutyIndex}]`);
    expect(err.message).toContain(`field ${expected.field}: `);
    expect(err.message).toMatch(expected.problem);
    expect(err.messageZh).toContain(`字段 ${expected.field}：`);
    if (expected.dutyId !== undefined) expect(err.messageZh).toContain(`职责 ${expected.dutyId}`);
  });

  it('gives Chinese problems in messageZh', () => {
    const file = writeTemp({ duties: [extDuty({ titleZh: undefined, colour: 'red' })] });
    const err = catalogError(() => loadCatalog({ file }));
    expect(err.messageZh).toContain('职责 ext-duty（第 1 条）字段 titleZh：缺少必填字段');
    expect(err.messageZh).toContain('字段 colour：未知字段');
  });

  it('rejects an unreadable file', () => {
    const file = join(tmp, 'does-not-exist.json');
    const err = catalogError(() => loadCatalog({ file }));
    expect(err.issues).toEqual([
      expect.objectContaining({ field: '(file)', problem: expect.stringMatching(/cannot read/) }),
    ]);
    expect(err.message).toContain(file);
    expect(err.messageZh).toContain('无法读取文件');
  });

  it('rejects a bad file named by SAFEDUTY_CATALOG', () => {
    vi.stubEnv(CATALOG_ENV, writeTemp('not json'));
    expect(() => loadCatalog()).toThrow(CatalogError);
  });

  it('stops the local runtime before it starts anything when SAFEDUTY_CATALOG or SAFEDUTY_CASE_TYPES is bad', async () => {
    const { startRuntime } = await import('../../local/runtime.ts');
    const { CASE_TYPES_ENV, CaseTypeError } = await import('../../workflows/cases/index.ts');
    vi.stubEnv(CATALOG_ENV, writeTemp('not json'));
    await expect(startRuntime({ dataDir: null, port: 0, sesPort: 0 })).rejects.toThrow(CatalogError);
    vi.stubEnv(CATALOG_ENV, '');
    vi.stubEnv(CASE_TYPES_ENV, writeTemp('not json'));
    await expect(startRuntime({ dataDir: null, port: 0, sesPort: 0 })).rejects.toThrow(CaseTypeError);
  });
});

describe('who a duty is for', () => {
  const duty = (scope: Duty['scope']) => ({
    responsibleKinds: ['enterprise'] as Duty['responsibleKinds'],
    scope,
  });
  const gas = {
    id: 'ent-1',
    kind: 'enterprise' as const,
    parentId: 'town-1',
    attributes: ['燃气', '人员密集场所'],
  };
  const plain = { id: 'ent-2', kind: 'enterprise' as const, parentId: 'town-1' };
  const town = { id: 'town-1', kind: 'town' as const, attributes: ['燃气'] };

  it('by attribute: the units of its kinds with one of them', () => {
    expect(inDutyScope(duty({ attributes: ['燃气'] }), gas)).toBe(true);
    expect(inDutyScope(duty({ attributes: ['燃气'] }), plain)).toBe(false);
    expect(inDutyScope(duty({ attributes: ['燃气'] }), town)).toBe(false);
    expect(inDutyScope(duty({ attributes: ['危险化学品', '人员密集场所'] }), gas)).toBe(true);
  });

  it('by attribute and place together: both must hold; a unit named by id needs neither', () => {
    expect(inDutyScope(duty({ attributes: ['燃气'], towns: ['town-1'] }), gas)).toBe(true);
    expect(inDutyScope(duty({ attributes: ['燃气'], towns: ['town-2'] }), gas)).toBe(false);
    expect(inDutyScope(duty({ attributes: ['燃气'], units: ['ent-2'] }), plain)).toBe(true);
  });
});
