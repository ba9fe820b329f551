import crypto from 'node:crypto';

/**
 * Runs `work` with crypto's `randomUUID` (node:crypto's and the Web Crypto object's) refused:
 * Node draws UUIDs from a pool of random bytes it fills on the first call, and a pool filled
 * while the CLI's startup snapshot is built would be copied into every process started from it,
 * so each would hand out the same UUIDs. The snapshot's warm-up runs inside this (a draw fails the
 * build); both are restored after, whatever `work` did.
 */
export async function withoutUuidPool<T>(work: () => Promise<T>): Promise<T> {
  const closed = (): never => {
    throw new Error('a UUID was drawn while the startup snapshot was built: every process started from it would draw the same ones');
  };
  const { randomUUID } = crypto;
  const web = globalThis.crypto;
  Object.assign(crypto, { randomUUID: closed });
  // The Web Crypto object's method is on its prototype: an own property shadows it, then goes.
  Object.defineProperty(web, 'randomUUID', { value: closed, configurable: true, writable: true });
  try {
    return await work();
  } finally {
    Object.assign(crypto, { randomUUID });
    Reflect.deleteProperty(web, 'randomUUID');
  }
}
