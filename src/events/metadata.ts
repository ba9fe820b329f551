import { z } from 'zod';
import { IsoTime } from './primitives.js';

const Id = z.string().min(1).max(200);

/** Metadata every event carries. `schemaVersion` is the version of the event's data shape. */
export const EventMetadata = z.strictObject({
  commandId: Id.optional(),
  /** What the command behind `commandId` was (its type and a digest of its fields), to tell a reused id. */
  commandHash: z
    .string()
    .regex(/^[A-Za-z]{1,64}:[0-9a-f]{16}$/)
    .optional(),
  correlationId: Id.optional(),
  causationId: Id.optional(),
  recordedAt: IsoTime,
  schemaVersion: z.number().int().positive(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/** What a writer may pass: `recordedAt` and `schemaVersion` are filled in when missing. */
export const EventMetadataInput = EventMetadata.partial({ recordedAt: true, schemaVersion: true });
export type EventMetadataInput = z.infer<typeof EventMetadataInput>;
