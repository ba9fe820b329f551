import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { storeContract } from './contract.js';

storeContract('sqlite', async () => {
  const { dir, cleanup } = tempDir();
  return { store: SqliteEventStore.open(join(dir, 'trades.db'), { pollIntervalMs: 10 }), cleanup };
});
