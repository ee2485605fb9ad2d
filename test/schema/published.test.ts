import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { publishedSchemaText } from '../../src/schema/index.js';
import { PUBLISHED_SCHEMAS } from '../../tools/schemas.js';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/schemas');

describe('published schemas (docs/schemas)', () => {
  it.each(Object.entries(PUBLISHED_SCHEMAS))('%s is what the code exports (npm run schemas rewrites it)', (file, schema) => {
    expect(readFileSync(join(dir, file), 'utf8')).toBe(publishedSchemaText(schema));
  });

  it('has one file per exported schema, each with $id, title and description', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.schema.json'));
    expect(files.sort()).toEqual(Object.keys(PUBLISHED_SCHEMAS).sort());
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      expect(json.$schema, file).toBe('http://json-schema.org/draft-07/schema#');
      for (const key of ['$id', 'title', 'description']) expect(typeof json[key], `${file} ${key}`).toBe('string');
    }
  });

  it('the README names every file', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const file of Object.keys(PUBLISHED_SCHEMAS)) expect(readme, file).toContain(file);
  });
});
