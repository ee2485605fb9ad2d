/**
 * One evaluation on several SEAL instances at once: the ops of a latency circuit are split between workers, each
 * with its own node-seal heap and its own core, and the ciphertexts one worker computes and another reads are sent
 * between them (SEAL's bytes, a few ms for a ciphertext that a rotation takes 100 ms on at N = 32768).
 *
 * The plan is static, made once per circuit by list scheduling in program order: each op goes to the worker where
 * it would finish first (its operands' arrival, with the transfer time when they live elsewhere, and the worker's
 * queue), under a cost model of node-seal's ops per prime (docs/compiler.md, "Runtime"). Worker 0 holds the inputs, runs every
 * refresh round (its sources are sent to it first) and keeps the outputs.
 *
 * Each worker runs its own steps in program order; a `send` goes right after the op (or receive) that made the
 * value, a `recv` right before the first op that reads it. Because every worker's steps follow one global order and
 * each send precedes its receive in it, the workers cannot wait on each other in a cycle.
 */
import { refreshRounds, type Circuit, type CircuitOp, type RefreshRound } from '../circuit/index.js';
import type { CipherHandle } from './backend.js';
import { InputError } from './errors.js';

/** One thing a worker does: run op i, send a register's ciphertext to a worker, or receive one. */
export type SplitStep =
  | { kind: 'op'; i: number }
  | { kind: 'send'; reg: number; to: number; id: number }
  | { kind: 'recv'; reg: number; from: number; id: number };

/** How a worker's ciphertexts reach another (the transport of a split evaluation). */
export interface SplitLink {
  /** Send a ciphertext (the caller keeps it) for transfer `id` to worker `to`. */
  send(id: number, to: number, ct: CipherHandle): void;
  /** The ciphertext of transfer `id` from worker `from`, a new handle the caller owns; blocks until it arrives. */
  recv(id: number, from: number): CipherHandle;
}

/** What one worker runs of an evaluation. */
export interface SplitPart {
  worker: number;
  steps: SplitStep[];
  /** For each register, the position in `steps` of its last read on this worker (−1: never read here). */
  lastUse: Int32Array;
}

export interface SplitPlan {
  workers: number;
  parts: SplitPart[];
  /** Ciphertexts sent between workers per evaluation. */
  transfers: number;
  /** The cost model's time of one evaluation on one worker and split (arbitrary units; their ratio matters). */
  predicted: { serial: number; split: number };
}

/**
 * Relative cost of each op on a ciphertext with `primes` primes (node-seal 6.0.3, measured at N = 32768 with 11
 * primes on the 2-core machine: a rotation 232 ms and a relinearised product 239 ms — both key-switch over every
 * prime and the special one —, a rescale 45 ms, a plain product 9.6 ms, an addition 1 ms; saving and loading a
 * ciphertext 6.1 + 1.9 ms, priced at twice that for the wait and the message).
 */
const COST = { rotate: 3.6, mul: 3.7, mulPlain: 0.15, rescale: 0.7, add: 0.015, drop: 0.1, transfer: 0.25 } as const;

function opCost(op: CircuitOp, primes: number): number {
  switch (op.op) {
    case 'rotate':
      return COST.rotate * (primes + 1);
    case 'mul':
      return COST.mul * (primes + 1);
    case 'mulPlain':
      return COST.mulPlain * primes;
    case 'rescale':
      return COST.rescale * primes;
    case 'drop':
      return COST.drop * primes;
    case 'setScale':
    case 'refresh':
      return 0;
    default:
      return COST.add * primes;
  }
}

function reads(op: CircuitOp): number[] {
  return 'src' in op ? [op.src] : [op.a, op.b];
}

/** Split a latency circuit's ops over `workers` workers (1 = everything on worker 0, no transfers). */
export function splitCircuit(circuit: Circuit, workers: number): SplitPlan {
  if (!Number.isInteger(workers) || workers < 1 || workers > 16)
    throw new InputError(`split: workers must be an integer 1…16, got ${workers}`);
  if (circuit.mode !== 'latency')
    throw new InputError('split: only a latency circuit splits (a throughput circuit splits its batch instead)');
  const rounds = refreshRounds(circuit);
  const roundAt = new Map(rounds.map((r) => [r.start, r]));
  const inRound = new Set<number>();
  for (const r of rounds) for (let i = r.start; i < r.end; i++) inRound.add(i);
  const p = new Placement(circuit, workers);
  let serial = 0;
  circuit.ops.forEach((op, i) => {
    const cost = opCost(op, (circuit.registerLevel[reads(op)[0]!] ?? 0) + 1);
    serial += cost;
    if (inRound.has(i)) p.round(i, roundAt.get(i));
    else p.place(op, i, cost);
  });
  // the outputs end on worker 0
  for (const r of circuit.outputRegisters) p.bring(r, 0);
  const parts = p.steps.map((s, worker) => ({ worker, steps: s, lastUse: lastUses(circuit, s, circuit.registerCount) }));
  return { workers, parts, transfers: p.transfers, predicted: { serial, split: Math.max(...p.free) } };
}

/** The list schedule as it is built: each worker's steps and clock, and where each register's value is. */
class Placement {
  readonly steps: SplitStep[][];
  readonly free: Float64Array;
  transfers = 0;
  readonly #level: Int32Array;
  readonly #workers: number;
  /** Which workers hold each register's current value, and from when. */
  readonly #holders: Map<number, number>[];
  /** Where each register's sends go: after the step that gave its holder the value. */
  readonly #sendAfter: Map<number, number>[];

  constructor(circuit: Circuit, workers: number) {
    const n = circuit.registerCount;
    this.#level = circuit.registerLevel;
    this.#workers = workers;
    this.steps = Array.from({ length: workers }, () => []);
    this.free = new Float64Array(workers);
    this.#holders = Array.from({ length: n }, () => new Map<number, number>());
    this.#sendAfter = Array.from({ length: n }, () => new Map<number, number>());
    this.#holders[0]?.set(0, 0); // a latency circuit's one input
  }

  #transferCost(r: number): number {
    return COST.transfer * ((this.#level[r] ?? 0) + 1);
  }

  /** When register r's value could be on worker w. */
  #arrival(r: number, w: number): number {
    const h = this.#holders[r]!;
    const here = h.get(w);
    if (here !== undefined) return here;
    let best = Infinity;
    for (const t of h.values()) best = Math.min(best, t + this.#transferCost(r));
    return best;
  }

  /** Make register r's value available on worker w (a send from a holder, a receive here). */
  bring(r: number, w: number): void {
    const h = this.#holders[r]!;
    if (h.has(w) || h.size === 0) return; // there already, or read before written (the executor reports it)
    let from = -1;
    let at = Infinity;
    for (const [x, t] of h) if (t < at) [from, at] = [x, t];
    const id = this.transfers++;
    const send: SplitStep = { kind: 'send', reg: r, to: w, id };
    const after = this.#sendAfter[r]!.get(from);
    const list = this.steps[from]!;
    if (after === undefined || after + 1 >= list.length) list.push(send);
    else list.splice(after + 1, 0, send);
    // later sends of r from `from` follow this one; positions after the insertion shift by one
    shiftAfter(this.#sendAfter, from, after ?? list.length - 1, r);
    this.#sendAfter[r]!.set(from, (after ?? list.length - 2) + 1);
    this.steps[w]!.push({ kind: 'recv', reg: r, from, id });
    this.#sendAfter[r]!.set(w, this.steps[w]!.length - 1);
    h.set(w, at + this.#transferCost(r));
  }

  /** A refresh op: the round is a barrier on worker 0, every source there first, every destination there after. */
  round(i: number, round: RefreshRound | undefined): void {
    if (round) {
      for (const r of round.sources) this.bring(r, 0);
      const ready = Math.max(this.free[0]!, ...round.sources.map((r) => this.#holders[r]!.get(0) ?? 0));
      this.free.fill(Math.max(ready, ...this.free));
      for (const r of round.destinations) {
        this.#holders[r]!.clear();
        this.#holders[r]!.set(0, this.free[0]!);
      }
    }
    this.steps[0]!.push({ kind: 'op', i });
    for (const r of round?.destinations ?? []) this.#sendAfter[r]!.set(0, this.steps[0]!.length - 1);
  }

  /** Op i on the worker where it would finish first. */
  place(op: CircuitOp, i: number, cost: number): void {
    let w = 0;
    let finish = Infinity;
    for (let x = 0; x < this.#workers; x++) {
      const ready = Math.max(this.free[x]!, ...reads(op).map((r) => this.#arrival(r, x)));
      if (ready + cost < finish - 1e-9) [w, finish] = [x, ready + cost];
    }
    for (const r of reads(op)) this.bring(r, w);
    const ready = Math.max(this.free[w]!, ...reads(op).map((r) => this.#holders[r]!.get(w) ?? 0));
    this.free[w] = ready + cost;
    this.steps[w]!.push({ kind: 'op', i });
    const h = this.#holders[op.dst]!;
    h.clear();
    h.set(w, this.free[w]!);
    this.#sendAfter[op.dst]!.clear();
    this.#sendAfter[op.dst]!.set(w, this.steps[w]!.length - 1);
  }
}

/** After inserting a step into worker w's list after position p, move every recorded position > p one on. */
function shiftAfter(sendAfter: Map<number, number>[], w: number, p: number, except: number): void {
  for (let r = 0; r < sendAfter.length; r++) {
    if (r === except) continue;
    const at = sendAfter[r]!.get(w);
    if (at !== undefined && at > p) sendAfter[r]!.set(w, at + 1);
  }
}

function lastUses(circuit: Circuit, steps: readonly SplitStep[], registers: number): Int32Array {
  const last = new Int32Array(registers).fill(-1);
  const rounds = new Map(refreshRounds(circuit).map((r) => [r.start, r]));
  steps.forEach((s, p) => {
    if (s.kind === 'send') last[s.reg] = p;
    else if (s.kind === 'op') {
      const op = circuit.ops[s.i]!;
      if (op.op === 'refresh') for (const r of rounds.get(s.i)?.sources ?? []) last[r] = p;
      else for (const r of reads(op)) last[r] = p;
    }
  });
  return last;
}
