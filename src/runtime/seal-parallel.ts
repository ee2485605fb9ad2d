/**
 * Encrypted inference on several threads. One client key: the secret key is generated here once and handed to
 * each worker thread, which rebuilds the evaluation keys from it, encodes the circuit's plaintexts into its own
 * node-seal instance and runs a contiguous share of the inputs (whole batches in throughput mode, whole inputs
 * in latency mode). SEAL's evaluator is single-threaded in WebAssembly, so this is how a run uses every core.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Circuit } from '../circuit/index.js';
import { CkksContext } from '../ckks/context.js';
import { generateKeys } from '../ckks/keys.js';
import { compiledWorkerScript } from '../worker-script.js';
import { InputError, RuntimeError } from './errors.js';
import { argmaxOf, type InferenceRecord } from './inference.js';
import type { StageDone } from './executor.js';
import type { SealRunOptions } from './seal-inference.js';
import type { SealWorkerData, SealWorkerMessage } from './seal-worker.js';
import { abortSplit, splitSignals } from './seal-split.js';
import { splitCircuit } from './split.js';

export interface ParallelSealOptions extends Omit<SealRunOptions, 'secretKey'> {
  /** Worker threads (each with its own SEAL instance and WASM heap). @default the number of cores, at most the number of shares */
  workers?: number;
  /**
   * Split each inference's ops over this many threads (a latency circuit; src/runtime/split.ts) instead of giving
   * each thread whole inputs: lower latency per input, not more inputs per second. @default 1 (no split)
   */
  split?: number;
}

/** How `count` inputs split into at most `workers` contiguous shares of whole batches of `batch` inputs. */
export function splitShares(count: number, batch: number, workers: number): { start: number; count: number }[] {
  const batches = Math.ceil(count / batch);
  const n = Math.max(1, Math.min(workers, batches));
  const shares: { start: number; count: number }[] = [];
  let b = 0;
  for (let w = 0; w < n; w++) {
    const take = Math.floor(batches / n) + (w < batches % n ? 1 : 0);
    const start = b * batch;
    const end = Math.min(count, (b + take) * batch);
    shares.push({ start, count: end - start });
    b += take;
  }
  return shares;
}

/**
 * Run `count` inputs under SEAL on worker threads; records come back in input order. Setup stages are reported
 * per worker (`onSetup('worker 0: context + keys', ms)`); progress counts inputs done over all workers.
 */
export async function runSealParallel(
  circuit: Circuit,
  inputs: Float64Array,
  count: number,
  options: ParallelSealOptions = {},
): Promise<{ records: InferenceRecord[]; setup: { name: string; ms: number }[]; workers: number }> {
  const size = circuit.inputLayout.length;
  if (!Number.isInteger(count) || count < 1) throw new InputError(`input count must be an integer ≥ 1, got ${count}`);
  if (inputs.length !== count * size) throw new InputError(`expected ${count} inputs of ${size} values, got ${inputs.length} values`);
  const requested = options.workers ?? availableParallelism();
  if (!Number.isInteger(requested) || requested < 1) throw new InputError(`workers must be an integer ≥ 1, got ${requested}`);
  const script = compiledWorkerScript(
    import.meta.url,
    'seal-worker.js',
    (path, advice) => new RuntimeError(`SEAL worker module ${path} is missing: ${advice}`),
  );
  const batch = circuit.mode === 'throughput' ? circuit.params.polyModulusDegree / 2 : 1;
  const split = options.split ?? 1;
  const plan = split > 1 ? splitCircuit(circuit, split) : null;
  const shares = plan ? plan.parts.map(() => ({ start: 0, count })) : splitShares(count, batch, requested);
  const ports = plan ? threadPorts(plan.workers) : [];
  const signals = plan ? splitSignals(plan.workers) : null;

  const setup: { name: string; ms: number }[] = [];
  const mark = (name: string, ms?: number) => {
    if (ms !== undefined) setup.push({ name, ms });
    options.onSetup?.(name, ms);
  };
  mark('secret key');
  const t = performance.now();
  const secretKey = await clientSecretKey(circuit);
  mark('secret key', performance.now() - t);

  const done = new Array<number>(shares.length).fill(0);
  const workers: Worker[] = [];
  try {
    const results = await Promise.all(
      shares.map((share, w) => {
        const data: SealWorkerData = {
          circuit,
          secretKey,
          inputs: plan && w > 0 ? new Float64Array(0) : inputs.slice(share.start * size, (share.start + share.count) * size),
          count: share.count,
          ...(plan && signals ? { split: { part: plan.parts[w]!, ports: ports[w]!, signals } } : {}),
        };
        const transferList = (ports[w] ?? []).filter((p): p is MessagePort => p !== null);
        const worker = new Worker(script, { workerData: data, transferList });
        workers.push(worker);
        const what = plan ? `part ${w} of ${plan.workers}` : `inputs ${share.start}…${share.start + share.count - 1}`;
        return watchWorker(worker, `SEAL worker ${w} (${what})`, {
          setup: (name, ms) => mark(`worker ${w}: ${name}`, ms),
          stage: (stage) => options.onStage?.({ ...stage, name: `worker ${w}: ${stage.name}` }),
          progress: (d) => {
            done[w] = d;
            options.onProgress?.(
              done.reduce((a, b) => a + b, 0),
              count,
            );
          },
          failed: () => {
            if (plan && signals) abortSplit(signals, plan.workers);
          },
        });
      }),
    );
    return { records: results.flat(), setup, workers: shares.length };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A worker's records, its messages passed to `on`; rejects (after `on.failed`) on its error or early exit. */
function watchWorker(
  worker: Worker,
  label: string,
  on: { setup: (name: string, ms?: number) => void; stage: (s: StageDone) => void; progress: (done: number) => void; failed: () => void },
): Promise<InferenceRecord[]> {
  return new Promise<InferenceRecord[]>((resolve, reject) => {
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      on.failed();
      reject(new RuntimeError(`${label}: ${message}`));
    };
    worker.on('message', (m: SealWorkerMessage) => {
      if (m.type === 'setup') on.setup(m.name, m.ms);
      else if (m.type === 'stage') on.stage(m.stage);
      else if (m.type === 'progress') on.progress(m.done);
      else if (m.type === 'error') fail(`${m.name}: ${m.message}`);
      else if (!settled) {
        settled = true;
        resolve(m.logits.map((logits, i) => ({ logits, prediction: argmaxOf(logits), timings: m.timings[i]! })));
      }
    });
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exited with code ${code} before it finished`));
  });
}

/** One MessagePort per pair of threads: ports[a][b] is thread a's end of the channel to thread b. */
function threadPorts(workers: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: workers }, () => new Array<MessagePort | null>(workers).fill(null));
  for (let a = 0; a < workers; a++)
    for (let b = a + 1; b < workers; b++) {
      const { port1, port2 } = new MessageChannel();
      ports[a]![b] = port1;
      ports[b]![a] = port2;
    }
  return ports;
}

/** A fresh secret key for the circuit's parameters, serialised (the workers rebuild every other key from it). */
async function clientSecretKey(circuit: Circuit): Promise<Uint8Array> {
  const context = await CkksContext.create(circuit.params);
  try {
    const keys = generateKeys(context);
    try {
      return keys.saveSecretKey();
    } finally {
      keys.dispose();
    }
  } finally {
    context.dispose();
  }
}
