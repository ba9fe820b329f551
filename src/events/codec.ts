import { ValidationError, EventSchemaError } from '../errors/index.js';
import { formatIssues, parseOrThrow, quote, type IssueDescription } from '../_internals/zodIssues.js';
import type { NewEvent, RecordedEvent, TradeEvent } from './envelope.js';
import { fastValid } from './compiledValidators.js';
import { EventMetadata, EventMetadataInput } from './metadata.js';
import { CONTROL_CHARACTERS, NO_CONTROLS_MESSAGE } from './primitives.js';
import { eventDataSchemas, eventTypes, isEventType, type EventType } from './schemas.js';

/** The fields of event data that hold ids and symbols (checked for control characters on append). */
const ID_FIELDS = ['positionId', 'symbol', 'runId'] as const;

/**
 * Reads data written under an older `schemaVersion` of `type` as the next version's shape.
 * Chains of upcasters bring an event from any old version to the current one.
 */
export interface Upcaster {
  type: EventType;
  /** The version this upcaster reads; it returns data of version `fromVersion + 1`. */
  fromVersion: number;
  upcast(data: unknown): unknown;
}

/** The current data-shape version of every event type. */
export const CURRENT_SCHEMA_VERSION: Readonly<Record<EventType, number>> = Object.fromEntries(eventTypes.map((t) => [t, 1])) as Record<
  EventType,
  number
>;

/** An event ready to be stored: validated, with its JSON text. */
export interface EncodedEvent {
  event: TradeEvent;
  type: EventType;
  data: string;
  metadata: string;
}

/** A row as an engine stores it. */
export interface StoredRow {
  stream: string;
  revision: number;
  position: number;
  type: string;
  data: string;
  metadata: string;
}

export interface EventCodecOptions {
  upcasters?: readonly Upcaster[];
  /** Overrides of the current version per type (tests and future migrations). */
  currentVersions?: Partial<Record<EventType, number>>;
}

/**
 * Validates events on their way into the log and parses them on their way out.
 * A new event that fails its schema is a {@link ValidationError} and nothing is written;
 * a stored event that fails is an {@link EventSchemaError} naming stream, revision, type and field.
 *
 * @example
 * ```ts
 * const codec = new EventCodec({ upcasters: [{ type: 'PositionTracked', fromVersion: 1, upcast: (d) => d }] });
 * ```
 */
export class EventCodec {
  private readonly upcasters = new Map<string, Upcaster>();
  private readonly versions: Record<EventType, number>;

  constructor(options: EventCodecOptions = {}) {
    this.versions = { ...CURRENT_SCHEMA_VERSION, ...options.currentVersions };
    for (const u of options.upcasters ?? []) {
      const key = `${u.type}@${u.fromVersion}`;
      if (this.upcasters.has(key)) throw new ValidationError(`two upcasters for ${u.type} version ${u.fromVersion}`);
      this.upcasters.set(key, u);
    }
  }

  currentVersion(type: EventType): number {
    return this.versions[type];
  }

  /** Validates one event for `append`; `index` is its place in the batch (for messages). */
  encode(input: unknown, recordedAt: string, index = 0): EncodedEvent {
    const where = `event #${index}`;
    if (input === null || typeof input !== 'object') {
      throw new ValidationError(`${where}: expected an object { type, data, metadata? }, got ${quote(input)}`);
    }
    const { type, data, metadata } = input as { type?: unknown; data?: unknown; metadata?: unknown };
    if (typeof type !== 'string' || !isEventType(type)) {
      throw new ValidationError(`${where}: unknown event type ${quote(type)}; expected one of ${eventTypes.join(', ')}`, [
        { path: 'type', message: 'unknown event type', value: type },
      ]);
    }
    const schema = eventDataSchemas[type];
    let validData: unknown = data;
    if (!fastValid(schema, data)) validData = parseOrThrow(schema, data, `${where} (${type})`, { at: 'data' });
    // New appends refuse control characters in ids and symbols; the stored schemas stay
    // lenient so a log written before this rule is still read back.
    for (const key of ID_FIELDS) {
      const value = (validData as Record<string, unknown> | null)?.[key];
      if (typeof value === 'string' && CONTROL_CHARACTERS.test(value)) {
        const issues = [{ path: `data.${key}`, message: `${NO_CONTROLS_MESSAGE}, got ${quote(value)}`, value }];
        throw new ValidationError(`${where} (${type}): ${formatIssues(issues)}`, issues);
      }
    }
    let metaInput = (metadata ?? {}) as EventMetadataInput;
    if (!fastValid(EventMetadataInput, metaInput))
      metaInput = parseOrThrow(EventMetadataInput, metaInput, `${where} (${type})`, { at: 'metadata' });
    const meta: EventMetadata = {
      ...metaInput,
      recordedAt: metaInput.recordedAt ?? recordedAt,
      schemaVersion: metaInput.schemaVersion ?? this.versions[type],
    };
    if (meta.schemaVersion !== this.versions[type]) {
      throw new ValidationError(
        `${where} (${type}): metadata.schemaVersion must be the current version ${this.versions[type]}, got ${meta.schemaVersion}`,
      );
    }
    const event = { type, data: validData, metadata: meta } as TradeEvent;
    return { event, type, data: JSON.stringify(event.data), metadata: JSON.stringify(meta) };
  }

  encodeAll(events: readonly NewEvent[] | readonly unknown[], recordedAt: string): EncodedEvent[] {
    if (!Array.isArray(events)) throw new ValidationError(`append expects an array of events, got ${quote(events)}`);
    return events.map((e, i) => this.encode(e, recordedAt, i));
  }

  /** Parses a stored row, upcasting older versions; throws {@link EventSchemaError} on any mismatch. */
  decode(row: StoredRow): RecordedEvent {
    if (!isEventType(row.type)) throw rowError(row, 'unknown event type', 'type');
    const type = row.type;
    let rawMeta: unknown;
    let rawData: unknown;
    try {
      rawMeta = JSON.parse(row.metadata);
    } catch (cause) {
      throw rowError(row, 'metadata is not valid JSON', 'metadata', { cause });
    }
    try {
      rawData = JSON.parse(row.data);
    } catch (cause) {
      throw rowError(row, 'data is not valid JSON', 'data', { cause });
    }
    const metadata = fastValid(EventMetadata, rawMeta)
      ? (rawMeta as EventMetadata)
      : parseOrThrow(EventMetadata, rawMeta, whereOf(row), { at: 'metadata', error: corruptionOf(row) });
    let version = metadata.schemaVersion;
    const current = this.versions[type];
    if (version > current) {
      throw rowError(
        row,
        `schemaVersion ${version} is newer than this build reads (${current}); upgrade position-tracker`,
        'metadata.schemaVersion',
      );
    }
    while (version < current) {
      const upcaster = this.upcasters.get(`${type}@${version}`);
      if (!upcaster) throw rowError(row, `no upcaster from schemaVersion ${version} to ${version + 1}`, 'metadata.schemaVersion');
      rawData = upcaster.upcast(rawData);
      version += 1;
    }
    const schema = eventDataSchemas[type];
    let data: unknown = rawData;
    if (!fastValid(schema, rawData)) data = parseOrThrow(schema, rawData, whereOf(row), { at: 'data', error: corruptionOf(row) });
    return {
      type,
      data,
      metadata: metadata.schemaVersion === current ? metadata : { ...metadata, schemaVersion: current },
      stream: row.stream,
      revision: row.revision,
      position: row.position,
    } as RecordedEvent;
  }
}

/*
 * Where a stored row sits, for errors only: built when one is thrown, not for each of the
 * million rows of a rebuild (a string and two objects per row were a tenth of its decoding).
 */
function whereOf(row: StoredRow): string {
  return `stored event at position ${row.position} (stream "${row.stream}", revision ${row.revision}, type ${row.type})`;
}

function rowError(row: StoredRow, message: string, field: string | undefined, options?: { cause?: unknown }): EventSchemaError {
  return new EventSchemaError(
    `${whereOf(row)}: ${message}`,
    { stream: row.stream, revision: row.revision, position: row.position, type: row.type, field },
    options,
  );
}

/** A stored event that does not parse is corruption, not bad input: the error names where it sits. */
function corruptionOf(row: StoredRow): (message: string, issues: IssueDescription[]) => Error {
  return (message, issues) =>
    new EventSchemaError(message, {
      stream: row.stream,
      revision: row.revision,
      position: row.position,
      type: row.type,
      field: issues[0]?.path,
    });
}

/** The codec with no upcasters: what stores use unless told otherwise. */
export const defaultCodec = new EventCodec();
