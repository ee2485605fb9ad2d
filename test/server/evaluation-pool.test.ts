import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { EvaluationPool } from '../../src/server/evaluation-pool.js';

/**
 * The pool's queueing, deadlines and crash recovery, with a stand-in worker script that speaks the protocol:
 * 'stats' answers after `ms` milliseconds, 'close' with session "crash" kills the thread, 'open' fails with 400.
 */
const FAKE_WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (t) => {
  if (t.type === 'close' && t.session === 'crash') process.exit(3);
  const reply = t.type === 'open'
    ? { type: 'done', id: t.id, ok: false, error: { status: 400, code: 'bad_keys', message: 'keys: nope' }, ms: 0, heapBytes: 1 }
    : { type: 'done', id: t.id, ok: true, result: { echo: t.session ?? null }, ms: 1, heapBytes: 42 };
  setTimeout(() => parentPort.postMessage(reply), t.type === 'stats' ? 50 : 0);
});
parentPort.postMessage({ type: 'ready', heapBytes: 7 });
`;

describe('evaluation pool', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pann-pool-'));
    script = join(dir, 'fake-worker.mjs');
    writeFileSync(script, FAKE_WORKER);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs tasks in order per worker, refuses beyond maxQueue with 503, and passes worker errors through', async () => {
    const pool = await EvaluationPool.start({ models: [], workers: 1, maxQueue: 2, script });
    try {
      const running = pool.run<{ echo: null }>(0, { type: 'stats' });
      const q1 = pool.run(0, { type: 'stats' });
      const q2 = pool.run(0, { type: 'stats' });
      await expect(pool.run(0, { type: 'stats' })).rejects.toMatchObject({ status: 503, apiCode: 'overloaded' });
      // internal tasks (session closes) are not counted
      const internal = pool.run(0, { type: 'close', session: 'x' }, [], { counted: false });
      const outcomes = await Promise.all([running, q1, q2, internal]);
      expect(outcomes[0].result).toEqual({ echo: null });
      expect(outcomes[1].queueMs).toBeGreaterThan(outcomes[0].queueMs);
      await expect(
        pool.run(0, { type: 'open', session: 's', model: 'm', relin: new Uint8Array(1), galois: new Uint8Array(0) }),
      ).rejects.toMatchObject({
        status: 400,
        apiCode: 'bad_keys',
      });
      expect(pool.workers()[0]).toMatchObject({ ready: true, busy: false, tasks: 5, wasmHeapBytes: 1 });
    } finally {
      await pool.close();
    }
  });

  it('a deadline rejects with 503 timeout; the late result goes to onLate', async () => {
    const pool = await EvaluationPool.start({ models: [], workers: 1, maxQueue: 10, script });
    try {
      let late: unknown = null;
      await expect(pool.run(0, { type: 'stats' }, [], { timeoutMs: 5, onLate: (r) => (late = r) })).rejects.toMatchObject({
        status: 503,
        apiCode: 'timeout',
      });
      await new Promise((r) => setTimeout(r, 150));
      expect(late).toEqual({ echo: null });
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies fails its task, is reported and replaced; the next task runs', async () => {
    const lost: number[] = [];
    const pool = await EvaluationPool.start({ models: [], workers: 2, maxQueue: 10, script, onWorkerLost: (i) => lost.push(i) });
    try {
      const queued = pool.run(1, { type: 'stats' });
      const crash = pool.run(1, { type: 'close', session: 'crash' });
      const behind = pool.run(1, { type: 'stats' });
      await queued;
      const e = await crash.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ServerError);
      expect(e).toMatchObject({ status: 503, apiCode: 'worker_lost' });
      await expect(behind).rejects.toMatchObject({ status: 503, apiCode: 'worker_lost' });
      expect(lost).toEqual([1]);
      const after = await pool.run<{ echo: string }>(1, { type: 'close', session: 'fine' });
      expect(after.result).toEqual({ echo: 'fine' });
      expect(pool.workers()[1]).toMatchObject({ ready: true, restarts: 1 });
      expect((await pool.run(0, { type: 'stats' })).result).toEqual({ echo: null });
    } finally {
      await pool.close();
    }
  });

  it('a shut-down pool refuses work with 503', async () => {
    const pool = await EvaluationPool.start({ models: [], workers: 1, maxQueue: 1, script });
    await pool.close();
    await expect(pool.run(0, { type: 'stats' })).rejects.toMatchObject({ status: 503, apiCode: 'shutting_down' });
  });
});
