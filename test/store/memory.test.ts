import { MemoryEventStore } from '../../src/store/index.js';
import { storeContract } from './contract.js';

storeContract('memory', async () => ({ store: new MemoryEventStore(), cleanup: () => {} }));
