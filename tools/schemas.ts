/**
 * The published JSON Schemas, docs/schemas/<format>.schema.json, written from the very schemas the loaders check
 * with (the checks across fields stay in code: docs/schemas/README.md). `npm run schemas` writes them;
 * test/schema/published.test.ts fails when a committed file differs from what the code exports.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { ApproximationFileSchema } from '../src/approx/approximation-schema.js';
import { CircuitSchema } from '../src/circuit/schema.js';
import { ModelFileSchema } from '../src/nn/model-schema.js';
import { RecipeSchema } from '../src/nn/recipe-schema.js';
import { publishedSchemaText } from '../src/schema/index.js';
import { ModelDescriptionSchema } from '../src/server/model-description-schema.js';
import {
  ErrorBodySchema,
  KeyEnvelopeHeaderSchema,
  RefreshReplyHeaderSchema,
  RefreshRequestHeaderSchema,
} from '../src/server/protocol-schema.js';
import { GridSchema } from '../src/study/grid-schema.js';

/** File name (in docs/schemas) → the schema it publishes. */
export const PUBLISHED_SCHEMAS: Readonly<Record<string, TSchema>> = {
  'circuit.schema.json': CircuitSchema,
  'model.schema.json': ModelFileSchema,
  'approximation.schema.json': ApproximationFileSchema,
  'study-grid.schema.json': GridSchema,
  'recipe.schema.json': RecipeSchema,
  'model-description.schema.json': ModelDescriptionSchema,
  'key-envelope-header.schema.json': KeyEnvelopeHeaderSchema,
  'refresh-request-header.schema.json': RefreshRequestHeaderSchema,
  'refresh-reply-header.schema.json': RefreshReplyHeaderSchema,
  'error-body.schema.json': ErrorBodySchema,
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // run as dist/tools/schemas.js
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/schemas');
  for (const [file, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
    writeFileSync(join(dir, file), publishedSchemaText(schema));
    process.stdout.write(`wrote ${join(dir, file)}\n`);
  }
}
