import './polyfills.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { resetClients } from '../functions/adapters/clients.ts';
import { resetSecretCache } from '../functions/adapters/secrets.ts';
import { activeRoster, listCycles, putLeaders, putUnits } from '../functions/adapters/store.ts';
import { listCasesByStatus } from '../functions/adapters/case-store.ts';
import { caseExecutionName } from '../functions/core/cases.ts';
import { clock as domainClock } from '../functions/core/clock.ts';
import { cycleExecutionName } from '../functions/core/dispatch.ts';
import { shanghaiDateOf, shanghaiInstant, addDays } from '../workflows/calendar.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';
import { loadCaseTypes } from '../workflows/cases/index.ts';
import { STATE } from '../workflows/machines.ts';
import { loadStateMachines } from './asl.ts';
import { VirtualClock } from './clock.ts';
import {
  closeServer,
  ensureTable,
  peakRssMb,
  startDynamo,
  startEmulatorHost,
  startSes,
  type EmulatorHost,
} from './emulators.ts';
import { LocalStepFunctions, type LocalExecution, type TaskHandler } from './engine.ts';
import { invoke } from './handlers.ts';
import { generateRoster, ROSTER_SIZES, type Roster } from './roster.ts';
import { startSfnServer } from './sfn-server.ts';
import { startApiServer } from './api-server.ts';

export interface RuntimeOptions {
  /** Data folder (persisted DynamoDB, link secret, admin token); null keeps everything in memory. */
  dataDir: string | null;
  /** API port; 0 picks a free one. */
  port?: number;
  /** SES inbox port; 0 picks a free one. */
  sesPort?: number;
  /** Where the virtual clock starts; default now. */
  clockStart?: Date;
  /** Virtual seconds per real second; 0 = the clock moves only through advanceTo / POST /_local/clock. */
  speed?: number;
  /** The roster loaded into an empty table: 'small' demo county by default, false for none. */
  seed?: Roster | false;
  /**
   * Where the DynamoDB and SES emulators run: in this process (default), or in a child process so they get the
   * second core (the simulator uses this).
   */
  emulators?: 'in-process' | 'child';
  /** Called for every new execution, from the very first dispatch on (the simulator models submissions). */
  onExecutionStarted?: (execution: LocalExecution, engine: LocalStepFunctions) => void;
  /** Start the daily dispatcher (and dispatch once at start). */
  scheduler?: boolean;
  log?: (message: string) => void;
}

export interface Runtime {
  apiUrl: string;
  sesUrl: string;
  dynamoEndpoint: string;
  sfnEndpoint: string;
  adminToken: string;
  cycleStateMachineArn: string;
  caseStateMachineArn: string;
  clock: VirtualClock;
  engine: LocalStepFunctions;
  /** The emulators' process when they run in a child process. */
  readonly emulatorPid: number | undefined;
  /** Peak memory of the emulator processes so far (the largest of them), in MiB. */
  emulatorPeakMb(): number | undefined;
  /**
   * Restart the emulator process on the same ports and data folder (child mode only). dynalite leaks native memory
   * for queries that stop at the 1 MB page limit; the simulator restarts it now and then to stay flat.
   */
  restartEmulators(): Promise<void>;
  /** Dispatcher runs so far (each is one handler invocation). */
  readonly dispatches: number;
  /** Stop the local scheduler (the simulator lets open cycles finish without starting new ones). */
  stopScheduler(): void;
  /** Advance the virtual clock, running every timer due up to the instant; resolves when all is done. */
  advanceTo(at: Date): Promise<void>;
  close(): Promise<void>;
}

const REGION = 'ap-southeast-1';
const ACCOUNT = '000000000000';
export const LOCAL_TABLE = 'safeduty';

function secretFile(dir: string | null, name: string, make: () => string): string {
  if (!dir) return make();
  const file = join(dir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** The next 00:05 in Asia/Shanghai strictly after `ms`: when the EventBridge schedule would fire. */
export function nextDispatchAt(ms: number): number {
  const today = shanghaiDateOf(new Date(ms));
  const todayAt = shanghaiInstant(today, '00:05').getTime();
  return todayAt > ms ? todayAt : shanghaiInstant(addDays(today, 1), '00:05').getTime();
}

/**
 * The whole system on one machine: dynalite, SES local, a Step Functions endpoint over the local engine running
 * the ASL synthesized by the CDK app, the scheduler, the HTTP API and a virtual clock. Handlers are the same
 * modules the Lambda functions bundle, called in-process.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? (() => undefined);
  // A deployment catalog or case-types file (SAFEDUTY_CATALOG, SAFEDUTY_CASE_TYPES) with problems stops the start
  // here, naming them, before anything runs.
  loadCatalog();
  loadCaseTypes();
  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const vclock = new VirtualClock(options.clockStart ?? new Date());
  const restoreClock = domainClock.use(() => vclock.nowMs());
  const engine = new LocalStepFunctions(vclock, log);
  if (options.onExecutionStarted) engine.onExecutionStarted = options.onExecutionStarted;

  const dynamoPath = dataDir ? join(dataDir, 'dynamodb') : undefined;
  let emulatorPid: number | undefined;
  let dynamo: { endpoint: string; close: () => Promise<void> };
  let ses: { endpoint: string; close: () => Promise<void> };
  let host: EmulatorHost | undefined;
  let emulatorPeakMb = 0;
  if (options.emulators === 'child') {
    host = await startEmulatorHost({
      ...(dynamoPath ? { path: dynamoPath } : {}),
      sesPort: options.sesPort ?? 0,
    });
    dynamo = { endpoint: host.dynamo, close: () => host?.close() ?? Promise.resolve() };
    emulatorPid = host.pid;
    ses = { endpoint: host.ses, close: async () => undefined };
  } else {
    const d = await startDynamo({ path: dynamoPath });
    const s = await startSes({ port: options.sesPort ?? 0 });
    dynamo = { endpoint: d.endpoint, close: () => closeServer(d.server) };
    ses = { endpoint: s.endpoint, close: () => closeServer(s.server) };
  }
  const sfnServer = await startSfnServer(engine);

  const adminToken =
    process.env.SAFEDUTY_ADMIN_TOKEN ||
    secretFile(dataDir, 'admin-token', () => randomBytes(24).toString('base64url'));
  const linkSecret = secretFile(dataDir, 'link-secret', () => randomBytes(32).toString('base64url'));

  // Handlers read their configuration from the environment, exactly as in Lambda.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SFN: sfnServer.endpoint,
    TABLE_NAME: LOCAL_TABLE,
    SENDER_ADDRESS: 'safeduty@example.gov.cn',
    SAFEDUTY_LINK_SECRET: linkSecret,
    SAFEDUTY_ADMIN_TOKEN_LOCAL: adminToken,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  });
  delete process.env.LINK_SECRET_PARAMETER;
  resetClients();
  resetSecretCache();

  await ensureTable(dynamo.endpoint, LOCAL_TABLE);

  const machines = await loadStateMachines({ region: REGION, account: ACCOUNT });
  const cycleArn = machines.dutyCycle.arn;
  process.env.CYCLE_STATE_MACHINE_ARN = cycleArn;
  const caseArn = machines.caseWorkflow.arn;
  process.env.CASE_STATE_MACHINE_ARN = caseArn;
  const lambdaTask =
    (name: 'cycleAdvance' | 'caseAdvance'): TaskHandler =>
    async (input, execution) => {
      const payload = (input as { Payload?: Record<string, unknown> }).Payload;
      // The interpreter sets $$.Execution.StartTime to the real time of each run; the execution started at its
      // virtual instant, and the one-year continuation depends on it.
      if (payload && 'executionStartTime' in payload)
        payload.executionStartTime = new Date(execution.startDate).toISOString();
      return { Payload: (await invoke(name, payload)) as never, StatusCode: 200 };
    };
  const continuation: TaskHandler = async (input, execution) => {
    const p = input as { Name: string; Input: unknown };
    try {
      const e = engine.startExecution(execution.stateMachineArn, p.Name, p.Input as never);
      return { ExecutionArn: e.executionArn, StartDate: new Date(e.startDate).toISOString() };
    } catch (err) {
      // The error name the optimized states:startExecution integration reports on AWS.
      if ((err as Error).name === 'ExecutionAlreadyExists')
        (err as Error).name = 'StepFunctions.ExecutionAlreadyExistsException';
      throw err;
    }
  };
  engine.registerMachine(cycleArn, machines.dutyCycle.definition, {
    [STATE.advance]: lambdaTask('cycleAdvance'),
    [STATE.recordFailure]: lambdaTask('cycleAdvance'),
    [STATE.continueAsNew]: continuation,
  });
  engine.registerMachine(caseArn, machines.caseWorkflow.definition, {
    [STATE.advance]: lambdaTask('caseAdvance'),
    [STATE.recordFailure]: lambdaTask('caseAdvance'),
    [STATE.continueAsNew]: continuation,
  });

  // First start with an empty table: a small fictional county so a newcomer sees reminders at once.
  if (options.seed !== false) {
    const { units } = await activeRoster(['county-body']);
    if (units.length === 0) {
      const roster = options.seed ?? generateRoster(ROSTER_SIZES.small, 2023);
      await putUnits(roster.units);
      await putLeaders(roster.leaders);
      log(`loaded ${roster.units.length} units and ${roster.leaders.length} leaders`);
    }
  }

  // The record is the truth: every open cycle gets its execution back after a restart.
  for (const c of await listCycles({ status: 'open' })) {
    try {
      engine.startExecution(cycleArn, cycleExecutionName(c.dutyId, c.periodKey, c.generation), {
        dutyId: c.dutyId,
        periodKey: c.periodKey,
      });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ExecutionAlreadyExists') throw err;
    }
  }
  // Likewise every open case: its current generation runs again from the record (an idle one ends at once).
  for (const c of (await listCasesByStatus(['open'])).cases) {
    try {
      engine.startExecution(caseArn, caseExecutionName(c.caseId, c.generation), { caseId: c.caseId });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ExecutionAlreadyExists') throw err;
    }
  }

  let dispatches = 0;
  let schedulerOn = options.scheduler !== false;
  if (schedulerOn) {
    const dispatch = async () => {
      if (!schedulerOn) return;
      dispatches++;
      await invoke('dispatch', {});
    };
    const scheduleNext = (after: number) => {
      engine.schedule(nextDispatchAt(after), 'dispatch', async () => {
        if (!schedulerOn) return;
        await dispatch();
        scheduleNext(vclock.nowMs());
      });
    };
    // Catch up for today on start, as an operator would backfill after downtime.
    engine.schedule(vclock.nowMs(), 'dispatch', dispatch);
    scheduleNext(vclock.nowMs());
  }

  // One advance at a time: the HTTP clock endpoint and the real-time ticker share this queue.
  let chain: Promise<void> = Promise.resolve();
  const advanceTo = (at: Date): Promise<void> => {
    const run = chain.then(() => engine.advanceTo(Math.max(at.getTime(), vclock.nowMs())));
    chain = run.catch(() => undefined);
    return run;
  };

  const api = await startApiServer({ port: options.port ?? 0, clock: vclock, advanceTo, adminToken });
  process.env.CONSOLE_URL = api.url;

  let ticker: NodeJS.Timeout | undefined;
  const speed = options.speed ?? 1;
  if (speed > 0) {
    let lastReal = Date.now();
    ticker = setInterval(() => {
      const real = Date.now();
      const target = vclock.nowMs() + (real - lastReal) * speed;
      lastReal = real;
      advanceTo(new Date(target)).catch((err: unknown) => log(`clock tick failed: ${String(err)}`));
    }, 250);
    ticker.unref();
  } else {
    await advanceTo(vclock.now());
  }

  return {
    apiUrl: api.url,
    sesUrl: ses.endpoint,
    dynamoEndpoint: dynamo.endpoint,
    sfnEndpoint: sfnServer.endpoint,
    adminToken,
    cycleStateMachineArn: cycleArn,
    caseStateMachineArn: caseArn,
    clock: vclock,
    engine,
    get emulatorPid() {
      return emulatorPid;
    },
    emulatorPeakMb() {
      const current = emulatorPid ? (peakRssMb(emulatorPid) ?? 0) : 0;
      return host ? Math.max(emulatorPeakMb, current) : undefined;
    },
    async restartEmulators() {
      if (!host) return;
      const old = host;
      emulatorPeakMb = Math.max(emulatorPeakMb, (emulatorPid ? peakRssMb(emulatorPid) : 0) ?? 0);
      await old.close();
      host = await startEmulatorHost({
        ...(dynamoPath ? { path: dynamoPath } : {}),
        dynamoPort: Number(new URL(old.dynamo).port),
        sesPort: Number(new URL(old.ses).port),
      });
      emulatorPid = host.pid;
      // Connections to the old process are gone: new clients open new ones.
      resetClients();
    },
    get dispatches() {
      return dispatches;
    },
    stopScheduler() {
      schedulerOn = false;
    },
    advanceTo,
    async close() {
      if (ticker) clearInterval(ticker);
      await chain;
      await Promise.all([closeServer(api.server), closeServer(sfnServer.server), ses.close()]);
      await dynamo.close();
      restoreClock();
    },
  };
}

export type { Server };
