import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withoutUuidPool } from '../../src/cli/withoutUuidPool.js';

describe('withoutUuidPool', () => {
  it('refuses a UUID from node:crypto and from Web Crypto inside, and gives both back after', async () => {
    const inside = await withoutUuidPool(async () => {
      await Promise.resolve();
      return [() => crypto.randomUUID(), () => globalThis.crypto.randomUUID()].map((draw) => {
        try {
          return draw();
        } catch (error) {
          return (error as Error).message;
        }
      });
    });
    expect(inside).toEqual([
      expect.stringMatching(/^a UUID was drawn while the startup snapshot was built/),
      expect.stringMatching(/^a UUID was drawn/),
    ]);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(crypto.randomUUID()).toMatch(uuid);
    expect(globalThis.crypto.randomUUID()).toMatch(uuid);
    expect(Object.hasOwn(globalThis.crypto, 'randomUUID')).toBe(false);
  });

  it('gives them back when the work fails', async () => {
    await expect(withoutUuidPool(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(crypto.randomUUID()).not.toBe(crypto.randomUUID());
    expect(globalThis.crypto.randomUUID()).toHaveLength(36);
  });
});
