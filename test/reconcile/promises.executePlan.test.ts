import { describe, expect, it } from 'vitest';
import { ConcurrencyError, ExternalError } from '../../src/errors/index.js';
import { executePlan } from '../../src/reconcile/executePlan.js';
import { guardExternal, type ExternalSystem } from '../../src/reconcile/index.js';
import type { Step } from '../../src/reconcile/steps.js';
import { botEnters, eventsAfter, openWorld, type World } from '../helpers/reconcileWorld.js';

/*
 * #16.5 executePlan runs flat steps and says what each did: it plans nothing and looks nothing up.
 */

const NO_SLEEP = { sleep: async () => undefined };

function guarded(system: ExternalSystem) {
  return guardExternal(system, NO_SLEEP);
}

async function appended(w: World, before: number): Promise<string[]> {
  return (await eventsAfter(w.store, before)).map((e) => e.type);
}

describe('#16.5 executePlan', () => {
  it('#16.5 runs every step in order and gives one result per step; a refusal is skipped and the run goes on', async () => {
    const w = await openWorld();
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    const before = (await w.store.head()).position;
    const steps: Step[] = [
      // BOT-1 is IN: adopting it is refused by the book (a race, not a failure).
      {
        action: { kind: 'command', command: { type: 'AdoptOrphan', positionId: 'BOT-1', value: 10 }, about: 'adopt BOT-1' },
        corrects: true,
      },
      {
        action: { kind: 'command', command: { type: 'CorrectDrift', positionId: 'BOT-1', externalValue: 400 }, about: 'correct BOT-1' },
        corrects: true,
      },
      { action: { kind: 'command', command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 1 }, about: 'suspect BOT-1' } },
    ];
    const execution = await executePlan(steps, {
      handler: w.tracker.handler,
      external: guarded(w.exchange),
      meta: { source: 'reconcile', correlationId: 'x-1' },
    });
    expect(execution.results.map((r) => [r.result, r.healed])).toStrictEqual([
      ['skipped', false],
      ['ok', true],
      ['ok', false],
    ]);
    expect(execution.skipped).toMatchObject([{ positionId: 'BOT-1', reason: expect.stringContaining('BOT-1') }]);
    expect(execution.results[0]?.problem).toBe(execution.skipped[0]?.reason);
    expect(execution.errors).toStrictEqual([]);
    const events = await eventsAfter(w.store, before);
    expect(events.map((e) => [e.type, e.metadata.correlationId, (e.data as { source?: string }).source])).toStrictEqual([
      ['DriftCorrected', 'x-1', 'reconcile'],
      ['PhantomSuspected', 'x-1', 'reconcile'],
    ]);
  });

  it('#16.5 a close refused outside is failed and its record is not run; a close that lands runs its record', async () => {
    const w = await openWorld();
    const a = w.exchange.injectOrphan();
    const b = w.exchange.injectOrphan();
    const external = guarded({
      listPositions: () => w.exchange.listPositions(),
      closePosition: async (id) => {
        if (id === a) throw new ExternalError(`closePosition(${a}): market closed`, 'rejected');
        return w.exchange.closePosition(id);
      },
    });
    const before = (await w.store.head()).position;
    const close = (id: string): Step => ({
      action: { kind: 'closeOutside', positionId: id, record: { type: 'CloseOrphan', positionId: id, value: 50, reason: 'test' } },
      corrects: true,
    });
    const execution = await executePlan([close(a), close(b)], { handler: w.tracker.handler, external, meta: { source: 'recovery' } });
    expect(execution.results).toStrictEqual([
      { result: 'failed', healed: false, problem: `closePosition(${a}): market closed` },
      { result: 'ok', healed: true },
    ]);
    expect(execution.errors).toStrictEqual([
      { stage: 'closePosition', positionId: a, failure: 'rejected', message: `closePosition(${a}): market closed` },
    ]);
    expect(await appended(w, before)).toStrictEqual(['OrphanClosed']);
    expect(w.exchange.closeLog().closes).toStrictEqual({ [b]: 1 });
  });

  it('#16.5 an alert is ok whatever its delivery; a failed delivery is an error', async () => {
    const w = await openWorld();
    const alert = { severity: 'critical', kind: 'orphan', positionId: 'X-1', message: 'orphan X-1' } as const;
    const execution = await executePlan([{ action: { kind: 'alert', alert } }], {
      handler: w.tracker.handler,
      external: guarded(w.exchange),
      meta: { source: 'reconcile' },
      alerts: {
        sink: {
          onAlert: () => {
            throw new Error('pager down');
          },
        },
        runId: 'r',
        book: 'main',
      },
    });
    expect(execution.results).toStrictEqual([{ result: 'ok', healed: false, problem: 'alert callback failed: pager down' }]);
    expect(execution.alerts).toStrictEqual([alert]);
    expect(execution.errors).toStrictEqual([{ stage: 'alert', positionId: 'X-1', message: 'alert callback failed: pager down' }]);
  });

  it('#16.5 a fatal error is recorded and ends the run: later steps do not run', async () => {
    const w = await openWorld();
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    const handler = w.tracker.handler;
    const failing = Object.create(handler) as typeof handler;
    let calls = 0;
    failing.handle = async (...args) => {
      if (++calls === 1) throw new ConcurrencyError('tradelog-main', 3, 4);
      return handler.handle(...args);
    };
    const steps: Step[] = [
      { action: { kind: 'command', command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 1 }, about: 'suspect' } },
      { action: { kind: 'command', command: { type: 'SuspectPhantom', positionId: 'BOT-1', looks: 2 }, about: 'suspect again' } },
    ];
    // By default a TrackerError is a failed step and the run goes on.
    const lenient = await executePlan(steps, { handler: failing, external: guarded(w.exchange), meta: { source: 'reconcile' } });
    expect(lenient.results.map((r) => r.result)).toStrictEqual(['failed', 'ok']);
    expect(lenient.errors).toMatchObject([{ stage: 'command', positionId: 'BOT-1', message: expect.stringContaining('is at revision 4') }]);
    calls = 0;
    await expect(
      executePlan(steps, { handler: failing, external: guarded(w.exchange), meta: { source: 'recovery' }, fatal: () => true }),
    ).rejects.toThrow(ConcurrencyError);
    expect(calls).toBe(1);
  });
});
