/**
 * The main thread's side of the evaluation workers: one FIFO queue per worker (sessions are pinned, so a task
 * names its worker), one task running per worker at a time, a bound on waiting tasks (503 when full), a
 * deadline per task (503 when it passes; a result that comes later is handed to `onLate`), and crash recovery
 * (a worker that dies fails its tasks, is reported through `onWorkerLost` — its sessions are gone — and is
 * replaced). Evaluation never runs on the event loop, so health and metrics answer while workers compute.
 */
import { Worker } from 'node:worker_threads';
import { ServerError } from '../errors.js';
import { compiledWorkerScript } from '../worker-script.js';
import type { WorkerData, WorkerReply, WorkerTask } from './worker-messages.js';

type TaskBody = WorkerTask extends infer T ? (T extends WorkerTask ? Omit<T, 'id'> : never) : never;

export interface RunOptions {
  /** Counts against maxQueue while waiting (requests do; internal session closes do not). @default true */
  counted?: boolean;
  /** Reject with 503 when the answer has not come after this long (queue wait included). @default none */
  timeoutMs?: number;
  /** A successful result that arrived after the deadline (e.g. to close a session nobody will use). */
  onLate?: (result: unknown) => void;
}

export interface TaskOutcome<T> {
  result: T;
  /** Time waiting in the queue, and running in the worker. */
  queueMs: number;
  workerMs: number;
}

export interface WorkerInfo {
  index: number;
  ready: boolean;
  busy: boolean;
  queued: number;
  tasks: number;
  restarts: number;
  /** WASM heap of the worker's SEAL instance after its last task. */
  wasmHeapBytes: number;
}

interface Pending {
  id: number;
  body: TaskBody;
  transfer: ArrayBuffer[];
  counted: boolean;
  enqueuedAt: number;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  onLate: ((result: unknown) => void) | undefined;
  resolve: (o: TaskOutcome<unknown>) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  running: Pending | null;
  queue: Pending[];
  tasks: number;
  restarts: number;
  heapBytes: number;
}

export interface EvaluationPoolOptions {
  models: WorkerData['models'];
  workers: number;
  /** Tasks waiting (not running) across all workers before run() refuses with 503. */
  maxQueue: number;
  /** Told when a worker died (its sessions are gone); it is being replaced. */
  onWorkerLost?: (index: number, reason: string) => void;
  /** Compiled worker script. @default dist/src/server/worker.js (resolved as in `workerScript`) */
  script?: string;
}

/** The compiled worker module: next to this file when running from dist/, dist/src/server/worker.js under a TS runner. */
export function workerScript(): string {
  return compiledWorkerScript(
    import.meta.url,
    'worker.js',
    (script, advice) =>
      new ServerError(500, 'internal', `the server's worker threads run compiled JavaScript, and ${script} is missing: ${advice}`),
  );
}

export class EvaluationPool {
  readonly #options: EvaluationPoolOptions;
  readonly #script: string;
  readonly #slots: Slot[] = [];
  #nextId = 1;
  #closed = false;

  private constructor(options: EvaluationPoolOptions) {
    this.#options = options;
    this.#script = options.script ?? workerScript();
  }

  /** Spawn the workers and wait until each has loaded every model (or one fails: then all are stopped). */
  static async start(options: EvaluationPoolOptions): Promise<EvaluationPool> {
    const pool = new EvaluationPool(options);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < options.workers; i++) {
      const slot: Slot = {
        index: i,
        worker: null as unknown as Worker,
        ready: false,
        running: null,
        queue: [],
        tasks: 0,
        restarts: 0,
        heapBytes: 0,
      };
      pool.#slots.push(slot);
      ready.push(pool.#spawn(slot));
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Tasks waiting for a worker that count against maxQueue. */
  get queued(): number {
    return this.#slots.reduce((s, slot) => s + slot.queue.filter((p) => p.counted).length, 0);
  }

  /** Tasks queued or running on one worker. */
  load(index: number): number {
    const slot = this.#slots[index]!;
    return slot.queue.length + (slot.running ? 1 : 0);
  }

  workers(): WorkerInfo[] {
    return this.#slots.map((s) => ({
      index: s.index,
      ready: s.ready,
      busy: s.running !== null,
      queued: s.queue.length,
      tasks: s.tasks,
      restarts: s.restarts,
      wasmHeapBytes: s.heapBytes,
    }));
  }

  /** Queue a task on worker `index`. Rejects with a ServerError: 503 when the queue is full, timed out or closing. */
  run<T>(index: number, body: TaskBody, transfer: ArrayBuffer[] = [], options: RunOptions = {}): Promise<TaskOutcome<T>> {
    if (this.#closed) return Promise.reject(new ServerError(503, 'shutting_down', 'the server is shutting down'));
    const slot = this.#slots[index];
    if (!slot) return Promise.reject(new ServerError(500, 'internal', `no worker ${index}`));
    const counted = options.counted ?? true;
    if (counted && this.queued >= this.#options.maxQueue) {
      return Promise.reject(
        new ServerError(
          503,
          'overloaded',
          `${this.queued} requests are waiting for a worker (the limit is ${this.#options.maxQueue}); retry later`,
        ),
      );
    }
    return new Promise<TaskOutcome<T>>((resolvePromise, rejectPromise) => {
      const p: Pending = {
        id: this.#nextId++,
        body,
        transfer,
        counted,
        enqueuedAt: performance.now(),
        startedAt: 0,
        timer: null,
        settled: false,
        onLate: options.onLate,
        resolve: resolvePromise as (o: TaskOutcome<unknown>) => void,
        reject: rejectPromise,
      };
      if (options.timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          const waiting = slot.queue.indexOf(p);
          if (waiting >= 0) slot.queue.splice(waiting, 1);
          this.#settle(p, () =>
            p.reject(
              new ServerError(
                503,
                'timeout',
                `no answer within ${options.timeoutMs} ms (${waiting >= 0 ? 'still waiting for a worker' : 'still evaluating'}); retry later`,
              ),
            ),
          );
        }, options.timeoutMs);
      }
      slot.queue.push(p);
      this.#dispatch(slot);
    });
  }

  #settle(p: Pending, fn: () => void): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer) clearTimeout(p.timer);
    fn();
  }

  #dispatch(slot: Slot): void {
    if (!slot.ready || slot.running || this.#closed) return;
    const p = slot.queue.shift();
    if (!p) return;
    slot.running = p;
    p.startedAt = performance.now();
    slot.worker.postMessage({ ...p.body, id: p.id }, p.transfer);
  }

  #spawn(slot: Slot): Promise<void> {
    const data: WorkerData = { models: this.#options.models };
    const worker = new Worker(this.#script, { workerData: data });
    slot.worker = worker;
    slot.ready = false;
    return new Promise<void>((resolveReady, rejectReady) => {
      let started = false;
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') {
          started = true;
          slot.ready = true;
          slot.heapBytes = m.heapBytes;
          resolveReady();
          this.#dispatch(slot);
        } else if (m.type === 'fatal') {
          if (!started) rejectReady(new ServerError(500, 'internal', `worker ${slot.index} could not start: ${m.message}`));
        } else this.#finish(slot, m);
      });
      const lost = (reason: string) => {
        worker.removeAllListeners();
        if (slot.worker !== worker) return;
        slot.ready = false;
        const running = slot.running;
        slot.running = null;
        if (running)
          this.#settle(running, () =>
            running.reject(
              new ServerError(503, 'worker_lost', `the worker evaluating this request stopped (${reason}); its session is lost`),
            ),
          );
        for (const p of slot.queue.splice(0)) {
          this.#settle(p, () =>
            p.reject(new ServerError(503, 'worker_lost', `the worker holding this session stopped (${reason}); open a new session`)),
          );
        }
        if (this.#closed) return;
        if (!started) {
          rejectReady(new ServerError(500, 'internal', `worker ${slot.index} stopped while starting: ${reason}`));
          return;
        }
        this.#options.onWorkerLost?.(slot.index, reason);
        slot.restarts++;
        this.#spawn(slot).catch(() => {
          /* a replacement that cannot start leaves the slot not ready: its tasks wait and time out */
        });
      };
      worker.on('error', (err) => lost(`crashed: ${err.message}`));
      worker.on('exit', (code) => lost(`exited with code ${code}`));
    });
  }

  #finish(slot: Slot, m: Extract<WorkerReply, { type: 'done' }>): void {
    const p = slot.running;
    if (!p || p.id !== m.id) return;
    slot.running = null;
    slot.tasks++;
    slot.heapBytes = m.heapBytes;
    const queueMs = p.startedAt - p.enqueuedAt;
    if (p.settled) {
      if (m.ok) p.onLate?.(m.result);
    } else if (m.ok) {
      this.#settle(p, () => p.resolve({ result: m.result, queueMs, workerMs: m.ms }));
    } else {
      const e = m.error;
      this.#settle(p, () => p.reject(new ServerError(e.status, e.code, e.message)));
    }
    this.#dispatch(slot);
  }

  /** Stop every worker now (the server drains requests before calling this). */
  async close(): Promise<void> {
    this.#closed = true;
    const shutdown = new ServerError(503, 'shutting_down', 'the server is shutting down');
    for (const slot of this.#slots) {
      for (const p of [...slot.queue.splice(0), ...(slot.running ? [slot.running] : [])]) this.#settle(p, () => p.reject(shutdown));
      slot.running = null;
    }
    await Promise.all(this.#slots.map((s) => s.worker?.terminate()));
  }
}
