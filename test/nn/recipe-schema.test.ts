import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { RECIPES, recipeFromJSON } from '../../src/nn/recipes.js';
import { RecipeSchema } from '../../src/nn/recipe-schema.js';
import { compiledSchema } from '../../src/schema/index.js';

describe('recipe schema', () => {
  it('accepts every built-in recipe written as a file, and reads it back unchanged', () => {
    for (const r of Object.values(RECIPES)) {
      const file = { format: 'pann-recipe', version: 1, ...r };
      expect(compiledSchema(RecipeSchema).Check(file), r.name).toBe(true);
      expect(recipeFromJSON(JSON.parse(JSON.stringify(file)))).toEqual({ momentum: 0.9, ...r });
    }
  });

  it('rejects a structurally wrong file naming the file and the field', () => {
    const base = { format: 'pann-recipe', version: 1, name: 'x', architecture: 'dense:10', epochs: 3 };
    const bad = (patch: Record<string, unknown>) => () => recipeFromJSON({ ...base, ...patch }, 'r.json');
    expect(bad({ augment: { rotate: -1 } })).toThrow(new InputError('r.json: augment.rotate: expected a number ≥ 0'));
    expect(bad({ optimizer: 'lion' })).toThrow(new InputError('r.json: optimizer: expected one of sgd, adam'));
    expect(bad({ seed: 1.5 })).toThrow(new InputError('r.json: seed: bad value 1.5'));
  });
});
