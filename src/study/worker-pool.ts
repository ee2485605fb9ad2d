/**
 * A pool of worker threads that runs independent tasks, one at a time per worker, with affinity (a free worker
 * prefers a task of the group it ran last, so per-thread caches — fits, loaded models — are reused) and crash
 * isolation (a worker that dies fails its task and is replaced; the run goes on).
 *
 * Protocol: the pool posts `{ type: 'task', id, payload }`; the worker answers `{ type: 'result', id, result }`,
 * optionally preceded by `{ type: 'event', id, event }` messages.
 */
import { Worker } from 'node:worker_threads';
import { StudyError, errorMessage } from '../errors.js';

export interface PoolTask<P> {
  id: string;
  /** Tasks with the same affinity share per-thread caches; they go to the same worker when possible. */
  affinity: string;
  payload: P;
}

export interface WorkerPoolOptions {
  /** Path of the worker's compiled JavaScript module. */
  script: string;
  /** Number of threads. */
  size: number;
  /** Passed to every worker as `workerData`. */
  workerData?: unknown;
}

interface Slot {
  worker: Worker;
  task: PoolTask<unknown> | null;
  affinity: string | null;
  timer: NodeJS.Timeout | null;
}

type Message = { type: 'result'; id: string; result: unknown } | { type: 'event'; id: string; event: unknown };

/** What `WorkerPool.run` calls back (see there). */
interface PoolHandlers<P, R> {
  onResult: (task: PoolTask<P>, result: R) => void;
  onCrash: (task: PoolTask<P>, error: string) => R;
  onEvent?: (task: PoolTask<P>, event: unknown) => void;
  shouldStop?: () => boolean;
  recycle?: (task: PoolTask<P>) => boolean;
  timeoutMs?: (task: PoolTask<P>) => number | null;
}

export class WorkerPool<P, R> {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new StudyError(`worker pool size must be an integer ≥ 1, got ${options.size}`);
    this.#options = options;
  }

  /**
   * Run every task; `onResult` sees each result as it arrives, `onCrash` turns a dead worker's task into a result.
   * Stops dispatching when `shouldStop()` turns true (running tasks finish). A task running longer than
   * `timeoutMs` is failed through `onCrash` and its worker replaced; after a task for which `recycle(task)` is
   * true the worker is replaced by a fresh one (e.g. to return a WASM heap to the system). Resolves when all
   * dispatched tasks are done.
   */
  run(tasks: readonly PoolTask<P>[], handlers: PoolHandlers<P, R>): Promise<void> {
    if (this.#closed) return Promise.reject(new StudyError('worker pool is closed'));
    const pending = [...tasks];
    return new Promise<void>((resolvePromise, rejectPromise) => {
      if (this.#slots.length === 0) {
        for (let i = 0; i < this.#options.size; i++) this.#slots.push({ worker: this.#spawn(), task: null, affinity: null, timer: null });
      }
      const pool = { slots: this.#slots, spawn: () => this.#spawn(), closed: () => this.#closed };
      new PoolRun<P, R>(pool, pending, handlers, { resolve: resolvePromise, reject: rejectPromise }).start();
    });
  }

  #spawn(): Worker {
    return new Worker(this.#options.script, { workerData: this.#options.workerData });
  }

  /** Terminate every worker. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
    this.#slots.length = 0;
  }
}

/** One `run` call: the tasks not yet dispatched, how many are running, and the slots' event wiring. */
class PoolRun<P, R> {
  readonly #pool: { slots: Slot[]; spawn: () => Worker; closed: () => boolean };
  readonly #pending: PoolTask<P>[];
  readonly #handlers: PoolHandlers<P, R>;
  readonly #promise: { resolve: () => void; reject: (err: unknown) => void };
  #running = 0;
  #settled = false;

  constructor(
    pool: { slots: Slot[]; spawn: () => Worker; closed: () => boolean },
    pending: PoolTask<P>[],
    handlers: PoolHandlers<P, R>,
    promise: { resolve: () => void; reject: (err: unknown) => void },
  ) {
    this.#pool = pool;
    this.#pending = pending;
    this.#handlers = handlers;
    this.#promise = promise;
  }

  /** Wire every slot to this run, give each a task, and resolve at once if there is nothing to do. */
  start(): void {
    for (const slot of this.#pool.slots) {
      slot.worker.removeAllListeners('message');
      slot.worker.removeAllListeners('error');
      slot.worker.removeAllListeners('exit');
      this.#attach(slot);
    }
    for (const slot of this.#pool.slots) this.#dispatch(slot);
    this.#finishIfIdle();
  }

  #finishIfIdle(): void {
    if (!this.#settled && this.#running === 0 && (this.#pending.length === 0 || this.#handlers.shouldStop?.())) {
      this.#settled = true;
      this.#promise.resolve();
    }
  }

  /** The next task for a free slot: one of the affinity it ran last, else one no busy worker is on, else the first. */
  #pick(slot: Slot): PoolTask<P> | undefined {
    const pending = this.#pending;
    if (pending.length === 0 || this.#handlers.shouldStop?.()) return undefined;
    const busy = new Set(this.#pool.slots.filter((s) => s.task).map((s) => s.task!.affinity));
    let i = slot.affinity === null ? -1 : pending.findIndex((t) => t.affinity === slot.affinity);
    if (i < 0) i = pending.findIndex((t) => !busy.has(t.affinity));
    if (i < 0) i = 0;
    return pending.splice(i, 1)[0];
  }

  /** Post the next task to a free slot (with its time limit), or finish if there is none. */
  #dispatch(slot: Slot): void {
    const task = this.#pick(slot);
    if (!task) {
      this.#finishIfIdle();
      return;
    }
    slot.task = task;
    slot.affinity = task.affinity;
    this.#running++;
    const limit = this.#handlers.timeoutMs?.(task) ?? null;
    if (limit !== null) {
      slot.timer = setTimeout(() => {
        this.#replace(slot);
        this.#complete(slot, this.#handlers.onCrash(task, `timed out after ${Math.round(limit / 1000)} s (worker thread stopped)`));
      }, limit);
    }
    slot.worker.postMessage({ type: 'task', id: task.id, payload: task.payload });
  }

  /** A slot's task is done: free the slot (recycling its worker if asked), hand on the result, dispatch again. */
  #complete(slot: Slot, result: R): void {
    const task = slot.task as PoolTask<P>;
    slot.task = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    this.#running--;
    if (this.#handlers.recycle?.(task)) this.#replace(slot);
    try {
      this.#handlers.onResult(task, result);
    } catch (err) {
      this.#settled = true;
      this.#promise.reject(err);
      return;
    }
    this.#dispatch(slot);
  }

  /** Listen to a slot's worker: its events and result, and its death (which fails its task). */
  #attach(slot: Slot): void {
    slot.worker.on('message', (m: Message) => {
      if (!slot.task || m.id !== slot.task.id) return;
      if (m.type === 'event') this.#handlers.onEvent?.(slot.task as PoolTask<P>, m.event);
      else this.#complete(slot, m.result as R);
    });
    const died = (why: string) => {
      const task = slot.task as PoolTask<P> | null;
      if (this.#pool.closed()) return;
      // replace the worker first, so the pool keeps its size
      this.#replace(slot);
      if (task) this.#complete(slot, this.#handlers.onCrash(task, why));
    };
    slot.worker.on('error', (err) => died(`worker thread crashed: ${errorMessage(err)}`));
    slot.worker.on('exit', (code) => died(`worker thread exited with code ${code}`));
  }

  /** A fresh worker in this slot (the old one, if still running, is stopped). */
  #replace(slot: Slot): void {
    const old = slot.worker;
    old.removeAllListeners();
    old.on('error', () => {});
    void old.terminate();
    slot.worker = this.#pool.spawn();
    slot.affinity = null;
    this.#attach(slot);
  }
}
