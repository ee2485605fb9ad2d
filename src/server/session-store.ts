/**
 * Sessions that survive a restart (`pann serve --state-dir <dir>`): each open session's evaluation keys and
 * metadata in one file, written atomically (a temporary file, then a rename), checksummed, and read back lazily —
 * the first request for a session after a restart loads its keys into a worker.
 *
 * A file is named by the SHA-256 of the session id (the id is the client's bearer secret; it is never written):
 * `PANNSESS`, u32 version, u32 header length, the JSON header, the relinearisation keys, the Galois keys, then the
 * SHA-256 of everything before it. At start the store reads headers and sizes only: a file whose header is
 * malformed or whose size disagrees with it (truncated) is deleted with a notice; a checksum mismatch is found
 * when the session is loaded, and the session is dropped then. The files hold evaluation keys only — public
 * material, the same the server holds in memory — never a secret key.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, unlinkSync, openSync, readSync, closeSync } from 'node:fs';
import { readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { InputError, errorMessage } from '../errors.js';
import { compiledSchema } from '../schema/index.js';

const MAGIC = 'PANNSESS';
const VERSION = 1;
const PREFIX_BYTES = 16;
const CHECKSUM_BYTES = 32;
const MAX_HEADER_BYTES = 4096;
const SUFFIX = '.session';

const StoredHeaderSchema = Type.Object(
  {
    idHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    model: Type.String({ maxLength: 64 }),
    owner: Type.Optional(Type.String({ maxLength: 64 })),
    createdAt: Type.Number(),
    relinBytes: Type.Integer({ minimum: 1 }),
    galoisBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
type StoredHeader = Static<typeof StoredHeaderSchema>;

/** A session on disk, not (yet) in a worker. */
export interface StoredSession {
  idHash: string;
  model: string;
  owner?: string;
  createdAt: number;
  /** Last use: the file's modification time (touched as the session is used). */
  lastUsed: number;
}

/** The SHA-256 of a session id, hex: what names its file. */
export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  readonly dir: string;
  readonly #notice: (message: string) => void;

  private constructor(dir: string, notice: (message: string) => void) {
    this.dir = dir;
    this.#notice = notice;
  }

  /** The store in `dir` (created if absent); an InputError when it cannot be. */
  static open(dir: string, notice: (message: string) => void = () => {}): SessionStore {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new InputError(`state directory ${dir}: ${errorMessage(err)}`, { cause: err });
    }
    return new SessionStore(dir, notice);
  }

  #file(idHash: string): string {
    return join(this.dir, `${idHash}${SUFFIX}`);
  }

  /**
   * The sessions on disk, by id hash. Expired ones (unused for `ttlMs`), malformed or truncated files and
   * sessions of models no longer served (`served`) are deleted, each with a notice.
   */
  scan(ttlMs: number, served: (model: string) => boolean, now = Date.now()): Map<string, StoredSession> {
    const out = new Map<string, StoredSession>();
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        this.#drop(path, `${name}: an unfinished write`);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      let s: StoredSession;
      try {
        s = this.#readHeader(path);
      } catch (err) {
        this.#drop(path, `${name}: ${errorMessage(err)}`);
        continue;
      }
      if (`${s.idHash}${SUFFIX}` !== name) this.#drop(path, `${name}: its header names another session`);
      else if (now - s.lastUsed > ttlMs) this.#drop(path, `${name}: expired (unused longer than the session TTL)`, false);
      else if (!served(s.model)) this.#drop(path, `${name}: its model ${s.model} is not served any more`);
      else out.set(s.idHash, s);
    }
    return out;
  }

  #readHeader(path: string): StoredSession {
    const size = statSync(path);
    const fd = openSync(path, 'r');
    try {
      const prefix = Buffer.alloc(PREFIX_BYTES);
      if (readSync(fd, prefix, 0, PREFIX_BYTES, 0) !== PREFIX_BYTES) throw new Error('truncated before its header');
      const header = parsePrefix(prefix);
      const text = Buffer.alloc(header);
      if (readSync(fd, text, 0, header, PREFIX_BYTES) !== header) throw new Error('truncated in its header');
      const h = parseHeader(text);
      const expected = PREFIX_BYTES + header + h.relinBytes + h.galoisBytes + CHECKSUM_BYTES;
      if (size.size !== expected) throw new Error(`${size.size} bytes where its header promises ${expected} (truncated or padded)`);
      return {
        idHash: h.idHash,
        model: h.model,
        ...(h.owner !== undefined ? { owner: h.owner } : {}),
        createdAt: h.createdAt,
        lastUsed: size.mtimeMs,
      };
    } finally {
      closeSync(fd);
    }
  }

  #drop(path: string, why: string, corrupt = true): void {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
    this.#notice(`state directory: ${corrupt ? 'dropped ' : 'deleted '}${why}`);
  }

  /** Write a session's keys (atomically). */
  async save(id: string, meta: { model: string; owner?: string; createdAt: number }, relin: Uint8Array, galois: Uint8Array): Promise<void> {
    const idHash = sessionIdHash(id);
    const header: StoredHeader = {
      idHash,
      model: meta.model,
      ...(meta.owner !== undefined ? { owner: meta.owner } : {}),
      createdAt: meta.createdAt,
      relinBytes: relin.length,
      galoisBytes: galois.length,
    };
    const text = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(PREFIX_BYTES);
    prefix.write(MAGIC, 0, 'latin1');
    prefix.writeUInt32LE(VERSION, 8);
    prefix.writeUInt32LE(text.length, 12);
    const sum = createHash('sha256').update(prefix).update(text).update(relin).update(galois).digest();
    const path = this.#file(idHash);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, [prefix, text, relin, galois, sum], { mode: 0o600 });
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  /** A stored session's keys, checksum verified; throws naming the problem when the file is corrupt or gone. */
  async load(idHash: string): Promise<{ relin: Uint8Array; galois: Uint8Array }> {
    const read = await readFile(this.#file(idHash));
    // its own ArrayBuffer (not a slice of node's pool): the keys are transferred to a worker
    const bytes =
      read.byteOffset === 0 && read.buffer.byteLength === read.length ? read : Buffer.from(Uint8Array.prototype.slice.call(read));
    if (bytes.length < PREFIX_BYTES + CHECKSUM_BYTES) throw new Error('truncated');
    const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
    const sum = createHash('sha256').update(body).digest();
    if (!sum.equals(bytes.subarray(bytes.length - CHECKSUM_BYTES))) throw new Error('checksum mismatch (the file was altered or damaged)');
    const headerBytes = parsePrefix(bytes);
    const h = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes));
    if (h.idHash !== idHash) throw new Error('its header names another session');
    const at = PREFIX_BYTES + headerBytes;
    if (at + h.relinBytes + h.galoisBytes !== body.length) throw new Error('its lengths disagree with its size');
    return { relin: bytes.subarray(at, at + h.relinBytes), galois: bytes.subarray(at + h.relinBytes, body.length) };
  }

  /** Delete a session's file (gone already is fine). */
  /** Delete a session's file (already gone is fine); callers that answer about it await this first. */
  remove(idHash: string): Promise<void> {
    return unlink(this.#file(idHash)).catch(() => {});
  }

  /** Mark a session used now (its file's mtime is its last use after a restart). */
  touch(idHash: string): void {
    const now = new Date();
    void utimes(this.#file(idHash), now, now).catch(() => {});
  }
}

function parsePrefix(bytes: Uint8Array): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, PREFIX_BYTES);
  if (b.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a pann session file');
  const version = b.readUInt32LE(8);
  if (version !== VERSION) throw new Error(`session file version ${version}, this server reads ${VERSION}`);
  const header = b.readUInt32LE(12);
  if (header < 2 || header > MAX_HEADER_BYTES) throw new Error(`header length ${header} out of range`);
  return header;
}

function parseHeader(text: Uint8Array): StoredHeader {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text.buffer, text.byteOffset, text.length).toString('utf8'));
  } catch {
    throw new Error('its header is not JSON');
  }
  if (!compiledSchema(StoredHeaderSchema).Check(value)) throw new Error('its header does not match the session format');
  return value;
}
