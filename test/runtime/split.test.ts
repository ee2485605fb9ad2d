/**
 * One inference split over several SEAL instances (src/runtime/split.ts, seal-split.ts): the plan runs to the end
 * in any interleaving with every operand where its op runs, and two real SEAL threads give the simulator's answer.
 */
import { describe, expect, it } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { refreshRounds } from '../../src/circuit/index.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import { InputError } from '../../src/errors.js';
import { runSim } from '../../src/runtime/inference.js';
import { runSealParallel } from '../../src/runtime/seal-parallel.js';
import { splitCircuit, type SplitPlan } from '../../src/runtime/split.js';
import { inputs, provider, tinyModel } from '../compiler/fixtures.js';
import { expectSimRecords } from './records.js';

/**
 * Run a plan symbolically: each worker advances while its next step can run (an op's operands are on the worker, a
 * send's register is, a receive's send has happened), choosing workers round robin or last-first. Throws on a
 * deadlock or a missing operand; returns the registers on worker 0 at the end.
 */
function replay(circuit: Circuit, plan: SplitPlan, order: 'forward' | 'backward'): Set<number> {
  const rounds = new Map(refreshRounds(circuit).map((r) => [r.start, r]));
  const held = plan.parts.map((_, w) => new Set<number>(w === 0 ? [0] : []));
  const sent = new Set<number>();
  const at = plan.parts.map(() => 0);
  const reads = (i: number): number[] => {
    const op = circuit.ops[i]!;
    if (op.op === 'refresh') return rounds.get(i)?.sources ?? [];
    return 'src' in op ? [op.src] : [op.a, op.b];
  };
  for (;;) {
    let moved = false;
    const ws = plan.parts.map((_, w) => w);
    if (order === 'backward') ws.reverse();
    for (const w of ws) {
      const part = plan.parts[w]!;
      while (at[w]! < part.steps.length) {
        const s = part.steps[at[w]!]!;
        if (s.kind === 'recv') {
          if (!sent.has(s.id)) break;
          held[w]!.add(s.reg);
        } else if (s.kind === 'send') {
          if (!held[w]!.has(s.reg)) throw new Error(`worker ${w} sends register ${s.reg}, which it does not hold`);
          sent.add(s.id);
        } else {
          for (const r of reads(s.i)) if (!held[w]!.has(r)) throw new Error(`op ${s.i} on worker ${w} reads register ${r}, not there`);
          const op = circuit.ops[s.i]!;
          const round = rounds.get(s.i);
          if (round) for (const r of round.destinations) held[w]!.add(r);
          else if (op.op !== 'refresh') {
            for (const h of held) h.delete(op.dst);
            held[w]!.add(op.dst);
          }
        }
        at[w]!++;
        moved = true;
      }
    }
    if (at.every((a, w) => a === plan.parts[w]!.steps.length)) return held[0]!;
    if (!moved) throw new Error(`deadlock at steps ${at.join(', ')}`);
  }
}

const cal = inputs(40, 9);
const options = { precisionBits: 3, calibration: { inputs: cal, count: 40, label: 'test' }, provider, ringDimensions: [8192] };

describe('splitCircuit', () => {
  const circuit = compileNetwork(tinyModel('relu', 'gelu'), options);
  const rounds = compileNetwork(tinyModel('relu', 'gelu'), { ...options, refresh: { before: [0, 1] } });

  it('every op on exactly one worker; runs to the end in any order; outputs on worker 0', () => {
    for (const c of [circuit, rounds])
      for (const workers of [1, 2, 3]) {
        const plan = splitCircuit(c, workers);
        const ops = plan.parts.flatMap((p) => p.steps.filter((s) => s.kind === 'op').map((s) => s.i));
        expect(ops.sort((a, b) => a - b)).toEqual(c.ops.map((_, i) => i));
        for (const order of ['forward', 'backward'] as const) {
          const end = replay(c, plan, order);
          for (const r of c.outputRegisters) expect(end.has(r)).toBe(true);
        }
        if (workers === 1) expect(plan.transfers).toBe(0);
      }
  });

  it('uses the second worker and predicts less time than one; refresh rounds stay on worker 0', () => {
    const plan = splitCircuit(rounds, 2);
    expect(plan.parts[1]!.steps.some((s) => s.kind === 'op')).toBe(true);
    expect(plan.predicted.split).toBeLessThan(plan.predicted.serial);
    const refreshOps = rounds.ops.flatMap((op, i) => (op.op === 'refresh' ? [i] : []));
    expect(refreshOps.length).toBeGreaterThan(0);
    for (const i of refreshOps) expect(plan.parts[0]!.steps.some((s) => s.kind === 'op' && s.i === i)).toBe(true);
  });

  it('rejects a throughput circuit and a bad worker count', () => {
    expect(() => splitCircuit(circuit, 0)).toThrow(InputError);
    expect(() => splitCircuit(circuit, 1.5)).toThrow(/workers must be an integer 1…16, got 1.5/);
    const batch = compileNetwork(tinyModel('relu', 'gelu'), { ...options, ringDimensions: [16384], mode: 'throughput' });
    expect(() => splitCircuit(batch, 2)).toThrow(/only a latency circuit splits/);
  });
});

describe('one inference on two SEAL threads (real SEAL)', () => {
  it("a circuit with a refresh round gives the simulator's predictions and logits", async () => {
    const circuit = compileNetwork(tinyModel('relu', 'gelu'), { ...options, refresh: { before: [0, 1] } });
    const n = 3;
    const xs = inputs(n, 41);
    const setup: string[] = [];
    const r = await runSealParallel(circuit, xs, n, { split: 2, onSetup: (s) => setup.push(s) });
    expect(r.workers).toBe(2);
    expect(setup.some((s) => s.startsWith('worker 1: context + keys'))).toBe(true);
    expectSimRecords(circuit, r.records, runSim(circuit, xs, n));
  }, 120_000);
});
