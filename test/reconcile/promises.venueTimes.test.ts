import { describe, expect, it } from 'vitest';
import { defaultCodec } from '../../src/events/index.js';
import { ExternalError, ValidationError } from '../../src/errors/index.js';
import { guardExternal, reconcile, type ExternalSystem } from '../../src/reconcile/index.js';
import { allEvents, botEnters, openWorld, withoutDirectLook } from '../helpers/reconcileWorld.js';

/*
 * Issue 15: the venue's own times travel from the port into the events that record a finding.
 * An orphan's open time (ExternalPosition.openedAt) goes into OrphanDetected; a phantom's close
 * time (a direct look answering { id, status: 'closed', closedAt }) into PhantomSuspected and
 * PhantomCleared. Old events, without them, read back unchanged.
 */

const NO_SLEEP = { sleep: async () => undefined, retries: 0 };

function adapter(answer: unknown): ExternalSystem {
  return { listPositions: async () => [answer], closePosition: async () => undefined, getPosition: async () => answer };
}

describe('#15 the port reads venue times', () => {
  it('#15 openedAt of a listed or looked-up position is parsed and kept', async () => {
    const g = guardExternal(adapter({ id: 'X', value: 10, openedAt: '2026-01-05T09:02:00.000Z' }), NO_SLEEP);
    expect((await g.listPositions())[0]?.openedAt).toBe('2026-01-05T09:02:00.000Z');
    expect((await g.getPosition('X'))?.openedAt).toBe('2026-01-05T09:02:00.000Z');
  });

  it('#15 a bad openedAt is a malformed answer naming the field and the value', async () => {
    const g = guardExternal(adapter({ id: 'X', value: 10, openedAt: 'yesterday' }), NO_SLEEP);
    const error = await g.listPositions().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).failure).toBe('malformed');
    expect((error as Error).message).toMatch(/openedAt/);
    expect((error as Error).message).toMatch(/yesterday/);
  });

  it('#15 a direct look answering "closed at" is not open, and keeps the close time', async () => {
    const g = guardExternal(adapter({ id: 'X', status: 'closed', closedAt: '2026-01-05T09:03:00.000Z' }), NO_SLEEP);
    expect(await g.getPosition('X')).toBeNull();
    expect(await g.lookUpPosition('X')).toEqual({ open: false, closedAt: '2026-01-05T09:03:00.000Z' });
    expect(await guardExternal(adapter(null), NO_SLEEP).lookUpPosition('X')).toEqual({ open: false });
  });

  it('#15 a "closed" answer without a valid close time, or about another position, is malformed', async () => {
    const bad = await guardExternal(adapter({ id: 'X', status: 'closed', closedAt: 7 }), NO_SLEEP)
      .lookUpPosition('X')
      .catch((e: unknown) => e);
    expect((bad as ExternalError).failure).toBe('malformed');
    expect((bad as Error).message).toMatch(/closedAt/);
    const other = await guardExternal(adapter({ id: 'Y', status: 'closed', closedAt: '2026-01-05T09:03:00.000Z' }), NO_SLEEP)
      .lookUpPosition('X')
      .catch((e: unknown) => e);
    expect((other as ExternalError).failure).toBe('malformed');
    expect((other as Error).message).toMatch(/expected "X", got "Y"/);
  });
});

describe('#15 reconciliation carries the venue times into the finding events', () => {
  it('#15 an orphan injected at the exchange is detected with the exchange open time', async () => {
    const w = await openWorld({ seed: 5 });
    const injectedAt = w.now().toISOString();
    const id = w.exchange.injectOrphan();
    w.advance(240);
    await reconcile({ handler: w.tracker.handler, external: w.exchange, now: w.now, guard: NO_SLEEP, policy: { orphans: 'adopt' } });
    const detected = (await allEvents(w.store)).filter((e) => e.type === 'OrphanDetected');
    expect(detected.map((e) => e.data)).toMatchObject([{ positionId: id, openedAt: injectedAt }]);
    expect(detected[0]?.metadata.recordedAt).toBe(w.now().toISOString());
  });

  it('#15 a position liquidated at the exchange is confirmed by a direct look with the close time, in both events', async () => {
    const w = await openWorld({ seed: 5 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    w.advance(300);
    const liquidatedAt = w.now().toISOString();
    w.exchange.liquidate('BOT-1');
    w.advance(120);
    await reconcile({ handler: w.tracker.handler, external: w.exchange, now: w.now, guard: NO_SLEEP, policy: { phantoms: 'clear' } });
    const events = (await allEvents(w.store)).filter((e) => e.type === 'PhantomSuspected' || e.type === 'PhantomCleared');
    expect(events.map((e) => [e.type, (e.data as { closedAt?: string }).closedAt])).toEqual([
      ['PhantomSuspected', liquidatedAt],
      ['PhantomCleared', liquidatedAt],
    ]);
  });

  it('#15 without a direct look (confirmed by looks alone) the phantom events carry no close time', async () => {
    const w = await openWorld({ seed: 5 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    w.advance(300);
    w.exchange.liquidate('BOT-1');
    const external = withoutDirectLook(w.exchange);
    for (let i = 0; i < 3; i++) {
      w.advance(120);
      await reconcile({
        handler: w.tracker.handler,
        external,
        now: w.now,
        guard: NO_SLEEP,
        policy: { phantoms: 'clear', phantomConfirmLooks: 2 },
      });
    }
    const events = (await allEvents(w.store)).filter((e) => e.type === 'PhantomSuspected' || e.type === 'PhantomCleared');
    expect(events.map((e) => e.type)).toEqual(['PhantomSuspected', 'PhantomSuspected', 'PhantomCleared']);
    for (const e of events) expect(e.data).not.toHaveProperty('closedAt');
  });
});

describe('#15 the finding events with venue times', () => {
  const row = (type: string, data: unknown) => ({
    stream: 'tradelog-main',
    revision: 0,
    position: 1,
    type,
    data: JSON.stringify(data),
    metadata: JSON.stringify({ recordedAt: '2026-01-05T09:04:00.000Z', schemaVersion: 1 }),
  });

  it('#15 old events without the times read back unchanged', () => {
    const old = { positionId: 'X', value: 10, runId: 'r1', source: 'reconcile' };
    expect(defaultCodec.decode(row('OrphanDetected', old)).data).toEqual(old);
    const suspected = { positionId: 'P', looks: 1, value: 5, source: 'reconcile' };
    expect(defaultCodec.decode(row('PhantomSuspected', suspected)).data).toEqual(suspected);
  });

  it('#15 a bad venue time is refused on append, naming the field', () => {
    const append = (): unknown =>
      defaultCodec.encode(
        { type: 'OrphanDetected', data: { positionId: 'X', value: 10, openedAt: 'soon', source: 'reconcile' } },
        '2026-01-05T09:04:00.000Z',
      );
    expect(append).toThrow(ValidationError);
    expect(append).toThrow(/openedAt/);
  });
});
