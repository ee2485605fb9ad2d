/**
 * The replay check: every op of a circuit goes again through the CircuitBuilder's level/scale checks (SEAL's
 * preconditions), and each register must land where the file says. A circuit that passes cannot hit a
 * parameter-mismatch or scale-out-of-bounds error in SEAL.
 */
import { CircuitError, errorMessage } from '../errors.js';
import { CircuitBuilder } from './builder.js';
import { checkRelayouts, checkRoundInvariant } from './rounds.js';
import type { Circuit, CircuitOp } from './types.js';

function fail(path: string, msg: string): never {
  throw new CircuitError(`${path}: ${msg}`);
}

/**
 * Replay a circuit through the builder's checks; throws a CircuitError naming the first bad field or op:
 * inputs and plaintexts → every op (registers written in order, SEAL's preconditions, the level and scale the
 * file records) → rotation keys → outputs → in-place relabels → the round invariant (rounds.ts: nothing but a
 * round's fresh ciphertexts is live after it, so an evaluation can stop and resume there) → the relayouts.
 */
export function verifyCircuit(c: Circuit): void {
  const b = new CircuitBuilder(c.params);
  const inputCount = c.mode === 'throughput' ? c.inputLayout.length : 1;
  replayInputs(c, b, inputCount);
  c.ops.forEach((op, i) => replayOp(c, b, op, i));
  if (b.registerCount() !== c.registerCount) fail('registerCount', `${c.registerCount} ≠ ${b.registerCount()} registers written`);
  const used = [...b.rotationSteps].sort((x, y) => x - y);
  if (used.join(',') !== [...c.rotationSteps].sort((x, y) => x - y).join(',')) {
    fail('rotationSteps', `[${c.rotationSteps.join(', ')}] ≠ the steps the ops use [${used.join(', ')}]`);
  }
  checkOutputs(c, inputCount);
  checkRelabels(c, inputCount);
  checkRoundInvariant(c);
  checkRelayouts(c);
}

/** The input registers (throughput: register j holds input value j) and every plaintext at its level and scale. */
function replayInputs(c: Circuit, b: CircuitBuilder, inputCount: number): void {
  if (c.mode === 'throughput') {
    c.inputLayout.slots.forEach((regs, j) => {
      if (regs.length !== 1 || regs[0] !== j) fail(`inputLayout.slots[${j}]`, `throughput input ${j} must be register ${j}`);
    });
  }
  const slots = c.params.slotCount;
  try {
    for (let i = 0; i < inputCount; i++) b.input(c.inputScale);
    c.plaintexts.forEach((p, i) => {
      if (p.constant !== undefined) b.plain(new Int32Array(0), new Float64Array(0), p.level, p.scale);
      else {
        for (let k = 0; k < p.indices!.length; k++) {
          if (p.indices![k]! < 0 || p.indices![k]! >= slots) fail(`plaintexts[${i}].indices[${k}]`, `slot ${p.indices![k]} out of range`);
        }
        b.plain(p.indices!, p.values!, p.level, p.scale);
      }
    });
  } catch (err) {
    if (err instanceof CircuitError) throw err;
    throw new CircuitError(`input/plaintexts: ${errorMessage(err)}`);
  }
}

/** Op i through the builder: it must write the next register, read only written ones, and land where the file says. */
function replayOp(c: Circuit, b: CircuitBuilder, op: CircuitOp, i: number): void {
  if (op.dst !== b.registerCount()) {
    fail(`ops[${i}]`, `writes register ${op.dst}, expected ${b.registerCount()} (registers are written in order)`);
  }
  for (const r of 'src' in op ? [op.src] : [op.a, op.b]) if (r >= op.dst) fail(`ops[${i}]`, `reads register ${r} before it is written`);
  try {
    applyOp(b, op, i);
  } catch (err) {
    if (err instanceof CircuitError) throw err;
    throw new CircuitError(`ops[${i}] (${op.op}): ${errorMessage(err)}`);
  }
  if (b.level[op.dst] !== c.registerLevel[op.dst] || b.scales[op.dst] !== c.registerScale[op.dst]) {
    fail(
      `ops[${i}]`,
      `register ${op.dst} lands at level ${b.level[op.dst]}, scale ${b.scales[op.dst]}; the file says level ${c.registerLevel[op.dst]}, scale ${c.registerScale[op.dst]}`,
    );
  }
}

function applyOp(b: CircuitBuilder, op: CircuitOp, i: number): void {
  switch (op.op) {
    case 'rotate':
      b.rotate(op.src, op.steps);
      break;
    case 'mulPlain':
      b.mulPlain(op.src, op.pt);
      break;
    case 'addPlain':
      b.addPlain(op.src, op.pt);
      break;
    case 'mul':
      b.mul(op.a, op.b);
      break;
    case 'add':
      b.add(op.a, op.b);
      break;
    case 'sub':
      b.sub(op.a, op.b);
      break;
    case 'rescale':
      b.rescale(op.src);
      break;
    case 'drop':
      if (op.level === b.level[op.src]) fail(`ops[${i}]`, 'drop to the same level');
      b.drop(op.src, op.level);
      break;
    case 'setScale':
      if (op.scale === b.scales[op.src]) fail(`ops[${i}]`, 'setScale to the same scale');
      b.alignScale(op.src, op.scale);
      break;
    case 'refresh':
      b.refresh(op.src, op.maskBound);
      break;
  }
}

/** Outputs are computed registers; latency: one; throughput: one per output value, in layout order. */
function checkOutputs(c: Circuit, inputCount: number): void {
  if (c.outputRegisters.length === 0) fail('outputRegisters', 'no output');
  for (const r of c.outputRegisters) if (r < inputCount || r >= c.registerCount) fail('outputRegisters', `${r} is not a computed register`);
  if (c.outputRegister !== c.outputRegisters[0]) fail('outputRegister', `${c.outputRegister} ≠ outputRegisters[0]`);
  if (c.mode === 'throughput') {
    c.outputLayout.slots.forEach((regs, i) => {
      if (regs.length !== 1 || regs[0] !== c.outputRegisters[i]) fail(`outputLayout.slots[${i}]`, 'must name output register ' + i);
    });
    if (c.outputRegisters.length !== c.outputLayout.length) {
      fail('outputRegisters', `${c.outputRegisters.length} registers for ${c.outputLayout.length} outputs`);
    }
  } else if (c.outputRegisters.length !== 1) fail('outputRegisters', 'a latency circuit has one output register');
}

/** setScale must be its source's last use (the executor relabels in place), never an input or an output. */
function checkRelabels(c: Circuit, inputCount: number): void {
  const outputs = new Set(c.outputRegisters);
  const last = new Int32Array(c.registerCount).fill(-1);
  c.ops.forEach((op, i) => {
    for (const r of 'src' in op ? [op.src] : [op.a, op.b]) last[r] = i;
  });
  c.ops.forEach((op, i) => {
    if (op.op === 'setScale' && (last[op.src] !== i || outputs.has(op.src) || op.src < inputCount)) {
      fail(`ops[${i}]`, `setScale on register ${op.src}, which is read again`);
    }
  });
}
