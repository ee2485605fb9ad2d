/**
 * Writing files so that nothing is lost: output paths are checked before the work that fills them starts, and
 * every write is atomic (a temporary file in the same folder, flushed, then renamed over the target), so a killed
 * run leaves either the old file or the new one, never a truncated one.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { errorMessage, OutputError } from './errors.js';

/** What an output path must satisfy. */
export interface OutputCheck {
  /** What the file is, for messages ("--out", "the circuit"). */
  label: string;
  /** Allowed extensions, with the dot and lower case (".json"); any when absent. */
  extensions?: readonly string[];
  /** Create the folder (and its parents) when it does not exist. @default true */
  createFolder?: boolean;
}

/**
 * Check that `path` can be written as asked (see OutputCheck) and return it resolved; creates its folder unless
 * told not to. Throws OutputError naming the path and what is wrong.
 */
export function checkOutputPath(path: string, check: OutputCheck): string {
  const { label, extensions, createFolder = true } = check;
  if (typeof path !== 'string' || path.trim() === '') throw new OutputError(`${label}: the output path is empty`);
  const full = resolve(path);
  const ext = extname(full).toLowerCase();
  if (extensions && !extensions.includes(ext)) {
    const want = extensions.join(' or ');
    throw new OutputError(`${label} '${path}': the file name must end in ${want}${ext ? `, not ${ext}` : ''}`);
  }
  const existing = statOrNull(full);
  if (existing?.isDirectory()) throw new OutputError(`${label} '${path}' is a folder; give a file name`);
  const folder = dirname(full);
  const folderStat = statOrNull(folder);
  if (!folderStat) {
    if (!createFolder) throw new OutputError(`${label} '${path}': folder ${folder} does not exist`);
    try {
      mkdirSync(folder, { recursive: true });
    } catch (err) {
      throw new OutputError(`${label} '${path}': cannot create folder ${folder}: ${errorMessage(err)}`, { cause: err });
    }
  } else if (!folderStat.isDirectory()) {
    throw new OutputError(`${label} '${path}': ${folder} is not a folder`);
  }
  try {
    accessSync(folder, constants.W_OK);
    if (existing) accessSync(full, constants.W_OK);
  } catch {
    throw new OutputError(`${label} '${path}': ${existing ? 'the file' : `folder ${folder}`} is not writable`);
  }
  return full;
}

/** Check a folder the run will write several files into (created when missing). */
export function checkOutputFolder(path: string, label: string): string {
  const full = resolve(path);
  const st = statOrNull(full);
  if (st && !st.isDirectory()) throw new OutputError(`${label} '${path}' is a file, not a folder`);
  try {
    if (!st) mkdirSync(full, { recursive: true });
    accessSync(full, constants.W_OK);
  } catch (err) {
    throw new OutputError(`${label} '${path}': cannot write into it: ${errorMessage(err)}`, { cause: err });
  }
  return full;
}

/**
 * Write `data` to `path` atomically: a temporary file beside it, flushed to disk, renamed over `path`. On any
 * failure the temporary file is removed and the old file (if any) is left as it was.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const full = resolve(path);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, full);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // not created, or already renamed
    }
    throw new OutputError(`cannot write ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
