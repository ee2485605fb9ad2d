/**
 * `pann serve token create|revoke|list`: the clients of a server run with `--auth <file>`. The token is printed
 * once, at creation; the file keeps only its SHA-256, a name and the client's limits (src/server/auth.ts).
 */
import type { Command } from 'commander';
import { createToken, readTokenFile, revokeToken, type ClientLimits } from '../server/auth.js';
import { action, intOption, printJson } from './common.js';

interface CreateFlags {
  auth: string;
  maxSessions?: number;
  keyMemory?: number;
  rate?: number;
  json?: boolean;
}

export function registerTokenCommands(serve: Command): void {
  const token = serve.command('token').description('manage the clients (bearer tokens and quotas) of a server run with --auth <file>');
  token
    .command('create')
    .description('add a client; prints its token once (the file keeps only its SHA-256)')
    .argument('<name>', 'client name: 1–64 letters, digits, ".", "_" or "-"')
    .requiredOption('--auth <file>', 'the token file (created when absent)')
    .option('--max-sessions <n>', 'open sessions the client may hold at once (default: no quota)', intOption('--max-sessions', 1, 100_000))
    .option('--key-memory <MB>', "key memory of the client's open sessions (default: no quota)", intOption('--key-memory', 1, 1_000_000))
    .option('--rate <n>', 'requests per minute (default: no quota)', intOption('--rate', 1, 1_000_000))
    .option('--json', 'print { name, token } as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ pann serve token create alice --auth tokens.json --max-sessions 2 --key-memory 600 --rate 600
  $ PANN_TOKEN=<the printed token> pann client infer -s http://host:8080 -m mnist-mlp-relu-k6 --index 7`,
    )
    .action(action('serve token create', createCommand));
  token
    .command('revoke')
    .description("remove a client's token (a running server keeps it until restarted)")
    .argument('<name>', 'client name')
    .requiredOption('--auth <file>', 'the token file')
    .action(action('serve token revoke', (name: string, flags: { auth: string }) => revokeToken(flags.auth, name)));
  token
    .command('list')
    .description('the clients and their quotas (never the tokens)')
    .requiredOption('--auth <file>', 'the token file')
    .option('--json', 'print JSON')
    .action(action('serve token list', listCommand));
}

function createCommand(name: string, flags: CreateFlags): void {
  const limits: ClientLimits = {
    ...(flags.maxSessions !== undefined ? { maxSessions: flags.maxSessions } : {}),
    ...(flags.keyMemory !== undefined ? { maxKeyMemoryBytes: flags.keyMemory * 1e6 } : {}),
    ...(flags.rate !== undefined ? { requestsPerMinute: flags.rate } : {}),
  };
  const token = createToken(flags.auth, name, limits);
  if (flags.json) return printJson({ name, token });
  process.stdout.write(`${token}\n`);
  process.stderr.write(`pann serve token create: client ${name} added to ${flags.auth}; the token above is shown only now\n`);
}

function listCommand(flags: { auth: string; json?: boolean }): void {
  const tokens = readTokenFile(flags.auth, { mustExist: true });
  if (flags.json) return printJson({ clients: tokens.map((t) => ({ name: t.name, created: t.created, limits: t.limits })) });
  for (const t of tokens) {
    const l = t.limits;
    const quota = [
      l.maxSessions !== undefined ? `${l.maxSessions} sessions` : null,
      l.maxKeyMemoryBytes !== undefined ? `${(l.maxKeyMemoryBytes / 1e6).toFixed(0)} MB key memory` : null,
      l.requestsPerMinute !== undefined ? `${l.requestsPerMinute} requests/min` : null,
    ].filter((q) => q !== null);
    process.stdout.write(`${t.name}: created ${t.created}; ${quota.length ? quota.join(', ') : 'no quota'}\n`);
  }
}
