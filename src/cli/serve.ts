/**
 * `pann serve [circuits...]`: serve compiled circuits over HTTP (API v1, docs/server.md). Each request is logged
 * as one JSON line on stdout; server notices go to stderr. SIGINT/SIGTERM shut down gracefully (in-flight
 * requests finish); a second signal exits at once.
 */
import { basename } from 'node:path';
import { Command } from 'commander';
import { loadCircuit } from '../circuit/index.js';
import { InputError } from '../errors.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../server/limits.js';
import { formatLogLine } from '../server/logging.js';
import { MODEL_ID_PATTERN, PannServer, type ServedModel } from '../server/server.js';
import { readTokenFile } from '../server/auth.js';
import { action, intOption } from './common.js';
import { registerTokenCommands } from './tokens.js';

interface ServeFlags {
  port: number;
  host: string;
  workers?: number;
  maxSessions?: number;
  keyMemory?: number;
  sessionTtl?: number;
  timeout?: number;
  maxQueue?: number;
  maxKeysBody?: number;
  maxInferBody?: number;
  maxBuffered?: number;
  bodyTimeout?: number;
  roundTtl?: number;
  maxPending?: number;
  maxPendingPerSession?: number;
  maxUploadsPerClient?: number;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  shutdownTimeout?: number;
  auth?: string;
  insecureNoAuth?: boolean;
  stateDir?: string;
  quiet?: boolean;
}

const MB = 1e6;

/** `file.json` → id `file`; `id=file.json` names it explicitly. */
export function servedModelFrom(arg: string): ServedModel {
  const eq = arg.indexOf('=');
  const id = eq > 0 ? arg.slice(0, eq) : basename(arg).replace(/\.json$/i, '');
  const path = eq > 0 ? arg.slice(eq + 1) : arg;
  if (!MODEL_ID_PATTERN.test(id))
    throw new InputError(
      `model id ${JSON.stringify(id)} (from ${arg}): use 1–64 letters, digits, '.', '_' or '-'; name it with id=${path}`,
    );
  return { id, circuit: loadCircuit(path) };
}

export function registerServe(program: Command): void {
  const d = DEFAULT_LIMITS;
  const serve = program
    .command('serve')
    .description('serve compiled circuits for encrypted inference over HTTP (the server sees only ciphertexts and evaluation keys)')
    .argument('<circuits...>', 'circuit files from `pann compile`; the model id is the file name without .json, or give id=file.json')
    .option('-p, --port <n>', 'TCP port (0 = any free port)', intOption('--port', 0, 65535), 8080)
    .option('--host <addr>', 'interface to bind (127.0.0.1 = this machine only; another needs --auth)', '127.0.0.1')
    .option('--auth <file>', 'clients and quotas (`pann serve token create`): every request but /v1/health needs a bearer token')
    .option('--state-dir <dir>', "keep sessions' evaluation keys here so they survive a restart (loaded on first use after one)")
    .option('--insecure-no-auth', 'bind to a non-loopback --host without --auth (anyone who can reach it may use it)')
    .option(
      '--workers <n>',
      `evaluation threads, each with its own SEAL instance (default: ${d.workers}, the CPU count)`,
      intOption('--workers', 1, 256),
    )
    .option(
      '--max-sessions <n>',
      `open sessions; one more evicts the least recently used idle one (default: ${d.maxSessions})`,
      intOption('--max-sessions', 1, 100000),
    )
    .option(
      '--key-memory <MB>',
      `memory for session keys and their encoded plaintexts, LRU-evicted (default: ${d.maxKeyMemoryBytes / MB})`,
      intOption('--key-memory', 1, 1e6),
    )
    .option(
      '--session-ttl <s>',
      `close sessions unused this long (default: ${d.sessionTtlMs / 1000})`,
      intOption('--session-ttl', 1, 7 * 24 * 3600),
    )
    .option(
      '--timeout <ms>',
      `per-request limit on queue wait + evaluation, then 503 (default: ${d.requestTimeoutMs})`,
      intOption('--timeout', 1, 3_600_000),
    )
    .option(
      '--max-queue <n>',
      `requests waiting for a worker before 503 + Retry-After (default: ${d.maxQueue})`,
      intOption('--max-queue', 0, 1_000_000),
    )
    .option('--max-keys-body <MB>', `largest key upload (default: ${d.maxKeysBodyBytes / MB})`, intOption('--max-keys-body', 1, 4096))
    .option(
      '--max-infer-body <MB>',
      `largest ciphertext upload (default: ${d.maxInferBodyBytes / MB})`,
      intOption('--max-infer-body', 1, 2048),
    )
    .option(
      '--max-buffered <MB>',
      `request bodies buffered at once, all requests together (default: ${d.maxBufferedBodyBytes / MB})`,
      intOption('--max-buffered', 1, 1e6),
    )
    .option(
      '--body-timeout <ms>',
      `time to receive a request's headers and body (default: ${d.bodyTimeoutMs})`,
      intOption('--body-timeout', 1, 3_600_000),
    );
  withRoundOptions(serve)
    .option('-q, --quiet', 'no request log lines')
    .addHelpText(
      'after',
      `
API (docs/server.md): GET /v1/health, /v1/metrics, /v1/models, /v1/models/:id; POST /v1/sessions (key envelope);
DELETE /v1/sessions/:id; POST /v1/sessions/:id/infer (ciphertexts); POST /v1/sessions/:id/infer/continue (a
refresh reply, for circuits with client-aided refresh rounds). Sizes in MB are 10^6 bytes.

Examples:
  $ pann serve circuits/mnist-mlp-relu-k6.json
  $ pann serve mlp=circuits/mnist-mlp-relu-k6.json --port 9000 --workers 2 --key-memory 1000
  $ pann client infer --server http://127.0.0.1:8080 --model mnist-mlp-relu-k6 --index 0`,
    )
    .action(action('serve', serveCommand));
  serve.enablePositionalOptions();
  registerTokenCommands(serve);
}

/** The limits on inferences waiting at a refresh round (docs/server.md, "Refresh rounds"). */
function withRoundOptions(command: Command): Command {
  const d = DEFAULT_LIMITS;
  return command
    .option(
      '--round-ttl <s>',
      `how long an inference waits for the client's reply to a refresh round before it expires (default: ${d.roundTtlMs / 1000})`,
      intOption('--round-ttl', 1, 3600),
    )
    .option(
      '--max-pending <n>',
      `inferences waiting for refresh replies, all sessions together, before 503 (default: ${d.maxPendingInferences})`,
      intOption('--max-pending', 1, 1_000_000),
    )
    .option(
      '--max-pending-per-session <n>',
      `inferences waiting for refresh replies in one session, before 429 (default: ${d.maxPendingPerSession})`,
      intOption('--max-pending-per-session', 1, 100_000),
    )
    .option(
      '--max-uploads-per-client <n>',
      `key uploads one client address may send at once, before 429 (default: ${d.maxUploadsPerClient})`,
      intOption('--max-uploads-per-client', 1, 10_000),
    )
    .option(
      '--max-connections <n>',
      `open connections at once; at the cap a new one replaces the oldest idle one (default: ${d.maxConnections})`,
      intOption('--max-connections', 1, 1_000_000),
    )
    .option(
      '--max-connections-per-address <n>',
      `open connections from one client address, handled the same way (default: ${d.maxConnectionsPerAddress})`,
      intOption('--max-connections-per-address', 1, 1_000_000),
    )
    .option(
      '--shutdown-timeout <ms>',
      `on SIGINT/SIGTERM, wait this long for requests in progress, then close every connection (default: ${d.shutdownTimeoutMs})`,
      intOption('--shutdown-timeout', 0, 3_600_000),
    );
}

/** `pann serve`: start the server on the circuits, log requests, and stop gracefully on SIGINT/SIGTERM. */
async function serveCommand(files: string[], flags: ServeFlags): Promise<void> {
  const models = files.map(servedModelFrom);
  const limits = limitsFrom(flags);
  const note = (s: string) => process.stderr.write(`pann serve: ${s}\n`);
  note(`starting ${limits.workers ?? DEFAULT_LIMITS.workers} worker(s) for ${models.map((m) => m.id).join(', ')} …`);
  const auth = flags.auth !== undefined ? readTokenFile(flags.auth, { mustExist: true }) : undefined;
  if (auth) note(`--auth ${flags.auth}: ${auth.length} client(s)`);
  else
    note(
      `no --auth: any local process may use the server${flags.insecureNoAuth ? ' (and, with --insecure-no-auth, anyone who can reach it)' : '; it binds to a loopback address only'}`,
    );
  const server = await PannServer.start({
    models,
    host: flags.host,
    ...(auth ? { auth } : {}),
    ...(flags.insecureNoAuth ? { insecureNoAuth: true } : {}),
    ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}),
    port: flags.port,
    limits,
    onNotice: note,
    ...(flags.quiet ? {} : { onLog: (e) => process.stdout.write(`${formatLogLine(e)}\n`) }),
  });
  const l = server.limits;
  note(
    `listening on ${server.url}/v1 (models: ${models.map((m) => m.id).join(', ')}; ${l.workers} workers, ${l.maxSessions} sessions, key memory ${(l.maxKeyMemoryBytes / MB).toFixed(0)} MB)`,
  );
  await stopOnSignal(server, note);
}

/** The limits the flags set (sizes in MB, the session TTL in seconds); the others stay undefined (their defaults). */
function limitsFrom(flags: ServeFlags): Partial<ServerLimits> {
  const mb = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * MB));
  return {
    workers: flags.workers,
    maxSessions: flags.maxSessions,
    maxKeyMemoryBytes: mb(flags.keyMemory),
    sessionTtlMs: flags.sessionTtl === undefined ? undefined : flags.sessionTtl * 1000,
    requestTimeoutMs: flags.timeout,
    maxQueue: flags.maxQueue,
    maxKeysBodyBytes: mb(flags.maxKeysBody),
    maxInferBodyBytes: mb(flags.maxInferBody),
    maxBufferedBodyBytes: mb(flags.maxBuffered),
    bodyTimeoutMs: flags.bodyTimeout,
    roundTtlMs: flags.roundTtl === undefined ? undefined : flags.roundTtl * 1000,
    maxPendingInferences: flags.maxPending,
    maxPendingPerSession: flags.maxPendingPerSession,
    maxUploadsPerClient: flags.maxUploadsPerClient,
    maxConnections: flags.maxConnections,
    maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
    shutdownTimeoutMs: flags.shutdownTimeout,
  };
}

/** Resolves once the server has closed after SIGINT or SIGTERM (in-flight requests finish); a second signal exits at once. */
function stopOnSignal(server: PannServer, note: (s: string) => void): Promise<void> {
  return new Promise<void>((resolveStopped) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        note(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      note(`${signal}: finishing in-flight requests, then stopping (send it again to exit now)`);
      void server.close().then(() => {
        const m = server.metrics();
        note(`stopped after ${m.requests} requests (${m.errors} errors)`);
        resolveStopped();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
