import type { z } from 'zod';
import { EventMetadata, EventMetadataInput } from './metadata.js';
import { eventDataSchemas, eventTypes } from './schemas.js';
import * as generated from './validators.generated.js';

/*
 * The compiled fast path for the checks every event goes through on its way in and out of the log.
 * The zod schemas stay the single definition: at build time (scripts/gen-validators.mjs, run by
 * `npm run build`) each is turned into JSON Schema (z.toJSONSchema) and compiled by Ajv into plain
 * JavaScript, src/events/validators.generated.ts; no process compiles a schema at run time, so a CLI
 * command or a cold open with a tail pays nothing for them. A validator is about three to four times
 * faster than zod's own parse for our small objects (a valid PositionEntered: 0.5-0.75 µs with zod,
 * 0.12-0.22 µs compiled, measured on a 2-core machine). When it accepts, the value is exactly what
 * zod would return (our event schemas have no defaults or transforms); when it refuses, zod runs to
 * produce the verdict and the message. test/events/fastValidate.test.ts pins that the two agree,
 * test/events/validators.generated.test.ts that the generated file is what the schemas give.
 */

type Check = (value: unknown) => boolean;
const checks = generated as unknown as Readonly<Record<string, Check | undefined>>;

const bySchema = new Map<z.ZodType, Check>();
for (const type of eventTypes) {
  const check = checks[type];
  if (check) bySchema.set(eventDataSchemas[type], check);
}
for (const [name, schema] of [
  ['EventMetadata', EventMetadata],
  ['EventMetadataInput', EventMetadataInput],
] as const) {
  const check = checks[name];
  if (check) bySchema.set(schema, check);
}

/**
 * True when `value` certainly satisfies `schema`; false means "ask zod" (for the verdict and the
 * message), and is the answer for a schema that has no compiled validator.
 */
export function fastValid(schema: z.ZodType, value: unknown): boolean {
  const check = bySchema.get(schema);
  return check !== undefined && check(value) === true;
}

/** Whether `schema` has a validator compiled at build time (tests: no schema silently falls back to zod). */
export function hasCompiledValidator(schema: z.ZodType): boolean {
  return bySchema.has(schema);
}
