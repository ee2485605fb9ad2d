/**
 * A circuit's client-aided refresh rounds (docs/refresh.md), read off its ops: consecutive `refresh` ops form one
 * round. An evaluation runs segment by segment between them, and may stop at a round and resume later, in another
 * request or process, from nothing but the round's fresh ciphertexts. That holds because of the **round
 * invariant**: no register written before a round is read after it, except through the round (its sources come
 * back as its destinations). The replay check enforces it on every circuit.
 */
import { CircuitError } from '../errors.js';
import type { Circuit, CircuitOp, Relayout } from './types.js';

/** Level and scale of one ciphertext. */
export interface CipherPlace {
  level: number;
  scale: number;
}

/** One refresh round: where it sits in the ops, what the key holder receives, and what it sends back. */
export interface RefreshRound {
  /** 0-based round number. */
  index: number;
  /** Op index of the round's first refresh op. */
  start: number;
  /** Op index right after the round: where an evaluation resumes. */
  end: number;
  /** Registers masked and sent (in order), and the registers their fresh ciphertexts land in. */
  sources: number[];
  destinations: number[];
  /** Mask bound R of each source: masks are uniform on [−R, R]. */
  maskBounds: number[];
  /** Level and scale of each masked ciphertext (its source's). */
  masked: CipherPlace[];
  /** Level (the top of the chain) and scale every fresh ciphertext is encrypted at. */
  fresh: CipherPlace;
  /** Where the key holder moves the values (types.ts Relayout); absent: each value stays in its slot. */
  relayout?: Relayout;
  /** Per ciphertext, when they differ (a round carrying residual values too): its relayout or null. */
  relayouts?: (Relayout | null)[];
}

/** The relayout of ciphertext k of a round (its own when the round has one per ciphertext), or undefined. */
export function ciphertextRelayout(round: Pick<RefreshRound, 'relayout' | 'relayouts'>, k: number): Relayout | undefined {
  if (round.relayouts) return round.relayouts[k] ?? undefined;
  return round.relayout;
}

type RefreshOp = Extract<CircuitOp, { op: 'refresh' }>;

/**
 * A round's free relayout applied to one vector of `slotCount` slots (types.ts Relayout): value i from slot
 * from[i] to every slot of to[i], 0 elsewhere; without one, the values as they are. The key holder applies it to the
 * decrypted x + r, the evaluator to r.
 */
export function relayoutSlots(values: Float64Array, relayout: Relayout | undefined, slotCount: number): Float64Array {
  if (!relayout) return values;
  const out = new Float64Array(slotCount);
  relayout.from.forEach((s, i) => {
    const v = values[s] ?? 0;
    for (const d of relayout.to[i]!) out[d] = v;
  });
  return out;
}

/** The refresh rounds of a circuit, in op order (empty for a single-chain circuit). */
export function refreshRounds(c: Pick<Circuit, 'ops' | 'registerLevel' | 'registerScale' | 'relayouts'>): RefreshRound[] {
  const rounds: RefreshRound[] = [];
  const whole = new Map<number, Relayout>();
  const per = new Map<number, Map<number, Relayout>>();
  for (const r of c.relayouts ?? []) {
    if (r.ciphertext === undefined) whole.set(r.round, { from: r.from, to: r.to });
    else {
      if (!per.has(r.round)) per.set(r.round, new Map());
      per.get(r.round)!.set(r.ciphertext, { from: r.from, to: r.to });
    }
  }
  for (let i = 0; i < c.ops.length; i++) {
    if (c.ops[i]!.op !== 'refresh') continue;
    const ops: RefreshOp[] = [];
    for (; i < c.ops.length && c.ops[i]!.op === 'refresh'; i++) ops.push(c.ops[i] as RefreshOp);
    const dst = ops[0]!.dst;
    rounds.push({
      index: rounds.length,
      start: i - ops.length,
      end: i,
      sources: ops.map((op) => op.src),
      destinations: ops.map((op) => op.dst),
      maskBounds: ops.map((op) => op.maskBound),
      masked: ops.map((op) => ({ level: c.registerLevel[op.src]!, scale: c.registerScale[op.src]! })),
      fresh: { level: c.registerLevel[dst]!, scale: c.registerScale[dst]! },
      ...(whole.has(rounds.length) ? { relayout: whole.get(rounds.length)! } : {}),
      ...(per.has(rounds.length) ? { relayouts: ops.map((_, k) => per.get(rounds.length)!.get(k) ?? null) } : {}),
    });
  }
  return rounds;
}

/**
 * The round invariant: every register read after a round (or returned as an output) was written by the round or
 * after it. So at each round every live value is one of its sources, and resuming needs only the op index after
 * the round and its fresh ciphertexts. Throws a CircuitError naming the register, the round and the reading op.
 */
export function checkRoundInvariant(c: Pick<Circuit, 'ops' | 'registerLevel' | 'registerScale' | 'outputRegisters'>): void {
  const rounds = refreshRounds(c);
  if (rounds.length === 0) return;
  // the round that last precedes each op: its first destination is the smallest register an op after it may read
  let r = -1;
  const check = (reg: number, reader: string) => {
    const round = rounds[r]!;
    if (reg >= round.destinations[0]!) return;
    const hint = round.sources.includes(reg)
      ? `it is a source of the round: read its fresh copy (register ${round.destinations[round.sources.indexOf(reg)]}) instead`
      : 'make it a source of the round, so it comes back fresh';
    throw new CircuitError(
      `${reader} reads register ${reg}, written before refresh round ${round.index} (ops ${round.start}…${round.end - 1}) and not carried through it: ` +
        `an evaluation resumed after the round has only the round's fresh ciphertexts (${hint})`,
    );
  };
  c.ops.forEach((op, i) => {
    while (r + 1 < rounds.length && i >= rounds[r + 1]!.end) r++;
    if (r < 0) return;
    for (const reg of 'src' in op ? [op.src] : [op.a, op.b]) check(reg, `ops[${i}] (${op.op})`);
  });
  r = rounds.length - 1;
  for (const reg of c.outputRegisters) check(reg, 'outputRegisters');
}

/**
 * The relayouts of a circuit against its rounds and slots: one per round at most, for a round that exists; every
 * source slot within the ring's slots; every destination slot within them and written once. Throws a CircuitError
 * naming the bad entry (a key holder would otherwise write past a vector or overwrite one value with another).
 */
export function checkRelayouts(c: Pick<Circuit, 'ops' | 'registerLevel' | 'registerScale' | 'relayouts' | 'params'>): void {
  if (!c.relayouts) return;
  const rounds = refreshRounds({ ...c, relayouts: [] });
  const count = rounds.length;
  const slots = c.params.slotCount;
  const seen = new Set<string>();
  c.relayouts.forEach((r, n) => {
    const at = `relayouts[${n}]`;
    if (!Number.isInteger(r.round) || r.round < 0 || r.round >= count) {
      throw new CircuitError(`${at}.round: ${r.round} is not a refresh round of this circuit (it has ${count})`);
    }
    const size = rounds[r.round]!.sources.length;
    if (r.ciphertext !== undefined && !(Number.isInteger(r.ciphertext) && r.ciphertext >= 0 && r.ciphertext < size)) {
      throw new CircuitError(`${at}.ciphertext: ${r.ciphertext} is not a ciphertext of round ${r.round} (it has ${size})`);
    }
    const key = `${r.round}:${r.ciphertext ?? '*'}`;
    if (seen.has(key) || seen.has(`${r.round}:*`) || (r.ciphertext === undefined && [...seen].some((s) => s.startsWith(`${r.round}:`)))) {
      throw new CircuitError(
        `${at}.round: round ${r.round} has a relayout for ${r.ciphertext === undefined ? 'its ciphertexts' : `ciphertext ${r.ciphertext}`} already`,
      );
    }
    seen.add(key);
    if (r.from.length !== r.to.length) {
      throw new CircuitError(`${at}: ${r.from.length} source slots for ${r.to.length} destination lists`);
    }
    const problem = relayoutProblem(r, slots);
    if (problem) throw new CircuitError(`${at}${problem[0]}: ${problem[1]}`);
  });
}

/**
 * What is wrong with the slots of a relayout on `slots` slots (its two lists of equal length), as [the field under
 * the relayout, the problem], or null: a source or destination outside the slots, a slot written twice (a value
 * with no destination is one no later layer reads). The circuit loader and a client reading a model description both check it.
 */
export function relayoutProblem(r: Relayout, slots: number): [string, string] | null {
  const inRange = (v: number) => Number.isInteger(v) && v >= 0 && v < slots;
  const bad = r.from.findIndex((s) => !inRange(s));
  if (bad >= 0) return [`.from[${bad}]`, `${r.from[bad]} is not a slot (0…${slots - 1})`];
  const written = new Set<number>();
  for (const [i, copies] of r.to.entries()) {
    for (const [k, s] of copies.entries()) {
      if (!inRange(s)) return [`.to[${i}][${k}]`, `${s} is not a slot (0…${slots - 1})`];
      if (written.has(s)) return [`.to[${i}][${k}]`, `slot ${s} is written twice`];
      written.add(s);
    }
  }
  return null;
}
