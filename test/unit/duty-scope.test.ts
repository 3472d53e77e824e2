// Who owes the duties that need more than a unit's own fields to decide: each county leader in person (the monthly
// field visit), and the departments that supervise a town or enterprise marked in the roster (section 八's targeted
// inspections), on the demo county and on a county-size roster read through the table adapter.
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dutyRoster, putLeaders, putUnits } from '../../functions/adapters/store.ts';
import { crossCheck, parseRosterCsv } from '../../functions/core/roster-import.ts';
import { ACCIDENT_ATTRIBUTE, countyLeaderUnitId, generateRoster, ROSTER_SIZES } from '../../local/roster.ts';
import { loadCatalog } from '../../workflows/catalog/index.ts';
import {
  catalogFileSchema,
  inDutyScope,
  markedUnitSupervisors,
  unitKindOf,
  type Duty,
  type UnitKind,
} from '../../workflows/catalog/schema.ts';
import { exampleRoster } from '../support/http.ts';
import { FakeTable } from './support/fake-table.ts';

const TABLE = 'safeduty-duty-scope-test';
const table = new FakeTable(TABLE, 1000);
beforeEach(() => {
  table.reset();
  vi.stubEnv('TABLE_NAME', TABLE);
  vi.stubEnv('SAFETY_OFFICE_UNIT_ID', 'county-safety-office');
});
afterAll(() => {
  table.restore();
  vi.unstubAllEnvs();
});

const catalog = loadCatalog();
const TARGETED = catalog.require('accident-units-targeted-inspection');
const VISIT = catalog.require('leader-monthly-field-visit');
const rule = { attributes: [ACCIDENT_ATTRIBUTE], kinds: ['town', 'enterprise'] as UnitKind[] };

const u = (
  id: string,
  kind: UnitKind,
  extra: { supervisingDepartmentId?: string; attributes?: string[] } = {},
) => ({
  id,
  kind,
  ...extra,
});

describe('the supervisors of marked units', () => {
  it("are each marked unit's supervising department, 安委办 for one without, only for the kinds and attributes named", () => {
    const units = [
      u('town-1', 'town', { supervisingDepartmentId: 'dept-emergency', attributes: [ACCIDENT_ATTRIBUTE] }),
      u('ent-1', 'enterprise', {
        supervisingDepartmentId: 'dept-housing',
        attributes: ['县属监管企业', ACCIDENT_ATTRIBUTE],
      }),
      u('ent-2', 'enterprise', { supervisingDepartmentId: 'dept-market', attributes: ['县属监管企业'] }),
      u('ent-3', 'enterprise', { attributes: [ACCIDENT_ATTRIBUTE] }),
      // A site is not what section 八 names: its mark does not count.
      u('site-1', 'site', { supervisingDepartmentId: 'dept-transport', attributes: [ACCIDENT_ATTRIBUTE] }),
    ];
    expect([...markedUnitSupervisors(rule, units, 'county-safety-office')].sort()).toEqual([
      'county-safety-office',
      'dept-emergency',
      'dept-housing',
    ]);
    expect(markedUnitSupervisors({ ...rule, attributes: ['燃气'] }, units, 'x').size).toBe(0);
  });

  it('decide the duty: of its kinds and in the set; the set is required; named units still count', () => {
    const supervisors = new Set(['dept-housing', 'county-safety-office']);
    const housing = u('dept-housing', 'county-department');
    const market = u('dept-market', 'county-department');
    const office = u('county-safety-office', 'county-body');
    expect(inDutyScope(TARGETED, housing, supervisors)).toBe(true);
    expect(inDutyScope(TARGETED, office, supervisors)).toBe(true);
    expect(inDutyScope(TARGETED, market, supervisors)).toBe(false);
    // A town is not among the duty's kinds, even when something names it.
    expect(inDutyScope(TARGETED, u('dept-housing', 'town'), supervisors)).toBe(false);
    expect(() => inDutyScope(TARGETED, housing)).toThrow(/supervisorsOf/);
    const withNamed: Pick<Duty, 'responsibleKinds' | 'scope'> = {
      responsibleKinds: TARGETED.responsibleKinds,
      scope: { supervisorsOf: rule, units: ['dept-market'] },
    };
    expect(inDutyScope(withNamed, market, supervisors)).toBe(true);
    expect(inDutyScope(withNamed, u('dept-water', 'county-department'), supervisors)).toBe(false);
  });

  it('are checked when a catalog file names them', () => {
    const base = { ...structuredClone(TARGETED), id: 'ext-targeted' } as Record<string, unknown>;
    expect(catalogFileSchema.safeParse({ duties: [base] }).success).toBe(true);
    const bad = (supervisorsOf: unknown) =>
      catalogFileSchema.safeParse({ duties: [{ ...base, scope: { supervisorsOf } }] }).success;
    expect(bad({ attributes: [], kinds: ['town'] })).toBe(false);
    expect(bad({ attributes: ['燃气'], kinds: ['village'] })).toBe(false);
    expect(bad({ attributes: ['燃气、危化'], kinds: ['town'] })).toBe(false);
    expect(bad({ attributes: ['燃气'] })).toBe(false);
  });
});

describe('the demo county', () => {
  const small = generateRoster(ROSTER_SIZES.small, 2023);

  it('has each county leader as a 县领导 entry, the leader in person, under the county head', () => {
    const leaders = new Map(small.leaders.map((l) => [l.id, l]));
    const entries = small.units.filter((x) => x.kind === 'county-leader');
    expect(entries.map((x) => x.id).sort()).toEqual(
      small.leaders.map((l) => countyLeaderUnitId(l.id)).sort(),
    );
    expect(leaders.get('leader-magistrate')?.titleZh).toBe('县长');
    for (const l of small.leaders) {
      const entry = entries.find((x) => x.id === countyLeaderUnitId(l.id));
      expect(entry?.principal.email).toBe(l.holder.email);
      expect(entry?.name).toContain(l.holder.name);
      expect(entry?.leaderInChargeId).toBe('leader-magistrate');
    }
    // They owe the field visit, and nothing else of the built-in catalog.
    expect(catalog.forKind('county-leader').map((d) => d.id)).toEqual([VISIT.id]);
    expect(entries.every((x) => inDutyScope(VISIT, x))).toBe(true);
  });

  it('marks 河东镇 and one enterprise, so two of its four departments owe the targeted inspection', () => {
    const marked = small.units.filter((x) => x.attributes?.includes(ACCIDENT_ATTRIBUTE));
    expect(marked.map((x) => [x.id, x.kind, x.supervisingDepartmentId])).toEqual([
      ['town-002', 'town', 'dept-emergency'],
      ['ent-00004', 'enterprise', 'dept-market'],
    ]);
    const supervisors = markedUnitSupervisors(rule, small.units, 'county-safety-office');
    const owing = small.units.filter(
      (x) => TARGETED.responsibleKinds.includes(x.kind) && inDutyScope(TARGETED, x, supervisors),
    );
    expect(owing.map((x) => x.id).sort()).toEqual(['dept-emergency', 'dept-market']);
    // Marks are fixed by the id: the same county every time, and the county-supervised marks kept beside them.
    expect(generateRoster(ROSTER_SIZES.small, 2023)).toEqual(small);
    const county = generateRoster(ROSTER_SIZES.county, 1);
    const both = county.units.filter(
      (x) => x.attributes?.includes(ACCIDENT_ATTRIBUTE) && x.attributes.includes('县属监管企业'),
    );
    expect(both.length).toBeGreaterThan(0);
  });
});

describe('the responsible units read from the table', () => {
  it('reads each roster once on a county-size roster: queries by kind, nothing per unit', async () => {
    const county = generateRoster(ROSTER_SIZES.county, 1);
    await putLeaders(county.leaders);
    await putUnits(county.units);
    // One marked enterprise deactivated: its department no longer owes the inspection on its account.
    const marked = county.units.filter(
      (x) => x.kind === 'enterprise' && x.attributes?.includes(ACCIDENT_ATTRIBUTE),
    );
    const onlyBy = marked.find(
      (m) => marked.filter((o) => o.supervisingDepartmentId === m.supervisingDepartmentId).length === 1,
    );
    if (onlyBy) await putUnits([{ ...onlyBy, active: false }]);
    const active = county.units.filter((x) => x.id !== onlyBy?.id);
    const expected = [...markedUnitSupervisors(rule, active, 'county-safety-office')].sort();
    table.mock.resetHistory();
    const { units } = await dutyRoster(TARGETED);
    expect(units.map((x) => x.id).sort()).toEqual(expected);
    if (onlyBy) expect(expected).not.toContain(onlyBy.supervisingDepartmentId);
    // county-department, county-body, town, enterprise (two pages of 1,000): five queries whatever the marks.
    expect(table.mock.commandCalls(QueryCommand).length).toBe(5);
    expect(table.mock.commandCalls(GetCommand).length).toBe(0);
  });
});

describe('county leaders in a roster file', () => {
  it('are read by their Chinese kind name, and have no 上级单位', () => {
    expect(['县领导', '县领导干部', '县级领导', 'county-leader'].map(unitKindOf)).toEqual([
      'county-leader',
      'county-leader',
      'county-leader',
      'county-leader',
    ]);
    const r = parseRosterCsv(
      '单位编号,单位名称,单位类型,上级单位,分管县领导,联络人,联络人邮箱,主要负责人,主要负责人邮箱\n' +
        'county-leader-culture,副县长刘晓燕,县领导干部,,leader-magistrate,刘晓燕,lxy@example.gov.cn,刘晓燕,lxy@example.gov.cn\n' +
        'county-leader-water,副县长某某,县领导,town-001,leader-magistrate,某某,mm@example.gov.cn,某某,mm@example.gov.cn\n',
    );
    expect(r.issues).toEqual([]);
    expect(r.located.units.map((x) => x.kind)).toEqual(['county-leader', 'county-leader']);
    const { units, leaders } = exampleRoster();
    expect(crossCheck(r.located, { units, leaders })).toEqual([
      { row: 3, field: '上级单位', problem: '县领导不填上级单位（由“分管县领导”一栏填写县主要领导）' },
    ]);
  });
});
