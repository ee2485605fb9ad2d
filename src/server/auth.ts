/**
 * Clients and their quotas (`pann serve --auth <file>`). A client presents a bearer token; the server keeps only
 * each token's SHA-256 (tokens are 256 random bits, so a plain hash is enough: nothing to brute-force), with a
 * name and limits: open sessions, key memory, requests per minute. Tokens are made and revoked by
 * `pann serve token create|revoke|list`, which rewrite the file atomically; a running server reads it at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { InputError, ServerError, errorMessage } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { checkSchema } from '../schema/index.js';

const TOKEN_PREFIX = 'pann_';
const TOKEN_PATTERN = /^pann_[A-Za-z0-9_-]{43}$/;
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const ClientLimitsSchema = Type.Object(
  {
    maxSessions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'open sessions at once' })),
    maxKeyMemoryBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 40, description: 'key memory of its open sessions, bytes' })),
    requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests per minute' })),
  },
  { additionalProperties: false },
);
export type ClientLimits = Static<typeof ClientLimitsSchema>;

const TokenRecordSchema = Type.Object(
  {
    name: Type.String({ pattern: CLIENT_NAME_PATTERN.source }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: "the token's SHA-256, hex (the token itself is never stored)" }),
    created: Type.String({ maxLength: 64 }),
    limits: ClientLimitsSchema,
  },
  { additionalProperties: false },
);
export type TokenRecord = Static<typeof TokenRecordSchema>;

const TokenFileSchema = Type.Object(
  { format: Type.Literal('pann-tokens'), version: Type.Literal(1), tokens: Type.Array(TokenRecordSchema, { maxItems: 100_000 }) },
  { additionalProperties: false },
);
type TokenFile = Static<typeof TokenFileSchema>;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The token file's records (an absent file has none); an InputError naming the file and field when it is malformed. */
export function readTokenFile(path: string, options: { mustExist?: boolean } = {}): TokenRecord[] {
  if (!existsSync(path)) {
    if (options.mustExist) throw new InputError(`token file ${path} does not exist (make one with \`pann serve token create\`)`);
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`token file ${path}: not readable JSON (${errorMessage(err)})`, { cause: err });
  }
  checkSchema(TokenFileSchema, value, { error: (m) => new InputError(m), source: `token file ${path}` });
  const names = new Set<string>();
  for (const t of value.tokens) {
    if (names.has(t.name)) throw new InputError(`token file ${path}: client name ${t.name} appears twice`);
    names.add(t.name);
  }
  return value.tokens;
}

function writeTokenFile(path: string, tokens: TokenRecord[]): void {
  const file: TokenFile = { format: 'pann-tokens', version: 1, tokens };
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** Add a client: returns its new token (shown once; only its hash is written). */
export function createToken(path: string, name: string, limits: ClientLimits = {}): string {
  if (!CLIENT_NAME_PATTERN.test(name))
    throw new InputError(`client name ${JSON.stringify(name)}: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  checkSchema(ClientLimitsSchema, limits, { error: (m) => new InputError(m), source: 'client limits' });
  const tokens = readTokenFile(path);
  if (tokens.some((t) => t.name === name)) throw new InputError(`token file ${path} already has a client ${name} (revoke it first)`);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  tokens.push({ name, sha256: hashToken(token), created: new Date().toISOString(), limits });
  writeTokenFile(path, tokens);
  return token;
}

/** Remove a client's token; an InputError when there is none of that name. */
export function revokeToken(path: string, name: string): void {
  const tokens = readTokenFile(path, { mustExist: true });
  const left = tokens.filter((t) => t.name !== name);
  if (left.length === tokens.length) throw new InputError(`token file ${path} has no client ${JSON.stringify(name)}`);
  writeTokenFile(path, left);
}

/** A client the server knows, with its rate limiter's state. */
export interface Client {
  name: string;
  limits: ClientLimits;
}

/** Bearer-token authentication and per-client request rates. */
export class Authenticator {
  readonly #byHash = new Map<string, Client>();
  /** Token bucket per client: tokens left and when it was last filled. */
  readonly #buckets = new Map<string, { left: number; at: number }>();
  readonly #now: () => number;

  constructor(records: readonly TokenRecord[], now: () => number = Date.now) {
    for (const r of records) this.#byHash.set(r.sha256, { name: r.name, limits: r.limits });
    this.#now = now;
  }

  /** The client of an Authorization header; 401 when it is missing or not a known token. */
  authenticate(header: string | undefined): Client {
    if (!header) throw unauthorized('this server needs a bearer token (Authorization: Bearer <token>)');
    const m = /^Bearer +(\S+)$/i.exec(header);
    if (!m) throw unauthorized('the Authorization header is not "Bearer <token>"');
    const token = m[1]!;
    const client = TOKEN_PATTERN.test(token) ? this.#byHash.get(hashToken(token)) : undefined;
    if (!client) throw unauthorized('the bearer token is not one this server knows (revoked, or mistyped)');
    return client;
  }

  /** Count one request against the client's rate; 429 rate_limited when it is over. */
  charge(client: Client): void {
    const rpm = client.limits.requestsPerMinute;
    if (rpm === undefined) return;
    const now = this.#now();
    const perMs = rpm / 60_000;
    const b = this.#buckets.get(client.name) ?? { left: rpm, at: now };
    b.left = Math.min(rpm, b.left + (now - b.at) * perMs);
    b.at = now;
    this.#buckets.set(client.name, b);
    if (b.left < 1) {
      const waitS = Math.max(1, Math.ceil((1 - b.left) / perMs / 1000));
      throw Object.assign(
        new ServerError(429, 'rate_limited', `client ${client.name} is over its ${rpm} requests per minute; retry in ${waitS} s`),
        { retryAfterS: waitS },
      );
    }
    b.left -= 1;
  }
}

function unauthorized(message: string): ServerError {
  return new ServerError(401, 'unauthorized', message);
}
