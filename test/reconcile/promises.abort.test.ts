import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import { guardExternal, reconcile, type ExternalCallOptions, type ExternalSystem } from '../../src/reconcile/index.js';
import { openWorld, sleep } from '../helpers/reconcileWorld.js';

/*
 * Issue 10, item 13: a call that timed out is told to stop. Every adapter method gets an
 * AbortSignal, aborted when the guard's timeout runs out; the simulated exchange honours it,
 * so a close that timed out does not land later.
 */

const NO_SLEEP = { sleep: async () => undefined };

describe('#10.13 timed-out outside calls are aborted', () => {
  it('#10.13 every adapter method receives a signal, aborted (with the timeout error) when the call times out', async () => {
    const seen: { method: string; signal: AbortSignal }[] = [];
    const hang = (method: string, options: ExternalCallOptions): Promise<unknown> => {
      seen.push({ method, signal: options.signal });
      return new Promise(() => undefined); // never answers
    };
    const adapter: ExternalSystem = {
      listPositions: (o) => hang('listPositions', o),
      closePosition: (_id, o) => hang('closePosition', o),
      getPosition: (_id, o) => hang('getPosition', o),
    };
    const guarded = guardExternal(adapter, { timeoutMs: 30, retries: 0, ...NO_SLEEP });
    await expect(guarded.listPositions()).rejects.toMatchObject({ failure: 'timeout' });
    await expect(guarded.getPosition('A1')).rejects.toMatchObject({ failure: 'timeout' });
    await expect(guarded.closePosition('A1')).rejects.toMatchObject({ failure: 'timeout' });
    expect(seen.map((s) => s.method)).toEqual(['listPositions', 'getPosition', 'closePosition']);
    for (const { signal } of seen) {
      expect(signal).toBeInstanceOf(AbortSignal);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(ExternalError);
      expect((signal.reason as ExternalError).failure).toBe('timeout');
    }
  });

  it('#10.13 a call that answers in time keeps its signal un-aborted', async () => {
    let signal: AbortSignal | undefined;
    const guarded = guardExternal(
      { listPositions: async (o) => ((signal = o.signal), []), closePosition: async () => undefined },
      { timeoutMs: 1000 },
    );
    await expect(guarded.listPositions()).resolves.toEqual([]);
    await sleep(20);
    expect(signal?.aborted).toBe(false);
  });

  it('#10.13 the simulated exchange honours the signal: a close that timed out never lands', { timeout: 5_000 }, async () => {
    const w = await openWorld({ seed: 11, latencyMs: 150 });
    const id = w.exchange.injectOrphan();
    const list = await w.exchange.listPositions();
    // The look is quick; only the close is slow (the exchange's latency), past the 50 ms timeout.
    const adapter: ExternalSystem = {
      listPositions: async () => list,
      getPosition: async (x) =>
        w.exchange.truth().some((p) => p.id === x) ? ((list as { id: string }[]).find((p) => p.id === x) ?? null) : null,
      closePosition: (x, o) => w.exchange.closePosition(x, o),
    };
    const report = await reconcile({
      handler: w.tracker.handler,
      external: adapter,
      now: w.now,
      guard: { timeoutMs: 50, retries: 2, ...NO_SLEEP },
      policy: { orphans: 'close' },
    });
    expect(report.errors).toEqual([
      { stage: 'closePosition', positionId: id, failure: 'timeout', message: `closePosition(${id}) timed out after 50 ms` },
    ]);
    await sleep(300); // well past the exchange's latency: a close still running would have landed by now
    expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
    expect(w.exchange.truth().map((p) => p.id)).toContain(id);
  });
});
