import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/study/worker-pool.js';

/** A worker that squares numbers, reports its thread, and dies on a negative number. */
const SCRIPT = `
import { parentPort, threadId } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.payload < 0) process.exit(3);
  if (m.payload === 0) for (;;);
  parentPort.postMessage({ type: 'event', id: m.id, event: 'started' });
  parentPort.postMessage({ type: 'result', id: m.id, result: { square: m.payload * m.payload, thread: threadId } });
});
`;

describe('WorkerPool', () => {
  const script = join(mkdtempSync(join(tmpdir(), 'pann-pool-')), 'worker.mjs');
  writeFileSync(script, SCRIPT);

  it('runs every task and survives a crashed worker (its task fails, the rest go on)', async () => {
    const pool = new WorkerPool<number, { square?: number; thread?: number; error?: string }>({ script, size: 2 });
    const tasks = [1, 2, -1, 3, 4, 5].map((n, i) => ({ id: `t${i}`, affinity: n % 2 ? 'odd' : 'even', payload: n }));
    const results = new Map<string, { square?: number; thread?: number; error?: string }>();
    let events = 0;
    await pool.run(tasks, {
      onResult: (t, r) => results.set(t.id, r),
      onCrash: (_t, error) => ({ error }),
      onEvent: () => events++,
    });
    await pool.close();
    expect(results.size).toBe(6);
    expect(results.get('t2')!.error).toMatch(/exited with code 3/);
    expect([0, 1, 3, 4, 5].map((i) => results.get(`t${i}`)!.square)).toEqual([1, 4, 9, 16, 25]);
    expect(events).toBe(5);
  });

  it('fails a task that runs too long and replaces its worker; recycles workers when asked', async () => {
    const pool = new WorkerPool<number, { square?: number; thread?: number; error?: string }>({ script, size: 1 });
    const results: { square?: number; thread?: number; error?: string }[] = [];
    await pool.run(
      [2, 0, 3, 4].map((n) => ({ id: `t${n}`, affinity: 'a', payload: n })),
      {
        onResult: (_t, r) => results.push(r),
        onCrash: (_t, error) => ({ error }),
        timeoutMs: (t) => (t.payload === 0 ? 300 : null),
        recycle: (t) => t.payload === 3,
      },
    );
    await pool.close();
    expect(results.map((r) => r.square ?? r.error)).toEqual([4, 'timed out after 0 s (worker thread stopped)', 9, 16]);
    const threads = results.map((r) => r.thread);
    expect(new Set([threads[0], threads[2], threads[3]]).size).toBe(3); // replaced after the timeout, recycled after 3
  });

  it('stops dispatching when asked', async () => {
    const pool = new WorkerPool<number, { square: number }>({ script, size: 1 });
    const done: string[] = [];
    await pool.run(
      [1, 2, 3].map((n) => ({ id: `t${n}`, affinity: 'a', payload: n })),
      { onResult: (t) => done.push(t.id), onCrash: () => ({ square: NaN }), shouldStop: () => done.length >= 1 },
    );
    await pool.close();
    expect(done).toEqual(['t1']);
  });
});
