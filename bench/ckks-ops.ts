/**
 * Per-operation costs of node-seal CKKS on this machine: the median time of every op the runtime uses, at every
 * level of a few modulus chains at N = 4096, 8192 and 16384, plus serialized sizes and key generation. Prints
 * markdown tables and writes bench/op-costs.json (format "pann-op-costs", read by src/ckks/cost-model.ts, which
 * fits ms = a + b·p (+ c·p² for key switching) with p = primes at the level).
 * `PANN_BENCH_REPEATS` sets the repeats per median (default 15).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  CkksContext,
  CkksEncryptor,
  CkksEvaluator,
  encodePlaintext,
  generateKeys,
  loadSeal,
  predictSizes,
  saveCiphertext,
  type Ciphertext,
} from '../src/ckks/index.js';
import { fitTable, MEASURED_OPS, type MeasuredOp, type OpCostSample, type OpCostTable } from '../src/ckks/params/cost-model.js';

const CHAINS: { n: number; chain: number[] }[] = [
  { n: 4096, chain: [36, 36, 37] },
  { n: 8192, chain: [60, 40, 40, 60] },
  { n: 8192, chain: [40, 30, 30, 30, 30, 40] },
  { n: 8192, chain: [30, 21, 21, 21, 21, 21, 21, 21, 30] },
  { n: 16384, chain: [60, 40, 40, 60] },
  { n: 16384, chain: [60, 40, 40, 40, 40, 40, 40, 60] },
  { n: 16384, chain: [50, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 50] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms of `op` over `repeats` runs after one warm-up; `cleanup` runs outside the timing. */
function time<T>(repeats: number, op: () => T, cleanup: (r: T) => void): number {
  cleanup(op());
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const r = op();
    ts.push(performance.now() - t0);
    cleanup(r);
  }
  return median(ts);
}

const free = (c: Ciphertext) => c.free();
const fmt = (ms: number | undefined) => (ms === undefined ? '' : ms < 1 ? ms.toFixed(3) : ms.toFixed(2));

export async function run(): Promise<void> {
  const repeats = Number(process.env.PANN_BENCH_REPEATS ?? 15);
  const seal = await loadSeal();
  const samples: OpCostSample[] = [];
  const sizes: OpCostTable['sizes'] = [];
  const keyGeneration: OpCostTable['keyGeneration'] = [];
  const rows: string[] = [];
  const sizeRows: string[] = [];
  const clientRows: string[] = [];

  for (const { n, chain } of CHAINS) {
    const ctx = await CkksContext.create({ polyModulusDegree: n, coeffModulusBits: chain });
    const keys = generateKeys(ctx, { rotationSteps: [1] });
    const enc = new CkksEncryptor(keys);
    const ev = new CkksEvaluator(ctx, keys.evaluationKeys());
    // a scale whose square fits the first prime, so every op is legal at every level (cost does not depend on it)
    const scale = 2 ** Math.floor((chain[0]! - 1) / 2);
    const x = Float64Array.from({ length: n / 2 }, (_, i) => Math.sin(i));
    const add = (op: MeasuredOp, level: number, ms: number) => samples.push({ n, chain, level, primes: level + 1, op, ms });

    const top = ctx.maxLevel;
    add(
      'encode',
      top,
      time(
        repeats,
        () => encodePlaintext(ctx, x, top, scale),
        (p) => p.free(),
      ),
    );
    add(
      'encrypt',
      top,
      time(repeats, () => enc.encrypt(x, scale), free),
    );
    add(
      'encryptSymmetric',
      top,
      time(repeats, () => enc.encryptSymmetric(x, scale), free),
    );

    const fresh = enc.encrypt(x, scale);
    const other = enc.encrypt(x, scale);
    const levelSizes: number[] = [];
    for (let level = top; level >= 0; level--) {
      const a = ev.dropToLevel(fresh, level);
      const b = ev.dropToLevel(other, level);
      const pt = encodePlaintext(ctx, x, level, scale);
      add(
        'add',
        level,
        time(repeats, () => ev.add(a, b), free),
      );
      add(
        'addPlain',
        level,
        time(repeats, () => ev.addPlain(a, pt), free),
      );
      add(
        'mulPlain',
        level,
        time(repeats, () => ev.mulPlain(a, pt), free),
      );
      add(
        'mul',
        level,
        time(repeats, () => ev.mul(a, b), free),
      );
      add(
        'rotate',
        level,
        time(repeats, () => ev.rotate(a, 1), free),
      );
      add(
        'decrypt',
        level,
        time(
          repeats,
          () => enc.decrypt(a),
          () => undefined,
        ),
      );
      if (level > 0) {
        add(
          'rescale',
          level,
          time(repeats, () => ev.rescale(a), free),
        );
        add(
          'drop',
          level,
          time(repeats, () => ev.dropToLevel(a, level - 1), free),
        );
      }
      levelSizes[level] = saveCiphertext(a).length;
      const mine = samples.filter((s) => s.n === n && s.chain === chain && s.level === level);
      const ms = (op: MeasuredOp) => mine.find((s) => s.op === op)?.ms;
      rows.push(
        `| ${n} | ${chain.join(',')} | ${level} | ${level + 1} | ${['add', 'addPlain', 'mulPlain', 'mul', 'rescale', 'rotate', 'drop', 'decrypt'].map((op) => fmt(ms(op as MeasuredOp))).join(' | ')} |`,
      );
      for (const c of [a, b]) c.free();
      pt.free();
    }
    const topRow = (op: MeasuredOp) => fmt(samples.find((s) => s.n === n && s.chain === chain && s.op === op)?.ms);
    clientRows.push(
      `| ${n} | ${chain.join(',')} | ${top + 1} | ${topRow('encode')} | ${topRow('encrypt')} | ${topRow('encryptSymmetric')} |`,
    );
    fresh.free();
    other.free();

    // sizes: measured, and checked against the exact prediction
    const seeded = enc.encryptSerialized(x, scale).length;
    const full1 = keys.evaluationKeys().serialize();
    const seeded1 = keys.serializeEvaluationKeys();
    const keys2 = generateKeys(ctx, { rotationSteps: [1, 2] });
    const full2 = keys2.evaluationKeys().serialize();
    const seeded2 = keys2.serializeEvaluationKeys();
    const entry = {
      n,
      chain,
      ciphertext: levelSizes,
      seededCiphertext: seeded,
      relinKeys: full1.relin.length,
      seededRelinKeys: seeded1.relin.length,
      galoisKeyPerStep: full2.galois!.length - full1.galois!.length,
      seededGaloisKeyPerStep: seeded2.galois!.length - seeded1.galois!.length,
    };
    sizes.push(entry);
    const predicted = predictSizes({ polyModulusDegree: n, coeffModulusBits: chain }, [1]);
    const exact =
      predicted.ciphertext.every((b, i) => b === levelSizes[i]) &&
      predicted.seededCiphertext === seeded &&
      predicted.relinKeys === entry.relinKeys &&
      predicted.seededRelinKeys === entry.seededRelinKeys &&
      predicted.galoisKeys === full1.galois!.length &&
      predicted.seededGaloisKeys === seeded1.galois!.length;
    sizeRows.push(
      `| ${n} | ${chain.join(',')} | ${levelSizes.join(' / ')} | ${seeded} | ${entry.relinKeys} / ${entry.seededRelinKeys} | ${entry.galoisKeyPerStep} / ${entry.seededGaloisKeyPerStep} | ${exact ? 'exact' : 'MISMATCH'} |`,
    );

    // key generation, seeded (the client's path): relinearisation alone, then with 4 Galois keys
    const noSteps = generateKeys(ctx);
    const four = generateKeys(ctx, { rotationSteps: [1, 2, 3, 4] });
    const keyRepeats = Math.min(repeats, 5);
    const relinMs = time(
      keyRepeats,
      () => noSteps.serializeEvaluationKeys(),
      () => undefined,
    );
    const withFour = time(
      keyRepeats,
      () => four.serializeEvaluationKeys(),
      () => undefined,
    );
    keyGeneration.push({ n, chain, relinMs, galoisPerStepMs: (withFour - relinMs) / 4 });
    for (const k of [noSteps, four, keys2, keys]) k.dispose();
    enc.dispose();
    ctx.dispose();
  }

  const table: OpCostTable = {
    format: 'pann-op-costs',
    version: 1,
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      nodeSeal: seal.Version,
    },
    model:
      'ms = a + b·p + c·p² per (N, op), p = primes at the level; c = 0 except mul and rotate (key switching); relative least squares on the fastest median per p, without levels > 50 % slower than the leave-one-out fit',
    repeats,
    samples,
    fits: fitTable(samples),
    sizes,
    keyGeneration,
  };
  writeFileSync(fileURLToPath(new URL('../../bench/op-costs.json', import.meta.url)), `${JSON.stringify(table, null, 1)}\n`);

  console.log(
    `node-seal ${seal.Version}, ${table.machine.cpu}, ${table.machine.cores} cores, ${process.version}; median of ${repeats} (ms)\n`,
  );
  console.log('| N | chain (bits) | level | primes | add | addPlain | mulPlain | mul+relin | rescale | rotate | drop 1 | decrypt+decode |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\nClient side at the top level (ms):\n');
  console.log('| N | chain (bits) | primes | encode | encrypt (public key) | encrypt (symmetric) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of clientRows) console.log(r);
  console.log('\nFitted model (ms = a + b·p + c·p²):\n');
  console.log('| N | op | a | b | c |');
  console.log('|---|---|---|---|---|');
  for (const [n, row] of Object.entries(table.fits)) {
    for (const op of MEASURED_OPS)
      console.log(`| ${n} | ${op} | ${row[op].a.toFixed(4)} | ${row[op].b.toFixed(4)} | ${row[op].c.toFixed(4)} |`);
  }
  console.log('\nSerialized sizes (bytes; uncompressed; ciphertext per level top→0 listed 0→top):\n');
  console.log(
    '| N | chain | ciphertext by level | seeded ciphertext | relin keys full / seeded | Galois key per step full / seeded | vs prediction |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of sizeRows) console.log(r);
  console.log('\nKey generation, seeded form (ms):\n');
  console.log('| N | chain | relin keys | Galois key per step |');
  console.log('|---|---|---|---|');
  for (const k of keyGeneration) console.log(`| ${k.n} | ${k.chain.join(',')} | ${fmt(k.relinMs)} | ${fmt(k.galoisPerStepMs)} |`);
  console.log('\nwrote bench/op-costs.json');
}
