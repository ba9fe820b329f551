// Crash-safety child: appends batches of N events to one stream in a loop and prints
// "ack <batch> <firstRevision> <size>" after each append returned. Killed with SIGKILL by the test.
import { SqliteEventStore } from '../../../dist/store/index.js';

const [file, tag, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg ?? 5);
const store = SqliteEventStore.open(file);
const stream = 'tradelog-crash';
let revision = await store.streamRevision(stream);
for (let batch = 0; ; batch++) {
  const id = `${tag}-${batch}`;
  const events = Array.from({ length: size }, (_, i) => ({
    type: 'Heartbeat',
    data: { at: new Date(Date.UTC(2026, 0, 1)).toISOString(), process: `${id}/${i}`, source: 'local' },
    metadata: { correlationId: id },
  }));
  const result = store.appendSync(stream, events, { expectedRevision: revision < 0 ? 'no_stream' : revision });
  revision = result.nextExpectedRevision;
  process.stdout.write(`ack ${id} ${result.events[0].revision} ${size}\n`);
}
