// 安委办's annual assessment (考核) of the demo county — the roster `npm start` loads on an empty data folder — over the
// whole of 2023 on the virtual clock, as the workbook (GET /assessment?year=2023&format=xlsx) lays it out, checked
// cell by cell, every cell of every sheet (说明, 汇总, 职责明细, 案件, 无法送达), against a computation from the raw
// records that calls nothing of the assessment: the cycle, submission and defaulter items and the units as the table
// holds them (one scan), the cases and their history (GET /cases/{id}), and the undeliverable marks.
//
// The year: the roster is loaded on 1 January and the system switched on on Wednesday 4 January (so the week-1
// risk pre-judgment, due 3 January, was tracked after its deadline and counts for nobody), then walked to 10 January
// 2024 (an assessment of a past year is as of its end: some December cycles are still open, some reports come
// after the year). Units report as `safeduty simulate` models them (DEFAULT_MODEL: on time before or after the first
// reminder, late between the deadline and the last escalation, or never), each report through the API at its
// instant. On top of that: an enterprise joins in May and one is deactivated in September; two ad-hoc duties (one
// cancelled after a report, one whose units change and whose deadline is extended after it passed); reports at the
// deadline to the second, a second after it, after the cycle closed and after the year ended; five major-hazard
// cases (term kept, missed while open, missed by a late close, running, and one opened in 2024); and three
// addresses that mail cannot reach (two bounced, one refused).
//
// Covered: every catalog duty except the three daily ones (班组场点 daily risk pre-judgment and hidden-danger report,
// the towns' and departments' daily duty shift), the whole year for each. Those three are four fifths of the
// year's cycles and would triple the walk (≈ 6 minutes on two cores); SAFEDUTY_ASSESSMENT_YEAR=full walks them too,
// with the same checks.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import ExcelJS from 'exceljs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Unit } from '../../functions/core/model.ts';
import type { LocalExecution, LocalStepFunctions } from '../../local/engine.ts';
import { generateRoster, rng, ROSTER_SIZES } from '../../local/roster.ts';
import { LOCAL_TABLE, startRuntime, type Runtime } from '../../local/runtime.ts';
import { DEFAULT_MODEL } from '../../local/simulate.ts';
import builtInCatalog from '../../workflows/catalog/duties.json' with { type: 'json' };
import { loadCatalog, type Catalog } from '../../workflows/catalog/index.ts';
import { inDutyScope, markedUnitSupervisors, type Duty } from '../../workflows/catalog/schema.ts';
import caseTypesJson from '../../workflows/cases/types.json' with { type: 'json' };
import { planCycle } from '../../workflows/plan.ts';
import { event, FIVE_PARTS, openMajorHazard } from '../support/case-county.ts';
import { api } from '../support/runtime.ts';

const FULL = process.env.SAFEDUTY_ASSESSMENT_YEAR === 'full';
const ROSTER_LOADED = '2023-01-01T00:00:00+08:00';
const SWITCHED_ON = '2023-01-04T10:00:00+08:00';
const WALK_END = '2024-01-10T12:00:00+08:00';
/** The assessment of 2023, asked in 2024, is as of the last second of 2023. */
const AS_OF = '2023-12-31T23:59:59+08:00';
const AS_OF_MS = Date.parse('2024-01-01T00:00:00+08:00') - 1;
const SAFETY_OFFICE = 'county-safety-office';

/** The demo county, as local/runtime.ts loads it into an empty table. */
const roster = generateRoster(ROSTER_SIZES.small, 2023);
const BOUNCING = ['ent-00003.contact@example.gov.cn', 'leader-culture@example.gov.cn'];
const REFUSED = ['town-002.contact@example.gov.cn'];
const WANG = { name: '王工', email: 'wang.gong@example.com' };
const LI = { name: '李科长', email: 'li.kezhang@example.gov.cn' };
const JOINER: Unit = {
  id: 'ent-00007',
  name: '青山燃气有限公司（0007）',
  kind: 'enterprise',
  parentId: 'town-001',
  supervisingDepartmentId: 'dept-market',
  leaderInChargeId: 'leader-industry',
  contact: { name: '周明', email: 'ent-00007.contact@example.gov.cn' },
  principal: { name: '吴强', email: 'ent-00007.principal@example.gov.cn' },
  attributes: ['县属监管企业'],
  active: true,
};
const LEAVER = 'ent-00006';
const ADHOC_CANCELLED = 'adhoc-gas-check';
const ADHOC_EXTENDED = 'adhoc-national-day-check';
const ADHOC_TITLES: Record<string, string> = {
  [ADHOC_CANCELLED]: '燃气安全专项排查',
  [ADHOC_EXTENDED]: '国庆节前安全生产大检查',
};

// ------------------------------------------------------------------ the catalog walked

const dataDir = mkdtempSync(join(tmpdir(), 'safeduty-assessment-year-'));
const savedCatalogEnv = process.env.SAFEDUTY_CATALOG;
const builtIn = (builtInCatalog as { duties: { id: string; cadence: { kind: string } }[] }).duties;
let catalog: Catalog;
if (FULL) catalog = loadCatalog({});
else {
  // A deployment catalog that replaces the built-in one with all of it but the daily duties: the handlers load it
  // when they are first invoked, after this.
  const file = join(dataDir, 'catalog-without-daily.json');
  writeFileSync(
    file,
    JSON.stringify({
      source: 'assessment-year test: the built-in catalog without its daily duties',
      mode: 'replace',
      duties: builtIn.filter((d) => d.cadence.kind !== 'daily'),
    }),
  );
  process.env.SAFEDUTY_CATALOG = file;
  catalog = loadCatalog({ file });
}

// ------------------------------------------------------------------ how units report

/** The hook's own view of the roster: the demo county, then as the walk changes it. */
const modelRoster: Unit[] = roster.units.map((u) => ({ ...u }));
/** `duty|period|unit` the walk reports by hand: the model leaves them alone. */
const byHand = new Set<string>();
const reported = { modelled: 0, refusedInactive: 0 };
const problems: string[] = [];
let rt: Runtime | undefined;

/** A number in [0, 1) fixed by the key (FNV-1a into the roster's PRNG), as the simulator draws its units. */
function draw(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return rng(h >>> 0)();
}

async function report(dutyId: string, periodKey: string, unitId: string): Promise<number> {
  if (!rt) throw new Error('runtime not started');
  const r = await api(rt, 'POST', `/cycles/${dutyId}/${periodKey}/submissions`, { unitId, note: '已完成' });
  return r.status;
}

/**
 * local/simulate.ts's completion model on each new cycle of a catalog duty: each responsible unit reports on time
 * (before the first reminder, or after it), late (between the deadline and the last escalation) or never, drawn
 * from DEFAULT_MODEL's shares by its kind; here each report goes through the API at its instant.
 */
function onExecutionStarted(execution: LocalExecution, engine: LocalStepFunctions): void {
  const input = execution.input as { dutyId?: string; periodKey?: string };
  if (!input.dutyId || !input.periodKey || /_g\d+$/.test(execution.name)) return;
  const duty = catalog.get(input.dutyId);
  if (!duty) return; // an ad-hoc duty: reported by hand
  const plan = planCycle(duty, input.periodKey);
  const now = engine.nowMs();
  const deadline = Date.parse(plan.deadline);
  const reminders = plan.stages.filter((s) => s.kind === 'reminder');
  const escalations = plan.stages.filter((s) => s.kind === 'escalation');
  // Not before the cycle's first step has written its record.
  const opens = Math.max(Date.parse(plan.window.opensAt), now + 60_000);
  const firstReminder = Math.max(opens, reminders[0] ? Date.parse(reminders[0].at) : deadline);
  const lastEscalation = escalations.at(-1) ? Date.parse(escalations.at(-1)!.at) : deadline;
  const active = modelRoster.filter((u) => u.active);
  const supervisors = duty.scope?.supervisorsOf
    ? markedUnitSupervisors(duty.scope.supervisorsOf, active, SAFETY_OFFICE)
    : undefined;
  for (const unit of active) {
    if (!inDutyScope(duty, unit, supervisors)) continue;
    const key = `${duty.id}|${plan.periodKey}|${unit.id}`;
    if (byHand.has(key)) continue;
    const b = DEFAULT_MODEL[unit.kind];
    const r = draw(`1|${key}`);
    let at: number;
    if (r < b.onTime && deadline > opens) {
      const share = r / b.onTime;
      at =
        share >= b.afterReminder
          ? opens + (firstReminder - opens) * share
          : firstReminder + (deadline - firstReminder) * share;
    } else if (r < b.onTime + b.late) {
      // A cycle started after its deadline (the first one of a duty) can only be reported late.
      const share = r < b.onTime ? r / b.onTime : (r - b.onTime) / b.late;
      const from = Math.max(deadline + 1_000, opens);
      at = from + (Math.max(lastEscalation, from) - from) * share;
    } else continue;
    engine.schedule(Math.ceil(at), 'modelled report', async () => {
      const status = await report(duty.id, plan.periodKey, unit.id);
      if (status === 201) reported.modelled++;
      // A unit deactivated between the cycle's start and its report can no longer report.
      else if (status === 404 && !modelRoster.find((u) => u.id === unit.id)?.active)
        reported.refusedInactive++;
      else problems.push(`${key}: ${status}`);
    });
  }
}

// ------------------------------------------------------------------ the walk

interface Step {
  at: string;
  run: () => Promise<void>;
}

const caseIds: Record<'kept' | 'missedOpen' | 'missedLate' | 'running' | 'nextYear', string> = {
  kept: '',
  missedOpen: '',
  missedLate: '',
  running: '',
  nextYear: '',
};

function ok(r: { status: number; text: string }, what: string, status = [200, 201]): void {
  if (!status.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.text}`);
}

const deadlineOf = (dutyId: string, periodKey: string) =>
  planCycle(catalog.require(dutyId), periodKey).deadline;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

function theYear(runtime: Runtime): Step[] {
  const supervisorOf = (id: string) => roster.units.find((u) => u.id === id)!.supervisingDepartmentId!;
  const open = async (key: keyof typeof caseIds, unitId: string, until: string, title: string) => {
    const r = await openMajorHazard(runtime, {
      responsibleUnitId: unitId,
      supervisingUnitId: supervisorOf(unitId),
      title,
      term: { until },
    });
    ok({ status: r.status, text: JSON.stringify(r.json) }, `open case ${key}`);
    caseIds[key] = r.caseId;
  };
  const on = async (key: keyof typeof caseIds, body: Record<string, unknown>) =>
    ok(await event(runtime, caseIds[key], body), `${String(body.event)} on ${key}`);
  const byHandReport = (dutyId: string, periodKey: string, unitId: string) => {
    byHand.add(`${dutyId}|${periodKey}|${unitId}`);
    return async () => {
      const status = await report(dutyId, periodKey, unitId);
      if (status !== 201) throw new Error(`report ${dutyId} ${periodKey} ${unitId}: ${status}`);
    };
  };
  const adhocReport = (dutyId: string, unitId: string) => async () => {
    const status = await report(dutyId, '2023', unitId);
    if (status !== 201) throw new Error(`report ${dutyId} ${unitId}: ${status}`);
  };
  const meetingJune = deadlineOf('monthly-safety-meeting', '2023-06');
  const selfCheckJuly = deadlineOf('enterprise-hazard-self-check', '2023-07');
  // Never reported by the model: a defaulter when its cycle closes, reporting in December.
  byHand.add('risk-prejudgment-monthly|2023-10|dept-housing');
  return [
    {
      at: '2023-03-06T10:00:00+08:00',
      run: () => open('kept', 'ent-00001', '2023-06-30', '液氨储罐区安全阀失效'),
    },
    {
      at: '2023-03-08T10:00:00+08:00',
      run: () => on('kept', { event: 'plan-submitted', fields: FIVE_PARTS }),
    },
    {
      at: '2023-04-10T10:00:00+08:00',
      run: () => open('missedOpen', 'ent-00002', '2023-07-31', '危险货物运输车辆停车场消防通道堵塞'),
    },
    {
      at: '2023-04-12T10:00:00+08:00',
      run: () => on('missedOpen', { event: 'plan-submitted', fields: FIVE_PARTS }),
    },
    {
      at: '2023-05-16T10:00:00+08:00',
      run: async () => {
        ok(await api(runtime, 'PUT', `/units/${JOINER.id}`, JOINER), 'add a unit', [201]);
        modelRoster.push({ ...JOINER });
      },
    },
    {
      at: '2023-06-01T10:00:00+08:00',
      run: () =>
        on('kept', { event: 'completion-reported', person: WANG, fields: { summary: '已更换并校验' } }),
    },
    {
      at: '2023-06-05T10:00:00+08:00',
      run: () => on('kept', { event: 'acceptance-passed', person: LI, fields: { opinion: '现场验收合格' } }),
    },
    {
      at: '2023-06-05T11:00:00+08:00',
      run: async () =>
        ok(
          await api(runtime, 'POST', '/duties', {
            id: ADHOC_CANCELLED,
            titleZh: ADHOC_TITLES[ADHOC_CANCELLED],
            instructionZh: '各乡镇完成燃气设施专项排查并报送排查情况',
            responsible: { kinds: ['town'] },
            deadline: { date: '2023-06-20', time: '18:00' },
          }),
          'create the ad-hoc duty to cancel',
          [201],
        ),
    },
    { at: '2023-06-08T10:00:00+08:00', run: adhocReport(ADHOC_CANCELLED, 'town-001') },
    {
      at: '2023-06-12T10:00:00+08:00',
      run: async () =>
        ok(
          await api(runtime, 'POST', `/adhoc-duties/${ADHOC_CANCELLED}/cancel`, {
            reasonZh: '已并入全县安全生产大检查',
          }),
          'cancel',
        ),
    },
    // To the second: at the deadline is on time, a second after it late.
    { at: meetingJune, run: byHandReport('monthly-safety-meeting', '2023-06', 'town-002') },
    {
      at: plus(selfCheckJuly, 1_000),
      run: byHandReport('enterprise-hazard-self-check', '2023-07', 'ent-00002'),
    },
    {
      at: '2023-08-01T10:00:00+08:00',
      run: () => open('missedLate', 'ent-00003', '2023-09-15', '钢结构厂房屋面檩条锈蚀'),
    },
    {
      at: '2023-08-03T10:00:00+08:00',
      run: () => on('missedLate', { event: 'plan-submitted', fields: FIVE_PARTS }),
    },
    {
      at: '2023-09-12T10:00:00+08:00',
      run: async () => {
        ok(await api(runtime, 'DELETE', `/units/${LEAVER}`), 'deactivate a unit');
        modelRoster.find((u) => u.id === LEAVER)!.active = false;
      },
    },
    {
      at: '2023-09-18T09:00:00+08:00',
      run: async () =>
        ok(
          await api(runtime, 'POST', '/duties', {
            id: ADHOC_EXTENDED,
            titleZh: ADHOC_TITLES[ADHOC_EXTENDED],
            instructionZh: '各乡镇、县直部门于9月27日前完成国庆节前安全生产大检查并报送检查情况',
            documentNo: '襄安办〔2023〕12号',
            responsible: { kinds: ['town', 'county-department'] },
            deadline: { date: '2023-09-27', time: '18:00' },
          }),
          'create the ad-hoc duty to extend',
          [201],
        ),
    },
    {
      at: '2023-09-20T10:00:00+08:00',
      run: async () =>
        ok(
          await api(runtime, 'POST', `/adhoc-duties/${ADHOC_EXTENDED}/units`, {
            add: ['ent-00001'],
            remove: ['dept-transport'],
            reasonZh: '按属地调整',
          }),
          'change units',
        ),
    },
    { at: '2023-09-25T10:00:00+08:00', run: adhocReport(ADHOC_EXTENDED, 'town-001') },
    { at: '2023-09-26T10:00:00+08:00', run: adhocReport(ADHOC_EXTENDED, 'ent-00001') },
    // After the first deadline, before the extension: on time by the deadline as it stands.
    { at: '2023-09-28T10:00:00+08:00', run: adhocReport(ADHOC_EXTENDED, 'town-003') },
    {
      at: '2023-09-28T11:00:00+08:00',
      run: async () =>
        ok(
          await api(runtime, 'POST', `/adhoc-duties/${ADHOC_EXTENDED}/extend`, {
            deadline: { date: '2023-10-12', time: '18:00' },
            reasonZh: '部分乡镇检查任务较重',
          }),
          'extend',
        ),
    },
    { at: '2023-10-09T10:00:00+08:00', run: adhocReport(ADHOC_EXTENDED, 'town-002') },
    { at: '2023-10-16T10:00:00+08:00', run: adhocReport(ADHOC_EXTENDED, 'dept-housing') },
    {
      at: '2023-10-18T10:00:00+08:00',
      run: () =>
        on('missedLate', { event: 'completion-reported', person: WANG, fields: { summary: '已更换' } }),
    },
    {
      at: '2023-10-20T10:00:00+08:00',
      run: () => on('missedLate', { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } }),
    },
    {
      at: '2023-11-06T10:00:00+08:00',
      run: () => open('running', 'ent-00004', '2024-03-29', '粉尘涉爆除尘系统未接地'),
    },
    {
      at: '2023-12-05T10:00:00+08:00',
      run: byHandReport('risk-prejudgment-monthly', '2023-10', 'dept-housing'),
    },
    {
      at: '2024-01-03T10:00:00+08:00',
      run: () => open('nextYear', 'ent-00005', '2024-04-30', '变电站电缆沟积水'),
    },
    {
      at: '2024-01-05T10:00:00+08:00',
      run: byHandReport('monthly-safety-meeting', '2023-12', 'town-003'),
    },
    {
      at: '2024-01-05T11:00:00+08:00',
      run: () =>
        on('missedOpen', { event: 'completion-reported', person: WANG, fields: { summary: '已清理' } }),
    },
    {
      at: '2024-01-08T10:00:00+08:00',
      run: () => on('missedOpen', { event: 'acceptance-passed', person: LI, fields: { opinion: '合格' } }),
    },
  ];
}

let workbook: ExcelJS.Workbook;
let jsonAsOf: unknown;
let walkSeconds = 0;

beforeAll(
  async () => {
    const started = Date.now();
    // The roster comes in on 1 January; the system is switched on on the 4th. Both starts load the demo county the
    // way `npm start` does (seed left to the runtime); the second finds it and keeps its join date.
    const loading = await startRuntime({
      dataDir,
      port: 0,
      sesPort: 0,
      speed: 0,
      clockStart: new Date(ROSTER_LOADED),
      scheduler: false,
      reconciler: false,
      emulators: 'child',
      mail: 'count',
    });
    await loading.close();
    rt = await startRuntime({
      dataDir,
      port: 0,
      sesPort: 0,
      speed: 0,
      clockStart: new Date(SWITCHED_ON),
      scheduler: true,
      emulators: 'child',
      mail: 'count',
      // No faults to repair: the reconciler's daily run is as good as every 15 minutes here, and much quicker.
      reconcileEveryMs: 24 * 3_600_000,
      faults: { ses: { bounceAddresses: BOUNCING, rejectAddresses: REFUSED } },
      onExecutionStarted,
    });
    const runtime = rt;
    const steps = theYear(runtime).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    for (const step of steps) {
      await runtime.advanceTo(new Date(step.at));
      await step.run();
    }
    await runtime.advanceTo(new Date(WALK_END));
    walkSeconds = (Date.now() - started) / 1000;

    const res = await fetch(`${runtime.apiUrl}/assessment?year=2023&format=xlsx`, {
      headers: { authorization: `Bearer ${runtime.adminToken}` },
    });
    expect(res.status).toBe(200);
    workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await res.arrayBuffer());
    jsonAsOf = (await api(runtime, 'GET', '/assessment?year=2023&limit=1')).json.asOf;
  },
  FULL ? 1_800_000 : 600_000,
);

afterAll(async () => {
  await rt?.close();
  if (savedCatalogEnv === undefined) delete process.env.SAFEDUTY_CATALOG;
  else process.env.SAFEDUTY_CATALOG = savedCatalogEnv;
  rmSync(dataDir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ the records, read raw

interface RawUnit {
  id: string;
  name: string;
  kind: Unit['kind'];
  active: boolean;
  joinedAt?: string;
  parentId?: string;
  supervisingDepartmentId?: string;
  attributes?: string[];
  contact: { email: string };
  principal: { email: string };
  staffRepresentative?: { email: string };
}
interface RawCycle {
  dutyId: string;
  periodKey: string;
  deadline: string;
  status: string;
  trackedSince?: string;
  submissions: Map<string, string>;
  defaulters: Set<string>;
}
interface Records {
  units: Map<string, RawUnit>;
  cycles: RawCycle[];
  undeliverable: Map<string, { reasonZh: string; since: string }>;
}

/** Every cycle, submission, defaulter, unit and undeliverable mark in the table: one scan, no product code. */
async function readRecords(runtime: Runtime): Promise<Records> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runtime.dynamoEndpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  const items: Record<string, unknown>[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: LOCAL_TABLE,
        FilterExpression: 'begins_with(PK, :cycle) OR begins_with(PK, :unit) OR PK = :marks',
        ExpressionAttributeValues: { ':cycle': 'CYCLE#', ':unit': 'UNIT#', ':marks': 'UNDELIVERABLE' },
        ...(key ? { ExclusiveStartKey: key } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    key = page.LastEvaluatedKey;
  } while (key);
  client.destroy();

  const cycles = new Map<string, RawCycle>();
  const cycle = (pk: string) => {
    let c = cycles.get(pk);
    if (!c) {
      c = {
        dutyId: '',
        periodKey: '',
        deadline: '',
        status: '',
        submissions: new Map(),
        defaulters: new Set(),
      };
      cycles.set(pk, c);
    }
    return c;
  };
  const units = new Map<string, RawUnit>();
  const undeliverable = new Map<string, { reasonZh: string; since: string }>();
  for (const item of items) {
    const pk = String(item.PK);
    const sk = String(item.SK);
    if (pk.startsWith('CYCLE#') && sk === 'CYCLE') {
      const c = cycle(pk);
      c.dutyId = String(item.dutyId);
      c.periodKey = String(item.periodKey);
      c.deadline = String(item.deadline);
      c.status = String(item.status);
      if (typeof item.trackedSince === 'string') c.trackedSince = item.trackedSince;
      // Records closed before defaulters were items of their own carry them in a list.
      if (Array.isArray(item.defaulters)) for (const d of item.defaulters) c.defaulters.add(String(d));
    } else if (pk.startsWith('CYCLE#') && sk.startsWith('SUB#'))
      cycle(pk).submissions.set(String(item.unitId), String(item.submittedAt));
    else if (pk.startsWith('CYCLE#') && sk.startsWith('DEFAULTER#'))
      cycle(pk).defaulters.add(String(item.unitId));
    else if (pk.startsWith('UNIT#') && sk === 'UNIT') units.set(String(item.id), item as unknown as RawUnit);
    else if (pk === 'UNDELIVERABLE')
      undeliverable.set(sk, { reasonZh: String(item.reasonZh), since: String(item.since) });
  }
  return { units, cycles: [...cycles.values()].filter((c) => c.dutyId !== ''), undeliverable };
}

// ------------------------------------------------------------------ labels, as the notice writes them

const WEEKDAYS = '日一二三四五六';
const QUARTERS = '一二三四';
const KIND_ZH: Record<Unit['kind'], string> = {
  town: '镇（经开区）',
  'county-department': '县直部门',
  enterprise: '企业',
  site: '班组场点',
  'county-body': '县级议事机构',
  'county-leader': '县领导',
};
const POSITION_ZH = { contact: '单位联络人', principal: '单位主要负责人', staffRepresentative: '职工代表' };

/** `2023-06-30…` → `2023年6月30日`. */
const dateZh = (iso: string) =>
  `${iso.slice(0, 4)}年${Number(iso.slice(5, 7))}月${Number(iso.slice(8, 10))}日`;
/** `2023-12-31T23:59:59+08:00` → `2023年12月31日（星期日）23:59` (a Shanghai instant, as every record writes it). */
function instantZh(iso: string): string {
  const weekday = new Date(`${iso.slice(0, 10)}T00:00:00Z`).getUTCDay();
  return `${dateZh(iso)}（星期${WEEKDAYS[weekday]}）${iso.slice(11, 16)}`;
}
/** A period key as the notice names it: 2023年第6周, 2023年第一季度, 2023年6月, 2023年6月30日, 2023年度. */
function periodZh(key: string): string {
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-W(\d{2})$/.exec(key))) return `${m[1]}年第${Number(m[2])}周`;
  if ((m = /^(\d{4})-Q(\d)$/.exec(key))) return `${m[1]}年第${QUARTERS[Number(m[2]) - 1]}季度`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(key)) return dateZh(key);
  if ((m = /^(\d{4})-(\d{2})$/.exec(key))) return `${m[1]}年${Number(m[2])}月`;
  if (/^\d{4}$/.test(key)) return `${key}年度`;
  throw new Error(`unexpected period key ${key}`);
}

// ------------------------------------------------------------------ the assessment, computed from the records

type Cell = string | number;

interface DutyFigures {
  owed: number;
  onTime: number;
  late: number;
  missed: number;
  latePeriods: string[];
  missedPeriods: string[];
}
interface CaseView {
  caseId: string;
  typeId: string;
  title: string;
  responsibleUnitId: string;
  openedAt: string;
  term: string;
  stage: string;
  status: string;
  closedAt?: string;
  history: { at: string; event: string; toStage: string }[];
}
interface Expected {
  sheets: Record<string, Cell[][]>;
  /** Sheet → the column holding on-time rates, formatted as percentages. */
  rateColumns: Record<string, number>;
  coverage: Record<string, number>;
  figures: Map<string, Map<string, DutyFigures>>;
}

const rateOf = (onTime: number, owed: number): Cell =>
  owed === 0 ? '' : Math.round((onTime / owed) * 1000) / 1000;
const byId = (a: string, b: string) => a.localeCompare(b);

/** The units a duty's open cycle is owed by now: its kinds on the active roster, narrowed by its scope. */
function ownersNow(dutyId: string, records: Records): string[] {
  const duty = (builtIn as unknown as Duty[]).find((d) => d.id === dutyId);
  if (!duty)
    throw new Error(`an open cycle of ${dutyId}, not a catalog duty: the walk keeps ad-hoc ones closed`);
  const active = [...records.units.values()].filter((u) => u.active);
  const marked = (u: RawUnit, attributes: readonly string[]) =>
    (u.attributes ?? []).some((a) => attributes.includes(a));
  const rule = duty.scope?.supervisorsOf;
  const supervisors = new Set(
    rule
      ? active
          .filter((u) => rule.kinds.includes(u.kind) && marked(u, rule.attributes))
          .map((u) => u.supervisingDepartmentId ?? SAFETY_OFFICE)
      : [],
  );
  if (duty.scope && Object.keys(duty.scope).some((k) => k !== 'attributes' && k !== 'supervisorsOf'))
    throw new Error(`${dutyId}: a scope this test does not read`);
  return active
    .filter((u) => duty.responsibleKinds.includes(u.kind))
    .filter((u) => !duty.scope?.attributes || marked(u, duty.scope.attributes))
    .filter((u) => !rule || supervisors.has(u.id))
    .map((u) => u.id);
}

function expectedWorkbook(records: Records, cases: CaseView[]): Expected {
  const coverage: Record<string, number> = {
    cyclesCounted: 0,
    cyclesCountedOpen: 0,
    cyclesCancelled: 0,
    cyclesTrackedAfterDeadline: 0,
    periodsBeforeJoining: 0,
    reportsAfterAsOf: 0,
    reportsAfterClose: 0,
    onTime: 0,
    late: 0,
    missed: 0,
  };
  const figures = new Map<string, Map<string, DutyFigures>>();
  const titles = new Map<string, string>([
    ...(builtIn as unknown as Duty[]).map((d) => [d.id, d.titleZh] as const),
    ...Object.entries(ADHOC_TITLES),
  ]);
  const cycles = [...records.cycles].sort(
    (a, b) => byId(a.dutyId, b.dutyId) || byId(a.periodKey, b.periodKey),
  );
  for (const c of cycles) {
    // Due in 2023 (a Shanghai instant, so its first four characters are its year), and by the assessment's instant.
    if (!c.deadline.startsWith('2023-')) continue;
    const due = Date.parse(c.deadline);
    if (due > AS_OF_MS) continue;
    if (c.status === 'cancelled') {
      coverage.cyclesCancelled!++;
      continue;
    }
    // The fair start: nobody could be reminded of a period due before the duty was tracked.
    if (c.trackedSince && Date.parse(c.trackedSince) > due) {
      coverage.cyclesTrackedAfterDeadline!++;
      continue;
    }
    coverage.cyclesCounted!++;
    let owners: string[];
    if (c.status === 'closed') {
      owners = [...new Set([...c.submissions.keys(), ...c.defaulters])];
      for (const d of c.defaulters) if (c.submissions.has(d)) coverage.reportsAfterClose!++;
    } else {
      coverage.cyclesCountedOpen!++;
      owners = ownersNow(c.dutyId, records);
    }
    for (const unitId of owners) {
      const unit = records.units.get(unitId);
      if (!unit) continue;
      // …nor of one due before it joined the roster.
      if (unit.joinedAt && Date.parse(unit.joinedAt) > due) {
        coverage.periodsBeforeJoining!++;
        continue;
      }
      const duties = figures.get(unitId) ?? new Map<string, DutyFigures>();
      figures.set(unitId, duties);
      const f = duties.get(c.dutyId) ?? {
        owed: 0,
        onTime: 0,
        late: 0,
        missed: 0,
        latePeriods: [],
        missedPeriods: [],
      };
      duties.set(c.dutyId, f);
      f.owed++;
      const at = c.submissions.get(unitId);
      const atMs = at === undefined ? undefined : Date.parse(at);
      if (atMs !== undefined && atMs > AS_OF_MS) coverage.reportsAfterAsOf!++;
      if (atMs === undefined || atMs > AS_OF_MS) {
        f.missed++;
        f.missedPeriods.push(c.periodKey);
        coverage.missed!++;
      } else if (atMs <= due) {
        f.onTime++;
        coverage.onTime!++;
      } else {
        f.late++;
        f.latePeriods.push(c.periodKey);
        coverage.late!++;
      }
    }
  }

  const listed = [...records.units.values()]
    .filter((u) => u.active || figures.has(u.id))
    .sort((a, b) => byId(a.id, b.id));
  const nameOf = (id: string | undefined) => (id ? (records.units.get(id)?.name ?? id) : '');
  const types = new Map(
    (
      caseTypesJson as unknown as {
        types: { id: string; titleZh: string; stages: { id: string; titleZh: string }[] }[];
      }
    ).types.map((t) => [t.id, t]),
  );
  // The cases of the year: opened by its end and not closed before it began.
  const ofYear = cases
    .filter((c) => c.openedAt < '2024' && !(c.closedAt && c.closedAt < '2023'))
    .sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  const termResult = (c: CaseView): string => {
    // Closed: the closing of the history's last entry into the terminal stage. The record must agree.
    const closing = c.history.filter((h) => h.toStage === 'closed').at(-1);
    expect(closing?.at, `${c.caseId} closedAt`).toBe(c.closedAt);
    const term = Date.parse(c.term);
    if (closing && Date.parse(closing.at) <= AS_OF_MS)
      return Date.parse(closing.at) <= term ? '按期完成' : '逾期';
    return AS_OF_MS > term ? '逾期' : '期限未到';
  };
  const marksOf = (u: RawUnit) =>
    (['contact', 'principal', 'staffRepresentative'] as const).flatMap((position) => {
      const email = u[position]?.email;
      const mark = email ? records.undeliverable.get(email.trim().toLowerCase()) : undefined;
      return email && mark ? [{ position, email, ...mark }] : [];
    });

  const summary: Cell[][] = [
    [
      '单位编号',
      '单位名称',
      '单位类型',
      '上级单位',
      '主管部门',
      '应报期数',
      '按时完成',
      '逾期补报',
      '未报',
      '按时率',
      '案件数',
      '整改逾期案件',
      '无法送达的联系人',
    ],
  ];
  const detail: Cell[][] = [
    [
      '单位编号',
      '单位名称',
      '职责',
      '应报期数',
      '按时完成',
      '逾期补报',
      '未报',
      '按时率',
      '逾期补报的期次',
      '未报的期次',
    ],
  ];
  const caseSheet: Cell[][] = [
    [
      '案件编号',
      '案件类型',
      '事项',
      '责任单位',
      '立案日期',
      '整改期限',
      '当前阶段',
      '状态',
      '办结日期',
      '期限执行',
    ],
  ];
  const marksSheet: Cell[][] = [['单位编号', '单位名称', '职务', '邮箱', '原因', '起始时间']];
  for (const u of listed) {
    const duties = [...(figures.get(u.id) ?? new Map<string, DutyFigures>())].sort(([a], [b]) => byId(a, b));
    const sum = (k: 'owed' | 'onTime' | 'late' | 'missed') => duties.reduce((n, [, f]) => n + f[k], 0);
    const mine = ofYear.filter((c) => c.responsibleUnitId === u.id);
    const results = mine.map(termResult);
    const marks = marksOf(u);
    summary.push([
      u.id,
      u.name,
      KIND_ZH[u.kind],
      nameOf(u.parentId),
      nameOf(u.supervisingDepartmentId),
      sum('owed'),
      sum('onTime'),
      sum('late'),
      sum('missed'),
      rateOf(sum('onTime'), sum('owed')),
      mine.length,
      results.filter((r) => r === '逾期').length,
      marks.map((m) => `${POSITION_ZH[m.position]} ${m.email}`).join('；'),
    ]);
    for (const [dutyId, f] of duties)
      detail.push([
        u.id,
        u.name,
        titles.get(dutyId) ?? dutyId,
        f.owed,
        f.onTime,
        f.late,
        f.missed,
        rateOf(f.onTime, f.owed),
        f.latePeriods.map(periodZh).join('、'),
        f.missedPeriods.map(periodZh).join('、'),
      ]);
    mine.forEach((c, i) => {
      const type = types.get(c.typeId);
      caseSheet.push([
        c.caseId,
        type?.titleZh ?? c.typeId,
        c.title,
        u.name,
        dateZh(c.openedAt),
        dateZh(c.term),
        type?.stages.find((s) => s.id === c.stage)?.titleZh ?? c.stage,
        c.status === 'closed' ? '已办结' : '办理中',
        c.closedAt ? dateZh(c.closedAt) : '',
        results[i]!,
      ]);
    });
    for (const m of marks)
      marksSheet.push([u.id, u.name, POSITION_ZH[m.position], m.email, m.reasonZh, instantZh(m.since)]);
  }
  const about: Cell[][] = [
    ['2023年度安全生产工作考核'],
    ['统计截至', instantZh(AS_OF)],
    ['计入范围', '截止时间已过的各期；已取消的各期，以及单位列入名册或职责开始跟踪之前截止的各期不计入'],
    ['按时完成', '截止时间前报送'],
    ['逾期补报', '截止时间后报送（延期的专项工作按延期后的截止时间）'],
    ['未报', '统计时仍未报送'],
    ['按时率', '按时完成 ÷ 应报期数'],
    ['案件期限执行', '按期完成：整改期限前办结；逾期：期限后办结或期限已过仍未办结；期限未到：尚在期限内'],
  ];
  return {
    sheets: { 说明: about, 汇总: summary, 职责明细: detail, 案件: caseSheet, 无法送达: marksSheet },
    rateColumns: { 汇总: 10, 职责明细: 8 },
    coverage,
    figures,
  };
}

/** Every cell of a sheet, row by row, as text or number; empty cells as ''. Trailing empty cells are dropped. */
function cellsOf(ws: ExcelJS.Worksheet): Cell[][] {
  const rows: Cell[][] = [];
  for (let r = 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    const cells: Cell[] = [];
    for (let c = 1; c <= row.cellCount; c++) {
      const v = row.getCell(c).value;
      if (v === null || v === undefined) cells.push('');
      else if (typeof v === 'string' || typeof v === 'number') cells.push(v);
      else throw new Error(`${ws.name}!${row.getCell(c).address}: unexpected ${JSON.stringify(v)}`);
    }
    rows.push(trimmed(cells));
  }
  return rows;
}
const trimmed = (cells: Cell[]) => {
  const out = [...cells];
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out;
};

// ------------------------------------------------------------------ the checks

describe('the assessment of the demo county over 2023', () => {
  let records: Records;
  let expected: Expected;

  // The records, read once the walk is over, and the workbook they make.
  beforeAll(async () => {
    const runtime = rt!;
    records = await readRecords(runtime);
    const listedCases = (await api(runtime, 'GET', '/cases?limit=1000')).json as { total: number };
    expect(listedCases.total).toBe(Object.keys(caseIds).length);
    const cases: CaseView[] = [];
    for (const id of Object.values(caseIds)) {
      const r = await api(runtime, 'GET', `/cases/${id}`);
      expect(r.status).toBe(200);
      // The detail names its type `type`.
      cases.push({ ...(r.json as unknown as CaseView), typeId: String(r.json.type) });
    }
    expected = expectedWorkbook(records, cases);
  });

  it('walks the year: reports on time, late and never, every one recorded', () => {
    expect(problems).toEqual([]);
    expect(reported.modelled).toBeGreaterThan(FULL ? 5_000 : 500);
    console.log(
      `assessment year (${FULL ? 'full catalog' : 'without the daily duties'}): walked to ${WALK_END} in ` +
        `${walkSeconds.toFixed(0)} s; ${reported.modelled} modelled reports, ${reported.refusedInactive} refused ` +
        'after deactivation',
    );
    expect(jsonAsOf).toBe(AS_OF);
  });

  it('matches the records in every cell of every sheet', () => {
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['说明', '汇总', '职责明细', '案件', '无法送达']);
    let cells = 0;
    for (const [name, rows] of Object.entries(expected.sheets)) {
      const ws = workbook.getWorksheet(name)!;
      const actual = cellsOf(ws);
      expect(actual.length, `${name}: rows`).toBe(rows.length);
      rows.forEach((row, i) => {
        expect(actual[i], `${name} row ${i + 1} (${String(row[0])} ${String(row[2] ?? '')})`).toEqual(
          trimmed(row),
        );
        cells += row.length;
      });
      // Rates are numbers shown as percentages, so they sort.
      const column = expected.rateColumns[name];
      if (column)
        for (let r = 2; r <= ws.rowCount; r++)
          if (typeof ws.getRow(r).getCell(column).value === 'number')
            expect(ws.getRow(r).getCell(column).numFmt, `${name} row ${r}`).toBe('0.0%');
    }
    console.log(
      `assessment year: ${Object.values(expected.sheets).reduce((n, s) => n + s.length, 0)} rows, ${cells} cells ` +
        `checked; ${JSON.stringify(expected.coverage)}`,
    );
  });

  it('covers what the rules are about', () => {
    const c = expected.coverage;
    for (const k of [
      'onTime',
      'late',
      'missed',
      'cyclesCountedOpen',
      'reportsAfterAsOf',
      'reportsAfterClose',
    ])
      expect(c[k], k).toBeGreaterThan(0);
    // Week 1's risk pre-judgment (due 3 January, before the switch-on), the cancelled ad-hoc duty, the newcomer.
    expect(c.cyclesTrackedAfterDeadline).toBeGreaterThanOrEqual(1);
    expect(c.cyclesCancelled).toBe(1);
    expect(c.periodsBeforeJoining).toBeGreaterThan(0);
    // The deactivated enterprise keeps its history.
    expect(records.units.get(LEAVER)?.active).toBe(false);
    expect(expected.sheets['汇总']!.some((r) => r[0] === LEAVER)).toBe(true);
  });

  it('says by hand what the edge cases come to', () => {
    const f = (unitId: string, dutyId: string) => expected.figures.get(unitId)?.get(dutyId);
    // The ad-hoc duty extended after its first deadline: before the new one is on time; removed units owe nothing.
    expect(f('town-003', ADHOC_EXTENDED)).toMatchObject({ owed: 1, onTime: 1 });
    expect(f('town-002', ADHOC_EXTENDED)).toMatchObject({ owed: 1, onTime: 1 });
    expect(f('ent-00001', ADHOC_EXTENDED)).toMatchObject({ owed: 1, onTime: 1 });
    expect(f('dept-housing', ADHOC_EXTENDED)).toMatchObject({ owed: 1, late: 1, latePeriods: ['2023'] });
    expect(f('dept-emergency', ADHOC_EXTENDED)).toMatchObject({ owed: 1, missed: 1 });
    expect(f('dept-transport', ADHOC_EXTENDED)).toBeUndefined();
    // The cancelled one counts for nobody, not even the town that reported.
    expect(f('town-001', ADHOC_CANCELLED)).toBeUndefined();
    // At the deadline to the second: on time; a second after: late; after the year: missed.
    const meeting = f('town-002', 'monthly-safety-meeting');
    expect(meeting?.latePeriods).not.toContain('2023-06');
    expect(meeting?.missedPeriods).not.toContain('2023-06');
    expect(f('ent-00002', 'enterprise-hazard-self-check')?.latePeriods).toContain('2023-07');
    expect(f('town-003', 'monthly-safety-meeting')?.missedPeriods).toContain('2023-12');
    expect(f('dept-housing', 'risk-prejudgment-monthly')?.latePeriods).toContain('2023-10');
    // Week 1 counts for nobody; the newcomer owes nothing due before 16 May.
    for (const [, duties] of expected.figures) {
      const weekly = duties.get('risk-prejudgment-weekly');
      expect([...(weekly?.latePeriods ?? []), ...(weekly?.missedPeriods ?? [])]).not.toContain('2023-W01');
    }
    const joined = expected.figures.get(JOINER.id);
    expect(joined?.get('enterprise-hazard-self-check')?.owed).toBe(8);
    // The cases: kept, missed while open (closed only in 2024), missed by a late close, running; 2024's not listed.
    expect(expected.sheets['案件']!.slice(1).map((r) => [r[0], r[7], r[9]])).toEqual([
      [caseIds.kept, '已办结', '按期完成'],
      [caseIds.missedOpen, '已办结', '逾期'],
      [caseIds.missedLate, '已办结', '逾期'],
      [caseIds.running, '办理中', '期限未到'],
    ]);
    expect(expected.sheets['无法送达']!.slice(1).map((r) => `${r[0]} ${r[2]}`)).toEqual([
      'county-leader-culture 单位联络人',
      'county-leader-culture 单位主要负责人',
      'ent-00003 单位联络人',
      'town-002 单位联络人',
    ]);
  });
});
