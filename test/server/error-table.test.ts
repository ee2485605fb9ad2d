/**
 * docs/server.md's error table is what the server answers: every (status, code) the server code can throw is in
 * the table with that status, and every row of the table is thrown somewhere (no stale rows). The codes the
 * client raises about the server's answers (502) are documented under "Client".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT_SIDE = new Set(['client.ts', 'http-request.ts']);

function documented(): Set<string> {
  const doc = readFileSync(join(root, 'docs/server.md'), 'utf8');
  const table = doc.slice(doc.indexOf('### Error codes'), doc.indexOf('## Limits'));
  const out = new Set<string>();
  for (const row of table.split('\n')) {
    const m = /^\| (\d{3}) \| ([^|]+) \|/.exec(row);
    if (!m) continue;
    for (const code of m[2]!.matchAll(/`([a-z_]+)`/g)) out.add(`${m[1]} ${code[1]}`);
  }
  return out;
}

function thrown(): Set<string> {
  const dir = join(root, 'src/server');
  const out = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !CLIENT_SIDE.has(n))) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/(?:ServerError\(|rejected\(err,)\s*(\d{3}),\s*'([a-z_]+)'/g))
      if (m[1] !== '502') out.add(`${m[1]} ${m[2]}`); // 502: the client's verdict on an answer it parses
    // the worker names its ciphertext codes from what it reads (bad_${what})
    if (/ServerError\(400, `bad_\$\{what\}`/.test(text)) out.add('400 bad_ciphertext');
  }
  return out;
}

describe("docs/server.md's error table", () => {
  it('lists every status and code the server throws, with the status it throws it with', () => {
    const docs = documented();
    const code = thrown();
    expect(docs.size).toBeGreaterThan(20);
    const missing = [...code].filter((c) => !docs.has(c)).sort();
    expect(missing).toEqual([]);
  });

  it('has no row the server never throws', () => {
    const code = thrown();
    const stale = [...documented()].filter((d) => !code.has(d)).sort();
    expect(stale).toEqual([]);
  });
});
