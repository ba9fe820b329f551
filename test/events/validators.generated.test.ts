import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, generateValidatorsSource, withDiscriminators } from '../../scripts/validators/generate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the validators compiled at build time', () => {
  it(`${GENERATED_PATH} is what the zod schemas give (npm run build regenerates it)`, () => {
    expect(readFileSync(ROOT + GENERATED_PATH, 'utf8')).toBe(generateValidatorsSource());
  });

  it('need nothing at run time: no Ajv, no require, no schema compiled by a process', () => {
    const text = readFileSync(ROOT + GENERATED_PATH, 'utf8');
    expect(text).not.toMatch(/\brequire\(|\bimport\b.*\bfrom\b|ajv/i);
  });
});

describe('withDiscriminators', () => {
  it('marks a oneOf of objects tagged by one required constant, and leaves any other oneOf alone', () => {
    const branch = (tag: string, extra: object = {}) => ({
      type: 'object',
      properties: { status: { type: 'string', const: tag }, ...extra },
      required: ['status'],
    });
    const tagged = withDiscriminators({ type: 'array', items: { oneOf: [branch('A'), branch('B', { n: { type: 'number' } })] } });
    expect(tagged).toEqual({
      type: 'array',
      items: { type: 'object', discriminator: { propertyName: 'status' }, oneOf: [branch('A'), branch('B', { n: { type: 'number' } })] },
    });
    // The same tag twice, a tag not required, and branches that are not objects: nothing to pick by.
    for (const oneOf of [
      [branch('A'), branch('A')],
      [branch('A'), { ...branch('B'), required: [] }],
      [{ type: 'string' }, { type: 'number' }],
    ]) {
      expect(withDiscriminators({ oneOf })).toEqual({ oneOf });
    }
  });
});
