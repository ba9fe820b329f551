import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { InPosition } from '../../src/commands/index.js';
import { reconcile, type Alert, type ExternalSystem, type ReconcileOptions } from '../../src/reconcile/index.js';
import { allEvents, botEnters, counting, eventsAfter, openWorld, withoutDirectLook, type World } from '../helpers/reconcileWorld.js';

/*
 * The executor end to end: a tracker over an in-memory log, a seeded simulated exchange
 * (or a small hand-written adapter), and reconcile() between them.
 */

const NO_SLEEP = { sleep: async () => undefined };

function run(w: World, options: Partial<ReconcileOptions> = {}) {
  return reconcile({ handler: w.tracker.handler, external: w.exchange, now: w.now, guard: NO_SLEEP, ...options });
}

/** Appends during `work`, as [type, source] pairs. */
async function appendedBy(w: World, work: () => Promise<unknown>): Promise<[string, string | undefined][]> {
  const before = (await w.store.head()).position;
  await work();
  return (await eventsAfter(w.store, before)).map((e) => [e.type, (e.data as { source?: string }).source]);
}

async function inPosition(w: World, id: string): Promise<InPosition> {
  const p = await w.tracker.get(id);
  if (p?.status !== 'IN') throw new Error(`expected ${id} to be IN, found ${p?.status ?? 'nothing'}`);
  return p;
}

describe('reconcile (the executor)', () => {
  describe('heals end to end', () => {
    it('adopts an orphan into the book at the value outside', async () => {
      const w = await openWorld();
      const id = w.exchange.injectOrphan();
      const outside = w.exchange.truth().find((p) => p.id === id)!;
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { policy: { orphans: 'adopt' }, runId: 'r1' })));
      expect(appended).toEqual([
        ['OrphanDetected', 'reconcile'],
        ['OrphanAdopted', 'reconcile'],
        ['ReconciliationCompleted', 'reconcile'],
      ]);
      expect(report!).toMatchObject({ runId: 'r1', corrected: 1, errors: [], skipped: [], alerts: [] });
      expect(report!.orphans).toMatchObject([{ positionId: id, verdict: 'adopt', outcome: 'adopted', local: 'UNKNOWN' }]);
      expect(await inPosition(w, id)).toMatchObject({ origin: 'adopted', value: outside.value, symbol: outside.symbol, side: 'long' });
      const events = await allEvents(w.store);
      expect(events.every((e) => e.metadata.correlationId === 'r1')).toBe(true);
      expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
    });

    it('adopts an orphan whose id is EXITED here: archive, then adopt', async () => {
      const w = await openWorld();
      await botEnters(w, 'BOT-1', 'ETH', 0.5);
      await w.tracker.exit('BOT-1', { value: 1500 }); // the book says closed; the exchange still holds it
      w.advance(120);
      const appended = await appendedBy(w, () => run(w));
      expect(appended.map(([t]) => t)).toEqual(['OrphanDetected', 'PositionArchived', 'OrphanAdopted', 'ReconciliationCompleted']);
      expect(await inPosition(w, 'BOT-1')).toMatchObject({ origin: 'adopted', symbol: 'ETH', value: w.exchange.valueNow('BOT-1') });
    });

    it('clears a phantom after a direct look confirms it is gone', async () => {
      const w = await openWorld();
      await botEnters(w, 'BOT-1', 'BTC', 0.01);
      w.advance(120);
      w.exchange.liquidate('BOT-1');
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { policy: { phantoms: 'clear' } })));
      expect(appended.map(([t]) => t)).toEqual(['PhantomSuspected', 'PhantomCleared', 'ReconciliationCompleted']);
      expect(report!.phantoms).toMatchObject([{ positionId: 'BOT-1', looks: 1, verdict: 'confirmed', outcome: 'cleared' }]);
      expect(report!.corrected).toBe(1);
      expect(await w.tracker.get('BOT-1')).toMatchObject({ status: 'EXITED', closedBy: 'phantom' });
    });

    it('clears a phantom by looks when there is no direct look: suspected first, cleared on the second run', async () => {
      const w = await openWorld();
      await botEnters(w, 'BOT-1', 'BTC', 0.01);
      w.advance(120);
      w.exchange.liquidate('BOT-1');
      const external = withoutDirectLook(w.exchange);
      const first = await run(w, { external });
      expect(first.phantoms).toMatchObject([{ positionId: 'BOT-1', looks: 1, verdict: 'suspected', outcome: 'suspected' }]);
      expect(await inPosition(w, 'BOT-1')).toMatchObject({ missedLooks: 1 });
      w.advance(60);
      const appended = await appendedBy(w, () => run(w, { external }));
      expect(appended.map(([t]) => t)).toEqual(['PhantomSuspected', 'PhantomCleared', 'ReconciliationCompleted']);
      expect(await w.tracker.get('BOT-1')).toMatchObject({ status: 'EXITED', closedBy: 'phantom' });
    });

    it('corrects drift to the value outside', async () => {
      const w = await openWorld();
      await botEnters(w, 'BOT-1', 'SOL', 10);
      w.advance(120);
      w.exchange.drift('BOT-1', 0.9);
      const outside = w.exchange.valueNow('BOT-1')!;
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { policy: { drift: 'correct' } })));
      expect(appended.map(([t]) => t)).toEqual(['DriftCorrected', 'ReconciliationCompleted']);
      expect(report!.drift).toMatchObject([{ positionId: 'BOT-1', externalValue: outside, outcome: 'corrected' }]);
      expect(await inPosition(w, 'BOT-1')).toMatchObject({ value: outside });
    });
  });

  describe('orphans: close', () => {
    it('closes outside after a second look still shows it, and records OrphanClosed', async () => {
      const w = await openWorld();
      const id = w.exchange.injectOrphan();
      const { system, calls } = counting(w.exchange);
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { external: system, policy: { orphans: 'close' } })));
      expect(calls).toEqual({ list: 1, get: 1, close: [id] });
      expect(w.exchange.closeLog()).toEqual({ closes: { [id]: 1 }, badCloses: [] });
      expect(w.exchange.truth().map((p) => p.id)).not.toContain(id);
      expect(appended.map(([t]) => t)).toEqual(['OrphanDetected', 'OrphanClosed', 'ReconciliationCompleted']);
      const closed = (await allEvents(w.store)).find((e) => e.type === 'OrphanClosed');
      expect(closed?.data).toMatchObject({ positionId: id, reason: 'closed by reconciliation (policy close)' });
      expect(report!.orphans).toMatchObject([{ positionId: id, outcome: 'closed' }]);
      expect((await w.tracker.state()).orphans.has(id)).toBe(false);
      expect(await w.tracker.get(id)).toBeNull();
    });

    it('takes the second look with another list when there is no direct look', async () => {
      const w = await openWorld();
      const id = w.exchange.injectOrphan();
      const { system, calls } = counting(withoutDirectLook(w.exchange));
      await run(w, { external: system, policy: { orphans: 'close' } });
      expect(calls).toEqual({ list: 2, get: 0, close: [id] });
      expect(w.exchange.closeLog().closes).toEqual({ [id]: 1 });
    });

    it.each([
      ['a direct look', true],
      ['a second list', false],
    ])('closes nothing when the orphan is gone on the second look (%s)', async (_name, direct) => {
      const w = await openWorld();
      const id = w.exchange.injectOrphan();
      const closes: string[] = [];
      // Someone closes it by hand right after the first look.
      let lists = 0;
      const external: ExternalSystem = {
        listPositions: async () => {
          const list = await w.exchange.listPositions();
          if (++lists === 1) w.exchange.liquidate(id);
          return list;
        },
        closePosition: async (x) => {
          closes.push(x);
          return w.exchange.closePosition(x);
        },
        ...(direct ? { getPosition: (x: string) => w.exchange.getPosition(x) } : {}),
      };
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { external, policy: { orphans: 'close' } })));
      expect(closes).toEqual([]);
      expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
      expect(appended.map(([t]) => t)).toEqual(['OrphanDetected', 'OrphanClosed', 'ReconciliationCompleted']);
      const closed = (await allEvents(w.store)).find((e) => e.type === 'OrphanClosed');
      expect(closed?.data).toMatchObject({ positionId: id, reason: 'gone on a second look' });
      expect(report!.orphans).toMatchObject([{ positionId: id, outcome: 'gone on second look' }]);
    });
  });

  describe('running it again', () => {
    /** One of everything: an orphan to adopt, one to close (SOL), a phantom, drift and dust. */
    async function messyWorld(): Promise<World> {
      const w = await openWorld({ seed: 5 });
      await botEnters(w, 'BOT-1', 'BTC', 0.01);
      await botEnters(w, 'BOT-2', 'ETH', 0.3);
      await botEnters(w, 'BOT-3', 'AAPL', 4);
      w.advance(300);
      w.exchange.liquidate('BOT-1');
      w.exchange.drift('BOT-2', 0.95);
      w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
      w.exchange.fill('HAND-SOL', { symbol: 'SOL', side: 'long', quantity: 3 });
      w.exchange.dustReward();
      return w;
    }
    const policy = { orphans: 'adopt', phantoms: 'clear', drift: 'correct', perSymbol: { SOL: { orphans: 'close' } } } as const;

    it('does no harm: the second run appends only its ReconciliationCompleted and closes nothing again', async () => {
      const w = await messyWorld();
      const first = await run(w, { policy });
      expect(first.corrected).toBe(4);
      expect(first.errors).toEqual([]);
      const stateAfterFirst = structuredClone([...(await w.tracker.state()).positions.values()]);
      w.advance(60);
      let second;
      const appended = await appendedBy(w, async () => (second = await run(w, { policy })));
      expect(appended).toEqual([['ReconciliationCompleted', 'reconcile']]);
      expect(second!).toMatchObject({ orphans: [], phantoms: [], drift: [], corrected: 0, errors: [], skipped: [], alerts: [] });
      expect(second!.dust).toHaveLength(1);
      expect([...(await w.tracker.state()).positions.values()]).toEqual(stateAfterFirst);
      expect(w.exchange.closeLog()).toEqual({ closes: { 'HAND-SOL': 1 }, badCloses: [] });
    });

    it('refuses the steps of a plan the book outran: two runs on the same look heal once', async () => {
      const w = await openWorld({ seed: 5 });
      await botEnters(w, 'BOT-1', 'BTC', 0.01);
      w.advance(300);
      w.exchange.liquidate('BOT-1');
      w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
      // Both runs read the exchange before either writes.
      const list = await w.exchange.listPositions();
      const frozen: ExternalSystem = {
        listPositions: async () => list,
        closePosition: (id) => w.exchange.closePosition(id),
        getPosition: (id) => w.exchange.getPosition(id),
      };
      const [a, b] = await Promise.all([run(w, { external: frozen, policy }), run(w, { external: frozen, policy })]);
      const events = await allEvents(w.store);
      const count = (type: string) => events.filter((e) => e.type === type).length;
      expect(count('OrphanAdopted')).toBe(1);
      expect(count('PhantomCleared')).toBe(1);
      expect(count('ReconciliationCompleted')).toBe(2);
      expect(a.corrected + b.corrected).toBe(2);
      expect([...a.skipped, ...b.skipped].length).toBeGreaterThan(0);
      expect([...a.errors, ...b.errors]).toEqual([]);
    });
  });

  it('appends ReconciliationCompleted with the counts and the report', async () => {
    const w = await openWorld({ seed: 5 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    await botEnters(w, 'BOT-2', 'ETH', 0.3);
    w.advance(300);
    w.exchange.liquidate('BOT-1');
    w.exchange.drift('BOT-2', 0.95);
    w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
    w.exchange.fill('HAND-2', { symbol: 'MSFT', side: 'long', quantity: 2 });
    const dust = w.exchange.dustReward();
    const report = await run(w, { runId: 'run-42' });
    const completed = (await allEvents(w.store)).filter((e) => e.type === 'ReconciliationCompleted');
    expect(completed).toHaveLength(1);
    const data = completed[0]!.data as Record<string, unknown>;
    expect(data).toMatchObject({
      runId: 'run-42',
      startedAt: w.now().toISOString(),
      completedAt: w.now().toISOString(),
      snapshotAt: w.now().toISOString(),
      counts: { orphans: 2, phantoms: 1, drift: 1, corrected: 4, alerts: 0, errors: 0 },
      source: 'reconcile',
    });
    expect(data.report).toMatchObject({
      orphans: {
        total: 2,
        items: [
          { id: 'HAND-1', outcome: 'adopted' },
          { id: 'HAND-2', outcome: 'adopted' },
        ],
      },
      phantoms: { total: 1, items: [{ id: 'BOT-1', looks: 1, outcome: 'cleared' }] },
      drift: { total: 1, items: [{ id: 'BOT-2', outcome: 'corrected' }] },
      dust: { total: 1, items: [{ id: dust }] },
      errors: { total: 0, items: [] },
    });
    expect(report.corrected).toBe(4);
    expect((await w.tracker.state()).lastReconciledAt).toBe(w.now().toISOString());
  });

  describe('alerts', () => {
    async function needsAPerson(): Promise<World> {
      const w = await openWorld({ seed: 9 });
      await botEnters(w, 'BOT-1', 'BTC', 0.01);
      await botEnters(w, 'BOT-2', 'ETH', 0.3);
      w.advance(300);
      w.exchange.liquidate('BOT-1');
      w.exchange.drift('BOT-2', 0.9);
      w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
      return w;
    }
    const manual = { orphans: 'manual', phantoms: 'manual', drift: 'alert' } as const;

    it('hands every manual item to the callback and heals nothing', async () => {
      const w = await needsAPerson();
      const before = new Map(structuredClone([...(await w.tracker.state()).positions]));
      const received: Alert[] = [];
      let report;
      const appended = await appendedBy(w, async () => (report = await run(w, { policy: manual, onAlert: (a) => void received.push(a) })));
      expect(received.map((a) => [a.kind, a.positionId, a.severity])).toEqual([
        ['drift', 'BOT-2', 'warning'],
        ['orphan', 'HAND-1', 'critical'],
        ['phantom', 'BOT-1', 'critical'],
      ]);
      expect(report!.alerts).toEqual(received);
      expect(report!.corrected).toBe(0);
      expect(appended.map(([t]) => t)).toEqual(['OrphanDetected', 'PhantomSuspected', 'ReconciliationCompleted']);
      const after = (await w.tracker.state()).positions;
      expect([...after.keys()]).toEqual([...before.keys()]);
      for (const [id, p] of before) expect({ ...after.get(id), missedLooks: 0 }).toEqual({ ...p, missedLooks: 0 });
      expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
    });

    it('a failing callback is an error in the report, not the end of the run', async () => {
      const w = await needsAPerson();
      const report = await run(w, {
        policy: manual,
        onAlert: () => {
          throw new Error('pager down');
        },
      });
      expect(report.alerts).toHaveLength(3);
      expect(report.errors.map((e) => [e.stage, e.message])).toEqual([
        ['alert', 'alert callback failed: pager down'],
        ['alert', 'alert callback failed: pager down'],
        ['alert', 'alert callback failed: pager down'],
      ]);
      expect((await allEvents(w.store)).at(-1)?.type).toBe('ReconciliationCompleted');
    });

    describe('webhook', () => {
      let server: Server | undefined;
      afterEach(async () => {
        if (!server) return;
        server.closeAllConnections();
        await new Promise<void>((r) => server!.close(() => r()));
        server = undefined;
      });

      async function listen(status: number): Promise<{ url: string; received: { method?: string; type?: string; body: unknown }[] }> {
        const received: { method?: string; type?: string; body: unknown }[] = [];
        const body = (req: IncomingMessage) =>
          new Promise<string>((r) => {
            let s = '';
            req.on('data', (c: Buffer) => (s += c.toString()));
            req.on('end', () => r(s));
          });
        server = createServer((req, res) => {
          void body(req).then((text) => {
            received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(text) });
            res.writeHead(status).end();
          });
        });
        await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
        const { port } = server.address() as AddressInfo;
        return { url: `http://127.0.0.1:${port}/alerts`, received };
      }

      it('POSTs every alert as JSON with the run and the book', async () => {
        const w = await needsAPerson();
        const { url, received } = await listen(204);
        const report = await run(w, { policy: manual, webhookUrl: url, runId: 'hook-run' });
        expect(report.errors).toEqual([]);
        expect(received).toHaveLength(3);
        expect(received.every((r) => r.method === 'POST' && r.type === 'application/json')).toBe(true);
        expect(received.map((r) => r.body)).toEqual(report.alerts.map((a) => ({ ...a, runId: 'hook-run', book: 'main' })));
        expect(received[1]!.body).toMatchObject({
          kind: 'orphan',
          positionId: 'HAND-1',
          severity: 'critical',
          message: expect.stringContaining('HAND-1'),
        });
      });

      it('takes the webhook from the policy too', async () => {
        const w = await needsAPerson();
        const { url, received } = await listen(200);
        await run(w, { policy: { ...manual, webhookUrl: url } });
        expect(received).toHaveLength(3);
      });

      it('reports a webhook that answers 500, and goes on', async () => {
        const w = await needsAPerson();
        const { url, received } = await listen(500);
        const report = await run(w, { policy: manual, webhookUrl: url });
        expect(received).toHaveLength(3);
        // The path of a webhook URL is a secret (a token): the error names the host only (#10.24).
        expect(report.errors.map((e) => [e.stage, e.message])).toEqual(
          Array(3).fill(['alert', `webhook ${url.replace(/\/alerts$/, '/***')} answered 500`]),
        );
        expect((await allEvents(w.store)).at(-1)?.type).toBe('ReconciliationCompleted');
      });
    });
  });

  it('dryRun plans and reports, but appends nothing, calls nothing but the list, and alerts no one', async () => {
    const w = await openWorld({ seed: 5 });
    await botEnters(w, 'BOT-1', 'BTC', 0.01);
    await botEnters(w, 'BOT-2', 'ETH', 0.3);
    w.advance(300);
    w.exchange.liquidate('BOT-1');
    w.exchange.drift('BOT-2', 0.9);
    w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
    w.exchange.fill('HAND-SOL', { symbol: 'SOL', side: 'long', quantity: 3 });
    const head = await w.store.head();
    const events = await allEvents(w.store);
    const { system, calls } = counting(w.exchange);
    const alerts: Alert[] = [];
    const report = await run(w, {
      external: system,
      dryRun: true,
      policy: { orphans: 'adopt', drift: 'alert', perSymbol: { SOL: { orphans: 'close' } } },
      onAlert: (a) => void alerts.push(a),
    });
    expect(await w.store.head()).toEqual(head);
    expect(await allEvents(w.store)).toEqual(events);
    expect(calls).toEqual({ list: 1, get: 0, close: [] });
    expect(alerts).toEqual([]);
    expect(report.dryRun).toBe(true);
    expect(report.actions.map((a) => (a.kind === 'command' ? a.command.type : a.kind))).toEqual([
      'alert',
      'DetectOrphan',
      'AdoptOrphan',
      'DetectOrphan',
      'close',
      'verify',
    ]);
    expect(report.alerts.map((a) => a.kind)).toEqual(['drift']);
    expect(report.orphans.map((o) => o.outcome)).toEqual(['planned', 'planned']);
    expect(w.exchange.closeLog()).toEqual({ closes: {}, badCloses: [] });
  });
});
