/**
 * What a circuit costs: op counts, and the predicted time of a range of ops from the op-cost model of
 * src/ckks/params (each op priced at its input's level).
 */
import type { OpCostFn } from '../ckks/params/index.js';
import type { CircuitOp, OpCounts } from './types.js';

function emptyCounts(): OpCounts {
  return { ctMultiplications: 0, plainMultiplications: 0, rotations: 0, rescales: 0, additions: 0, drops: 0 };
}

/** Op counts of a range of ops. */
export function countOps(ops: readonly CircuitOp[], from = 0, to = ops.length): OpCounts {
  const c = emptyCounts();
  for (let i = from; i < to; i++) {
    switch (ops[i]!.op) {
      case 'mul':
        c.ctMultiplications++;
        break;
      case 'mulPlain':
        c.plainMultiplications++;
        break;
      case 'rotate':
        c.rotations++;
        break;
      case 'rescale':
        c.rescales++;
        break;
      case 'add':
      case 'sub':
      case 'addPlain':
        c.additions++;
        break;
      case 'drop':
        c.drops++;
        break;
      case 'setScale':
      case 'refresh':
        break;
    }
  }
  return c;
}

/** Predicted milliseconds of a range of ops, given each register's level. */
export function predictOpsMs(
  ops: readonly CircuitOp[],
  levelOfRegister: ArrayLike<number>,
  polyModulusDegree: number,
  cost: OpCostFn,
  from = 0,
  to = ops.length,
): number {
  let ms = 0;
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    const src = 'src' in op ? op.src : op.a;
    const level = levelOfRegister[src]!;
    if (op.op === 'refresh') {
      // mask and unmask on the evaluator; decrypt, encode and encrypt by the key holder (link time not included)
      const top = levelOfRegister[op.dst]!;
      ms += cost('addPlain', polyModulusDegree, level) + cost('decrypt', polyModulusDegree, level);
      ms += cost('encode', polyModulusDegree, top) + cost('encrypt', polyModulusDegree, top) + cost('addPlain', polyModulusDegree, top);
    } else ms += cost(op.op, polyModulusDegree, level);
  }
  return ms;
}
