import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OutputError } from '../src/errors.js';
import { checkOutputFolder, checkOutputPath, writeFileAtomic } from '../src/files.js';

const dir = () => mkdtempSync(join(tmpdir(), 'pann-files-'));

describe('output paths', () => {
  it('creates a missing folder and returns the resolved path', () => {
    const d = dir();
    expect(checkOutputPath(join(d, 'a', 'b', 'm.json'), { label: '--out', extensions: ['.json'] })).toBe(resolve(d, 'a/b/m.json'));
    expect(readdirSync(join(d, 'a'))).toEqual(['b']);
  });

  it('names the wrong extension, a folder in place of the file, a file in place of the folder', () => {
    const d = dir();
    expect(() => checkOutputPath(join(d, 'x.png'), { label: '--plot', extensions: ['.svg'] })).toThrow(
      /--plot '.*x\.png': the file name must end in \.svg, not \.png/,
    );
    expect(() => checkOutputPath(d, { label: '--out' })).toThrow(/is a folder; give a file name/);
    writeFileSync(join(d, 'f'), 'x');
    expect(() => checkOutputPath(join(d, 'f', 'm.json'), { label: '--out' })).toThrow(OutputError);
    expect(() => checkOutputPath(join(d, 'no', 'm.json'), { label: '--out', createFolder: false })).toThrow(/folder .*no does not exist/);
    expect(() => checkOutputFolder(join(d, 'f'), '--out')).toThrow(/is a file, not a folder/);
  });

  it.skipIf(process.getuid?.() === 0)('names an unwritable folder (skipped as root: root may write anywhere)', () => {
    expect(() => checkOutputPath('/proc/pann.json', { label: '--out' })).toThrow(/not writable|cannot create/);
  });
});

describe('atomic writes', () => {
  it('replaces the file and leaves no temporary file', () => {
    const d = dir();
    const p = join(d, 'c.json');
    writeFileAtomic(p, 'old');
    writeFileAtomic(p, new Uint8Array([110, 101, 119]));
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(readdirSync(d)).toEqual(['c.json']);
  });

  it('a failed write names the path and keeps the old file', () => {
    const d = dir();
    mkdirSync(join(d, 'sub'));
    expect(() => writeFileAtomic(join(d, 'sub'), 'x')).toThrow(/cannot write .*sub/);
    expect(readdirSync(d)).toEqual(['sub']);
  });

  // the child runs the compiled module (npm test compiles before vitest runs)
  it('a process killed while writing leaves the old file or the whole new one, never a truncated one', async () => {
    const d = dir();
    const p = join(d, 'model.json');
    const old = 'A'.repeat(1000);
    writeFileSync(p, old);
    const big = 64 * 1024 * 1024;
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(pathToFileURL(resolve('dist/src/files.js')).href)});
      const data = Buffer.alloc(${big}, 66);
      process.stdout.write('ready\\n');
      for (;;) writeFileAtomic(${JSON.stringify(p)}, data);`;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
      await new Promise((r) => setTimeout(r, 50 + 97 * round));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = readFileSync(p);
      expect(text.length === old.length || text.length === big, `round ${round}: ${text.length} bytes`).toBe(true);
      expect(text.every((b) => b === text[0])).toBe(true);
    }
  }, 60_000);
});
