/**
 * The shape of src/, read from its imports (static, re-exports, `import type` and string-literal dynamic
 * imports, parsed with the TypeScript compiler): no import cycle anywhere, node-seal imported by the SEAL adapter
 * alone, the parameter model / circuit format / compiler free of SEAL, and folders importing only downward.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Module specifiers a file imports (every kind of import that names its module with a string). */
function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = n.arguments;
      if (arg && ts.isStringLiteral(arg)) out.push(arg.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** src-relative path → the src files and the packages it imports. */
const graph = new Map<string, { files: string[]; packages: string[] }>();
for (const file of sourceFiles(src)) {
  const files: string[] = [];
  const packages: string[] = [];
  for (const s of specifiers(file)) {
    if (s.startsWith('.')) files.push(relative(src, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
    else packages.push(s);
  }
  graph.set(relative(src, file), { files, packages });
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan. */
function cycles(): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)?.files ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)!.files.includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

function reachable(start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph.get(f)?.files ?? []));
  }
  return seen;
}

/** The layer of a src file: a folder may import its own layer and the layers below, never one above. */
function layer(file: string): number {
  const ranks: [RegExp, number][] = [
    [/^(errors|files|worker-script)\.ts$/, 0],
    // the schema layer every file format is checked with (TypeBox and nothing of pann but errors)
    [/^schema\//, 0],
    // SEAL-free parts of src/ckks: the parameter model, and SEAL's wire format and Galois elements in JavaScript
    [/^(approx\/|ckks\/params\/|ckks\/wire-format\.ts$|ckks\/galois\.ts$)/, 1],
    [/^(nn|circuit|ckks)\//, 2],
    [/^compiler\//, 3],
    [/^runtime\//, 4],
    [/^(pipeline\.ts|study\/|server\/)/, 5],
    [/^cli\//, 6],
    [/^index\.ts$/, 7],
  ];
  const hit = ranks.find(([re]) => re.test(file));
  if (!hit) throw new Error(`${file}: no layer assigned (add it to the table in test/architecture.test.ts)`);
  return hit[1];
}

describe('the shape of src/', () => {
  it('reads a sensible graph', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('compiler/compile.ts')!.files).toContain('circuit/index.ts');
  });

  it('has no import cycle (type-only imports included)', () => {
    expect(cycles()).toEqual([]);
  });

  it('imports node-seal in the SEAL adapter alone', () => {
    const importers = [...graph].filter(([, g]) => g.packages.some((p) => p === 'node-seal' || p.startsWith('node-seal/'))).map(([f]) => f);
    expect(importers).toEqual(['ckks/wasm.ts']);
  });

  it('keeps the parameter model, the circuit format and the compiler free of SEAL', () => {
    for (const start of ['ckks/params/index.ts', 'circuit/index.ts', 'compiler/compile.ts']) {
      const seal = [...reachable(start)].filter((f) => f.startsWith('ckks/') && layer(f) > 1);
      expect(seal, start).toEqual([]);
    }
  });

  it('keeps the schema layer on TypeBox alone', () => {
    const schema = [...graph].filter(([f]) => f.startsWith('schema/'));
    expect(schema.length).toBeGreaterThan(0);
    for (const [f, g] of schema) {
      expect(
        g.files.filter((to) => !to.startsWith('schema/') && to !== 'errors.ts'),
        f,
      ).toEqual([]);
      expect(
        g.packages.filter((p) => !p.startsWith('@sinclair/typebox')),
        f,
      ).toEqual([]);
    }
  });

  it('imports only downward: approx → nn → compiler → runtime → server/study → cli', () => {
    const upward = [...graph].flatMap(([f, g]) => g.files.filter((to) => layer(to) > layer(f)).map((to) => `${f} → ${to}`));
    expect(upward).toEqual([]);
  });
});
