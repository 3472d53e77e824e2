import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { quoteAppearsInNotice } from '../../workflows/catalog/index.ts';
import { CASE_TYPES_ENV, CaseTypeError, loadCaseTypes, parseCaseTypes } from '../../workflows/cases/index.ts';
import builtIn from '../../workflows/cases/types.json' with { type: 'json' };

type Json = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);
const major = () =>
  clone(builtIn.types[0]) as unknown as Json & { stages: Json[]; events: Json[]; requests: Json[] };

function issuesOf(types: unknown[]): { typeId?: string; field: string; problem: string }[] {
  try {
    parseCaseTypes({ types }, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(CaseTypeError);
    return (err as CaseTypeError).issues;
  }
  throw new Error('expected the types to be rejected');
}

describe('built-in case types', () => {
  const types = loadCaseTypes();

  it('has the five types of the notice, validated', () => {
    expect(types.types.map((t) => t.id)).toEqual([
      'major-hazard-rectification',
      'self-built-house-rectification',
      'accident-follow-up',
      'whistle-blower-report',
      'warning-response',
    ]);
    expect(types.get('major-hazard-rectification')?.initialStage).toBe('awaiting-plan');
    expect(types.get('nope')).toBeUndefined();
  });

  it('quotes every clause exactly from the notice', () => {
    for (const t of types.types) {
      const clauses = [t.clause, ...t.stages.map((s) => s.clause), ...t.requests.map((r) => r.clause)];
      for (const c of clauses) expect(quoteAppearsInNotice(c.quote), `${t.id}: ${c.quote}`).toBe(true);
    }
  });

  it('documents where the numbers of every stage and request come from', () => {
    for (const t of types.types) {
      for (const s of t.stages.filter((x) => !x.terminal))
        expect(s.policyNote, `${t.id}/${s.id}`).toBeTruthy();
      for (const r of t.requests) expect(r.policyNote, `${t.id}/${r.id}`).toBeTruthy();
    }
  });

  it('requires the five parts of 五到位 for a major-hazard plan', () => {
    const plan = types.get('major-hazard-rectification')?.events.find((e) => e.id === 'plan-submitted');
    expect(plan?.fields.map((f) => `${f.key}:${f.labelZh}:${f.required}`)).toEqual([
      'responsibility:责任:true',
      'measures:措施:true',
      'funding:资金:true',
      'timeline:时限:true',
      'contingency:预案:true',
    ]);
  });

  it('escalates through the ladder of the issue: principal → department head → county leader → 安委办', () => {
    const t = types.get('major-hazard-rectification');
    const ladder = t?.stages.find((s) => s.id === 'awaiting-plan')?.escalation.map((e) => e.notify.at(-1));
    expect(ladder).toEqual([
      'responsible.principal',
      'supervising.principal',
      'leader-in-charge',
      'safety-office',
    ]);
  });

  it('lets acceptance be decided only by someone other than the reporter of completion', () => {
    const rectifications = types.types.filter((t) => t.events.some((e) => e.id === 'completion-reported'));
    expect(rectifications.map((t) => t.id)).toEqual([
      'major-hazard-rectification',
      'self-built-house-rectification',
    ]);
    for (const t of rectifications) {
      for (const id of ['acceptance-passed', 'acceptance-failed']) {
        const e = t.events.find((x) => x.id === id);
        expect(e?.distinctPersonFrom, `${t.id}/${id}`).toBe('completion-reported');
        expect(e?.by).not.toContain('responsible');
      }
    }
  });
});

describe('case type schema', () => {
  it('accepts the built-in file as data', () => {
    expect(parseCaseTypes(builtIn, 'built-in').map((t) => t.id)).toHaveLength(5);
  });

  it('rejects an event from or to an unknown stage, naming the type and the field', () => {
    const t = major();
    (t.events[0] as Json).from = ['nowhere'];
    (t.events[1] as Json).to = 'elsewhere';
    expect(issuesOf([t])).toEqual(
      expect.arrayContaining([
        { typeId: 'major-hazard-rectification', field: 'events[0].from[0]', problem: 'unknown stage' },
        { typeId: 'major-hazard-rectification', field: 'events[1].to', problem: 'unknown stage' },
      ]),
    );
  });

  it('rejects reminders after the deadline and escalation levels out of order', () => {
    const t = major();
    const stage = t.stages[0] as { reminders: Json[]; escalation: Json[] };
    stage.reminders = [{ amount: 1, unit: 'workdays' }];
    stage.escalation = [
      { level: 1, offset: { amount: 3, unit: 'workdays' }, notify: ['responsible.principal'] },
      { level: 3, offset: { amount: 2, unit: 'workdays' }, notify: ['safety-office'] },
    ];
    const fields = issuesOf([t]).map((i) => `${i.field}: ${i.problem}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'stages[0].reminders[0].amount: a reminder must come before the deadline (negative amount)',
        'stages[0].escalation[1].level: levels must be numbered 1, 2, 3… in order; expected 2',
        'stages[0].escalation[1].offset: escalation levels must come later than the level before',
      ]),
    );
  });

  it('needs a deadline, an action and a party on every stage that is not terminal, and none on a terminal one', () => {
    const t = major();
    delete (t.stages[0] as Json).deadline;
    (t.stages[3] as Json).deadline = { type: 'term' };
    const fields = issuesOf([t]).map((i) => `${i.field}: ${i.problem}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'stages[0].deadline: required for a stage that is not terminal',
        'stages[3].terminal: a terminal stage has no deadline, reminders, escalation or progress reports',
      ]),
    );
  });

  it('rejects unknown positions and actors', () => {
    const t = major();
    (t.stages[0] as { remind: string[] }).remind = ['responsible.janitor'];
    (t.events[0] as Json).by = ['anyone'];
    expect(issuesOf([t]).map((i) => i.field)).toEqual(
      expect.arrayContaining(['stages[0].remind[0]', 'events[0].by[0]']),
    );
  });

  it('checks references once the shape is right: unknown requests, a distinct-person rule without persons', () => {
    const t = major();
    (t.events[5] as Json).opens = 'holiday';
    (t.events[3] as Json).distinctPersonFrom = 'plan-submitted';
    expect(issuesOf([t]).map((i) => `${i.field}: ${i.problem}`)).toEqual([
      'events[5].opens: unknown request',
      'events[3].distinctPersonFrom: both events must name a person (person: true)',
    ]);
  });

  it('rejects a request decided "by the term", unknown fields, and duplicate ids', () => {
    const t = major();
    (t.requests[0] as Json).deadline = { type: 'term' };
    (t.events[2] as Json).colour = 'red';
    const twin = major();
    const fields = issuesOf([t]).map((i) => `${i.field}: ${i.problem}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'requests[0].deadline.type: a request is decided within a time after it is made, not by the term',
      ]),
    );
    expect(fields.some((f) => f.startsWith('events[2]'))).toBe(true);
    expect(issuesOf([major(), twin])).toEqual(
      expect.arrayContaining([
        { typeId: 'major-hazard-rectification', field: 'id', problem: 'duplicate type id' },
      ]),
    );
  });

  it('says in Chinese which type and field are wrong', () => {
    const t = major();
    (t as Json).initialStage = 'limbo';
    try {
      parseCaseTypes({ types: [t] }, 'my-types.json');
      expect.unreachable();
    } catch (err) {
      expect((err as CaseTypeError).messageZh).toContain('案件类型 my-types.json 校验未通过');
      expect((err as CaseTypeError).messageZh).toContain(
        'type "major-hazard-rectification", field initialStage: unknown stage',
      );
    }
  });
});

describe("a deployment's own case types", () => {
  const dir = mkdtempSync(join(tmpdir(), 'safeduty-case-types-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  let n = 0;
  const write = (content: unknown) => {
    const file = join(dir, `types-${n++}.json`);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const EXAMPLE = fileURLToPath(new URL('../../examples/case-types-extension.json', import.meta.url));

  it('extends the built-in types: the same id replaces that type, a new id is added', () => {
    const types = loadCaseTypes({ file: EXAMPLE });
    expect(types.types.map((t) => t.id)).toEqual([
      'major-hazard-rectification',
      'self-built-house-rectification',
      'accident-follow-up',
      'whistle-blower-report',
      'warning-response',
    ]);
    const plan = types.get('major-hazard-rectification')?.stages.find((s) => s.id === 'awaiting-plan');
    expect(plan?.deadline).toMatchObject({ type: 'workdays-after-entry', n: 7 });
    // The built-in set is untouched.
    expect(
      loadCaseTypes()
        .get('major-hazard-rectification')
        ?.stages.find((s) => s.id === 'awaiting-plan')?.deadline,
    ).toMatchObject({ n: 10 });

    const fire = { ...major(), id: 'fire-hazard-rectification', idPrefix: 'fh', titleZh: '消防隐患整改' };
    const extended = loadCaseTypes({ file: write({ types: [fire] }) });
    expect(extended.types.map((t) => t.id)).toEqual([
      'major-hazard-rectification',
      'self-built-house-rectification',
      'accident-follow-up',
      'whistle-blower-report',
      'warning-response',
      'fire-hazard-rectification',
    ]);
    const replaced = loadCaseTypes({ file: write({ mode: 'replace', types: [fire] }) });
    expect(replaced.types.map((t) => t.id)).toEqual(['fire-hazard-rectification']);
  });

  it('reads the file named by SAFEDUTY_CASE_TYPES unless a file is given', () => {
    vi.stubEnv(CASE_TYPES_ENV, EXAMPLE);
    expect(loadCaseTypes().get('major-hazard-rectification')?.stages[0]?.deadline).toMatchObject({ n: 7 });
    vi.stubEnv(CASE_TYPES_ENV, '');
    expect(loadCaseTypes().get('major-hazard-rectification')?.stages[0]?.deadline).toMatchObject({ n: 10 });
  });

  it('rejects a file that cannot be read or parsed, a bad type, and a new type taking a built-in prefix', () => {
    const problems = (file: string) => {
      try {
        loadCaseTypes({ file });
      } catch (err) {
        expect(err).toBeInstanceOf(CaseTypeError);
        return (err as CaseTypeError).issues.map((i) => `${i.typeId ?? ''}|${i.field}|${i.problem}`);
      }
      throw new Error('expected the file to be rejected');
    };
    expect(problems(join(dir, 'missing.json'))[0]).toMatch(/^\|\(file\)\|cannot read the file/);
    expect(problems(write('{ not json'))[0]).toMatch(/^\|\(file\)\|not valid JSON/);
    const bad = { ...major(), initialStage: 'limbo' };
    expect(problems(write({ types: [bad] }))).toEqual([
      expect.stringMatching(/^major-hazard-rectification\|initialStage\|unknown stage/),
    ]);
    const squatter = { ...major(), id: 'fire-hazard-rectification' };
    expect(problems(write({ types: [squatter] }))).toEqual([
      'fire-hazard-rectification|idPrefix|duplicate id prefix',
    ]);
  });
});
