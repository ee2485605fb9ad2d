/**
 * pann's encrypted inference server (API v1, docs/server.md). Built on node:http rather than a framework: the
 * surface is eight routes, and owning the body reading gives exact control over size limits (checked before a
 * byte is buffered), buffering into one transferable allocation handed to a worker without copies, timeouts
 * and connection handling under hostile input — with no new dependency.
 *
 * The main thread parses and routes requests, checks framing, keeps the session table and answers health and
 * metrics; all CKKS work (key loading, validation of every byte, evaluation) runs in worker threads
 * (EvaluationPool), so the event loop never blocks on SEAL. The server only ever holds ciphertexts and
 * evaluation keys: there is no route or field that accepts a secret key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { refreshRounds, serializeCircuit, type Circuit, type RefreshRound } from '../circuit/index.js';
import { InputError, ServerError, errorMessage } from '../errors.js';
import { admitKeyLengths, admitKeys, keySizes, type KeySizes } from './admission.js';
import { Authenticator, type Client, type TokenRecord } from './auth.js';
import { ConnectionGuard, type ConnectionCounts } from './connections.js';
import { EvaluationPool, type TaskOutcome, type WorkerInfo } from './evaluation-pool.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { declaredBodyLength, receiveBody, type ReceiveBodyOptions } from './request-body.js';
import { type RequestLogEntry, type RequestLogger, sessionTag } from './logging.js';
import { Metrics, type MetricsSnapshot } from './metrics.js';
import { describeModel, type ModelDescription } from './model-description.js';
import { ContinuationTokens, PendingInferences, serverSecrets, type ServerSecrets } from './continuation.js';
import {
  API_PREFIX,
  encodeRefreshRequest,
  errorBody,
  joinSealObjects,
  KEY_UPLOAD_HEAD_BYTES,
  keyUploadHeadComplete,
  parseKeyUpload,
  parseKeyUploadHead,
  parseRefreshReply,
  splitSealObjects,
} from './protocol.js';
import { SessionStore, sessionIdHash, type StoredSession } from './session-store.js';
import { SessionTable, sessionMemoryBytes, type SessionEntry } from './sessions.js';
import type { InferResult, OpenResult, SegmentTask } from './worker-messages.js';

/** A circuit served under an id (the id appears in URLs). */
export interface ServedModel {
  id: string;
  circuit: Circuit;
}

/** What {@link PannServer.start} serves and how: the circuits, the address, the limits. */
export interface PannServerOptions {
  models: readonly ServedModel[];
  /** Interface to bind. @default '127.0.0.1' (local only; put a TLS-terminating proxy in front to expose it) */
  host?: string;
  /** TCP port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Limits (each defaults as documented in ServerLimits). */
  limits?: Partial<ServerLimits>;
  /** One entry per finished request. @default none */
  onLog?: RequestLogger;
  /** Server events: evictions, expiries, workers lost and replaced, internal errors. @default none */
  onNotice?: (message: string) => void;
  /** Compiled worker script. @default dist/src/server/worker.js */
  workerScript?: string;
  /**
   * Clients (the records of a token file, auth.ts): every request but GET /v1/health needs one of their bearer
   * tokens, and each client has its quotas and sees only its own sessions. @default none (no authentication:
   * then the server binds to a loopback address only, unless `insecureNoAuth`)
   */
  auth?: readonly TokenRecord[];
  /** Allow binding to a non-loopback address without `auth`. @default false */
  insecureNoAuth?: boolean;
  /**
   * Keep each session's evaluation keys in this directory (session-store.ts), so sessions survive a restart:
   * after one, a session's keys are loaded on its first request. @default none (sessions live in memory only)
   */
  stateDir?: string;
}

/** Whether `host` is a loopback address (the only kind a server without authentication may bind to). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A refused body still arriving is discarded up to this many bytes, for this long; then the connection is closed. */
const DISCARD_LIMIT = 64 * 1024 * 1024;
const DISCARD_MS = 5000;

/** Session memory one worker may hold: its WASM heap is capped just under 4 GiB, and SEAL needs room to work. */
const WORKER_KEY_MEMORY_MAX = 3 * 1024 ** 3;

export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface Model {
  id: string;
  circuit: Circuit;
  rounds: RefreshRound[];
  description: ModelDescription;
  memoryBytes: number;
  keySizes: KeySizes;
}

/** What a handler learned, for the log line. */
interface RequestContext {
  route: string;
  /** The authenticated client (with --auth). */
  client?: Client;
  session?: string;
  model?: string;
  bytesIn: number;
  queueMs?: number;
  workerMs?: number;
  worker?: number;
  /** The request body was not read to its end: close the connection after answering. */
  unread: boolean;
}

interface Reply {
  status: number;
  json?: unknown;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

type Handler = (req: IncomingMessage, ctx: RequestContext, params: string[]) => Reply | Promise<Reply>;

interface Route {
  method: string;
  pattern: string[];
  name: string;
  handler: Handler;
}

/** The encrypted inference server: serves compiled circuits over HTTP; it holds evaluation keys, never a secret key (docs/server.md). */
export class PannServer {
  readonly limits: Readonly<ServerLimits>;
  readonly host: string;
  readonly port: number;
  readonly #http: Server;
  readonly #pool: EvaluationPool;
  readonly #models: Map<string, Model>;
  readonly #sessions: SessionTable;
  /** Per-process secrets: continuation tokens' tag key, the refresh masks' PRF key. */
  readonly #secrets: ServerSecrets = serverSecrets();
  readonly #tokens = new ContinuationTokens(this.#secrets.tokenKey);
  readonly #pending: PendingInferences;
  readonly #metrics = new Metrics();
  readonly #options: PannServerOptions;
  readonly #routes: Route[];
  readonly #started = Date.now();
  readonly #sweep: NodeJS.Timeout;
  #bufferedBytes = 0;
  /** Key uploads being received, by client address. */
  readonly #uploads = new Map<string, number>();
  readonly #connections: ConnectionGuard;
  readonly #auth: Authenticator | null;
  /** With stateDir: the sessions' stored keys, the stored sessions not loaded in a worker, and loads under way. */
  readonly #store: SessionStore | null;
  readonly #dormant: Map<string, StoredSession>;
  readonly #reviving = new Map<string, Promise<SessionEntry>>();
  /** When each session's file was last touched (its last use, for the TTL after a restart). */
  readonly #touched = new Map<string, number>();
  /** Requests whose body is still arriving, with their arrival time (the body timeout is enforced in shutdown too). */
  readonly #receiving = new Map<IncomingMessage, number>();
  #inflight = 0;
  #drained: (() => void) | null = null;
  #closing: Promise<void> | null = null;

  private constructor(
    options: PannServerOptions,
    limits: ServerLimits,
    models: Map<string, Model>,
    pool: EvaluationPool,
    http: Server,
    stored: { store: SessionStore; dormant: Map<string, StoredSession> } | null,
  ) {
    this.#options = options;
    this.limits = Object.freeze(limits);
    this.#models = models;
    this.#pool = pool;
    this.#http = http;
    this.#sessions = new SessionTable(limits, pool.size);
    this.#connections = new ConnectionGuard(limits.maxConnections, limits.maxConnectionsPerAddress);
    this.#auth = options.auth ? new Authenticator(options.auth) : null;
    this.#store = stored?.store ?? null;
    this.#dormant = stored?.dormant ?? new Map<string, StoredSession>();
    this.#sessions.onRemove = (s, reason) => this.#forgetStored(s, reason);
    http.on('connection', (socket: Socket) => this.#connections.admit(socket));
    this.#pending = new PendingInferences({
      maxPending: limits.maxPendingInferences,
      maxPendingPerSession: limits.maxPendingPerSession,
      roundTtlMs: limits.roundTtlMs,
    });
    const addr = http.address() as AddressInfo;
    this.host = addr.address;
    this.port = addr.port;
    this.#routes = [
      { method: 'GET', pattern: ['health'], name: 'GET /v1/health', handler: () => this.#health() },
      { method: 'GET', pattern: ['metrics'], name: 'GET /v1/metrics', handler: () => ({ status: 200, json: this.metrics() }) },
      { method: 'GET', pattern: ['models'], name: 'GET /v1/models', handler: () => this.#listModels() },
      { method: 'GET', pattern: ['models', ':id'], name: 'GET /v1/models/:id', handler: (_r, ctx, [id]) => this.#getModel(ctx, id!) },
      { method: 'POST', pattern: ['sessions'], name: 'POST /v1/sessions', handler: (req, ctx) => this.#openSession(req, ctx) },
      {
        method: 'DELETE',
        pattern: ['sessions', ':id'],
        name: 'DELETE /v1/sessions/:id',
        handler: (_r, ctx, [id]) => this.#deleteSession(ctx, id!),
      },
      {
        method: 'POST',
        pattern: ['sessions', ':id', 'infer'],
        name: 'POST /v1/sessions/:id/infer',
        handler: (req, ctx, [id]) => this.#infer(req, ctx, id!),
      },
      {
        method: 'POST',
        pattern: ['sessions', ':id', 'infer', 'continue'],
        name: 'POST /v1/sessions/:id/infer/continue',
        handler: (req, ctx, [id]) => this.#continue(req, ctx, id!),
      },
    ];
    const sweepMs = Math.min(limits.sessionTtlMs, limits.roundTtlMs) / 4;
    this.#sweep = setInterval(() => this.#expire(), Math.max(250, Math.min(60_000, sweepMs)));
    this.#sweep.unref();
    http.on('request', (req, res) => void this.#handle(req, res));
  }

  /** Validate the models, start the workers (each loads every model), then listen. */
  static async start(options: PannServerOptions): Promise<PannServer> {
    const limits = resolveLimits(options.limits);
    const given: unknown = options.models;
    if (!Array.isArray(given) || options.models.length === 0) throw new InputError('serve: give at least one circuit to serve');
    const host = options.host ?? '127.0.0.1';
    if (!options.auth && !options.insecureNoAuth && !isLoopback(host))
      throw new InputError(
        `serve: binding to ${host} lets anyone who can reach it use the server: give clients tokens (--auth <file>), or pass --insecure-no-auth to do it anyway`,
      );
    if (limits.maxKeyMemoryBytes > limits.workers * WORKER_KEY_MEMORY_MAX) {
      throw new InputError(
        `key memory ${(limits.maxKeyMemoryBytes / 1e6).toFixed(0)} MB is more than ${limits.workers} worker(s) can hold (${(WORKER_KEY_MEMORY_MAX / 1e6).toFixed(0)} MB each: SEAL's WASM heap is capped just under 4 GiB); lower it or add workers`,
      );
    }
    const models = new Map<string, Model>();
    for (const m of options.models) {
      if (!MODEL_ID_PATTERN.test(m.id))
        throw new InputError(
          `model id ${JSON.stringify(m.id)}: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      if (models.has(m.id)) throw new InputError(`model id ${m.id} is given twice`);
      models.set(m.id, {
        id: m.id,
        circuit: m.circuit,
        rounds: refreshRounds(m.circuit),
        description: describeModel(m.id, m.circuit),
        memoryBytes: sessionMemoryBytes(m.circuit),
        keySizes: keySizes(m.circuit),
      });
    }
    let served: PannServer | null = null;
    const pool = await EvaluationPool.start({
      models: [...models.values()].map((m) => ({ id: m.id, circuit: serializeCircuit(m.circuit) })),
      workers: limits.workers,
      maxQueue: limits.maxQueue,
      ...(options.workerScript ? { script: options.workerScript } : {}),
      onWorkerLost: (index, reason) => {
        const lost = served ? served.#dropWorker(index) : [];
        options.onNotice?.(`worker ${index} stopped (${reason}); ${lost.length} session(s) on it are lost; starting a replacement`);
      },
    });
    const http = createServer({
      requestTimeout: limits.bodyTimeoutMs,
      headersTimeout: Math.min(limits.bodyTimeoutMs, 60_000),
      keepAliveTimeout: 30_000,
    });
    try {
      await new Promise<void>((resolveListen, rejectListen) => {
        http.once('error', rejectListen);
        http.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
          http.off('error', rejectListen);
          resolveListen();
        });
      });
    } catch (err) {
      await pool.close();
      throw new InputError(`cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 8080}: ${errorMessage(err)}`, { cause: err });
    }
    let stored: { store: SessionStore; dormant: Map<string, StoredSession> } | null = null;
    try {
      if (options.stateDir !== undefined) {
        const store = SessionStore.open(options.stateDir, (m) => options.onNotice?.(m));
        stored = { store, dormant: store.scan(limits.sessionTtlMs, (m) => models.has(m)) };
        options.onNotice?.(`state directory ${options.stateDir}: ${stored.dormant.size} stored session(s), loaded on first use`);
      }
    } catch (err) {
      http.close();
      await pool.close();
      throw err;
    }
    served = new PannServer(options, limits, models, pool, http, stored);
    return served;
  }

  /** Base URL, e.g. http://127.0.0.1:8080 */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  metrics(): MetricsSnapshot & {
    uptimeS: number;
    queue: { waiting: number; limit: number };
    sessions: { open: number; memoryBytes: number; memoryLimitBytes: number; limit: number };
    /** Inferences waiting for the key holder's reply to a refresh round. */
    pendingInferences: { waiting: number; limit: number };
    workers: (WorkerInfo & { sessions: number; sessionMemoryBytes: number })[];
    process: { rssBytes: number; heapUsedBytes: number; bufferedBodyBytes: number; requestsInFlight: number };
    connections: ConnectionCounts;
  } {
    const perWorker = this.#sessions.perWorker();
    const mem = process.memoryUsage();
    return {
      uptimeS: Math.round((Date.now() - this.#started) / 1000),
      ...this.#metrics.snapshot(),
      queue: { waiting: this.#pool.queued, limit: this.limits.maxQueue },
      sessions: {
        open: this.#sessions.count,
        memoryBytes: this.#sessions.usedBytes,
        memoryLimitBytes: this.limits.maxKeyMemoryBytes,
        limit: this.limits.maxSessions,
      },
      pendingInferences: { waiting: this.#pending.count, limit: this.limits.maxPendingInferences },
      workers: this.#pool
        .workers()
        .map((w) => ({ ...w, sessions: perWorker[w.index]!.sessions, sessionMemoryBytes: perWorker[w.index]!.memoryBytes })),
      process: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, bufferedBodyBytes: this.#bufferedBytes, requestsInFlight: this.#inflight },
      connections: this.#connections.counts(),
    };
  }

  /**
   * Graceful shutdown: stop accepting connections, answer new requests on open connections with 503, let
   * in-flight requests finish, then stop the workers. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#http.close();
      this.#http.closeIdleConnections();
      // node stops enforcing its request timeouts once closed: enforce the body timeout here, and after the
      // shutdown deadline close every connection (a client trickling a body cannot hold the shutdown)
      const watchdog = setInterval(() => this.#enforceBodyTimeout(), Math.min(1000, this.limits.bodyTimeoutMs));
      const deadline = setTimeout(() => this.#http.closeAllConnections(), this.limits.shutdownTimeoutMs);
      if (this.#inflight > 0) await new Promise<void>((r) => (this.#drained = r));
      clearInterval(watchdog);
      clearTimeout(deadline);
      clearInterval(this.#sweep);
      await this.#pool.close();
      this.#http.closeAllConnections();
    })();
    return this.#closing;
  }

  #enforceBodyTimeout(): void {
    const now = performance.now();
    for (const [req, since] of this.#receiving) if (now - since > this.limits.bodyTimeoutMs) req.socket.destroy();
  }

  // ---- request plumbing ------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    this.#inflight++;
    const hasBody =
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
      req.headers['transfer-encoding'] !== undefined;
    const ctx: RequestContext = { route: `${req.method} (unmatched)`, bytesIn: 0, unread: hasBody };
    let errorCode: string | undefined;
    this.#connections.busy(req.socket, 1);
    if (hasBody) this.#receiving.set(req, t0);
    res.on('close', () => {
      this.#connections.busy(req.socket, -1);
      this.#receiving.delete(req);
      const entry: RequestLogEntry = {
        time: new Date().toISOString(),
        method: req.method ?? '?',
        route: ctx.route,
        status: res.headersSent ? res.statusCode : 499,
        ...(errorCode ? { error: errorCode } : {}),
        ...(ctx.client ? { client: ctx.client.name } : {}),
        ...(ctx.session ? { session: sessionTag(ctx.session) } : {}),
        ...(ctx.model ? { model: ctx.model } : {}),
        bytesIn: ctx.bytesIn,
        bytesOut: Number(res.getHeader('content-length') ?? 0),
        ms: performance.now() - t0,
        ...(ctx.queueMs !== undefined ? { queueMs: ctx.queueMs } : {}),
        ...(ctx.workerMs !== undefined ? { workerMs: ctx.workerMs } : {}),
        ...(ctx.worker !== undefined ? { worker: ctx.worker } : {}),
      };
      this.#metrics.record(entry);
      this.#options.onLog?.(entry);
      if (--this.#inflight === 0) this.#drained?.();
    });
    let reply: Reply;
    try {
      reply = await this.#route(req, ctx);
    } catch (err) {
      let e: ServerError;
      if (err instanceof ServerError) e = err;
      else {
        this.#options.onNotice?.(`internal error on ${ctx.route}: ${errorMessage(err)}`);
        e = new ServerError(500, 'internal', 'internal server error');
      }
      errorCode = e.apiCode;
      reply = { status: e.status, json: errorBody(e) };
      if (e.status === 503 || e.status === 429)
        reply.headers = { 'Retry-After': String((err as { retryAfterS?: number }).retryAfterS ?? this.#retryAfterSeconds()) };
      if (e.status === 401) reply.headers = { 'WWW-Authenticate': 'Bearer realm="pann"' };
      if (e.status === 405) reply.headers = { Allow: (err as ServerError & { allow?: string }).allow ?? '' };
    }
    this.#send(req, res, ctx, reply);
  }

  #send(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, reply: Reply): void {
    if (res.destroyed) return;
    const body = reply.bytes ?? Buffer.from(JSON.stringify(reply.json ?? {}));
    res.statusCode = reply.status;
    res.setHeader('Content-Type', reply.bytes ? 'application/octet-stream' : 'application/json; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    if (this.#closing) res.setHeader('Connection', 'close');
    else if (ctx.unread) this.#discardRest(req, res);
    res.end(body);
  }

  /**
   * A body refused before it was read: read and discard what is still coming, so the client, still sending,
   * gets the answer instead of a reset — up to DISCARD_LIMIT bytes or DISCARD_MS, then the connection is closed.
   */
  #discardRest(req: IncomingMessage, res: ServerResponse): void {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const socket = req.socket;
    if (declared > DISCARD_LIMIT) {
      res.setHeader('Connection', 'close');
      return;
    }
    let discarded = 0;
    const cut = () => socket?.destroy();
    const timer = setTimeout(cut, DISCARD_MS);
    timer.unref();
    req.on('data', (c: Buffer) => {
      discarded += c.length;
      if (discarded > DISCARD_LIMIT) cut();
    });
    req.once('end', () => clearTimeout(timer));
    socket?.once('close', () => clearTimeout(timer));
    req.resume();
  }

  async #route(req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    if (this.#closing) throw new ServerError(503, 'shutting_down', 'the server is shutting down');
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (!path.startsWith(`${API_PREFIX}/`))
      throw new ServerError(404, 'not_found', `no route ${path.slice(0, 200)} (the API lives under ${API_PREFIX}/)`);
    let parts: string[];
    try {
      parts = path
        .slice(API_PREFIX.length + 1)
        .split('/')
        .map(decodeURIComponent);
    } catch {
      throw new ServerError(400, 'bad_request', 'malformed percent-encoding in the path');
    }
    const matches = this.#routes.filter(
      (r) => r.pattern.length === parts.length && r.pattern.every((p, i) => p.startsWith(':') || p === parts[i]),
    );
    if (matches.length === 0) throw new ServerError(404, 'not_found', `no route ${path.slice(0, 200)}`);
    // HEAD is GET without the body (Node's response drops it and keeps the headers)
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = matches.find((r) => r.method === method);
    if (!route) {
      const allow = [...new Set(matches.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))].join(', ');
      throw Object.assign(
        new ServerError(405, 'method_not_allowed', `${req.method} is not allowed on ${path.slice(0, 200)} (allowed: ${allow})`),
        { allow },
      );
    }
    ctx.route = route.name;
    if (this.#auth && route.name !== 'GET /v1/health') {
      ctx.client = this.#auth.authenticate(req.headers.authorization);
      this.#auth.charge(ctx.client);
    }
    const params = route.pattern.flatMap((p, i) => (p.startsWith(':') ? [parts[i]!] : []));
    return route.handler(req, ctx, params);
  }

  /**
   * Read a binary body of at most `limit` bytes into one buffer that owns its memory (so it can be transferred
   * to a worker). Checks the content type and the declared length before reading a byte (request-body.ts); the
   * bytes held are counted against the limit for all requests until the handler is done with them.
   */
  async #readBody(
    req: IncomingMessage,
    ctx: RequestContext,
    limit: number,
    what: string,
    inspect?: ReceiveBodyOptions['inspect'],
  ): Promise<Buffer> {
    const length = declaredBodyLength(req, limit, what);
    // the budget counts bytes as they arrive, not as declared: a client that declares a large body and sends
    // nothing holds nothing
    let counted = 0;
    try {
      const body = await receiveBody(req, {
        length,
        limit,
        what,
        reserve: (bytes) => {
          if (this.#bufferedBytes + bytes > this.limits.maxBufferedBodyBytes) return false;
          this.#bufferedBytes += bytes;
          counted += bytes;
          return true;
        },
        maxBufferedBytes: this.limits.maxBufferedBodyBytes,
        onEnd: () => {
          ctx.unread = false;
          this.#receiving.delete(req);
        },
        ...(inspect ? { inspect } : {}),
      });
      ctx.bytesIn = body.length;
      return body;
    } finally {
      this.#bufferedBytes -= counted;
    }
  }

  /**
   * Run `read` (a key upload) holding one of the client's upload slots: one address may stream at most
   * maxUploadsPerClient key envelopes at once, so a single client cannot hold the body budget alone.
   */
  async #withUploadSlot<T>(req: IncomingMessage, ctx: RequestContext, read: () => Promise<T>): Promise<T> {
    const client = ctx.client ? `client ${ctx.client.name}` : (req.socket.remoteAddress ?? '?');
    const open = this.#uploads.get(client) ?? 0;
    if (open >= this.limits.maxUploadsPerClient)
      throw new ServerError(
        429,
        'too_many_uploads',
        `this client is already sending ${open} key upload(s) (limit ${this.limits.maxUploadsPerClient}); wait for them to finish`,
      );
    this.#uploads.set(client, open + 1);
    try {
      return await read();
    } finally {
      const left = (this.#uploads.get(client) ?? 1) - 1;
      if (left > 0) this.#uploads.set(client, left);
      else this.#uploads.delete(client);
    }
  }

  /** 429 quota_exceeded when one more session of `model` would take `client` over its sessions or key memory. */
  #checkQuota(client: Client, model: Model): void {
    const { maxSessions, maxKeyMemoryBytes } = client.limits;
    const held = this.#sessions.ownedBy(client.name);
    if (maxSessions !== undefined && held.sessions >= maxSessions)
      throw new ServerError(
        429,
        'quota_exceeded',
        `client ${client.name} already has ${held.sessions} open session(s), its quota; close one (DELETE) first`,
      );
    if (maxKeyMemoryBytes !== undefined && held.memoryBytes + model.memoryBytes > maxKeyMemoryBytes)
      throw new ServerError(
        429,
        'quota_exceeded',
        `a session of ${model.id} needs ${(model.memoryBytes / 1e6).toFixed(1)} MB of key memory; client ${client.name} holds ${(held.memoryBytes / 1e6).toFixed(1)} of its ${(maxKeyMemoryBytes / 1e6).toFixed(1)} MB`,
      );
  }

  #retryAfterSeconds(): number {
    const infer = this.#metrics.snapshot().routes['POST /v1/sessions/:id/infer'];
    const perTaskMs = infer && infer.latencyMs.count > 0 ? infer.latencyMs.p50 : 1000;
    return Math.max(1, Math.ceil(((this.#pool.queued + 1) * perTaskMs) / this.#pool.size / 1000));
  }

  #model(id: string): Model {
    const m = this.#models.get(id);
    if (!m)
      throw new ServerError(
        404,
        'unknown_model',
        `no model ${JSON.stringify(id.slice(0, 100))} (served: ${[...this.#models.keys()].join(', ')})`,
      );
    return m;
  }

  #closeEvicted(evicted: readonly SessionEntry[], model: string): void {
    if (evicted.length > 0)
      this.#options.onNotice?.(`evicted ${evicted.length} least recently used session(s) to open a session of ${model}`);
    for (const s of evicted) {
      this.#pending.dropSession(s.id);
      void this.#closeInWorker(s);
    }
  }

  #closeInWorker(s: SessionEntry): Promise<void> {
    return this.#pool.run(s.worker, { type: 'close', session: s.id }, [], { counted: false }).then(
      () => undefined,
      () => undefined, // the worker is gone (its memory with it) or shutting down
    );
  }

  /** A worker stopped: its sessions, and their inferences waiting at a refresh round, are gone. */
  #dropWorker(index: number): SessionEntry[] {
    const lost = this.#sessions.dropWorker(index);
    for (const s of lost) this.#pending.dropSession(s.id);
    return lost;
  }

  #expire(): void {
    const now = Date.now();
    for (const [idHash, stored] of this.#dormant)
      if (now - stored.lastUsed > this.limits.sessionTtlMs && !this.#reviving.has(idHash)) {
        this.#dormant.delete(idHash);
        void this.#store?.remove(idHash);
      }
    const expired = this.#sessions.expire();
    for (const s of expired) {
      this.#pending.dropSession(s.id);
      void this.#closeInWorker(s);
    }
    if (expired.length > 0) this.#options.onNotice?.(`${expired.length} idle session(s) expired`);
    const abandoned = this.#pending.expire();
    if (abandoned > 0) this.#options.onNotice?.(`${abandoned} inference(s) abandoned at a refresh round expired`);
  }

  // ---- handlers --------------------------------------------------------------------------------------------

  #health(): Reply {
    const workers = this.#pool.workers();
    return {
      status: 200,
      json: {
        status: 'ok',
        uptimeS: Math.round((Date.now() - this.#started) / 1000),
        models: this.#models.size,
        workers: { ready: workers.filter((w) => w.ready).length, total: workers.length },
        sessions: this.#sessions.count,
        queue: this.#pool.queued,
      },
    };
  }

  #listModels(): Reply {
    return {
      status: 200,
      json: {
        models: [...this.#models.values()].map(({ description: d }) => ({
          id: d.id,
          name: d.name,
          model: d.model,
          polyModulusDegree: d.params.polyModulusDegree,
          depth: d.predicted.depth,
          inputLength: d.input.length,
          outputLength: d.output.length,
          rotationSteps: d.rotationSteps.length,
          refreshRounds: d.rounds.length,
          evaluationKeyUploadBytes: d.predicted.evaluationKeyUploadBytes,
          predictedLatencyMs: d.predicted.latencyMs,
        })),
      },
    };
  }

  #getModel(ctx: RequestContext, id: string): Reply {
    const m = this.#model(id);
    ctx.model = m.id;
    return { status: 200, json: m.description };
  }

  async #openSession(req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    // the envelope's header is checked as soon as it arrives: a body that cannot be keys for its model is cut off
    // before the rest is received
    const inspect = {
      bytes: KEY_UPLOAD_HEAD_BYTES,
      enough: keyUploadHeadComplete,
      check: (head: Buffer) => {
        const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
        const h = parseKeyUploadHead(head, declared);
        const m = this.#model(h.model);
        admitKeyLengths(h.relinBytes, h.galoisBytes, m.keySizes, m.id);
      },
    };
    const body = await this.#withUploadSlot(req, ctx, () =>
      this.#readBody(req, ctx, this.limits.maxKeysBodyBytes, 'the key envelope', inspect),
    );
    const upload = parseKeyUpload(body);
    const model = this.#model(upload.model);
    ctx.model = model.id;
    admitKeys(upload.relin, upload.galois, model.keySizes, model.id); // before any memory is reserved or session evicted
    if (ctx.client) this.#checkQuota(ctx.client, model); // a client over its quota evicts no one
    const { entry, evicted } = this.#sessions.reserve(model.id, model.memoryBytes, ctx.client?.name);
    this.#closeEvicted(evicted, model.id);
    ctx.session = entry.id;
    ctx.worker = entry.worker;
    await this.#saveStored(entry, upload.relin, upload.galois); // before the body is transferred to the worker
    const out = await this.#loadInWorker(entry, upload.relin, upload.galois);
    ctx.queueMs = out.queueMs;
    ctx.workerMs = out.workerMs;
    return {
      status: 201,
      headers: { Location: `${API_PREFIX}/sessions/${entry.id}` },
      json: {
        session: entry.id,
        model: model.id,
        keyBytes: out.result.keyBytes,
        memoryBytes: entry.memoryBytes,
        idleTtlS: this.limits.sessionTtlMs / 1000,
      },
    };
  }

  /**
   * Load a reserved session's keys into its worker (their buffer is transferred) and mark it ready; a failure
   * removes the session again.
   */
  async #loadInWorker(entry: SessionEntry, relin: Uint8Array, galois: Uint8Array): Promise<TaskOutcome<OpenResult>> {
    try {
      const out = await this.#pool.run<OpenResult>(
        entry.worker,
        { type: 'open', session: entry.id, model: entry.model, relin, galois },
        [relin.buffer as ArrayBuffer],
        { timeoutMs: this.limits.requestTimeoutMs, onLate: () => void this.#closeInWorker(entry) },
      );
      entry.state = 'ready';
      entry.lastUsed = Date.now();
      return out;
    } catch (err) {
      this.#sessions.remove(entry.id, 'failed');
      throw err;
    }
  }

  async #deleteSession(ctx: RequestContext, id: string): Promise<Reply> {
    const stored = this.#storedSession(id, ctx.client?.name);
    if (stored && !this.#reviving.has(stored.idHash)) {
      this.#dormant.delete(stored.idHash);
      void this.#store!.remove(stored.idHash);
      ctx.model = stored.model;
      return { status: 204, bytes: new Uint8Array(0) };
    }
    const s = await this.#useSession(id, ctx.client?.name);
    ctx.session = s.id;
    ctx.model = s.model;
    this.#sessions.remove(id, 'deleted');
    this.#pending.dropSession(id);
    // queued behind the session's accepted requests on its worker: they finish first, then the keys are freed
    await this.#closeInWorker(s);
    return { status: 204, bytes: new Uint8Array(0) };
  }

  /** Run `handle` on a ready session, counted as in use (never evicted) until it returns. */
  async #withSession(ctx: RequestContext, id: string, handle: (s: SessionEntry, model: Model) => Promise<Reply>): Promise<Reply> {
    const s = await this.#useSession(id, ctx.client?.name);
    ctx.session = s.id;
    ctx.model = s.model;
    ctx.worker = s.worker;
    s.inflight++;
    try {
      return await handle(s, this.#model(s.model));
    } finally {
      s.inflight--;
      s.lastUsed = Date.now();
      this.#touchStored(s);
    }
  }

  // ---- sessions kept in the state directory ------------------------------------------------------------------

  /** A ready session: in memory, or (with stateDir) loaded from its stored keys on first use after a restart. */
  async #useSession(id: string, owner: string | undefined): Promise<SessionEntry> {
    try {
      return this.#sessions.use(id, owner);
    } catch (err) {
      const stored = err instanceof ServerError && err.apiCode === 'unknown_session' ? this.#storedSession(id, owner) : undefined;
      if (!stored) throw err;
      let loading = this.#reviving.get(stored.idHash);
      if (!loading) {
        loading = this.#revive(id, stored).finally(() => this.#reviving.delete(stored.idHash));
        this.#reviving.set(stored.idHash, loading);
      }
      await loading;
      return this.#sessions.use(id, owner);
    }
  }

  #storedSession(id: string, owner: string | undefined): StoredSession | undefined {
    if (!this.#store) return undefined;
    const stored = this.#dormant.get(sessionIdHash(id));
    return stored && stored.owner === owner ? stored : undefined;
  }

  /** Load a stored session's keys into a worker under its own id; a corrupt file drops the session (404). */
  async #revive(id: string, stored: StoredSession): Promise<SessionEntry> {
    const model = this.#model(stored.model);
    let keys: { relin: Uint8Array; galois: Uint8Array };
    try {
      keys = await this.#store!.load(stored.idHash);
    } catch (err) {
      this.#dormant.delete(stored.idHash);
      // gone before the 404 says so
      await this.#store!.remove(stored.idHash);
      this.#options.onNotice?.(`state directory: dropped stored session ${sessionTag(id)}: ${errorMessage(err)}`);
      throw new ServerError(
        404,
        'unknown_session',
        `session ${id} was stored, but its stored keys are unreadable (${errorMessage(err)}); open a new session`,
      );
    }
    const { entry, evicted } = this.#sessions.reserve(model.id, model.memoryBytes, stored.owner, id);
    this.#dormant.delete(stored.idHash);
    this.#closeEvicted(evicted, model.id);
    entry.createdAt = stored.createdAt;
    await this.#loadInWorker(entry, keys.relin, keys.galois);
    return entry;
  }

  async #saveStored(entry: SessionEntry, relin: Uint8Array, galois: Uint8Array): Promise<void> {
    if (!this.#store) return;
    try {
      await this.#store.save(
        entry.id,
        { model: entry.model, ...(entry.owner !== undefined ? { owner: entry.owner } : {}), createdAt: entry.createdAt },
        relin,
        galois,
      );
      this.#touched.set(entry.id, Date.now());
    } catch (err) {
      this.#options.onNotice?.(
        `state directory: could not store session ${sessionTag(entry.id)} (${errorMessage(err)}); it will not survive a restart`,
      );
    }
  }

  /** Touch a used session's file, at most once a minute (its last use is the file's mtime after a restart). */
  #touchStored(s: SessionEntry): void {
    if (!this.#store) return;
    const now = Date.now();
    if (now - (this.#touched.get(s.id) ?? 0) < 60_000) return;
    this.#touched.set(s.id, now);
    this.#store.touch(sessionIdHash(s.id));
  }

  /** A session left the table: its stored keys go too — except when its worker was lost (loaded again on use). */
  #forgetStored(s: SessionEntry, reason: string): void {
    if (!this.#store) return;
    this.#touched.delete(s.id);
    const idHash = sessionIdHash(s.id);
    if (reason === 'lost') {
      this.#dormant.set(idHash, {
        idHash,
        model: s.model,
        ...(s.owner !== undefined ? { owner: s.owner } : {}),
        createdAt: s.createdAt,
        lastUsed: s.lastUsed,
      });
    } else void this.#store.remove(idHash);
  }

  /** POST …/infer: input ciphertexts in; the result, or the first refresh round's request. */
  #infer(req: IncomingMessage, ctx: RequestContext, id: string): Promise<Reply> {
    return this.#withSession(ctx, id, async (s, model) => {
      const body = await this.#readBody(req, ctx, this.limits.maxInferBodyBytes, 'the ciphertext body');
      const parts = splitSealObjects(body, 'ciphertext');
      const want = model.description.input.ciphertexts;
      if (parts.length !== want) {
        throw new ServerError(
          400,
          'bad_ciphertext_count',
          `model ${s.model} takes ${want} input ciphertext${want === 1 ? '' : 's'}, the body holds ${parts.length}`,
        );
      }
      const inference = model.rounds.length > 0 ? this.#pending.begin(s.id) : null;
      const masks = inference ? { secret: this.#secrets.maskSecret, inference } : null;
      return this.#segment(ctx, s, model, inference, { type: 'infer', session: s.id, ciphertexts: parts, masks }, body);
    });
  }

  /**
   * POST …/infer/continue: a refresh reply (token + fresh ciphertexts) in; the next round's request, or the result.
   * The token is checked (form, tag, session, expiry) and claimed (single use) before any ciphertext is read; a
   * reply that fails after the claim ends the inference.
   */
  #continue(req: IncomingMessage, ctx: RequestContext, id: string): Promise<Reply> {
    return this.#withSession(ctx, id, async (s, model) => {
      const body = await this.#readBody(req, ctx, this.limits.maxInferBodyBytes, 'the refresh reply');
      const reply = parseRefreshReply(body);
      const c = this.#tokens.open(reply.token, s.id, Date.now());
      const round = model.rounds[c.round];
      if (!round || round.end !== c.opIndex) {
        throw new ServerError(
          400,
          'bad_token',
          `the continuation token names round ${c.round} at op ${c.opIndex}, which model ${s.model} does not have`,
        );
      }
      this.#pending.claim(c.inference, s.id, c.round);
      let parts: Uint8Array[];
      try {
        parts = reply.ciphertexts.length === 0 ? [] : splitSealObjects(reply.ciphertexts, 'ciphertext');
        if (parts.length !== round.sources.length) {
          throw new ServerError(
            400,
            'bad_ciphertext_count',
            `refresh round ${round.index} of model ${s.model} takes ${round.sources.length} fresh ciphertext(s), the reply holds ${parts.length}`,
          );
        }
      } catch (err) {
        this.#pending.finish(c.inference);
        throw err;
      }
      const masks = { secret: this.#secrets.maskSecret, inference: c.inference };
      return this.#segment(
        ctx,
        s,
        model,
        c.inference,
        { type: 'continue', session: s.id, round: c.round, ciphertexts: parts, masks },
        body,
      );
    });
  }

  /**
   * Run one segment of an inference on the session's worker and answer with what it gave: the result (the
   * inference is over) or a refresh request with a new token (the inference waits for that round's reply).
   */
  async #segment(
    ctx: RequestContext,
    s: SessionEntry,
    model: Model,
    inference: Uint8Array | null,
    task: SegmentTask,
    body: Buffer,
  ): Promise<Reply> {
    let out;
    try {
      out = await this.#pool.run<InferResult>(s.worker, task, [body.buffer as ArrayBuffer], { timeoutMs: this.limits.requestTimeoutMs });
    } catch (err) {
      if (inference) this.#pending.finish(inference);
      throw err;
    }
    ctx.queueMs = out.queueMs;
    ctx.workerMs = out.workerMs;
    const r = out.result;
    const timing = [
      `queue;dur=${out.queueMs.toFixed(1)}`,
      `load;dur=${r.loadMs.toFixed(1)}`,
      `eval;dur=${r.evalMs.toFixed(1)}`,
      `save;dur=${r.saveMs.toFixed(1)}`,
    ].join(', ');
    const headers = { 'Server-Timing': timing };
    if (r.round === null || !inference) {
      if (inference) this.#pending.finish(inference);
      s.inferences++;
      return { status: 200, bytes: joinSealObjects(r.ciphertexts), headers };
    }
    const round = model.rounds[r.round]!;
    const expiresAt = this.#pending.wait(inference, r.round);
    const token = this.#tokens.issue(s.id, { inference, round: r.round, opIndex: round.end, expiresAt });
    const request = {
      token,
      round: r.round,
      rounds: model.rounds.length,
      ciphertexts: r.ciphertexts.length,
      level: round.fresh.level,
      scale: round.fresh.scale,
    };
    return { status: 200, bytes: encodeRefreshRequest(request, r.ciphertexts), headers };
  }
}
