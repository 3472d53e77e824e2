import './polyfills.ts';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { VirtualClock } from './clock.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type TaskHandler = (input: Json, execution: LocalExecution) => Promise<Json>;

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: Json;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: number;
  stopDate?: number;
  output?: Json;
  error?: string;
  cause?: string;
  /** Virtual instant the execution is waiting for, while RUNNING. */
  wakeAt?: number;
}

interface Machine {
  arn: string;
  /** Validated once at registration; runs reuse it without re-validating the definition. */
  sm: StateMachine;
  definition: StateMachineDefinition;
  handlers: Record<string, TaskHandler>;
  waitStates: Set<string>;
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
  readonly stats = { executions: 0, stateTransitions: 0, segments: 0, taskInvocations: 0 };
  /** Called for every new execution (the simulator models the units' submissions from it). */
  onExecutionStarted?: (execution: LocalExecution, engine: LocalStepFunctions) => void;

  constructor(
    private readonly clock: VirtualClock,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

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
    const sm = new StateMachine(definition, { validationOptions: { noValidate: true } });
    this.machines.set(arn, { arn, sm, definition, handlers, waitStates });
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
    };
    this.executions.set(executionArn, execution);
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
        const job = top.value;
        if (job.kind === 'callback') await job.run();
        else await this.runSegment(job.executionArn);
      }
      this.clock.set(untilMs);
    } finally {
      this.running = false;
    }
  }

  get busy(): boolean {
    return this.running;
  }

  private async runSegment(executionArn: string): Promise<void> {
    const execution = this.executions.get(executionArn);
    if (!execution || execution.status !== 'RUNNING') return;
    const machine = this.machines.get(execution.stateMachineArn);
    if (!machine) throw new StateMachineDoesNotExistError(execution.stateMachineArn);
    this.stats.segments++;
    delete execution.wakeAt;

    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [state, fn] of Object.entries(machine.handlers)) {
      taskResourceLocalHandlers[state] = (input) => {
        this.stats.taskInvocations++;
        return fn(input, execution);
      };
    }
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, s] of Object.entries(machine.definition.States)) {
      // Never slept through: the run is stopped on entering the Wait (2^31-1 ms is the largest safe timeout).
      if (s.Type === 'Wait') waitTimeOverrides[name] = 2 ** 31 - 1;
      if ('Retry' in s && s.Retry) retryIntervalOverrides[name] = 20;
    }

    const run = machine.sm.run(execution.input as never, {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as never,
        waitTimeOverrides,
        retryIntervalOverrides,
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

    let wakeAt: number | undefined;
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
      if (wakeAt !== undefined) {
        execution.wakeAt = wakeAt;
        this.queue.push(Math.max(wakeAt, this.clock.nowMs()), { kind: 'segment', executionArn });
        return;
      }
      execution.status = 'SUCCEEDED';
      execution.output = output as Json;
      execution.stopDate = this.clock.nowMs();
    } catch (err) {
      await watch.catch(() => undefined);
      const e = err as { name?: string; message?: string; cause?: unknown };
      execution.status = 'FAILED';
      execution.error = e.name ?? 'Error';
      execution.cause = e.message ?? String(err);
      execution.stopDate = this.clock.nowMs();
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
