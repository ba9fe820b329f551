// PostgreSQL crash-test child: `lanes` loops, each appending batches of `size` events to its own
// stream (tradelog-crash-<lane>) with the revision it last read, concurrently on one pooled store.
// After an append returned it prints "ack <batch> <stream> <firstRevision> <firstPosition> <size>";
// a failed append prints "err <batch> <json {name, code, message}>" and the lane reads its
// revision again and goes on (the batch is never sent again: a new batch gets a new id).
// It stops after `maxMs`, when its stdin ends (the test's way to stop it), or when SIGKILLed;
// an error that is not the server being away or a lost race prints "fatal ..." and exits 1.
import { ConcurrencyError, PostgresEventStore, StoreUnavailableError } from '../../../dist/index.js';

const [url, schema, tag, sizeArg, lanesArg, maxMsArg] = process.argv.slice(2);
const size = Number(sizeArg ?? 5);
const lanes = Number(lanesArg ?? 1);
const deadline = Date.now() + Number(maxMsArg ?? 60_000);
let stopping = false;
process.stdin.on('end', () => (stopping = true));
process.stdin.on('error', () => (stopping = true));
process.stdin.resume();

const line = (text) => process.stdout.write(`${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const describe = (e) => JSON.stringify({ name: e?.constructor?.name ?? typeof e, code: e?.code, message: String(e?.message ?? e) });

// The server may be restarting when a lane starts or after an error: opening is retried like an append.
let store;
for (;;) {
  try {
    store = await PostgresEventStore.open(url, { schema, poolSize: lanes + 1, connectTimeoutMs: 2000 });
    break;
  } catch (e) {
    if (!(e instanceof StoreUnavailableError) || Date.now() > deadline || stopping) {
      line(`fatal open ${describe(e)}`);
      process.exit(1);
    }
    await sleep(50);
  }
}

async function lane(n) {
  const stream = `tradelog-crash-${n}`;
  let revision;
  for (let batch = 0; !stopping && Date.now() < deadline; batch++) {
    const id = `${tag}-${n}-${batch}`;
    try {
      revision ??= await store.streamRevision(stream);
      const events = Array.from({ length: size }, (_, i) => ({
        type: 'Heartbeat',
        data: { at: new Date(Date.UTC(2026, 0, 1)).toISOString(), process: `${id}/${i}`, source: 'local' },
        metadata: { correlationId: id },
      }));
      const result = await store.append(stream, events, { expectedRevision: revision < 0 ? 'no_stream' : revision });
      revision = result.nextExpectedRevision;
      line(`ack ${id} ${stream} ${result.events[0].revision} ${result.events[0].position} ${size}`);
    } catch (e) {
      revision = undefined; // whatever happened, read the stream's revision again
      if (e instanceof ConcurrencyError || e instanceof StoreUnavailableError) {
        line(`err ${id} ${describe(e)}`);
        if (e instanceof StoreUnavailableError) await sleep(20);
      } else {
        line(`fatal ${id} ${describe(e)}`);
        process.exit(1);
      }
    }
  }
}

await Promise.all(Array.from({ length: lanes }, (_, n) => lane(n)));
await store.close();
// process.exit right after a write to a pipe may drop it when the pipe is full (the parent reads acks
// behind): exit once "done" is flushed.
process.stdout.write('done\n', () => process.exit(0));
