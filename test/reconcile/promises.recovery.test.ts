import { describe, expect, it } from 'vitest';
import { allowedWhileRecoveryPending, commandTypes, type CommandInput } from '../../src/commands/index.js';
import { RecoveryPendingError } from '../../src/errors/index.js';
import { reconcile, recoverOnStartup } from '../../src/reconcile/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { allEvents, botEnters, counting, LOOSE_BOOK, openWorld, type World } from '../helpers/reconcileWorld.js';

/*
 * #10.2: manual recovery is a gate kept in the log (RecoveryRequired ... RecoveryAcknowledged),
 * refused by the decider while open, and the config's recovery section is what a bot start reads.
 */

const NO_SLEEP = { sleep: async () => undefined };

async function heldWorld(): Promise<World> {
  const w = await openWorld({ seed: 5 });
  await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'tracker' });
  await botEnters(w, 'BOT-1', 'BTC', 0.01);
  await w.tracker.track('W-1', { symbol: 'SOL' });
  w.advance(60);
  return w;
}

/** One command of every type that the gate must refuse, against the held world's book. */
const refusedCommands: CommandInput[] = [
  { type: 'Track', positionId: 'NEW-1', symbol: 'XRP' },
  { type: 'Enter', positionId: 'W-1', value: 100 },
  { type: 'Open', positionId: 'NEW-2', symbol: 'XRQ', value: 100 },
  { type: 'Hold', positionId: 'BOT-1', value: 500 },
  { type: 'Monitor', positionId: 'W-1', value: 90 },
  { type: 'Exit', positionId: 'BOT-1', value: 500 },
  { type: 'Skip', positionId: 'W-1' },
  { type: 'AdoptOrphan', positionId: 'HAND-1', value: 300, symbol: 'NVDA' },
  { type: 'Archive', positionId: 'W-1' },
  { type: 'ResetCircuitBreaker' },
  { type: 'CloseOrphan', positionId: 'HAND-1', value: 300 },
  { type: 'ClearPhantom', positionId: 'BOT-1', looks: 3, reason: 'gone' },
  { type: 'CorrectDrift', positionId: 'BOT-1', externalValue: 450 },
  // Sending an order opens or moves risk like Enter and Exit (a cancel only lowers it: allowed).
  { type: 'RequestOrder', commandId: 'gate-entry', positionId: 'W-1', intent: 'entry', quantity: 1, referencePrice: 100 },
  { type: 'RequestOrder', commandId: 'gate-reduce', positionId: 'BOT-1', intent: 'reduce', quantity: 1 },
  // Re-enabling a symbol loosens risk (disabling one only tightens it: allowed).
  { type: 'EnableSymbol', symbol: 'AAPL' },
  // Moving a stop can loosen risk.
  { type: 'SetProtection', positionId: 'BOT-1', stop: 1 },
  // Adopting an external order gives the book an order whose fills move a position (like AdoptOrphan).
  { type: 'AdoptExternalOrder', externalOrderId: 'X-1', symbol: 'NVDA', side: 'buy', quantity: 1 },
];

describe('#10.2 the recovery gate', () => {
  it('#10.2 manual recovery refuses every command that moves positions or risk until RecoveryAcknowledged, in every process', async () => {
    const w = await heldWorld();
    const outcome = await recoverOnStartup({
      handler: w.tracker.handler,
      external: w.exchange,
      mode: 'manual',
      now: w.now,
      guard: NO_SLEEP,
    });
    expect(outcome.gate.locked).toBe(true);
    // Every command type is either refused here or on the documented allowed list.
    expect(new Set([...refusedCommands.map((c) => c.type), ...allowedWhileRecoveryPending])).toEqual(new Set(commandTypes));

    const before = (await allEvents(w.store)).length;
    // Another process on the same log (a fresh handler, nothing cached) sees the same gate.
    const other = await openTracker({ ...LOOSE_BOOK, store: w.store, now: w.now });
    for (const t of [w.tracker, other]) {
      for (const command of refusedCommands) {
        await expect(t.execute(command), command.type).rejects.toThrow(RecoveryPendingError);
      }
    }
    await expect(other.enter('W-1', { value: 100 })).rejects.toThrow(
      /^cannot enter "W-1": the book waits for an operator since .* check it, then run ptrack recover --ack$/,
    );
    expect((await allEvents(w.store)).length).toBe(before);

    // What only tightens or records is allowed through.
    await other.execute({ type: 'RecordHeartbeat', process: 'bot' });
    await other.tripCircuitBreaker('operator is looking', { seconds: 60 });
    await other.startCooldown('SOL', 60);

    await other.acknowledgeRecovery({ reason: 'checked the broker' });
    expect((await allEvents(w.store)).at(-1)).toMatchObject({
      type: 'RecoveryAcknowledged',
      data: { reason: 'checked the broker', source: 'recovery' },
    });
    expect(await outcome.gate.check()).toBe(true);
    await expect(w.tracker.exit('BOT-1', { value: 500 })).resolves.toMatchObject({ position: { status: 'EXITED' } });
    await expect(w.tracker.acknowledgeRecovery()).rejects.toThrow(/cannot acknowledge a recovery: none is pending/);
    await other.close();
  });

  it('#10.2 a start in another mode while the gate is open changes nothing and throws RecoveryPendingError; reconcile() does not act', async () => {
    const w = await heldWorld();
    await recoverOnStartup({ handler: w.tracker.handler, external: w.exchange, mode: 'manual', now: w.now, guard: NO_SLEEP });
    w.exchange.fill('HAND-1', { symbol: 'NVDA', side: 'long', quantity: 5 });
    const before = (await allEvents(w.store)).length;
    const { system, calls } = counting(w.exchange);
    for (const mode of ['sync', 'restore', 'close_all'] as const) {
      await expect(recoverOnStartup({ handler: w.tracker.handler, external: system, mode, now: w.now, guard: NO_SLEEP })).rejects.toThrow(
        RecoveryPendingError,
      );
    }
    await expect(
      reconcile({ handler: w.tracker.handler, external: system, policy: { orphans: 'close' }, now: w.now, guard: NO_SLEEP }),
    ).rejects.toThrow(RecoveryPendingError);
    expect(calls.close).toEqual([]);
    expect((await allEvents(w.store)).length).toBe(before);
    // A dry run changes nothing, so it may still look.
    await expect(
      reconcile({ handler: w.tracker.handler, external: system, dryRun: true, now: w.now, guard: NO_SLEEP }),
    ).resolves.toMatchObject({ dryRun: true });
  });

  it('#10.2 the gate is kept in the book snapshot: a tracker that starts from one still refuses', async () => {
    const w = await openWorld({ seed: 9, book: { snapshotEvery: 2 } });
    await w.tracker.track('W-1', { symbol: 'SOL' });
    await recoverOnStartup({ handler: w.tracker.handler, external: w.exchange, mode: 'manual', now: w.now, guard: NO_SLEEP });
    for (let i = 0; i < 4; i++) await w.tracker.execute({ type: 'RecordHeartbeat', process: 'bot' });
    const snapshot = await w.store.readSnapshot(w.tracker.handler.stream);
    expect(snapshot?.revision).toBeGreaterThanOrEqual(2);
    const restarted = await openTracker({ ...LOOSE_BOOK, snapshotEvery: 2, store: w.store, now: w.now });
    expect((await restarted.state()).recovery).toMatchObject({ status: 'REQUIRED', mode: 'manual' });
    await expect(restarted.enter('W-1', { value: 100 })).rejects.toThrow(RecoveryPendingError);
  });

  it("#10.2 openTracker({ external }) runs startup recovery in the config's recovery.mode and maxStateAgeSeconds", async () => {
    const w = await heldWorld();
    const manual = await openTracker({ ...LOOSE_BOOK, store: w.store, now: w.now, external: w.exchange, recovery: { mode: 'manual' } });
    expect(manual.recovery).toMatchObject({ requested: 'manual', mode: 'manual', gate: { locked: true } });
    await expect(manual.enter('W-1', { value: 100 })).rejects.toThrow(RecoveryPendingError);
    await manual.acknowledgeRecovery();

    // The last heartbeat is a minute old: restore trusts it under a 3600 s limit, and syncs under a 30 s one.
    w.advance(60);
    const { system, calls } = counting(w.exchange);
    const trusting = await openTracker({
      ...LOOSE_BOOK,
      store: w.store,
      now: w.now,
      external: system,
      recovery: { mode: 'restore', maxStateAgeSeconds: 3600 },
    });
    expect(trusting.recovery).toMatchObject({ requested: 'restore', mode: 'restore' });
    expect(calls.list).toBe(0);
    w.advance(60);
    const strict = await openTracker({
      ...LOOSE_BOOK,
      store: w.store,
      now: w.now,
      external: system,
      recovery: { mode: 'restore', maxStateAgeSeconds: 30 },
    });
    expect(strict.recovery).toMatchObject({ requested: 'restore', mode: 'sync' });
    expect(calls.list).toBeGreaterThan(0);
    // Without `external`, nothing runs: a tracker opened for one command is not a bot start.
    const plain = await openTracker({ ...LOOSE_BOOK, store: w.store, now: w.now, recovery: { mode: 'manual' } });
    expect(plain.recovery).toBeNull();
    await expect(plain.enter('W-1', { value: 100 })).resolves.toMatchObject({ position: { status: 'IN' } });
  });
});
