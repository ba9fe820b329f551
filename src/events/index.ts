export * from './primitives.js';
export * from './schemas.js';
export { EventMetadata, EventMetadataInput } from './metadata.js';
export type { TradeEvent, NewEvent, RecordedEvent, RecordedEventOf, EventPosition } from './envelope.js';
export { EventCodec, defaultCodec, CURRENT_SCHEMA_VERSION } from './codec.js';
export type { Upcaster, EncodedEvent, StoredRow, EventCodecOptions } from './codec.js';
export { eventKinds, isOrderEvent } from './eventKinds.js';
export type { EventKind, OrderEvent } from './eventKinds.js';
export { bookStream, bookOfStream, BookId, STREAM_PREFIX } from './streams.js';

// for other folders of src; not public
export { BookStateJson as compiledBookStateJsonCheck } from './validators.generated.js';
