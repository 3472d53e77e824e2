import './polyfills.ts';
import { forgetOfficialCalendar } from '../functions/adapters/calendar-store.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { resetClients } from '../functions/adapters/clients.ts';
import { resetSendRateCache } from '../functions/adapters/mailer.ts';
import { resetSecretCache } from '../functions/adapters/secrets.ts';
import { parseLinkKeys } from '../functions/core/links.ts';
import { activeRoster, getDispatchedThrough, putLeaders, putUnits } from '../functions/adapters/store.ts';
import { clock as domainClock } from '../functions/core/clock.ts';
import { handlers as registry } from '../functions/registry.ts';
import { shanghaiDateOf, shanghaiInstant, addDays, toShanghaiIso } from '../workflows/calendar.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';
import { loadCaseTypes } from '../workflows/cases/index.ts';
import { loadDeliveryPolicy } from '../workflows/delivery/policy.ts';
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
import { FaultState, type FaultsPatch } from './faults.ts';
import { configureInvocations, invocationDeadline, invoke, LambdaTimeoutError } from './handlers.ts';
import { generateRoster, ROSTER_SIZES, type Roster } from './roster.ts';
import { SesGateway } from './ses-gateway.ts';
import { SmsGateway } from './sms-gateway.ts';
import { LOCAL_ATTACHMENTS_BUCKET, startLocalS3 } from './s3.ts';
import { startSfnServer } from './sfn-server.ts';
import { startApiServer } from './api-server.ts';
import { enforceTableGrants } from './table-guard.ts';

export interface RuntimeOptions {
  /** Data folder (persisted DynamoDB, link secret, admin token, the clock, the mail); null keeps it in memory. */
  dataDir: string | null;
  /** API port; 0 picks a free one. */
  port?: number;
  /** SES inbox port; 0 picks a free one. */
  sesPort?: number;
  /** Where the virtual clock starts; default: where it stopped (saved in the data folder), else now. */
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
  /** Run the daily dispatch on its schedule (and once at the first start, as a new deployment's operator does). */
  scheduler?: boolean;
  /** Run the reconciler at start and on its schedule, as on AWS (default true). */
  reconciler?: boolean;
  /** Faults switched on from the start (see local/faults.ts). */
  faults?: FaultsPatch;
  /** Keep every email with its virtual send time (default), or only count them (the simulator). */
  mail?: 'keep' | 'count';
  /**
   * How often the reconciler runs (default every 15 minutes, as on AWS). Long walks that do not exercise it may
   * run it less often: a run costs a few requests whether or not it finds anything.
   */
  reconcileEveryMs?: number;
  log?: (message: string) => void;
}

export interface Runtime {
  apiUrl: string;
  /** The SES emulator (its inbox page and /store). */
  sesUrl: string;
  dynamoEndpoint: string;
  sfnEndpoint: string;
  adminToken: string;
  cycleStateMachineArn: string;
  caseStateMachineArn: string;
  deliveryStateMachineArn: string;
  clock: VirtualClock;
  engine: LocalStepFunctions;
  /** Faults in force; change them with `faults.apply` (or PUT /_local/faults). */
  faults: FaultState;
  /** The SES endpoint the handlers use: every email with its virtual send time, and counts. */
  mail: SesGateway;
  /** The SMS endpoint the handlers use: every text a phone received (`sent`, `messages()`), with virtual times. */
  sms: SmsGateway;
  /** The emulators' process when they run in a child process. */
  readonly emulatorPid: number | undefined;
  /** Peak memory of the emulator processes so far (the largest of them), in MiB. */
  emulatorPeakMb(): number | undefined;
  /**
   * Restart the emulator process on the same ports and data folder (child mode only). dynalite leaks native memory
   * for queries that stop at the 1 MB page limit; the simulator restarts it now and then to stay flat.
   */
  restartEmulators(): Promise<void>;
  /** Dispatcher and reconciler runs so far (each is one handler invocation). */
  readonly dispatches: number;
  readonly reconciles: number;
  /** Stop the local schedules (the simulator lets open cycles finish without starting new ones). */
  stopScheduler(): void;
  /** Advance the virtual clock, running every timer due up to the instant; resolves when all is done. */
  advanceTo(at: Date): Promise<void>;
  close(): Promise<void>;
}

const REGION = 'ap-southeast-1';
const ACCOUNT = '000000000000';
export const LOCAL_TABLE = 'safeduty';
const SENDER = 'safeduty@example.gov.cn';
/**
 * The origination identity the local handlers send texts from (a pool id, as a deployment configures it): with
 * one set, delivery sends SMS (functions/adapters/sms.ts `smsEnabled`).
 */
export const LOCAL_SMS_ORIGINATION = 'pool-safedutylocal0000000000000000';
/** The reconciler's schedule, as on AWS (infra/stateless-stack.ts). */
export const RECONCILE_EVERY_MS = 15 * 60_000;

/** The data folder holds a virtual clock ahead of the one asked for: time cannot run backwards over data. */
export class ClockBehindDataError extends Error {
  constructor(
    readonly saved: string,
    readonly asked: string,
  ) {
    super(`the data folder's clock is at ${saved}, later than ${asked}`);
    this.name = 'ClockBehindDataError';
  }
}

function secretFile(dir: string | null, name: string, make: () => string): string {
  if (!dir) return make();
  const file = join(dir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** The virtual instant the data folder's clock stopped at, if it has one. */
export function savedClock(dataDir: string | null): number | undefined {
  if (!dataDir) return undefined;
  try {
    const saved = JSON.parse(readFileSync(join(dataDir, 'clock.json'), 'utf8')) as { epochMs?: unknown };
    return typeof saved.epochMs === 'number' ? saved.epochMs : undefined;
  } catch {
    return undefined;
  }
}

/** The next 00:05 in Asia/Shanghai strictly after `ms`: when the EventBridge schedule would fire. */
export function nextDispatchAt(ms: number): number {
  const today = shanghaiDateOf(new Date(ms));
  const todayAt = shanghaiInstant(today, '00:05').getTime();
  return todayAt > ms ? todayAt : shanghaiInstant(addDays(today, 1), '00:05').getTime();
}

/**
 * The whole system on one machine: dynalite, SES local behind a gateway that can fail as SES does, a Step
 * Functions endpoint over the local engine running the ASL synthesized by the CDK app, the schedules (daily
 * dispatch, the reconciler), the HTTP API and a virtual clock. Handlers are the same modules the Lambda functions
 * bundle, called in-process with a Lambda-like time budget on the virtual clock.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? (() => undefined);
  // A deployment catalog, case-types or delivery policy file with problems stops the start here, naming them.
  loadCatalog();
  loadCaseTypes();
  loadDeliveryPolicy();
  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const saved = savedClock(dataDir);
  if (options.clockStart && saved !== undefined && options.clockStart.getTime() < saved)
    throw new ClockBehindDataError(toShanghaiIso(new Date(saved)), toShanghaiIso(options.clockStart));
  const vclock = new VirtualClock(options.clockStart ?? (saved !== undefined ? new Date(saved) : new Date()));
  const faults = new FaultState();
  if (options.faults) faults.apply(options.faults);
  // Waits inside a handler pass on the virtual clock; one that would end past the invocation's budget ends
  // there, failing the invocation as Lambda's timeout would.
  const sleep = async (ms: number): Promise<void> => {
    const deadline = invocationDeadline();
    if (deadline !== undefined && vclock.nowMs() + ms > deadline) {
      await vclock.sleep(Math.max(0, deadline - vclock.nowMs()));
      throw new LambdaTimeoutError('Task timed out');
    }
    await vclock.sleep(ms);
  };
  const restoreClock = domainClock.use(() => vclock.nowMs(), sleep);
  // The handlers share this process's calendar: what an earlier run loaded is read afresh from this run's table.
  forgetOfficialCalendar();
  configureInvocations({
    nowMs: () => vclock.nowMs(),
    budgetMs: (name) => faults.budgetMs(name, registry[name].timeoutSeconds),
  });
  const engine = new LocalStepFunctions(vclock, log, dataDir ? join(dataDir, 'executions.jsonl') : undefined);
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
    const s = await startSes({ port: options.sesPort ?? 0 }).catch(async (err: unknown) => {
      await closeServer(d.server);
      throw err;
    });
    dynamo = { endpoint: d.endpoint, close: () => closeServer(d.server) };
    ses = { endpoint: s.endpoint, close: () => closeServer(s.server) };
  }
  const mail = new SesGateway({
    clock: vclock,
    faults,
    backend: () => ses.endpoint,
    sender: SENDER,
    keep: options.mail === 'count' ? 'stats' : 'all',
    ...(dataDir && options.mail !== 'count' ? { file: join(dataDir, 'mail', 'sent.jsonl') } : {}),
  });
  // A bounce reaches mailEvents a minute after the send, as SES's event does through EventBridge; a failed
  // invocation is retried by EventBridge on AWS, here it is logged.
  mail.onMailEvent = (event) =>
    engine.schedule(vclock.nowMs() + 60_000, 'mail-event', async () => {
      try {
        await invoke('mailEvents', event);
      } catch (err) {
        log(`mailEvents failed: ${String(err)}`);
      }
    });
  const mailEndpoint = await mail.start();
  const sms = new SmsGateway({
    clock: vclock,
    faults,
    keep: options.mail === 'count' ? 'stats' : 'all',
    ...(dataDir && options.mail !== 'count' ? { file: join(dataDir, 'sms', 'sent.jsonl') } : {}),
  });
  const smsEndpoint = await sms.start();
  const sfnServer = await startSfnServer(engine);
  const s3 = await startLocalS3({ dataDir, accessKeyId: 'local', secretAccessKey: 'local' });

  const adminToken =
    process.env.SAFEDUTY_ADMIN_TOKEN ||
    secretFile(dataDir, 'admin-token', () => randomBytes(24).toString('base64url'));
  const linkSecret = secretFile(dataDir, 'link-secret', () => randomBytes(32).toString('base64url'));
  try {
    parseLinkKeys(linkSecret);
  } catch (err) {
    // A hand-edited key ring (a rotation rehearsed locally) that cannot be read: say so before anything starts.
    throw new Error(
      `数据目录中的链接密钥文件 link-secret 无法使用（${(err as Error).message}），请改正或删除后重新启动`,
    );
  }

  // Handlers read their configuration from the environment, exactly as in Lambda.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SESV2: mailEndpoint,
    // The SDK derives it from the service id "Pinpoint SMS Voice V2".
    AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: smsEndpoint,
    SMS_ORIGINATION_IDENTITY: LOCAL_SMS_ORIGINATION,
    AWS_ENDPOINT_URL_SFN: sfnServer.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    ATTACHMENTS_BUCKET: LOCAL_ATTACHMENTS_BUCKET,
    TABLE_NAME: LOCAL_TABLE,
    SENDER_ADDRESS: SENDER,
    SAFEDUTY_LINK_SECRET: linkSecret,
    SAFEDUTY_ADMIN_TOKEN_LOCAL: adminToken,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  });
  delete process.env.LINK_SECRET_PARAMETER;
  resetClients();
  enforceTableGrants();
  resetSecretCache();
  resetSendRateCache();

  await ensureTable(dynamo.endpoint, LOCAL_TABLE);

  const machines = await loadStateMachines({ region: REGION, account: ACCOUNT });
  const cycleArn = machines.dutyCycle.arn;
  const caseArn = machines.caseWorkflow.arn;
  const deliveryArn = machines.delivery.arn;
  process.env.CYCLE_STATE_MACHINE_ARN = cycleArn;
  process.env.CASE_STATE_MACHINE_ARN = caseArn;
  process.env.DELIVERY_STATE_MACHINE_ARN = deliveryArn;
  const lambdaTask =
    (name: 'cycleAdvance' | 'caseAdvance' | 'deliver'): TaskHandler =>
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
  for (const [arn, definition, task] of [
    [cycleArn, machines.dutyCycle.definition, 'cycleAdvance'],
    [caseArn, machines.caseWorkflow.definition, 'caseAdvance'],
    [deliveryArn, machines.delivery.definition, 'deliver'],
  ] as const) {
    engine.registerMachine(arn, definition, {
      [STATE.advance]: lambdaTask(task),
      [STATE.recordFailure]: lambdaTask(task),
      [STATE.continueAsNew]: continuation,
    });
  }

  // First start with an empty table: a small fictional county so a newcomer sees reminders at once.
  if (options.seed !== false) {
    const { units } = await activeRoster(['county-body']);
    if (units.length === 0) {
      const roster = options.seed ?? generateRoster(ROSTER_SIZES.small, 2023);
      const joinedAt = toShanghaiIso(vclock.now());
      await putUnits(roster.units.map((u) => ({ ...u, joinedAt })));
      await putLeaders(roster.leaders);
      log(`已载入 ${roster.units.length} 个单位和 ${roster.leaders.length} 位县领导`);
    }
  }

  let dispatches = 0;
  let reconciles = 0;
  let schedulerOn = options.scheduler !== false;
  const every = (
    first: number,
    next: (after: number) => number,
    label: string,
    on: () => boolean,
    run: () => Promise<void>,
  ) => {
    const at = (when: number) =>
      engine.schedule(when, label, async () => {
        if (!on()) return;
        await run();
        at(next(vclock.nowMs()));
      });
    at(first);
  };
  // A new deployment's operator starts today's cycles once (README, "Deploying"); after that only what AWS does
  // on its own: the daily dispatch at 00:05 and the reconciler every 15 minutes, which also resumes whatever a
  // stop or crash left without an execution.
  if (schedulerOn) {
    const dispatch = async () => {
      dispatches++;
      await invoke('dispatch', {});
    };
    if ((await getDispatchedThrough()) === undefined) engine.schedule(vclock.nowMs(), 'dispatch', dispatch);
    every(nextDispatchAt(vclock.nowMs()), nextDispatchAt, 'dispatch', () => schedulerOn, dispatch);
  }
  if (options.reconciler !== false) {
    const reconcileEvery = options.reconcileEveryMs ?? RECONCILE_EVERY_MS;
    every(
      vclock.nowMs(),
      (after) => after + reconcileEvery,
      'reconcile',
      () => true,
      async () => {
        reconciles++;
        await invoke('reconcile', {});
      },
    );
  }

  // One advance at a time: the HTTP clock endpoint and the real-time ticker share this queue. The clock is saved
  // in the data folder, so a restart continues from it.
  const saveClock = () => {
    if (!dataDir) return;
    try {
      // Written whole, then renamed: a kill in the middle leaves the previous clock, never a torn file.
      const file = join(dataDir, 'clock.json');
      writeFileSync(
        `${file}.tmp`,
        JSON.stringify({ epochMs: vclock.nowMs(), at: toShanghaiIso(vclock.now()) }),
      );
      renameSync(`${file}.tmp`, file);
    } catch {
      // The folder is gone (a test removed it): nothing to continue from.
    }
  };
  // Saved before every job and whenever time moves inside one (a delivery's pacing): killed in the middle, the
  // process leaves the clock where its work had got to, so a restart never runs producers before emails already
  // sent (on AWS time does not go back). Not for the simulator's throwaway folder.
  if (dataDir && options.mail !== 'count') {
    engine.onJob = saveClock;
    vclock.onMove(saveClock);
  }
  let chain: Promise<void> = Promise.resolve();
  const advanceTo = (at: Date): Promise<void> => {
    const run = chain.then(() => engine.advanceTo(Math.max(at.getTime(), vclock.nowMs()))).then(saveClock);
    chain = run.catch(() => undefined);
    return run;
  };

  let api: Awaited<ReturnType<typeof startApiServer>>;
  try {
    api = await startApiServer({
      port: options.port ?? 0,
      clock: vclock,
      advanceTo,
      adminToken,
      faults,
      mail,
      sms,
    });
  } catch (err) {
    // The port is taken (another safeduty running): stop what was started, so the process can end and say so.
    schedulerOn = false;
    await Promise.allSettled([
      closeServer(sfnServer.server),
      ses.close(),
      mail.close(),
      sms.close(),
      s3.close(),
    ]);
    await dynamo.close().catch(() => undefined);
    configureInvocations(undefined);
    restoreClock();
    throw err;
  }
  process.env.CONSOLE_URL = api.url;

  let ticker: NodeJS.Timeout | undefined;
  const speed = options.speed ?? 1;
  if (speed > 0) {
    let lastReal = Date.now();
    ticker = setInterval(() => {
      const real = Date.now();
      const target = vclock.nowMs() + (real - lastReal) * speed;
      lastReal = real;
      advanceTo(new Date(target)).catch((err: unknown) => log(`虚拟时钟推进出错：${String(err)}`));
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
    deliveryStateMachineArn: deliveryArn,
    clock: vclock,
    engine,
    faults,
    mail,
    sms,
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
    get reconciles() {
      return reconciles;
    },
    stopScheduler() {
      schedulerOn = false;
    },
    advanceTo,
    async close() {
      if (ticker) clearInterval(ticker);
      await chain;
      saveClock();
      await Promise.all([
        closeServer(api.server),
        closeServer(sfnServer.server),
        ses.close(),
        mail.close(),
        sms.close(),
        s3.close(),
      ]);
      await dynamo.close();
      configureInvocations(undefined);
      restoreClock();
    },
  };
}

export type { Server };
