import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import { guardExternal, reconcile, type ExternalSystem, type ReconcileReport } from '../../src/reconcile/index.js';
import { allEvents, botEnters, openWorld, withoutDirectLook, type World } from '../helpers/reconcileWorld.js';

/*
 * Issue 10, item 12: "a read that fails changes nothing and appends nothing" holds for every
 * read of a run, the direct looks and second looks included, and a direct look is about the
 * position it was asked about.
 */

const NO_SLEEP = { sleep: async () => undefined };

/** A phantom to verify (BOT-1), drift to correct (BOT-2) and an orphan: a run that acted would show. */
async function worldWithWork(): Promise<World> {
  const w = await openWorld({ seed: 11 });
  await botEnters(w, 'BOT-1', 'BTC', 0.01);
  await botEnters(w, 'BOT-2', 'ETH', 0.3);
  w.advance(300);
  w.exchange.liquidate('BOT-1');
  w.exchange.drift('BOT-2', 0.9);
  w.exchange.injectOrphan();
  return w;
}

async function expectNothingAppended(w: World, run: () => Promise<ReconcileReport>): Promise<ReconcileReport> {
  const head = await w.store.head();
  const events = await allEvents(w.store);
  const report = await run();
  expect(await w.store.head()).toEqual(head);
  expect(await allEvents(w.store)).toEqual(events);
  expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
  return report;
}

describe('#10.12 every read comes before the first change', () => {
  it('#10.12 a failed getPosition during phantom verification appends nothing (no ReconciliationCompleted, no healing)', async () => {
    const w = await worldWithWork();
    const adapter: ExternalSystem = {
      listPositions: () => w.exchange.listPositions(),
      closePosition: (id) => w.exchange.closePosition(id),
      getPosition: async () => {
        throw new ExternalError('getPosition: connection reset', 'unreachable');
      },
    };
    const report = await expectNothingAppended(w, () =>
      reconcile({ handler: w.tracker.handler, external: adapter, now: w.now, guard: NO_SLEEP, policy: { orphans: 'adopt' } }),
    );
    expect(report.errors).toEqual([
      { stage: 'getPosition', positionId: 'BOT-1', failure: 'unreachable', message: 'getPosition: connection reset' },
    ]);
    expect(report.phantoms).toMatchObject([{ positionId: 'BOT-1', outcome: 'failed' }]);
    expect(report.corrected).toBe(0);
    expect(await w.tracker.get('BOT-1')).toMatchObject({ status: 'IN', missedLooks: 0 });
  });

  it.each([
    ['a direct look', true],
    ['a second list', false],
  ])('#10.12 a failed second look before a close appends nothing (%s)', async (_name, direct) => {
    const w = await openWorld({ seed: 11 });
    const id = w.exchange.injectOrphan();
    let lists = 0;
    const base: ExternalSystem = {
      listPositions: async () => {
        if (++lists > 1) throw new ExternalError('listPositions: 502', 'rejected');
        return w.exchange.listPositions();
      },
      closePosition: (x) => w.exchange.closePosition(x),
      getPosition: async () => {
        throw new ExternalError('getPosition: 502', 'rejected');
      },
    };
    const adapter = direct ? base : withoutDirectLook(base);
    const report = await expectNothingAppended(w, () =>
      reconcile({ handler: w.tracker.handler, external: adapter, now: w.now, guard: NO_SLEEP, policy: { orphans: 'close' } }),
    );
    expect(report.errors).toEqual([
      {
        stage: direct ? 'getPosition' : 'listPositions',
        positionId: id,
        failure: 'rejected',
        message: direct ? 'getPosition: 502' : 'listPositions: 502',
      },
    ]);
    expect(report.orphans).toMatchObject([{ positionId: id, outcome: 'failed' }]);
  });

  it('#10.12 an answer about another id is malformed, not "A1 reappeared"', async () => {
    const w = await worldWithWork();
    const adapter: ExternalSystem = {
      listPositions: () => w.exchange.listPositions(),
      closePosition: (id) => w.exchange.closePosition(id),
      getPosition: async () => ({ id: 'B7', value: 100 }),
    };
    await expect(guardExternal(adapter, NO_SLEEP).getPosition('A1')).rejects.toMatchObject({
      failure: 'malformed',
      message: 'getPosition(A1) returned a malformed answer: id: expected "A1", got "B7"',
    });
    const report = await expectNothingAppended(w, () =>
      reconcile({ handler: w.tracker.handler, external: adapter, now: w.now, guard: NO_SLEEP }),
    );
    expect(report.errors).toMatchObject([{ stage: 'getPosition', positionId: 'BOT-1', failure: 'malformed' }]);
    expect(report.phantoms.map((p) => p.outcome)).not.toContain('reappeared');
  });
});
