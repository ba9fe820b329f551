import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, generateValidatorsSource } from '../../scripts/validators/generate.js';

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
