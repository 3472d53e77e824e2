import './polyfills.ts';
import { AsyncResource } from 'node:async_hooks';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { VirtualClock } from './clock.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type TaskHandler = (input: Json, execution: LocalExecution) => Promise<Json>;

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: Json;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: number;
  stopDate?: number;
  output?: Json;
  error?: string;
  cause?: string;
  /** Virtual instant the execution is waiting for, while RUNNING. */
  wakeAt?: number;
  /** Retry attempts per task state and retrier, since the state last succeeded. */
  retries: Map<string, number[]>;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

interface Machine {
  arn: string;
  /** Validated once at registration; runs reuse it without re-validating the definition. */
  sm: StateMachine;
  definition: StateMachineDefinition;
  handlers: Record<string, TaskHandler>;
  waitStates: Set<string>;
  /** Each task state's Retry, applied by the engine on the virtual clock (the interpreter's own sleeps in real time). */
  retriers: Map<string, Retrier[]>;
}

export class ExecutionAlreadyExistsError extends Error {
  override name = 'ExecutionAlreadyExists';
}
export class StateMachineDoesNotExistError extends Error {
  override name = 'StateMachineDoesNotExist';
}
export class ExecutionDoesNotExistError extends Error {
  override name = 'ExecutionDoesNotExist';
}

/** How far a job must have moved the clock by its own waits before jobs due meanwhile run beside it. */
const BESIDE_AFTER_MS = 1_000;

/** A min-heap of timers ordered by instant, then by insertion, so equal instants run in a stable order. */
class TimerQueue<T> {
  private heap: { at: number; seq: number; value: T }[] = [];
  private seq = 0;

  push(at: number, value: T): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, value });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  peek(): { at: number; value: T } | undefined {
    return this.heap[0];
  }

  pop(): { at: number; value: T } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  get size(): number {
    return this.heap.length;
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

export type Job =
  { kind: 'segment'; executionArn: string } | { kind: 'callback'; run: () => Promise<void>; label: string };

/**
 * Runs the synthesized state machines on the virtual clock with aws-local-stepfunctions.
 *
 * The interpreter's Wait sleeps in real time (and overflows past 24.8 days), so Wait states are not left to it:
 * when an execution enters a Wait, the engine reads the instant it waits for, stops the run, and queues a timer.
 * When the timer is due the execution runs again from its start: every workflow here derives what is due from
 * its record and the clock, so re-running from the start is exactly the resume (and survives a process kill).
 */
export class LocalStepFunctions {
  private machines = new Map<string, Machine>();
  private executions = new Map<string, LocalExecution>();
  private queue = new TimerQueue<Job>();
  private running = false;
  readonly stats = { executions: 0, stateTransitions: 0, segments: 0, taskInvocations: 0, retries: 0 };
  /** Called for every new execution (the simulator models the units' submissions from it). */
  onExecutionStarted?: (execution: LocalExecution, engine: LocalStepFunctions) => void;
  /** Called before each job with the clock at its instant (the runtime saves the clock, so a crash loses none). */
  onJob?: (atMs: number) => void;

  /**
   * `journal`: a file in the data folder where executions are written as they start and end. On AWS an execution's
   * name stays taken after it ends and its history stays readable; a local process that stops takes its running
   * executions with it, which AWS shows as ABORTED. Read back at start, the journal gives the local runtime both:
   * a name cannot be started twice, and the reconciler sees the aborted executions and resumes their work.
   */
  constructor(
    private readonly clock: VirtualClock,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly journal?: string,
  ) {
    if (journal && existsSync(journal)) {
      for (const line of readFileSync(journal, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as Partial<LocalExecution> & { executionArn: string };
        const known = this.executions.get(entry.executionArn);
        if (known) Object.assign(known, entry);
        else this.executions.set(entry.executionArn, { ...(entry as LocalExecution), retries: new Map() });
      }
      for (const e of this.executions.values()) {
        if (e.status !== 'RUNNING') continue;
        e.status = 'ABORTED';
        e.stopDate = clock.nowMs();
        this.record({ executionArn: e.executionArn, status: e.status, stopDate: e.stopDate });
      }
    }
  }

  private record(entry: Partial<LocalExecution>): void {
    if (this.journal) appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
  }

  registerMachine(
    arn: string,
    definition: StateMachineDefinition,
    handlers: Record<string, TaskHandler>,
  ): void {
    const waitStates = new Set(
      Object.entries(definition.States)
        .filter(([, s]) => s.Type === 'Wait')
        .map(([name]) => name),
    );
    new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: true } });
    // The interpreter retries after real-time sleeps: it runs the definition without Retry, and the engine retries
    // a failed task by running the execution again from its start at the retry instant (the record is the truth,
    // so that is the retry), with the intervals, backoff, jitter and attempts the definition gives.
    const retriers = new Map<string, Retrier[]>();
    const runnable = structuredClone(definition) as StateMachineDefinition;
    for (const [name, st] of Object.entries(runnable.States)) {
      const r = (st as { Retry?: Retrier[] }).Retry;
      if (r) {
        retriers.set(name, r);
        delete (st as { Retry?: Retrier[] }).Retry;
      }
    }
    const sm = new StateMachine(runnable, { validationOptions: { noValidate: true } });
    this.machines.set(arn, { arn, sm, definition, handlers, waitStates, retriers });
  }

  /** The virtual clock's now. */
  nowMs(): number {
    return this.clock.nowMs();
  }

  machineArns(): string[] {
    return [...this.machines.keys()];
  }

  executionArnOf(stateMachineArn: string, name: string): string {
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** StartExecution semantics of Standard workflows: same name and input while running → the same execution. */
  startExecution(stateMachineArn: string, name: string, input: Json): LocalExecution {
    if (!this.machines.has(stateMachineArn))
      throw new StateMachineDoesNotExistError(`State Machine Does Not Exist: '${stateMachineArn}'`);
    const executionArn = this.executionArnOf(stateMachineArn, name);
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(input))
        return existing;
      throw new ExecutionAlreadyExistsError(`Execution Already Exists: '${executionArn}'`);
    }
    const execution: LocalExecution = {
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: this.clock.nowMs(),
      retries: new Map(),
    };
    this.executions.set(executionArn, execution);
    this.record({
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: execution.startDate,
    });
    this.stats.executions++;
    this.queue.push(this.clock.nowMs(), { kind: 'segment', executionArn });
    this.onExecutionStarted?.(execution, this);
    return execution;
  }

  describe(executionArn: string): LocalExecution {
    const e = this.executions.get(executionArn);
    if (!e) throw new ExecutionDoesNotExistError(`Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  list(stateMachineArn?: string, status?: LocalExecution['status']): LocalExecution[] {
    return [...this.executions.values()].filter(
      (e) => (!stateMachineArn || e.stateMachineArn === stateMachineArn) && (!status || e.status === status),
    );
  }

  /** Queue arbitrary work at a virtual instant (the scheduler, the simulator's submissions). */
  schedule(at: number, label: string, run: () => Promise<void>): void {
    this.queue.push(at, { kind: 'callback', run, label });
  }

  nextDueAt(): number | undefined {
    return this.queue.peek()?.at;
  }

  pending(): number {
    return this.queue.size;
  }

  /**
   * Runs every job due up to `untilMs` in time order, moving the clock to each job's instant, then to
   * `untilMs`. Jobs queued while running (a started execution, the next wait) run too if due.
   */
  async advanceTo(untilMs: number): Promise<void> {
    if (this.running) throw new Error('advanceTo is already running');
    this.running = true;
    try {
      for (let top = this.queue.peek(); top && top.at <= untilMs; top = this.queue.peek()) {
        this.queue.pop();
        this.clock.set(top.at);
        this.onJob?.(this.clock.nowMs());
        await this.runBeside(this.clock.nowMs(), this.runJob(top.value));
      }
      this.clock.set(untilMs);
    } finally {
      this.running = false;
    }
  }

  get busy(): boolean {
    return this.running;
  }

  private runJob(job: Job): Promise<void> {
    return job.kind === 'callback' ? job.run() : this.runSegment(job.executionArn);
  }

  /**
   * On AWS executions run side by side: a warning issued while a delivery invocation paces a city's wave for ten
   * minutes has its case execution run, and record its notices, at once. The engine runs one job at a time, so a
   * test reads the same order every time, until a job has moved the clock on by its own waits (a delivery's
   * pacing): jobs that come due from then on start beside it. Resolves when all of them have ended; the first
   * error of any is thrown then.
   */
  private async runBeside(startedAt: number, first: Promise<void>): Promise<void> {
    const beside: Promise<void>[] = [];
    const errors: unknown[] = [];
    let looking = false;
    // Jobs beside are started from the waiting job's timers: bound to this context, not that job's invocation (whose
    // name and deadline the table guard and the handlers' waits would read).
    const look = AsyncResource.bind(() => {
      looking = false;
      const now = this.clock.nowMs();
      if (now - startedAt < BESIDE_AFTER_MS) return;
      // Due by the clock, even past `untilMs`: the clock is there (a ticker's step is shorter than the job).
      for (let top = this.queue.peek(); top && top.at <= now; top = this.queue.peek()) {
        this.queue.pop();
        this.onJob?.(now);
        beside.push(this.runJob(top.value).catch((err: unknown) => void errors.push(err)));
      }
    });
    // Not inside the clock's own move: the job starts in the next microtask.
    const stop = this.clock.onMove(() => {
      if (looking) return;
      looking = true;
      queueMicrotask(look);
    });
    try {
      await first.catch((err: unknown) => void errors.push(err));
      for (let i = 0; i < beside.length; i++) await beside[i];
    } finally {
      stop();
    }
    if (errors.length > 0) throw errors[0];
  }

  private async runSegment(executionArn: string): Promise<void> {
    const execution = this.executions.get(executionArn);
    if (!execution || execution.status !== 'RUNNING') return;
    const machine = this.machines.get(execution.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExistError(execution.stateMachineArn);
    this.stats.segments++;
    delete execution.wakeAt;

    let wakeAt: number | undefined;
    // Set when a task failed with an error its Retry covers: the execution runs again from its start then.
    let retryAt: number | undefined;
    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [state, fn] of Object.entries(machine.handlers)) {
      taskResourceLocalHandlers[state] = async (input) => {
        this.stats.taskInvocations++;
        try {
          const out = await fn(input, execution);
          execution.retries.delete(state);
          return out;
        } catch (err) {
          const attempts = execution.retries.get(state) ?? [];
          const delay = retryDelay(machine.retriers.get(state) ?? [], err, attempts);
          if (delay === undefined) {
            execution.retries.delete(state);
            throw err;
          }
          execution.retries.set(state, attempts);
          this.stats.retries++;
          retryAt = this.clock.nowMs() + delay;
          this.log(
            `execution ${execution.name}: ${state} failed (${(err as Error).name}), retrying in ${delay} ms`,
          );
          run.abort();
          // The run is over; this answer is never read.
          return new Promise<Json>(() => undefined);
        }
      };
    }
    const waitTimeOverrides: Record<string, number> = {};
    for (const [name, s] of Object.entries(machine.definition.States)) {
      // Never slept through: the run is stopped on entering the Wait (2^31-1 ms is the largest safe timeout).
      if (s.Type === 'Wait') waitTimeOverrides[name] = 2 ** 31 - 1;
    }

    const run = machine.sm.run(execution.input as never, {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as never,
        waitTimeOverrides,
      },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: execution.executionArn,
          Name: execution.name,
          Input: execution.input as never,
          StartTime: new Date(execution.startDate).toISOString(),
        },
        StateMachine: { Id: machine.arn, Name: machine.arn.split(':').at(-1) },
      },
    });

    const watch = (async () => {
      for await (const ev of run.eventLogs) {
        if (ev.type === 'StateEntered') {
          this.stats.stateTransitions++;
          if (machine.waitStates.has(ev.state.name)) {
            wakeAt = waitUntil(
              machine.definition.States[ev.state.name] as WaitLike,
              ev.state.input as Json,
              this.clock.nowMs(),
            );
            run.abort();
            return;
          }
        }
      }
    })();

    try {
      const output = await run.result;
      await watch;
      const resumeAt = retryAt ?? wakeAt;
      if (resumeAt !== undefined) {
        execution.wakeAt = resumeAt;
        this.queue.push(Math.max(resumeAt, this.clock.nowMs()), { kind: 'segment', executionArn });
        return;
      }
      execution.status = 'SUCCEEDED';
      execution.output = output as Json;
      execution.stopDate = this.clock.nowMs();
      this.record({ executionArn, status: 'SUCCEEDED', stopDate: execution.stopDate });
    } catch (err) {
      await watch.catch(() => undefined);
      const e = err as { name?: string; message?: string; cause?: unknown };
      execution.status = 'FAILED';
      execution.error = e.name ?? 'Error';
      execution.cause = e.message ?? String(err);
      execution.stopDate = this.clock.nowMs();
      this.record({ executionArn, status: 'FAILED', stopDate: execution.stopDate, error: execution.error });
      this.log(`execution ${execution.name} failed: ${execution.error}: ${execution.cause}`);
    }
  }
}

interface WaitLike {
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
}

/** The instant a Wait state waits for; paths are the simple `$.a.b` kind our machines use. */
export function waitUntil(state: WaitLike, input: Json, nowMs: number): number {
  const at = (path: string): Json | undefined => {
    let v: Json | undefined = input;
    for (const part of path
      .replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean)) {
      v = v && typeof v === 'object' && !Array.isArray(v) ? v[part] : undefined;
    }
    return v;
  };
  if (state.Seconds !== undefined) return nowMs + state.Seconds * 1000;
  if (state.Timestamp) return Date.parse(state.Timestamp);
  if (state.SecondsPath) return nowMs + Number(at(state.SecondsPath)) * 1000;
  if (state.TimestampPath) {
    const v = at(state.TimestampPath);
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(ms))
      throw new Error(`Wait state TimestampPath ${state.TimestampPath} is not a timestamp`);
    return ms;
  }
  throw new Error('Wait state without a time');
}

/**
 * Step Functions' Retry for a failed task: the delay before the next attempt, or undefined when no retrier covers
 * the error or its attempts are used up. `attempts` (per retrier) is updated.
 */
export function retryDelay(retriers: Retrier[], err: unknown, attempts: number[]): number | undefined {
  const name = (err as { name?: string })?.name ?? 'Error';
  for (const [i, r] of retriers.entries()) {
    const matches = r.ErrorEquals.some(
      (e) => e === name || e === 'States.ALL' || (e === 'States.TaskFailed' && name !== 'States.Timeout'),
    );
    if (!matches) continue;
    const done = attempts[i] ?? 0;
    if (done >= (r.MaxAttempts ?? 3)) return undefined;
    attempts[i] = done + 1;
    const interval = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** done * 1000;
    const capped = r.MaxDelaySeconds !== undefined ? Math.min(interval, r.MaxDelaySeconds * 1000) : interval;
    return r.JitterStrategy === 'FULL' ? Math.random() * capped : capped;
  }
  return undefined;
}
