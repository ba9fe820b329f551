import type { EventMetadata, EventMetadataInput } from './metadata.js';
import type { EventData, EventType } from './schemas.js';

/** An event of the trade log: `{ type, data, metadata }`, discriminated on `type`. */
export type TradeEvent = {
  [K in EventType]: { type: K; data: EventData<K>; metadata: EventMetadata };
}[EventType];

/** What a writer hands to `append`: metadata fields may be left to the store. */
export type NewEvent = {
  [K in EventType]: { type: K; data: EventData<K>; metadata?: EventMetadataInput };
}[EventType];

/** Where an event sits in the log. */
export interface EventPosition {
  /** Stream the event belongs to, e.g. `tradelog-main`. */
  stream: string;
  /** 0-based index of the event within its stream. */
  revision: number;
  /** Global position: strictly increasing over the whole log, starting at 1. */
  position: number;
}

/** A stored event: the envelope plus where it sits. */
export type RecordedEvent = TradeEvent & EventPosition;

/** Narrows a recorded event by type. */
export type RecordedEventOf<K extends EventType> = Extract<RecordedEvent, { type: K }>;
