// Appends `count` events to a stream from another process, then exits.
import { SqliteEventStore } from '../../../dist/store/index.js';

const [file, stream, countArg] = process.argv.slice(2);
const store = SqliteEventStore.open(file);
const events = Array.from({ length: Number(countArg) }, (_, i) => ({
  type: 'Heartbeat',
  data: { at: new Date(Date.UTC(2026, 0, 1)).toISOString(), process: `other/${i}`, source: 'local' },
}));
await store.append(stream, events);
await store.close();
process.stdout.write('done\n');
