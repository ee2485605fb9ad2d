/**
 * No function in src/ is longer than MAX_LINES unless a comment right above it starts with `long-function:` and
 * says why (read from the TypeScript AST: declarations, methods, constructors, accessors, function expressions
 * and arrow functions, nested ones included).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 80;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The node whose leading comments document a function: the function, or the statement/property it is part of. */
function documentedNode(fn: ts.Node): ts.Node {
  let n: ts.Node = fn;
  while (
    n.parent &&
    (ts.isVariableDeclaration(n.parent) ||
      ts.isVariableDeclarationList(n.parent) ||
      ts.isVariableStatement(n.parent) ||
      ts.isPropertyAssignment(n.parent) ||
      ts.isPropertyDeclaration(n.parent))
  ) {
    n = n.parent;
  }
  return n;
}

function explained(sf: ts.SourceFile, fn: ts.Node): boolean {
  const node = documentedNode(fn);
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  return ranges.some((r) => /^\s*(\/\/|\/\*+|\*)\s*long-function:/m.test(sf.text.slice(r.pos, r.end)));
}

function longFunctions(): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(join(root, 'src'))) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
        const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
        const lines = last - first + 1;
        if (lines > MAX_LINES && !explained(sf, n)) out.push(`${relative(root, file)}:${first + 1} (${lines} lines)`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

describe('function length', () => {
  it(`no function in src/ is longer than ${MAX_LINES} lines without a 'long-function:' comment saying why`, () => {
    expect(longFunctions()).toEqual([]);
  });
});
