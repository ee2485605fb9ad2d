import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCircuit } from '../../src/circuit/index.js';
import { denseCircuit, startServe } from './fixtures.js';

/** `pann serve` as a process: starts, logs one JSON line per request, stops gracefully on SIGTERM; bad input exits 2. */
describe('pann serve / pann client (CLI)', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pann-serve-'));
    file = join(dir, 'dense.json');
    saveCircuit(file, denseCircuit('dense', 16, 3, 4096));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves, logs JSON lines, answers pann client, and exits 0 on SIGTERM', async () => {
    const { child, url, stderr } = await startServe([file, '--port', '0', '--workers', '1']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const input = join(dir, 'x.json');
    writeFileSync(input, JSON.stringify([Array.from({ length: 16 }, (_, i) => i / 16)]));
    const run = promisify(execFile);
    const models = await run('node', ['bin/pann.js', 'client', 'models', '--server', url, '--json']);
    expect(JSON.parse(models.stdout).models[0]).toMatchObject({ id: 'dense', polyModulusDegree: 4096, inputLength: 16 });
    const infer = await run('node', ['bin/pann.js', 'client', 'infer', '-s', url, '-m', 'dense', '--input', input]);
    expect(infer.stdout).toMatch(/input 0: prediction \d/);
    expect(infer.stdout).toMatch(/bytes: keys sent .* per inference sent .* received/);
    const exit = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr()).toMatch(/SIGTERM: finishing in-flight requests/);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { route: string; status: number });
    expect(lines.map((l) => l.route)).toEqual([
      'GET /v1/models',
      'GET /v1/models/:id',
      'GET /v1/models/:id',
      'POST /v1/sessions',
      'POST /v1/sessions/:id/infer',
      'DELETE /v1/sessions/:id',
    ]);
  });

  it('bad input exits 2 with a one-line message', async () => {
    const run = promisify(execFile);
    const fail = async (args: string[]) => {
      try {
        await run('node', ['bin/pann.js', ...args]);
        return { code: 0, stderr: '' };
      } catch (e) {
        return e as { code: number; stderr: string };
      }
    };
    const missing = await fail(['serve', join(dir, 'nope.json'), '--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/pann serve: .*nope\.json/);
    const badId = await fail(['serve', `bad id=${file}`, '--port', '0']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/model id "bad id"/);
    const noInput = await fail(['client', 'infer', '-s', 'http://127.0.0.1:9', '-m', 'x']);
    expect(noInput.stderr).toMatch(/pann client infer: /);
    const badUrl = await fail(['client', 'models', '-s', 'not a url']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/is not a URL/);
    const open = await fail(['serve', file, '--port', '0', '--host', '0.0.0.0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/binding to 0\.0\.0\.0 .*--auth/);
    const noFile = await fail(['serve', file, '--port', '0', '--auth', join(dir, 'absent.json')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/token file .*absent\.json does not exist/);
  });

  it('pann serve token create / list / revoke; a served client needs its token (--token or $PANN_TOKEN)', async () => {
    const run = promisify(execFile);
    const tokens = join(dir, 'tokens.json');
    const made = await run('node', ['bin/pann.js', 'serve', 'token', 'create', 'alice', '--auth', tokens, '--rate', '100', '--json']);
    const { token } = JSON.parse(made.stdout) as { token: string };
    expect(token).toMatch(/^pann_/);
    const list = await run('node', ['bin/pann.js', 'serve', 'token', 'list', '--auth', tokens]);
    expect(list.stdout).toMatch(/^alice: created .*; 100 requests\/min$/m);
    expect(list.stdout).not.toContain(token);
    const { child, url, stderr } = await startServe([file, '--port', '0', '--workers', '1', '--auth', tokens, '-q']);
    try {
      expect(stderr()).toMatch(/--auth .*tokens\.json: 1 client/);
      await expect(run('node', ['bin/pann.js', 'client', 'models', '-s', url])).rejects.toMatchObject({
        stderr: expect.stringMatching(/401|bearer token/),
      });
      const byFlag = await run('node', ['bin/pann.js', 'client', 'models', '-s', url, '--token', token, '--json']);
      expect(JSON.parse(byFlag.stdout).models[0].id).toBe('dense');
      const byEnv = await run('node', ['bin/pann.js', 'client', 'models', '-s', url, '--json'], {
        env: { ...process.env, PANN_TOKEN: token },
      });
      expect(JSON.parse(byEnv.stdout).models[0].id).toBe('dense');
    } finally {
      const exit = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exit;
    }
    await run('node', ['bin/pann.js', 'serve', 'token', 'revoke', 'alice', '--auth', tokens]);
    expect((await run('node', ['bin/pann.js', 'serve', 'token', 'list', '--auth', tokens])).stdout).toBe('');
  });
});
