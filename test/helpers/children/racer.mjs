// Concurrency child: appends `count` events to one stream, each with the expected revision it
// last read; on ConcurrencyError it counts the loss, reloads and tries again.
// Prints one JSON line: { won: [revisions], lost, otherErrors }.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, ConcurrencyError } from '../../../dist/index.js';

const [file, name, countArg, barrier, racers] = process.argv.slice(2);
const count = Number(countArg);
const store = SqliteEventStore.open(file);
const stream = 'tradelog-race';
const won = [];
let lost = 0;
const otherErrors = [];
// A barrier, not a start time: every racer has opened the store before any appends.
writeFileSync(join(barrier, `${name}.ready`), '');
const waitUntil = Date.now() + 20_000;
while (readdirSync(barrier).filter((f) => f.endsWith('.ready')).length < Number(racers) && Date.now() < waitUntil) {
  await new Promise((r) => setTimeout(r, 1));
}
const deadline = Date.now() + 20_000;
while (won.length < count && Date.now() < deadline) {
  const current = await store.streamRevision(stream);
  try {
    const r = await store.append(
      stream,
      [{ type: 'Heartbeat', data: { at: new Date().toISOString(), process: `${name}/${won.length}`, source: 'local' } }],
      { expectedRevision: current < 0 ? 'no_stream' : current },
    );
    won.push(r.events[0].revision);
  } catch (e) {
    if (e instanceof ConcurrencyError) lost++;
    else otherErrors.push(String(e && e.message));
  }
}
await store.close();
process.stdout.write(JSON.stringify({ name, won, lost, otherErrors }) + '\n');
