/**
 * The executor: runs a compiled circuit on a Backend, op for op, freeing each register after its last use.
 * Plaintexts are encoded once per (circuit, backend) and reused across inferences.
 */
import { refreshRounds, type Circuit, type CircuitOp, type RefreshRound } from '../circuit/index.js';
import type { Backend, CipherHandle, PlainHandle, SpilledPlain } from './backend.js';
import { InputError, RuntimeError } from './errors.js';
import type { SplitLink, SplitPart } from './split.js';
import { freshMasks, maskRound, type RefreshClient, type RoundMasks, unmaskRound } from './refresh.js';

/** Per-stage wall-clock times of one evaluation. */
export interface StageTiming {
  name: string;
  ms: number;
}

/**
 * Latency circuits keep every plaintext encoded (each evaluation reuses them all). Throughput circuits keep only
 * plaintexts used by at least this many ops per evaluation; their one-off weights (tens of thousands of
 * constants) are encoded when used — the constant fast path, no FFT — and freed right after.
 */
const CACHE_MIN_USES = 2;

/**
 * Bytes of encoded plaintexts a prepared circuit keeps at most (SEAL's WASM heap stops just under 4 GB, and the
 * keys and ciphertexts need their share). A latency circuit whose plaintexts need more — a ResNet on N = 32768,
 * thousands of diagonals at 2.4 MB each — keeps the first ones up to this and encodes the rest on use, freeing each
 * right after its op.
 */
export const PLAINTEXT_CACHE_BYTES = 2 ** 30;

/**
 * Plaintexts stop being cached once the backend's bounded memory (SEAL's WASM heap) has reached this: measured on
 * fashion-resnet8 at N = 32768, encoding 932 MiB of plaintexts grew the heap from 1951 MiB (after the keys) past
 * its 4 GiB cap, so a byte count of plaintexts alone does not bound it. Past the ceiling the rest are encoded on
 * use and freed after their op, reusing the same memory.
 */
export const PLAINTEXT_CACHE_HEAP_CEILING = 3 * 2 ** 30;

/**
 * Bytes of plaintexts kept outside the backend's memory (Backend.spill: SEAL's bytes in JS buffers) once they no
 * longer fit the cache: loading one back costs about 1.1 ms at N = 32768 against 17.6 ms to encode it (measured in
 * one run on the 2-core machine). fashion-resnet20 on N = 32768 needs about 2.5 GB of them; past this budget the
 * rest are encoded on use.
 */
export const PLAINTEXT_SPILL_BYTES = 6 * 2 ** 30;

/**
 * Where an evaluation stands after a segment: stopped at a refresh round, with the masked ciphertexts for the key
 * holder, or done, with the outputs. Either way the ciphertexts are the caller's.
 */
export type EvaluationStep = { kind: 'round'; round: RefreshRound; masked: CipherHandle[] } | { kind: 'done'; outputs: CipherHandle[] };

/** A circuit bound to a backend: plaintexts encoded, last uses computed. Dispose to free the plaintexts. */
export class PreparedCircuit {
  readonly circuit: Circuit;
  readonly backend: Backend;
  /** The circuit's refresh rounds, in order. */
  readonly rounds: readonly RefreshRound[];
  readonly #plain: (PlainHandle | null)[];
  readonly #spilled: (SpilledPlain | null)[];
  readonly #uses: Int32Array;
  readonly #lastUse: Int32Array;
  readonly #inputCount: number;
  /** Bytes of the plaintexts kept encoded so far (at most PLAINTEXT_CACHE_BYTES). */
  #cachedBytes = 0;
  /** Bytes of the plaintexts spilled outside the backend's memory (at most PLAINTEXT_SPILL_BYTES). */
  #spilledBytes = 0;
  #disposed = false;
  /** Called as each circuit stage of an evaluation finishes (progress of long throughput evaluations). */
  onStageDone: ((stage: StageDone) => void) | undefined;
  /** The key holder for refresh rounds (circuits with refresh ops need one; runSeal and runSim attach a local one). */
  refreshClient: RefreshClient | null = null;
  /** The masks of each evaluateBatch call (masking and unmasking need the same). @default freshMasks */
  masks: () => RoundMasks = freshMasks;

  constructor(circuit: Circuit, backend: Backend) {
    if (backend.slotCount !== circuit.params.polyModulusDegree / 2) {
      throw new RuntimeError(`backend has ${backend.slotCount} slots, circuit needs ${circuit.params.polyModulusDegree / 2}`);
    }
    const expectedLevel = circuit.params.coeffModulusBits.length - 2;
    if (backend.maxLevel !== expectedLevel) {
      throw new RuntimeError(`backend max level ${backend.maxLevel} ≠ circuit's ${expectedLevel}`);
    }
    for (let i = 0; i < circuit.params.primeValues.length; i++) {
      if (backend.primes[i] !== circuit.params.primeValues[i]) {
        throw new RuntimeError(`backend prime ${i} is ${backend.primes[i]}, circuit expects ${circuit.params.primeValues[i]}`);
      }
    }
    this.circuit = circuit;
    this.backend = backend;
    this.#plain = circuit.plaintexts.map(() => null);
    this.#spilled = circuit.plaintexts.map(() => null);
    this.#uses = new Int32Array(circuit.plaintexts.length);
    for (const op of circuit.ops) if (op.op === 'mulPlain' || op.op === 'addPlain') this.#uses[op.pt]!++;
    this.#lastUse = lastUses(circuit.ops, circuit.registerCount);
    this.#inputCount = circuit.mode === 'throughput' ? circuit.inputLayout.length : 1;
    this.rounds = refreshRounds(circuit);
  }

  /** Number of input ciphertexts an evaluation takes (1 in latency mode). */
  get inputCount(): number {
    return this.#inputCount;
  }

  #encode(id: number): PlainHandle {
    const p = this.circuit.plaintexts[id];
    if (!p) throw new RuntimeError(`circuit references plaintext ${id}, which does not exist`);
    if (p.constant !== undefined) return this.backend.encodeConstant(p.constant, p.level, p.scale);
    const values = new Float64Array(this.backend.slotCount);
    if (p.indices && p.values) for (let i = 0; i < p.indices.length; i++) values[p.indices[i]!] = p.values[i]!;
    return this.backend.encode(values, p.level, p.scale);
  }

  /** The plaintext for an op, and whether the caller must free it after the op. */
  #plaintext(id: number): { h: PlainHandle; transient: boolean } {
    const cached = this.#plain[id];
    if (cached) return { h: cached, transient: false };
    const spilled = this.#spilled[id];
    if (spilled && this.backend.unspill) return { h: this.backend.unspill(spilled), transient: true };
    const h = this.#encode(id);
    if (this.#keep(id)) {
      this.#plain[id] = h;
      this.#cachedBytes += this.#bytes(id);
      return { h, transient: false };
    }
    this.#spill(id, h);
    return { h, transient: true };
  }

  #keep(id: number): boolean {
    if (this.#cachedBytes + this.#bytes(id) > PLAINTEXT_CACHE_BYTES) return false;
    if ((this.backend.memoryBytes?.() ?? 0) > PLAINTEXT_CACHE_HEAP_CEILING) return false;
    return this.#worthKeeping(id);
  }

  #worthKeeping(id: number): boolean {
    return this.circuit.mode === 'latency' || this.#uses[id]! >= CACHE_MIN_USES;
  }

  /** Whether plaintext id would be spilled: not yet, worth keeping, and within the spill budget. */
  #spillable(id: number): boolean {
    return !this.#spilled[id] && this.#worthKeeping(id) && this.#spilledBytes + this.#bytes(id) <= PLAINTEXT_SPILL_BYTES;
  }

  /** Keep a copy of an encoded plaintext that did not fit the cache outside the backend, if there is room. */
  #spill(id: number, h: PlainHandle): void {
    if (!this.backend.spill || !this.#spillable(id)) return;
    const s = this.backend.spill(h);
    this.#spilled[id] = s;
    this.#spilledBytes += s.bytes;
  }

  /** Bytes of plaintexts kept encoded in the backend's memory and spilled outside it. */
  get plaintextBytes(): { cached: number; spilled: number } {
    return { cached: this.#cachedBytes, spilled: this.#spilledBytes };
  }

  /** An encoded plaintext's size: N coefficients per prime at its level, 8 bytes each (a constant is as large). */
  #bytes(id: number): number {
    return this.circuit.params.polyModulusDegree * (this.circuit.plaintexts[id]!.level + 1) * 8;
  }

  /**
   * Encode every plaintext (or those in `only`: a split part's) that stays encoded now, and spill those past the
   * cache (otherwise both happen lazily on first use).
   */
  encodeAll(only?: ReadonlySet<number>): void {
    for (let i = 0; i < this.circuit.plaintexts.length; i++) {
      if (this.#plain[i] || this.#spilled[i] || (only && !only.has(i))) continue;
      if (this.#keep(i)) {
        this.#plain[i] = this.#encode(i);
        this.#cachedBytes += this.#bytes(i);
      } else if (this.backend.spill && this.#spillable(i)) {
        const h = this.#encode(i);
        try {
          this.#spill(i, h);
        } finally {
          this.backend.free(h);
        }
      }
    }
  }

  /**
   * Evaluate a latency circuit on one encrypted input (the caller keeps ownership of `input`). Returns the output
   * ciphertext (owned by the caller) and per-stage timings.
   */
  evaluate(input: CipherHandle): { output: CipherHandle; timings: StageTiming[] } {
    if (this.circuit.mode !== 'latency')
      throw new RuntimeError('evaluate: a throughput circuit takes one ciphertext per input value (evaluateBatch)');
    const { outputs, timings } = this.evaluateBatch([input]);
    return { output: outputs[0]!, timings };
  }

  /**
   * Evaluate on the input ciphertexts (latency: one; throughput: one per input value), playing the evaluator's part
   * of every refresh round with the attached key holder (`refreshClient`) in between. The caller keeps ownership of
   * the inputs and owns the returned outputs.
   */
  evaluateBatch(inputs: readonly CipherHandle[]): { outputs: CipherHandle[]; timings: StageTiming[] } {
    if (this.rounds.length > 0 && !this.refreshClient) {
      throw new RuntimeError(`op ${this.rounds[0]!.start}: the circuit has a refresh round and no key holder is attached`);
    }
    const be = this.backend;
    const clock = new StageClock(this.circuit.stages, this.onStageDone);
    const masks = this.masks();
    let step = this.#start(inputs, masks, clock);
    while (step.kind === 'round') {
      const { round, masked } = step;
      const fresh = this.#keyHolder(round, masked);
      try {
        step = this.#resume(round.index, fresh, masks, clock);
      } finally {
        for (const h of fresh) be.free(h);
      }
    }
    clock.finish();
    return { outputs: step.outputs, timings: clock.timings };
  }

  /**
   * The first segment of an evaluation: from the inputs (the caller keeps them) to the first refresh round, or to
   * the end. `masks` must be the ones `resume` is given for the same evaluation.
   */
  start(inputs: readonly CipherHandle[], masks: RoundMasks): EvaluationStep {
    return this.#start(inputs, masks);
  }

  /**
   * The segment after refresh round `round`: the key holder's fresh ciphertexts (the caller keeps them) are checked
   * (count, level, scale), unmasked with the same masks the round was masked with, and evaluation runs on to the
   * next round or the end. Needs nothing else from the evaluation so far (the round invariant, src/circuit/rounds.ts).
   */
  resume(round: number, fresh: readonly CipherHandle[], masks: RoundMasks): EvaluationStep {
    return this.#resume(round, fresh, masks);
  }

  /**
   * One worker's part of an evaluation split over several backends (src/runtime/split.ts): its ops in program
   * order, sending and receiving ciphertexts through `link`. Worker 0 takes the input (the caller keeps it), runs
   * the refresh rounds with the attached key holder and returns the outputs (the caller's); the others take no
   * inputs and return none.
   */
  evaluatePart(part: SplitPart, link: SplitLink, inputs: readonly CipherHandle[]): { outputs: CipherHandle[]; timings: StageTiming[] } {
    if (this.#disposed) throw new RuntimeError('prepared circuit was disposed');
    if (this.circuit.mode !== 'latency') throw new RuntimeError('evaluatePart: a throughput circuit splits its batch, not its ops');
    if (part.worker === 0) this.#checkInputs(inputs);
    else if (inputs.length > 0) throw new RuntimeError(`evaluatePart: worker ${part.worker} takes no inputs`);
    if (part.worker === 0 && this.rounds.length > 0 && !this.refreshClient) {
      throw new RuntimeError(`op ${this.rounds[0]!.start}: the circuit has a refresh round and no key holder is attached`);
    }
    const clock = new StageClock(this.circuit.stages, this.onStageDone);
    const regs = new RegisterFile(this.backend, this.circuit, part.lastUse);
    inputs.forEach((h, i) => regs.place(i, h));
    const masks = this.masks();
    try {
      part.steps.forEach((step, s) => {
        if (step.kind === 'send') {
          link.send(step.id, step.to, regs.read(step.reg));
          regs.freeIfDead(step.reg, s);
        } else if (step.kind === 'recv') regs.write(step.reg, link.recv(step.id, step.from));
        else {
          clock.reach(step.i);
          const op = this.circuit.ops[step.i]!;
          if (op.op !== 'refresh') {
            this.#execute(op, s, regs);
            regs.freeDeadOperands(op, s);
          } else {
            const round = this.rounds.find((r) => r.start === step.i);
            if (round) this.#roundInPlace(round, regs, masks);
          }
        }
      });
      clock.finish();
      return { outputs: part.worker === 0 ? regs.takeOutputs(this.circuit.outputRegisters) : [], timings: clock.timings };
    } finally {
      regs.freeOwned();
    }
  }

  /** The key holder's fresh ciphertexts for a round's masked ones (which are freed here). */
  #keyHolder(round: RefreshRound, masked: CipherHandle[]): CipherHandle[] {
    try {
      return this.refreshClient!(masked, round);
    } finally {
      for (const h of masked) this.backend.free(h);
    }
  }

  /** A refresh round inside a split evaluation: mask the sources, the key holder's fresh ciphertexts unmasked. */
  #roundInPlace(round: RefreshRound, regs: RegisterFile, masks: RoundMasks): void {
    const be = this.backend;
    const masked = maskRound(
      be,
      round.sources.map((r) => regs.read(r)),
      round,
      masks,
    );
    for (const r of round.sources) regs.release(r);
    const fresh = this.#keyHolder(round, masked);
    try {
      unmaskRound(be, fresh, round, masks).forEach((h, k) => regs.write(round.destinations[k]!, h));
    } finally {
      for (const h of fresh) be.free(h);
    }
  }

  #start(inputs: readonly CipherHandle[], masks: RoundMasks, clock?: StageClock): EvaluationStep {
    if (this.#disposed) throw new RuntimeError('prepared circuit was disposed');
    this.#checkInputs(inputs);
    const regs = new RegisterFile(this.backend, this.circuit, this.#lastUse);
    inputs.forEach((h, i) => regs.place(i, h));
    return this.#segment(regs, 0, masks, clock);
  }

  #resume(index: number, fresh: readonly CipherHandle[], masks: RoundMasks, clock?: StageClock): EvaluationStep {
    if (this.#disposed) throw new RuntimeError('prepared circuit was disposed');
    const round = this.rounds[index];
    if (!round) throw new InputError(`resume after refresh round ${index}: the circuit has ${this.rounds.length} round(s)`);
    const regs = new RegisterFile(this.backend, this.circuit, this.#lastUse);
    unmaskRound(this.backend, fresh, round, masks).forEach((h, k) => regs.write(round.destinations[k]!, h));
    return this.#segment(regs, round.end, masks, clock);
  }

  /** Run ops from `from` to the next refresh round (mask its sources and stop) or to the end (take the outputs). */
  #segment(regs: RegisterFile, from: number, masks: RoundMasks, clock?: StageClock): EvaluationStep {
    const c = this.circuit;
    try {
      for (let i = from; i < c.ops.length; i++) {
        clock?.reach(i);
        const op = c.ops[i]!;
        if (op.op === 'refresh') {
          const round = this.rounds.find((r) => r.start === i)!;
          // by the round invariant nothing else is live: what this register file still owns is freed below
          return {
            kind: 'round',
            round,
            masked: maskRound(
              this.backend,
              round.sources.map((r) => regs.read(r)),
              round,
              masks,
            ),
          };
        }
        this.#execute(op, i, regs);
        regs.freeDeadOperands(op, i);
      }
      return { kind: 'done', outputs: regs.takeOutputs(c.outputRegisters) };
    } finally {
      regs.freeOwned();
    }
  }

  #checkInputs(inputs: readonly CipherHandle[]): void {
    const be = this.backend;
    if (inputs.length !== this.#inputCount) {
      throw new InputError(`circuit takes ${this.#inputCount} input ciphertext(s), got ${inputs.length}`);
    }
    for (const [i, input] of inputs.entries()) {
      if (input.level !== be.maxLevel) throw new InputError(`input ciphertext ${i} is at level ${input.level}, expected ${be.maxLevel}`);
      if (Math.abs(input.scale / this.circuit.inputScale - 1) > 1e-9) {
        throw new InputError(`input ciphertext ${i} scale ${input.scale} ≠ circuit input scale ${this.circuit.inputScale}`);
      }
    }
  }

  /** Run op i, writing its result to its destination register. */
  #execute(op: CircuitOp, i: number, regs: RegisterFile): void {
    const be = this.backend;
    switch (op.op) {
      case 'rotate':
        return regs.write(op.dst, be.rotate(regs.read(op.src), op.steps));
      case 'mulPlain':
        return regs.write(
          op.dst,
          this.#withPlain(op.pt, (p) => be.mulPlain(regs.read(op.src), p)),
        );
      case 'addPlain':
        return regs.write(
          op.dst,
          this.#withPlain(op.pt, (p) => be.addPlain(regs.read(op.src), p)),
        );
      case 'mul':
        return regs.write(op.dst, be.mul(regs.read(op.a), regs.read(op.b)));
      case 'add': {
        // accumulate into an operand nobody reads again (the multiply–accumulate chains of linear layers):
        // no new ciphertext and no copy of it; the register passes to dst
        const into = op.a !== op.b ? [op.a, op.b].find((r) => regs.isLastOwnedUse(r, i)) : undefined;
        if (into === undefined) return regs.write(op.dst, be.add(regs.read(op.a), regs.read(op.b)));
        be.addInPlace(regs.read(into), regs.read(into === op.a ? op.b : op.a));
        return regs.move(into, op.dst);
      }
      case 'sub':
        return regs.write(op.dst, be.sub(regs.read(op.a), regs.read(op.b)));
      case 'rescale':
        return regs.write(op.dst, be.rescale(regs.read(op.src)));
      case 'drop':
        return regs.write(op.dst, be.dropToLevel(regs.read(op.src), op.level));
      case 'setScale':
        // relabel in place: the compiler only emits setScale on a register's last use
        if (!regs.isLastUse(op.src, i)) throw new RuntimeError(`op ${i}: setScale on register ${op.src}, which is read later`);
        be.setScale(regs.read(op.src), op.scale);
        return regs.move(op.src, op.dst);
      case 'refresh':
        throw new RuntimeError(`op ${i}: internal: refresh ops run as rounds`);
    }
  }

  /** Apply `f` to plaintext `id`, freeing it afterwards when it is not kept encoded. */
  #withPlain(id: number, f: (p: PlainHandle) => CipherHandle): CipherHandle {
    const { h, transient } = this.#plaintext(id);
    try {
      return f(h);
    } finally {
      if (transient) this.backend.free(h);
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const h of this.#plain) if (h) this.backend.free(h);
    this.#plain.fill(null);
    this.#spilled.fill(null);
    this.#cachedBytes = 0;
    this.#spilledBytes = 0;
  }
}

/**
 * The registers of one evaluation: which hold a ciphertext, which this evaluation created (and may free), which
 * are outputs (handed to the caller). A register is freed right after its last use.
 */
class RegisterFile {
  readonly #be: Backend;
  readonly #regs: (CipherHandle | null)[];
  readonly #owned: Uint8Array;
  readonly #isOutput: Uint8Array;
  readonly #lastUse: Int32Array;

  constructor(be: Backend, c: Circuit, lastUse: Int32Array) {
    this.#be = be;
    this.#regs = new Array<CipherHandle | null>(c.registerCount).fill(null);
    this.#owned = new Uint8Array(c.registerCount);
    this.#isOutput = new Uint8Array(c.registerCount);
    for (const r of c.outputRegisters) this.#isOutput[r] = 1;
    this.#lastUse = lastUse;
  }

  /** An input ciphertext: the caller's (never freed here). */
  place(r: number, h: CipherHandle): void {
    this.#regs[r] = h;
  }

  read(r: number): CipherHandle {
    const h = this.#regs[r];
    if (!h) throw new RuntimeError(`register ${r} read before it was written`);
    return h;
  }

  /** A new ciphertext this evaluation made. */
  write(dst: number, h: CipherHandle): void {
    this.#regs[dst] = h;
    this.#owned[dst] = 1;
  }

  /** Hand register `from`'s ciphertext (and whether it may be freed) to `to`. */
  move(from: number, to: number): void {
    const h = this.read(from);
    const owned = this.#owned[from]!;
    this.#regs[from] = null;
    this.#owned[from] = 0;
    this.#regs[to] = h;
    this.#owned[to] = owned;
  }

  /** Whether op i is register r's last use and r is this evaluation's own, not an output: it may be overwritten. */
  isLastOwnedUse(r: number, i: number): boolean {
    return this.#lastUse[r] === i && this.#owned[r] === 1 && this.#isOutput[r] === 0;
  }

  /** Whether position i (an op index, or a step of a split part) is register r's last read. */
  isLastUse(r: number, i: number): boolean {
    return this.#lastUse[r] === i;
  }

  /** Free register r if position i was its last read and it is this evaluation's own. */
  freeIfDead(r: number, i: number): void {
    const h = this.#regs[r];
    if (h && this.isLastOwnedUse(r, i)) {
      this.#be.free(h);
      this.#regs[r] = null;
    }
  }

  /** Free register r's ciphertext now if it is this evaluation's own (a round's source, sent masked). */
  release(r: number): void {
    const h = this.#regs[r];
    if (h && this.#owned[r]) this.#be.free(h);
    this.#regs[r] = null;
    this.#owned[r] = 0;
  }

  /** Free the operands op i was the last use of. */
  freeDeadOperands(op: CircuitOp, i: number): void {
    for (const r of operands(op)) {
      const h = this.#regs[r];
      if (h && this.isLastOwnedUse(r, i)) {
        this.#be.free(h);
        this.#regs[r] = null;
      }
    }
  }

  /** The output registers' ciphertexts, now the caller's. */
  takeOutputs(outputs: readonly number[]): CipherHandle[] {
    return outputs.map((r) => {
      if (!this.#owned[r]) throw new RuntimeError(`circuit output register ${r} is not one this evaluation computed`);
      const h = this.read(r);
      this.#regs[r] = null;
      return h;
    });
  }

  /** Free whatever this evaluation made and still holds (after an error, or what was never read). */
  freeOwned(): void {
    for (let r = 0; r < this.#regs.length; r++) {
      const h = this.#regs[r];
      if (h && this.#owned[r]) this.#be.free(h);
    }
  }
}

/** A circuit stage an evaluation has just finished: its name, and index of count. */
export interface StageDone {
  name: string;
  index: number;
  count: number;
  ms: number;
}

/** Wall-clock time per circuit stage, as the ops run. */
class StageClock {
  readonly timings: StageTiming[] = [];
  readonly #stages: Circuit['stages'];
  readonly #onDone: ((stage: StageDone) => void) | undefined;
  #stage = 0;
  #start = performance.now();

  constructor(stages: Circuit['stages'], onDone?: (stage: StageDone) => void) {
    this.#stages = stages;
    this.#onDone = onDone;
  }

  /** Op i is about to run: close every stage that ends before it. */
  reach(i: number): void {
    while (this.#stage < this.#stages.length && i >= this.#stages[this.#stage]!.ops[1]) this.#close();
  }

  finish(): void {
    while (this.#stage < this.#stages.length) this.#close();
  }

  #close(): void {
    const timing = { name: this.#stages[this.#stage]!.name, ms: performance.now() - this.#start };
    this.timings.push(timing);
    this.#onDone?.({ ...timing, index: this.#stage, count: this.#stages.length });
    this.#start = performance.now();
    this.#stage++;
  }
}

function operands(op: CircuitOp): number[] {
  return 'src' in op ? [op.src] : [op.a, op.b];
}

function lastUses(ops: readonly CircuitOp[], registers: number): Int32Array {
  const last = new Int32Array(registers).fill(-1);
  ops.forEach((op, i) => {
    for (const r of operands(op)) last[r] = i;
  });
  return last;
}

/**
 * Throughput mode: one slot vector per input value; slot b holds input b (count ≤ N/2 inputs of
 * inputLayout.length values, back to back).
 */
export function encodeBatch(circuit: Circuit, inputs: ArrayLike<number>, count: number): Float64Array[] {
  const n = circuit.inputLayout.length;
  const slots = circuit.params.polyModulusDegree / 2;
  if (!Number.isInteger(count) || count < 1 || count > slots) throw new InputError(`batch of ${count} inputs: must be 1..${slots}`);
  if (inputs.length !== count * n) throw new InputError(`expected ${count} inputs of ${n} values, got ${inputs.length} values`);
  const out = Array.from({ length: n }, () => new Float64Array(slots));
  for (let b = 0; b < count; b++)
    for (let j = 0; j < n; j++) {
      const v = inputs[b * n + j]!;
      if (!Number.isFinite(v)) throw new InputError(`input ${b} value ${j} is ${v}, not a finite number`);
      out[j]![b] = v * circuit.inputMultiplier;
    }
  return out;
}

/** Throughput mode: logits of `count` inputs from the decrypted output vectors (one per output). */
export function decodeBatch(circuit: Circuit, outputs: readonly ArrayLike<number>[], count: number): Float64Array[] {
  return Array.from({ length: count }, (_, b) => Float64Array.from(outputs, (o) => o[b]! * circuit.outputMultiplier));
}

/** Slot vector for one raw input (length = the circuit's input length), every copy filled. */
export function encodeInput(circuit: Circuit, input: ArrayLike<number>): Float64Array {
  const layout = circuit.inputLayout;
  if (input.length !== layout.length) {
    throw new InputError(`input has ${input.length} values, the circuit expects ${layout.length}`);
  }
  const slots = new Float64Array(circuit.params.polyModulusDegree / 2);
  for (let j = 0; j < layout.length; j++) {
    const v = input[j]!;
    if (!Number.isFinite(v)) throw new InputError(`input value ${j} is ${v}, not a finite number`);
    for (const s of layout.slots[j]!) slots[s] = v * circuit.inputMultiplier;
  }
  return slots;
}

/** Logits from decrypted slots. */
export function decodeOutput(circuit: Circuit, slots: ArrayLike<number>): Float64Array {
  const layout = circuit.outputLayout;
  return Float64Array.from({ length: layout.length }, (_, i) => slots[layout.slots[i]![0]!]! * circuit.outputMultiplier);
}
