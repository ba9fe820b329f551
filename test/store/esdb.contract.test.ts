import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { EventStoreDbStore } from '../../src/store/index.js';
import { storeContract } from './contract.js';

/**
 * The shared contract against a real EventStoreDB (KurrentDB) server. No server can run on the
 * CI machine, so this runs only when EVENTSTORE_URL names one:
 *
 *   docker compose up -d
 *   EVENTSTORE_URL='esdb://localhost:2113?tls=false' npx vitest run test/store/esdb.contract.test.ts
 *
 * A real server keeps its data, so every test gets its own namespace (`ptrack-test-<run>-<n>-`):
 * each starts from an empty trade log while the server holds earlier runs.
 */
const url = process.env.EVENTSTORE_URL;

if (url) {
  const run = randomUUID().slice(0, 8);
  let n = 0;
  storeContract(
    'eventstoredb',
    async () => {
      n += 1;
      const store = await EventStoreDbStore.open(url, { namespace: `ptrack-test-${run}-${n}-`, connectTimeoutMs: 10_000 });
      return { store, cleanup: () => {} };
    },
    { densePositions: false, waitMs: 15_000 },
  );
} else {
  console.warn(
    'EventStoreDB contract suite skipped: set EVENTSTORE_URL=esdb://localhost:2113?tls=false to run it (docker compose up -d starts a server)',
  );
  describe.skip('store contract: eventstoredb (skipped: EVENTSTORE_URL is not set)', () => {
    it('needs a real EventStoreDB server', () => {});
  });
}
