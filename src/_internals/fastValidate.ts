import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv/dist/2020.js';
import type { Ajv2020 as Ajv2020Class, ValidateFunction } from 'ajv/dist/2020.js';
import { z } from 'zod';

/*
 * A compiled fast path for the checks every event goes through on its way in and out of the log.
 * The zod schemas stay the single definition: each is turned into JSON Schema (z.toJSONSchema)
 * and compiled by Ajv into plain JavaScript, about three to four times faster than zod's own
 * parse for our small objects (a valid PositionEntered: 0.5-0.75 µs with zod, 0.12-0.22 µs
 * with Ajv, measured on a 2-core machine). When Ajv accepts, the value is exactly what zod
 * would return (our event schemas have no defaults or transforms); when Ajv refuses, zod runs
 * to produce the message.
 * test/events/fastValidate.test.ts pins that the two agree.
 */

let ajv: Ajv2020Class | undefined;
/** Ajv is loaded when the first schema turns hot: a CLI command or a cold open never loads it. */
function compiler(): Ajv2020Class {
  if (!ajv) {
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof AjvModule;
    ajv = new Ajv2020({
      strict: true,
      allowUnionTypes: true,
      allErrors: false,
      // The date-time format is also written as a pattern by zod; the pattern is what zod checks.
      validateFormats: false,
    });
  }
  return ajv;
}

/**
 * Ajv counts a string's length in code points, zod in UTF-16 units (string.length): for a
 * string with astral characters Ajv would accept what zod refuses. Strings with a maxLength
 * therefore also get a pattern that refuses astral characters, so such (rare) strings take
 * the zod path and the fast path never accepts more than zod.
 */
function bmpOnlyWhereBounded(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(bmpOnlyWhereBounded);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  if (typeof n.maxLength === 'number') {
    const bmp = { pattern: '^[\\u0000-\\uD7FF\\uE000-\\uFFFF]*$' };
    n.allOf = [...(Array.isArray(n.allOf) ? n.allOf : []), bmp];
  }
  for (const value of Object.values(n)) bmpOnlyWhereBounded(value);
}

const compiled = new WeakMap<z.ZodType, ValidateFunction | null>();
/** Uses per schema before it is compiled: compiling costs ~30 ms, so cold paths (a CLI command,
 *  opening a book) stay on zod and only hot paths (appends, reads, rebuilds) pay once. */
const uses = new WeakMap<z.ZodType, number>();
const COMPILE_AFTER = 200;

/** Whether the schema can be checked by the fast path (no transforms, no defaults). */
function compile(schema: z.ZodType): ValidateFunction | null {
  try {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' });
    bmpOnlyWhereBounded(json);
    return compiler().compile(json);
  } catch {
    return null; // not representable: zod alone
  }
}

/**
 * True when `value` certainly satisfies `schema`; false means "ask zod" (for the verdict and
 * the message). A schema is compiled once it has been asked about often enough to be hot.
 */
export function fastValid(schema: z.ZodType, value: unknown): boolean {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    const n = (uses.get(schema) ?? 0) + 1;
    uses.set(schema, n);
    if (n < COMPILE_AFTER) return false;
    validate = compile(schema);
    compiled.set(schema, validate);
  }
  return validate !== null && validate(value) === true;
}
