/**
 * What a circuit costs: op counts, and the predicted time of a range of ops from the op-cost model of
 * src/ckks/params (each op priced at its input's level).
 */
import type { OpCostFn } from '../ckks/params/index.js';
import type { RefreshRound } from './rounds.js';
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
      // the evaluator's part: encode and add the mask, then encode and subtract it from the fresh ciphertext
      // (the key holder's decrypt, encode and encrypt are refreshClientMs; the transfer is the link's)
      const top = levelOfRegister[op.dst]!;
      ms += cost('encode', polyModulusDegree, level) + cost('addPlain', polyModulusDegree, level);
      ms += cost('encode', polyModulusDegree, top) + cost('addPlain', polyModulusDegree, top);
    } else ms += cost(op.op, polyModulusDegree, level);
  }
  return ms;
}

/** The key holder's predicted work in one round: decrypt each masked ciphertext, encode and encrypt it afresh. */
export function refreshClientMs(round: RefreshRound, polyModulusDegree: number, cost: OpCostFn): number {
  const again = cost('encode', polyModulusDegree, round.fresh.level) + cost('encryptSymmetric', polyModulusDegree, round.fresh.level);
  return round.masked.reduce((ms, m) => ms + cost('decrypt', polyModulusDegree, m.level) + again, 0);
}
