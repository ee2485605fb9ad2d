/**
 * Checking a value against a schema: a compiled validator (TypeBox's TypeCompiler, cached per schema) answers
 * yes or no fast enough for multi-megabyte circuit files; only a rejected value is walked again, to find the
 * first wrong field in the order the schema lists its fields and word one message about it in the format's style:
 * `ops[0][2]: expected an integer, got "x"`, `f.json: field 'method' must be one of …`.
 */
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type TypeCheck, type ValueError } from '@sinclair/typebox/compiler';
import { Errors } from '@sinclair/typebox/errors';
import { notesOf } from './notes.js';

/** How a format words its messages. */
export interface MessageStyle {
  /** The message about the field at `path` (the root's name, or '' when the root has none). */
  compose(path: string, text: string): string;
  /**
   * A rejection worded from what the node accepts: `expected ${what}, got ${got}`; `got` is left out for an object
   * or array of the wrong type (it may be megabytes).
   */
  expected(what: string, got?: string): string;
  /** The text for a required property that is absent; undefined: worded as a rejection of `undefined`. */
  missing?: string;
  /** Name a missing top-level property under the root (`description.id: missing`). @default false */
  missingUnderRoot?: boolean;
}

/** `layers[1].weight.shape: expected …, got …` and `name: missing`. */
export const FIELD_STYLE: MessageStyle = {
  compose: (path, text) => (path === '' ? text : `${path}: ${text}`),
  expected: (what, got) => (got === undefined ? `expected ${what}` : `expected ${what}, got ${got}`),
  missing: 'missing',
};

/** FIELD_STYLE, but an absent field is worded as a rejection of `undefined`: `count: expected an integer, got undefined`. */
export const FIELD_STYLE_GOT_UNDEFINED: MessageStyle = { ...FIELD_STYLE, missing: undefined };

export interface CheckOptions {
  /** Makes the format's error from the message. */
  error: (message: string) => Error;
  /** Names the value at the start of every message (a file, "model description"). @default none */
  source?: string;
  /** The name of the whole value, for a message about the root ("circuit: expected an object"). @default '' */
  root?: string;
  /** @default FIELD_STYLE */
  style?: MessageStyle;
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The compiled validator of a schema (compiled once, on first use). */
export function compiledSchema<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/** The error for the field at `path` (field notation, '' = the root), worded like the schema's messages: for checks in code. */
export function fieldError(options: CheckOptions, path: string, text: string): Error {
  const message = (options.style ?? FIELD_STYLE).compose(path === '' ? (options.root ?? '') : path, text);
  return options.error(options.source ? `${options.source}: ${message}` : message);
}

/** Throws the format's error naming the first wrong field unless `value` matches `schema`. */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, options: CheckOptions): asserts value is Static<T> {
  if (compiledSchema(schema).Check(value)) return;
  const style = options.style ?? FIELD_STYLE;
  const problem = firstProblem(schema, value, '', style) ?? { path: '', text: 'does not match the schema' };
  if (problem.missing && style.missingUnderRoot && !/[.[]/.test(problem.path) && options.root) {
    problem.path = `${options.root}.${problem.path}`;
  }
  throw fieldError(options, problem.path, problem.text);
}

// ---- finding and wording the first problem ------------------------------------------------------------------

interface Problem {
  /** Field notation: `layers[1].weight.shape`. */
  path: string;
  text: string;
  missing?: boolean;
}

/** Errors looked at to find the first one in schema order (a file wrong everywhere reports one of its first). */
const MAX_ERRORS = 1000;

const MAX_SHOWN = 200;

/** A value as messages show it: JSON, shortened. */
export function shown(value: unknown): string {
  const s = value === undefined ? 'undefined' : (JSON.stringify(value) ?? typeof value);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/** The schema node of an object's property, an array's items or a tuple's element (undefined: none). */
function child(node: TSchema | undefined, key: string | number): TSchema | undefined {
  if (!node) return undefined;
  switch (node[Kind]) {
    case 'Object':
      return (node.properties as Record<string, TSchema>)[key];
    case 'Array':
      return node.items as TSchema;
    case 'Tuple':
      return (node.items as TSchema[] | undefined)?.[key as number];
    case 'Record':
      return Object.values(node.patternProperties as Record<string, TSchema>)[0];
    default:
      return undefined;
  }
}

interface Step {
  key: string | number;
  node: TSchema | undefined;
  value: unknown;
  /** Position in schema order: the property's index (unknown properties last) or the element's index. */
  rank: number;
}

/** Walk a JSON pointer from a node and its value: each step's key, node, value and rank. */
function walk(root: TSchema, value: unknown, pointer: string): Step[] {
  const steps: Step[] = [];
  let node: TSchema | undefined = root;
  let v = value;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key: string | number = Array.isArray(v) ? Number(name) : name;
    let rank = typeof key === 'number' ? key : 0;
    if (node?.[Kind] === 'Object') {
      const names = Object.keys(node.properties as object);
      rank = names.includes(name) ? names.indexOf(name) : notesOf(node).unknownFirst ? -1 : names.length;
    }
    node = child(node, key);
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
    steps.push({ key, node, value: v, rank });
  }
  return steps;
}

function before(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return a.length < b.length;
}

/** The first problem of `value` against `schema` in schema order, its path prefixed with `base`. */
function firstProblem(schema: TSchema, value: unknown, base: string, style: MessageStyle): Problem | undefined {
  let first: { error: ValueError; steps: Step[]; order: number[] } | undefined;
  let n = 0;
  for (const error of Errors(schema, value)) {
    const steps = walk(schema, value, error.path);
    const order = steps.map((s) => s.rank);
    if (!first || before(order, first.order)) first = { error, steps, order };
    if (++n >= MAX_ERRORS) break;
  }
  if (!first) return undefined;
  const { error, steps } = first;
  // a node that speaks for everything inside it (a pair, a range object) takes the message
  if (notesOf(schema).whole) return { path: base, text: rejection(schema, value, style) };
  let path = base;
  for (const [i, step] of steps.entries()) {
    path = join(path, step.key);
    if (i < steps.length - 1 && step.node && notesOf(step.node).whole) return { path, text: rejection(step.node, step.value, style) };
  }
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: {
      const notes = notesOf(error.schema);
      const text = notes.missing ?? style.missing;
      return text !== undefined ? { path, text, missing: true } : { path, text: rejection(error.schema, undefined, style) };
    }
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = String(steps.at(-1)!.key);
      const known = Object.keys(error.schema.properties as object);
      return { path, text: notesOf(error.schema).unknownField?.(key) ?? `unknown field (known: ${known.join(', ')})` };
    }
    case ValueErrorType.Union:
      return unionProblem(error.schema, error.value, path, style);
    default:
      return { path, text: rejection(error.schema, error.value, style) };
  }
}

/** The JSON type of a value, as JSON Schema names it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a node's type admits the value's JSON type (a number of the right type may still be out of range). */
function admitsType(node: TSchema, v: unknown): boolean {
  const t = jsonType(v);
  switch (node[Kind]) {
    case 'Literal':
      return node.const === v;
    case 'Union':
      return (node.anyOf as TSchema[]).some((x) => admitsType(x, v));
    case 'Tuple':
      return t === 'array';
    case 'Record':
      return t === 'object';
    case 'Number':
      return t === 'number' || t === 'integer';
    default:
      return node.type === t;
  }
}

function unionProblem(node: TSchema, value: unknown, path: string, style: MessageStyle): Problem {
  const notes = notesOf(node);
  const variants = node.anyOf as TSchema[];
  if (notes.select) {
    const { variant, tag, unknownTag, atTag = true } = notes.select;
    const i = variant(value);
    if (i !== undefined) return firstProblem(variants[i]!, value, path, style) ?? { path, text: rejection(node, value, style) };
    const tagValue =
      tag !== undefined && value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[tag] : undefined;
    if (tag === undefined || !unknownTag || !variants.some((v) => admitsType(v, value)))
      return { path, text: rejection(node, value, style) };
    const tagPath = atTag ? join(path, tag) : path;
    if (tagValue === undefined && style.missing !== undefined) return { path: tagPath, text: style.missing, missing: true };
    return { path: tagPath, text: unknownTag(tagValue) };
  }
  if (notes.whole) return { path, text: rejection(node, value, style) };
  // the variants of the value's type: the deepest problem among them is the one meant (none: the union's wording)
  let best: Problem | undefined;
  for (const v of variants.filter((x) => admitsType(x, value))) {
    const p = firstProblem(v, value, path, style);
    if (p && (!best || p.path.length > best.path.length)) best = p;
  }
  return best ?? { path, text: rejection(node, value, style) };
}

function items(n: number): string {
  return `${n} item${n === 1 ? '' : 's'}`;
}

const CONTAINERS = new Set(['Object', 'Record', 'Array']);

/** The text for a value a node rejects. */
function rejection(node: TSchema, value: unknown, style: MessageStyle): string {
  const notes = notesOf(node);
  if (node[Kind] === 'Array' && Array.isArray(value)) {
    return notes.length?.(value.length) ?? style.expected(describe(node), items(value.length));
  }
  if (notes.invalid) return notes.invalid(value);
  if (notes.expected || !CONTAINERS.has(node[Kind])) return style.expected(describe(node), shown(value));
  // a container of the wrong type: what it is, not its size, and not the value (it may be megabytes)
  return style.expected(node[Kind] === 'Array' ? 'an array' : 'an object');
}

/** What a node accepts, as a noun phrase. */
export function describe(node: TSchema): string {
  const notes = notesOf(node);
  if (notes.expected) return notes.expected;
  const { minimum: min, maximum: max, exclusiveMinimum: above, exclusiveMaximum: below } = node as Record<string, number | undefined>;
  switch (node[Kind]) {
    case 'Integer':
      if (min !== undefined && max !== undefined) return `an integer in ${min}..${max}`;
      if (min === 0) return 'a non-negative integer';
      if (min !== undefined) return `an integer ≥ ${min}`;
      return max !== undefined ? `an integer ≤ ${max}` : 'an integer';
    case 'Number': {
      const lo = min !== undefined ? `[${min}` : above !== undefined ? `(${above}` : undefined;
      const hi = max !== undefined ? `${max}]` : below !== undefined ? `${below})` : undefined;
      if (lo && hi) return `a number in ${lo}, ${hi}`;
      if (lo) return `a number ${min !== undefined ? '≥' : '>'} ${min ?? above}`;
      if (hi) return `a number ${max !== undefined ? '≤' : '<'} ${max ?? below}`;
      return 'a finite number';
    }
    case 'String':
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(node.const);
    case 'Union': {
      const variants = node.anyOf as TSchema[];
      if (variants.every((v) => v[Kind] === 'Literal')) return `one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}`;
      return variants.map(describe).join(' or ');
    }
    case 'Tuple':
      return `an array of ${(node.items as TSchema[] | undefined)?.length ?? 0}`;
    case 'Array': {
      const { minItems, maxItems, uniqueItems } = node as { minItems?: number; maxItems?: number; uniqueItems?: boolean };
      const size = [minItems !== undefined && `at least ${items(minItems)}`, maxItems !== undefined && `at most ${items(maxItems)}`];
      return `an array${size.some(Boolean) ? ` of ${size.filter(Boolean).join(' and ')}` : ''}${uniqueItems ? ', no item twice' : ''}`;
    }
    case 'Object':
    case 'Record':
      return 'an object';
    case 'Never':
      return 'nothing (the field must be absent)';
    default:
      return 'a valid value';
  }
}
