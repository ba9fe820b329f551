import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import {
  guardExternal,
  reconcile,
  type ExternalSystem,
  type GuardedExternal,
  type ReconcileOptions,
  type ReconcileReport,
} from '../../src/reconcile/index.js';
import { allEvents, botEnters, eventsAfter, openWorld, sleep, type World } from '../helpers/reconcileWorld.js';

/*
 * A bad answer from outside must change nothing: the log is compared whole (head and every
 * event) before and after, and the failure shows in the report with its kind.
 */

const NO_SLEEP = { sleep: async () => undefined };

/** A world with something to heal in every direction, so a run that did act would show. */
async function worldWithWork(options: Parameters<typeof openWorld>[0] = {}): Promise<World> {
  const w = await openWorld({ seed: 11, ...options });
  await botEnters(w, 'BOT-1', 'BTC', 0.01);
  await botEnters(w, 'BOT-2', 'ETH', 0.3);
  w.advance(300);
  w.exchange.liquidate('BOT-1');
  w.exchange.drift('BOT-2', 0.9);
  w.exchange.injectOrphan();
  return w;
}

/** Runs reconcile and asserts the log did not move. */
async function expectLogUnchanged(w: World, options: Partial<ReconcileOptions>): Promise<ReconcileReport> {
  const head = await w.store.head();
  const events = await allEvents(w.store);
  const report = await reconcile({ handler: w.tracker.handler, external: w.exchange, now: w.now, guard: NO_SLEEP, ...options });
  expect(await w.store.head()).toEqual(head);
  expect(await allEvents(w.store)).toEqual(events);
  expect(report).toMatchObject({ orphans: [], phantoms: [], drift: [], corrected: 0, actions: [] });
  expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
  return report;
}

/** An adapter that answers `answer` to every list. */
function answering(answer: unknown): ExternalSystem & { calls: number } {
  const adapter = {
    calls: 0,
    listPositions: async () => {
      adapter.calls += 1;
      return answer;
    },
    closePosition: async () => {
      throw new Error('must not be called');
    },
  };
  return adapter;
}

describe('faults from outside leave the log unchanged', () => {
  describe('malformed answers', () => {
    it('from the simulated exchange (setFaults malformed: 1) are a malformed failure', async () => {
      const w = await worldWithWork();
      w.exchange.setFaults({ malformed: 1 });
      const report = await expectLogUnchanged(w, { policy: { orphans: 'close' } });
      expect(report.errors).toEqual([
        { stage: 'listPositions', failure: 'malformed', message: expect.stringMatching(/^listPositions returned a malformed answer: /) },
      ]);
    });

    it.each([
      [
        'duplicate ids',
        [
          { id: 'A-1', value: 10 },
          { id: 'A-1', value: 20 },
        ],
        /duplicate position id "A-1"/,
      ],
      // A negative value or quantity is a short (normalised by the port); beside an explicit side "long" it is malformed.
      ['a negative value on side long', [{ id: 'A-1', value: -5, side: 'long' }], /value: is negative \(a short\) but side is "long"/],
      ['a value that is not a number', [{ id: 'A-1', value: 'lots' }], /value/],
      ['NaN', [{ id: 'A-1', value: Number.NaN }], /value/],
      ['a missing id', [{ value: 10 }], /id/],
      ['an id with white space', [{ id: 'A 1', value: 10 }], /id/],
      ['a negative quantity on side long', [{ id: 'A-1', value: 10, quantity: -1, side: 'long' }], /quantity: is negative/],
      ['a quantity of 0', [{ id: 'A-1', value: 10, quantity: 0 }], /quantity: must not be 0/],
      ['an unknown side', [{ id: 'A-1', value: 10, side: 'sideways' }], /side/],
      ['an object instead of a list', { positions: [] }, /./],
      ['null', null, /./],
      ['a string', 'HTTP 502 Bad Gateway', /./],
    ])('a hand-written adapter answering %s', async (_name, answer, field) => {
      const w = await worldWithWork();
      const adapter = answering(answer);
      const report = await expectLogUnchanged(w, { external: adapter });
      expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'malformed', message: expect.stringMatching(field) }]);
      expect(adapter.calls).toBe(1); // a malformed answer is not retried
    });

    it('a malformed direct look stops the run before any change: the phantom is not cleared, nothing is appended', async () => {
      const w = await worldWithWork();
      const adapter: ExternalSystem = {
        listPositions: () => w.exchange.listPositions(),
        closePosition: (id) => w.exchange.closePosition(id),
        getPosition: async (id) => ({ id, value: -1, side: 'long' }),
      };
      const before = (await w.store.head()).position;
      const report = await reconcile({ handler: w.tracker.handler, external: adapter, now: w.now, guard: NO_SLEEP });
      expect(report.errors).toEqual([
        {
          stage: 'getPosition',
          positionId: 'BOT-1',
          failure: 'malformed',
          message: expect.stringMatching(/getPosition\(BOT-1\) returned a malformed answer/),
        },
      ]);
      expect(report.phantoms).toMatchObject([{ positionId: 'BOT-1', outcome: 'failed' }]);
      expect(await w.tracker.get('BOT-1')).toMatchObject({ status: 'IN', missedLooks: 0 });
      const appended = (await eventsAfter(w.store, before)).map((e) => e.type);
      expect(appended).not.toContain('PhantomSuspected');
      expect(appended).not.toContain('PhantomCleared');
      expect(appended).toEqual([]);
    });
  });

  describe('failing calls', () => {
    it('rate_limited, then an answer: retried, and the run works', async () => {
      const w = await worldWithWork();
      let calls = 0;
      const flaky: ExternalSystem = {
        listPositions: async () => {
          if (++calls === 1) throw new ExternalError('429 too many requests', 'rate_limited');
          return w.exchange.listPositions();
        },
        closePosition: (id) => w.exchange.closePosition(id),
        getPosition: (id) => w.exchange.getPosition(id),
      };
      const waits: number[] = [];
      const guarded: GuardedExternal = guardExternal(flaky, {
        retries: 2,
        backoffMs: 100,
        random: () => 1,
        sleep: async (ms) => void waits.push(ms),
      });
      const report = await reconcile({ handler: w.tracker.handler, external: guarded, now: w.now });
      expect(report.errors).toEqual([]);
      expect(report.corrected).toBe(3);
      expect(guarded.stats.retries).toBe(1);
      expect(waits).toEqual([100]);
      expect(calls).toBe(2);
    });

    it('rate_limited on every try: retries run out, the failure is rate_limited', async () => {
      const w = await worldWithWork();
      const adapter: ExternalSystem = {
        listPositions: async () => {
          throw new ExternalError('429', 'rate_limited');
        },
        closePosition: async () => undefined,
      };
      const guarded = guardExternal(adapter, { retries: 2, backoffMs: 10, ...NO_SLEEP });
      const report = await expectLogUnchanged(w, { external: guarded });
      expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'rate_limited', message: '429' }]);
      expect(guarded.stats).toEqual({ calls: 3, retries: 2 });
    });

    it('a slow adapter (real latency past the timeout) is a timeout failure', async () => {
      const w = await worldWithWork({ latencyMs: 500 });
      const guarded = guardExternal(w.exchange, { timeoutMs: 50, retries: 1, ...NO_SLEEP });
      const started = performance.now();
      const report = await expectLogUnchanged(w, { external: guarded });
      const took = performance.now() - started;
      expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'timeout', message: 'listPositions timed out after 50 ms' }]);
      expect(guarded.stats).toEqual({ calls: 2, retries: 1 });
      expect(took).toBeLessThan(450); // two tries of 50 ms, not the adapter's 500 ms
      await sleep(500); // let the slow calls finish inside this test
    });

    it('a plain Error is unreachable, and retried', async () => {
      const w = await worldWithWork();
      const adapter = {
        calls: 0,
        listPositions: async () => {
          adapter.calls += 1;
          throw new Error('ECONNREFUSED 127.0.0.1:9');
        },
        closePosition: async () => undefined,
      };
      const report = await expectLogUnchanged(w, { external: adapter, guard: { retries: 2, ...NO_SLEEP } });
      expect(report.errors).toEqual([
        { stage: 'listPositions', failure: 'unreachable', message: 'listPositions failed: ECONNREFUSED 127.0.0.1:9' },
      ]);
      expect(adapter.calls).toBe(3);
    });

    it('something thrown that is not an Error is unreachable too', async () => {
      const w = await worldWithWork();
      const adapter: ExternalSystem = { listPositions: () => Promise.reject('socket hang up'), closePosition: async () => undefined };
      const report = await expectLogUnchanged(w, { external: adapter, guard: { retries: 0 } });
      expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'unreachable', message: 'listPositions failed: socket hang up' }]);
    });

    it('rejected is not retried', async () => {
      const w = await worldWithWork();
      const adapter: ExternalSystem = {
        listPositions: async () => {
          throw new ExternalError('403 forbidden: key lacks read permission', 'rejected');
        },
        closePosition: async () => undefined,
      };
      const guarded = guardExternal(adapter, { retries: 5, ...NO_SLEEP });
      const report = await expectLogUnchanged(w, { external: guarded });
      expect(report.errors).toEqual([{ stage: 'listPositions', failure: 'rejected', message: '403 forbidden: key lacks read permission' }]);
      expect(guarded.stats).toEqual({ calls: 1, retries: 0 });
    });

    it.each([
      ['error', 'unreachable'],
      ['timeout', 'timeout'],
      ['rateLimit', 'rate_limited'],
    ] as const)('the simulated exchange failing every call with %s', async (fault, failure) => {
      const w = await worldWithWork();
      w.exchange.setFaults({ [fault]: 1 });
      const report = await expectLogUnchanged(w, {});
      expect(report.errors).toMatchObject([{ stage: 'listPositions', failure }]);
    });

    it('a close that times out is not sent again (it may have gone through); the next run finds it gone', { timeout: 5_000 }, async () => {
      const w = await openWorld({ seed: 11 });
      const id = w.exchange.injectOrphan();
      const closes: string[] = [];
      const slowClose: ExternalSystem = {
        listPositions: () => w.exchange.listPositions(),
        getPosition: (x) => w.exchange.getPosition(x),
        closePosition: async (x) => {
          closes.push(x);
          await sleep(100); // the exchange is slow to confirm, but it does close
          return w.exchange.closePosition(x);
        },
      };
      const guard = { timeoutMs: 50, retries: 2, ...NO_SLEEP };
      const first = await reconcile({ handler: w.tracker.handler, external: slowClose, now: w.now, guard, policy: { orphans: 'close' } });
      expect(first.errors).toEqual([
        { stage: 'closePosition', positionId: id, failure: 'timeout', message: `closePosition(${id}) timed out after 50 ms` },
      ]);
      await sleep(150);
      expect(closes).toEqual([id]);
      expect(w.exchange.closeLog()).toEqual({ closes: { [id]: 1 }, badCloses: [] });

      w.advance(60);
      const second = await reconcile({ handler: w.tracker.handler, external: slowClose, now: w.now, guard, policy: { orphans: 'close' } });
      expect(second.errors).toEqual([]);
      expect(closes).toEqual([id]);
      const closed = (await allEvents(w.store)).filter((e) => e.type === 'OrphanClosed').map((e) => e.data);
      expect(closed).toMatchObject([{ positionId: id, reason: 'no longer open outside' }]);
    });

    it('a close that is rate limited is sent again (the exchange said it did nothing)', async () => {
      const w = await openWorld({ seed: 11 });
      const id = w.exchange.injectOrphan();
      const closes: string[] = [];
      const limited: ExternalSystem = {
        listPositions: () => w.exchange.listPositions(),
        getPosition: (x) => w.exchange.getPosition(x),
        closePosition: async (x) => {
          closes.push(x);
          if (closes.length === 1) throw new ExternalError('429', 'rate_limited');
          return w.exchange.closePosition(x);
        },
      };
      const report = await reconcile({
        handler: w.tracker.handler,
        external: limited,
        now: w.now,
        guard: { retries: 2, ...NO_SLEEP },
        policy: { orphans: 'close' },
      });
      expect(report.errors).toEqual([]);
      expect(closes).toEqual([id, id]);
      expect(w.exchange.closeLog()).toEqual({ closes: { [id]: 1 }, badCloses: [] });
    });

    it('a close that is refused outside is an error, and nothing is recorded as closed', async () => {
      const w = await worldWithWork();
      const adapter: ExternalSystem = {
        listPositions: () => w.exchange.listPositions(),
        getPosition: (id) => w.exchange.getPosition(id),
        closePosition: async (id) => {
          throw new ExternalError(`closePosition(${id}): market closed`, 'rejected');
        },
      };
      const before = (await w.store.head()).position;
      const report = await reconcile({
        handler: w.tracker.handler,
        external: adapter,
        now: w.now,
        guard: NO_SLEEP,
        policy: { orphans: 'close' },
      });
      const orphan = report.orphans[0]!;
      expect(report.errors).toContainEqual({
        stage: 'closePosition',
        positionId: orphan.positionId,
        failure: 'rejected',
        message: `closePosition(${orphan.positionId}): market closed`,
      });
      expect(orphan.outcome).toBe('failed');
      const appended = (await eventsAfter(w.store, before)).map((e) => e.type);
      expect(appended).not.toContain('OrphanClosed');
      expect((await w.tracker.state()).orphans.has(orphan.positionId)).toBe(true);
      expect(w.exchange.truth().map((p) => p.id)).toContain(orphan.positionId);
    });
  });
});
