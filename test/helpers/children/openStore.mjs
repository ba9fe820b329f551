// Opens a store string and prints "ok" or the error as JSON (used with a dropped uid).
import { openStore } from '../../../dist/index.js';

try {
  const store = await openStore(process.argv[2]);
  await store.close();
  process.stdout.write(JSON.stringify({ ok: true }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message }) + '\n');
}
