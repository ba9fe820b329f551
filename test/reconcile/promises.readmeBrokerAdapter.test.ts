import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTracker, reconcile, type ExternalSystem, type Tracker } from '../../src/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { FakeAlpaca } from '../helpers/fakeAlpaca.js';

/*
 * The README's hand-written broker adapter ("An adapter") is test/reconcile/readmeBrokerAdapter.mjs,
 * word for word, and it is correct for the venue it names: run through the real reconciler against
 * a 127.0.0.1 server answering in Alpaca's JSON (which refuses a request without Alpaca's key headers),
 * it matches three book positions on one symbol with Alpaca's one netted position, a short, and
 * heals a surplus by adopting it and, under `close`, by closing just the surplus.
 */

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const EXAMPLE = readFileSync(new URL('./readmeBrokerAdapter.mjs', import.meta.url), 'utf8');

it('the README block under "An adapter" is the example file', () => {
  const start = README.indexOf('\n### An adapter\n');
  expect(start).toBeGreaterThan(-1);
  const section = README.slice(start + 1).split(/\n#{1,3} /)[0] ?? '';
  const block = /^```js\n([\s\S]*?)^```/m.exec(section)?.[1];
  expect(block).toBe(EXAMPLE);
});

describe('the README broker adapter against Alpaca shapes', () => {
  const alpaca = new FakeAlpaca();
  let adapter: ExternalSystem;
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.APCA_API_BASE_URL = await alpaca.start();
    process.env.APCA_API_KEY_ID = 'key-id';
    process.env.APCA_API_SECRET_KEY = 'secret';
    // Imported by URL: the example is plain JavaScript, as the README shows it (no declaration file).
    const file = new URL('./readmeBrokerAdapter.mjs', import.meta.url).href;
    adapter = ((await import(file)) as { default: ExternalSystem }).default;
  });
  afterAll(async () => {
    process.env = saved;
    await alpaca.stop();
  });

  let t = Date.parse('2026-03-02T10:00:00Z');
  const now = (): Date => new Date(t);

  async function book(): Promise<Tracker> {
    const tracker = await openTracker({ store: new MemoryEventStore(), now, rejectDuplicateSymbol: false });
    for (const id of ['AAPL-1', 'AAPL-2', 'AAPL-3']) {
      await tracker.track(id, { symbol: 'AAPL', side: 'long' });
      await tracker.enter(id, { value: 500, quantity: 5, price: 100 });
    }
    await tracker.track('TSLA-1', { symbol: 'TSLA', side: 'short' });
    await tracker.enter('TSLA-1', { value: 400, quantity: 2, price: 200 });
    t += 60_000;
    return tracker;
  }

  it("sends Alpaca's key headers and says the account nets by symbol", async () => {
    alpaca.setPosition('AAPL', 15, 100);
    await adapter.listPositions({ signal: new AbortController().signal });
    const last = alpaca.requests.at(-1);
    expect(last?.headers['apca-api-key-id']).toBe('key-id');
    expect(last?.headers['apca-api-secret-key']).toBe('secret');
    expect(adapter.positionMode).toBe('netting');
  });

  it('three book positions on AAPL match its one position, and a short matches: nothing to heal', async () => {
    alpaca.setPosition('AAPL', 15, 100);
    alpaca.setPosition('TSLA', -2, 200);
    const tracker = await book();
    const report = await reconcile({ handler: tracker.handler, external: adapter, now });
    expect(report.errors).toEqual([]);
    expect([report.orphans.length, report.phantoms.length, report.drift.length]).toEqual([0, 0, 0]);
  });

  it('a surplus on the symbol is adopted as one position of the surplus quantity', async () => {
    alpaca.setPosition('AAPL', 18, 100);
    alpaca.setPosition('TSLA', -2, 200);
    const tracker = await book();
    const report = await reconcile({ handler: tracker.handler, external: adapter, now });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => [o.positionId, o.quantity, o.outcome])).toEqual([['AAPL', 3, 'adopted']]);
    expect(await tracker.get('AAPL')).toMatchObject({ status: 'IN', quantity: 3, value: 300 });
  });

  it('under close, only the surplus is closed at Alpaca (?qty=), the rest stays', async () => {
    alpaca.setPosition('AAPL', 18, 100);
    alpaca.setPosition('TSLA', -2, 200);
    const tracker = await book();
    const report = await reconcile({ handler: tracker.handler, external: adapter, now, policy: { orphans: 'close' } });
    expect(report.errors).toEqual([]);
    expect(report.orphans.map((o) => o.outcome)).toEqual(['closed']);
    const close = alpaca.requests.find((r) => r.method === 'DELETE');
    expect(close?.path).toBe('/v2/positions/AAPL');
    expect(close?.query.get('qty')).toBe('3');
    expect(alpaca.positions.get('AAPL')?.qty).toBe(15);
  });
});
