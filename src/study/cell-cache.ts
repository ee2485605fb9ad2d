/**
 * The per-cell result cache that makes a study resumable: one JSON file per cell, named by a hash of everything
 * the cell's result depends on (the model file's bytes, the cell's settings, the shared settings that matter to
 * it, and the code version). Files are written to a temporary name and renamed, so a run killed mid-write leaves
 * no half file; an unreadable or foreign file is ignored (the cell is measured again).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Circuit } from '../circuit/index.js';
import type { StudyCell, StudySettings } from './grid.js';
import type { CellResult } from './cell-result.js';
import { writeFileAtomic } from '../files.js';

export const CELL_FORMAT = 'pann-study-cell';
export const CELL_VERSION = 1;

/** Bump when a change to the study's measurement changes results without changing the hashed source files. */
export const STUDY_CODE_REVISION = 1;

/** The study's own modules whose code decides a cell's numbers (report and plot code does not). */
const MEASURING_STUDY_MODULES = ['cell', 'grid', 'models'];

let codeVersionMemo: string | null = null;

/**
 * Hash of the source of every layer a cell's result depends on (approx, nn, compiler, runtime, and the study's
 * measuring modules), read from next to this module (dist/ when compiled, src/ under a TypeScript runner), plus
 * STUDY_CODE_REVISION.
 */
export function codeVersion(): string {
  if (codeVersionMemo) return codeVersionMemo;
  const here = dirname(fileURLToPath(import.meta.url));
  const h = createHash('sha256').update(`revision ${STUDY_CODE_REVISION}\n`);
  for (const layer of ['approx', 'nn', 'compiler', 'runtime', 'study']) {
    const dir = join(here, '..', layer);
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const ext = extname(name);
      if (ext !== '.ts' && ext !== '.js') continue;
      if (layer === 'study' && !MEASURING_STUDY_MODULES.includes(name.slice(0, -ext.length))) continue;
      const file = join(dir, name);
      if (!statSync(file).isFile()) continue;
      h.update(`${layer}/${name}\n`).update(readFileSync(file));
    }
  }
  codeVersionMemo = h.digest('hex').slice(0, 16);
  return codeVersionMemo;
}

/** Everything a cell's simulated result depends on, as one canonical object. */
export function cellKeyObject(cell: StudyCell, modelHash: string, settings: StudySettings, code: string): Record<string, unknown> {
  return {
    model: modelHash,
    technique: cell.model.technique,
    k: cell.k,
    method: cell.method,
    remedy: cell.remedy,
    range: cell.range,
    scaleBits: cell.scaleBits,
    split: settings.split,
    count: settings.count,
    calibration: settings.calibration,
    noiseSeed: settings.noiseSeed,
    ...(settings.data ? { data: settings.data.fingerprint } : {}),
    ...(cell.remedy === 'asymmetric' ? { asymmetricWeight: settings.asymmetricWeight } : {}),
    ...(cell.remedy === 'finetune' ? { finetune: settings.finetune } : {}),
    code,
  };
}

/** The cache key: sha256 of the canonical key object, 24 hex digits. */
export function cellKey(cell: StudyCell, modelHash: string, settings: StudySettings, code: string): string {
  return createHash('sha256')
    .update(JSON.stringify(cellKeyObject(cell, modelHash, settings, code)))
    .digest('hex')
    .slice(0, 24);
}

/**
 * Fingerprint of everything a simulation of the circuit depends on (parameters, layouts, scales, ops,
 * plaintexts): two cells that compile to the same circuit (e.g. k = 3 and 4 when one fit meets both) share one
 * simulation.
 */
export function circuitFingerprint(c: Circuit): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([c.params, c.inputScale, c.inputLayout, c.inputMultiplier, c.outputRegister, c.outputLayout, c.outputMultiplier, c.ops]),
  );
  h.update(new Uint8Array(c.registerScale.buffer, c.registerScale.byteOffset, c.registerScale.byteLength));
  for (const p of c.plaintexts) {
    h.update(`|${p.level},${p.scale},${p.constant ?? ''}|`);
    if (p.indices) h.update(new Uint8Array(p.indices.buffer, p.indices.byteOffset, p.indices.byteLength));
    if (p.values) h.update(new Uint8Array(p.values.buffer, p.values.byteOffset, p.values.byteLength));
  }
  return h.digest('hex').slice(0, 24);
}

/** A directory of cell result files. */
export class CellCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  path(key: string, suffix = '.json'): string {
    return join(this.dir, `${key}${suffix}`);
  }

  /** The cached result of a cell, or null if absent, unreadable or not a result of this key. */
  read(key: string): CellResult | null {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path(key), 'utf8'));
    } catch {
      return null;
    }
    if (typeof raw !== 'object' || raw === null) return null;
    const o = raw as Record<string, unknown>;
    if (o.format !== CELL_FORMAT || o.version !== CELL_VERSION || o.key !== key) return null;
    return o.result as CellResult;
  }

  /** Write a result atomically (temporary file, then rename). */
  write(key: string, result: CellResult): void {
    this.writeText(key, '.json', `${JSON.stringify({ format: CELL_FORMAT, version: CELL_VERSION, key, result })}\n`);
  }

  /** Write any text next to the results (e.g. a fine-tuned model), atomically. */
  writeText(key: string, suffix: string, text: string): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.path(key, suffix), text);
  }

  readText(key: string, suffix: string): string | null {
    try {
      return readFileSync(this.path(key, suffix), 'utf8');
    } catch {
      return null;
    }
  }
}
