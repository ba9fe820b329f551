import { join } from 'node:path';
import { bookStateToJson, venueKeyOf, type BookStateJson, type InPosition } from '../../src/commands/index.js';
import { RiskLimitError } from '../../src/errors/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import {
  SimulatedExchange,
  recoverOnStartup,
  reconcile,
  type ExternalSystem,
  type FaultRates,
  type GuardOptions,
  type PositionMode,
  type ReconcilePolicyInput,
  type ReconcileReport,
} from '../../src/reconcile/index.js';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';
import { openTracker, type Tracker } from '../../src/tracker/index.js';
import { SeededRandom } from '../../src/_internals/random.js';
import { allEvents, withoutDirectLook } from './reconcileWorld.js';

/*
 * One seeded story for the reconciliation simulation: a small bot trades on a simulated
 * exchange while the outside world misbehaves (orphans, liquidations, drift, dust, partial
 * fills, failing calls, lag), reconciliation runs every few minutes, the bot restarts once
 * mid-way (after a crash of some kind), and at the end the world calms down and
 * reconciliation runs until it has nothing left to do.
 *
 * Modes: `heal` reconciles with the auto-heal policies; `manual` with the policies that only
 * alert; `dry` is the twin of `manual` with dryRun reconciliations (the same calls outside,
 * nothing executed): a manual story must end exactly where its dry twin ends.
 *
 * Position modes (`positionMode`): the exchange keys positions per id (the default, the story
 * every older seed tells), by symbol (`netting`: several book positions on one symbol are one
 * venue position) or by symbol and side (`hedge`: the bot and the orphans trade longs and shorts
 * on the same symbols). Under netting and hedge the book allows several positions per symbol.
 */

export type SimMode = 'heal' | 'manual' | 'dry';
export type Crash = 'none' | 'fill-unrecorded' | 'enter-unfilled' | 'exit-unrecorded';

export interface SimSettings {
  seed: number;
  /** How the exchange keys positions (the seed does not decide it: each mode tells every seed). */
  positionMode: PositionMode;
  engine: 'memory' | 'sqlite';
  steps: number;
  restartAt: number;
  crash: Crash;
  reconcileEvery: number;
  lagSeconds: number;
  graceSeconds: number;
  driftTolerancePct: number;
  /** Phantoms confirmed by a direct look (getPosition) or by looks only. */
  directLook: boolean;
  /** A symbol whose orphans are closed outside instead of adopted (heal mode). */
  closeSymbol: string | null;
  snapshotEvery: number;
  maxPositions: number;
  minPositionValue: number;
  callFaults: FaultRates;
  rates: {
    orphan: number;
    liquidation: number;
    drift: number;
    dust: number;
    partialFill: number;
    outage: number;
    /** The bot records an exit whose close never happened outside. */
    lostClose: number;
    /** A list leaves out an open position (each position, each list). */
    listDrop: number;
  };
}

const SYMBOLS = ['BTC', 'ETH', 'SOL', 'AAPL', 'MSFT', 'NVDA'];
const STEP_MS = 60_000;
const START = Date.parse('2026-01-05T09:00:00.000Z');
export const NO_FAULTS: FaultRates = { error: 0, timeout: 0, malformed: 0, rateLimit: 0 };

/** Everything about a story that the seed decides, for an exchange keyed by `positionMode`. */
export function simSettings(seed: number, positionMode: PositionMode = 'per-id'): SimSettings {
  const r = new SeededRandom((seed * 2_654_435_761) ^ 0x51ed);
  const steps = r.int(24, 40);
  const lagSeconds = r.pick([0, 0, 10, 30, 45]);
  return {
    seed,
    positionMode,
    engine: seed % 50 === 7 ? 'sqlite' : 'memory',
    steps,
    restartAt: r.int(Math.floor(steps / 3), Math.floor((2 * steps) / 3)),
    crash: r.pick(['none', 'fill-unrecorded', 'enter-unfilled', 'exit-unrecorded'] as const),
    reconcileEvery: r.int(1, 4),
    lagSeconds,
    // A grace window shorter than the lag would judge fills the exchange does not show yet.
    graceSeconds: lagSeconds + r.pick([15, 30, 60, 150]),
    driftTolerancePct: r.pick([0.5, 1, 2]),
    directLook: r.chance(0.5),
    closeSymbol: r.chance(0.35) ? r.pick(SYMBOLS) : null,
    snapshotEvery: r.pick([0, 3, 10, 1000]),
    maxPositions: r.int(3, 10),
    minPositionValue: r.pick([1, 5, 20]),
    callFaults: {
      error: r.pick([0, 0.05, 0.15]),
      timeout: r.pick([0, 0.05, 0.1]),
      malformed: r.pick([0, 0.05, 0.1]),
      rateLimit: r.pick([0, 0.1, 0.2]),
    },
    rates: {
      orphan: r.pick([0.05, 0.1, 0.2]),
      liquidation: r.pick([0.05, 0.1, 0.2]),
      drift: r.pick([0.1, 0.2, 0.3]),
      dust: r.pick([0, 0.05, 0.1]),
      partialFill: r.pick([0, 0.05, 0.15]),
      outage: r.pick([0, 0.05, 0.1]),
      lostClose: r.pick([0, 0.05, 0.15]),
      listDrop: r.pick([0, 0.03, 0.08]),
    },
  };
}

export function healPolicy(s: SimSettings): ReconcilePolicyInput {
  return {
    orphans: 'adopt',
    phantoms: 'clear',
    drift: 'correct',
    driftTolerancePct: s.driftTolerancePct,
    graceSeconds: s.graceSeconds,
    phantomConfirmLooks: 2,
    perSymbol: s.closeSymbol === null ? {} : { [s.closeSymbol]: { orphans: 'close' } },
  };
}

export function manualPolicy(s: SimSettings): ReconcilePolicyInput {
  return {
    orphans: 'manual',
    phantoms: 'manual',
    drift: 'alert',
    driftTolerancePct: s.driftTolerancePct,
    graceSeconds: s.graceSeconds,
    phantomConfirmLooks: 2,
  };
}

export interface SimResult {
  settings: SimSettings;
  mode: SimMode;
  exchange: SimulatedExchange;
  tracker: Tracker;
  store: EventStore;
  /** Every run's report, in order (the recovery's included). */
  reports: ReconcileReport[];
  /** The runs after the faults stopped. */
  finalReports: ReconcileReport[];
  restart: { position: number; before: BookStateJson; afterReopen: BookStateJson };
  events: RecordedEvent[];
  /** Closes the tracker (and the SQLite file). */
  close(): Promise<void>;
}

interface Story {
  s: SimSettings;
  mode: SimMode;
  clock: { now: number };
  exchange: SimulatedExchange;
  external: ExternalSystem;
  tracker: Tracker;
  bot: SeededRandom;
  faults: SeededRandom;
  counter: { n: number };
  outage: number;
  /** Whether lists leave positions out now (off once the world calms down). */
  flaky: { on: boolean };
  reports: ReconcileReport[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;
const GUARD: GuardOptions = { retries: 2, backoffMs: 1, timeoutMs: 5_000, sleep: async () => undefined };

async function openBook(s: SimSettings, store: EventStore | string, clock: { now: number }): Promise<Tracker> {
  return openTracker({
    store,
    book: 'sim',
    now: () => new Date(clock.now),
    maxPositions: s.maxPositions,
    minPositionValue: s.minPositionValue,
    snapshotEvery: s.snapshotEvery,
    exitedCleanupSeconds: 300,
    skipCleanupSeconds: 120,
    // A netting or hedge account holds several of the bot's positions on one symbol.
    ...(s.positionMode === 'per-id' ? {} : { rejectDuplicateSymbol: false }),
  });
}

async function openIn(t: Tracker): Promise<InPosition[]> {
  return (await t.list({ status: 'IN' })).filter((p): p is InPosition => p.status === 'IN');
}

async function runReconcile(w: Story, runId: string): Promise<ReconcileReport> {
  const report = await reconcile({
    handler: w.tracker.handler,
    external: w.external,
    policy: w.mode === 'heal' ? healPolicy(w.s) : manualPolicy(w.s),
    now: () => new Date(w.clock.now),
    guard: GUARD,
    dryRun: w.mode === 'dry',
    runId,
  });
  w.reports.push(report);
  return report;
}

/** The bot enters: the book decides first, then the order fills (sometimes only in part). */
async function botEnters(w: Story, fill: boolean): Promise<void> {
  const id = `BOT-${++w.counter.n}`;
  const symbol = w.bot.pick(SYMBOLS);
  const price = w.exchange.price(symbol);
  const quantity = round6(w.bot.int(200, 1500) / price);
  // On a hedge account the bot goes long and short on the same symbols.
  const side = w.s.positionMode === 'hedge' && w.bot.chance(0.5) ? 'short' : 'long';
  await w.tracker.track(id, { symbol, side });
  try {
    await w.tracker.enter(id, { value: round2(quantity * price), quantity, price });
  } catch (error) {
    if (!(error instanceof RiskLimitError)) throw error;
    await w.tracker.skip(id, { reason: `refused: ${error.rule}` });
    return;
  }
  if (!fill) return;
  const partial = w.faults.chance(w.s.rates.partialFill);
  w.exchange.fill(id, { symbol, side, quantity: partial ? round6(quantity * 0.8) : quantity });
}

/**
 * What the bot marks its position at, or null when the exchange holds none of it: per id, the
 * exchange's value of it; on a netting or hedge account, its share (by quantity) of the venue position.
 */
function markOf(w: Story, p: InPosition): number | null {
  if (w.s.positionMode === 'per-id') return w.exchange.valueNow(p.id);
  const venueId = venueIdOf(w.exchange, p);
  const v = w.exchange.venuePositions().find((x) => x.id === venueId);
  if (v === undefined) return null;
  return p.quantity === undefined ? v.value : round2((v.value * p.quantity) / v.quantity);
}

/** The outside id of the venue position a book position is part of. */
export function venueIdOf(exchange: SimulatedExchange, p: InPosition): string {
  return exchange.venueIdOf({ id: p.id, symbol: venueKeyOf(p) ?? p.id, side: p.side });
}

/** The bot closes its position outside (on a netting or hedge account: what it filled, else its quantity off the venue position). */
function closeOutside(w: Story, p: InPosition): void {
  if (w.s.positionMode === 'per-id' || p.quantity === undefined) w.exchange.closeByBot(p.id);
  else w.exchange.closeByBot(p.id, { venueId: venueIdOf(w.exchange, p), quantity: p.quantity });
}

async function botStep(w: Story): Promise<void> {
  const open = await openIn(w.tracker);
  for (const p of open) {
    if (!w.bot.chance(0.3)) continue;
    const value = markOf(w, p);
    if (value !== null && value !== p.value) await w.tracker.hold(p.id, { value });
  }
  if (open.length > 0 && w.bot.chance(0.25)) {
    const p = w.bot.pick(open);
    const value = markOf(w, p);
    if (value !== null) {
      // Now and then the close order is lost on the way, and the bot records the exit anyway.
      if (!w.faults.chance(w.s.rates.lostClose)) closeOutside(w, p);
      await w.tracker.exit(p.id, { value });
    }
  }
  if (w.bot.chance(0.4)) await botEnters(w, true);
  if (w.bot.chance(0.1)) await w.tracker.archive();
}

function faultStep(w: Story): void {
  const f = w.faults;
  const { rates } = w.s;
  if (f.chance(rates.orphan)) w.exchange.injectOrphan();
  const real = () => w.exchange.truth().filter((p) => p.origin !== 'dust');
  if (f.chance(rates.liquidation)) {
    const candidates = real();
    if (candidates.length > 0) w.exchange.liquidate(f.pick(candidates).id);
  }
  if (f.chance(rates.drift)) {
    const candidates = real();
    if (candidates.length > 0) w.exchange.drift(f.pick(candidates).id, round6(0.9 + f.next() * 0.2));
  }
  if (f.chance(rates.dust)) w.exchange.dustReward();
  // Now and then the API is down or answers garbage for a few minutes.
  if (w.outage > 0) {
    w.outage -= 1;
    if (w.outage === 0) w.exchange.setFaults(w.s.callFaults);
  } else if (f.chance(rates.outage)) {
    w.outage = f.int(1, 3);
    w.exchange.setFaults(f.chance(0.5) ? { ...w.s.callFaults, error: 1 } : { ...w.s.callFaults, malformed: 1 });
  }
}

/** An adapter whose lists leave out each open position with probability `rate` while `flaky.on`. */
function leaky(system: ExternalSystem, random: SeededRandom, rate: number, flaky: { on: boolean }): ExternalSystem {
  const leaking: ExternalSystem = {
    ...(system.positionMode === undefined ? {} : { positionMode: system.positionMode }),
    listPositions: async (o) => {
      const list = await system.listPositions(o);
      return flaky.on && rate > 0 && Array.isArray(list) ? list.filter(() => !random.chance(rate)) : list;
    },
    closePosition: (id, o) => system.closePosition(id, o),
  };
  if (system.getPosition) leaking.getPosition = system.getPosition.bind(system);
  return leaking;
}

/** The bot dies in the middle of something. */
async function crash(w: Story): Promise<void> {
  switch (w.s.crash) {
    case 'none':
      return;
    case 'fill-unrecorded': {
      const symbol = w.bot.pick(SYMBOLS);
      w.exchange.fill(`BOT-${++w.counter.n}`, { symbol, side: 'long', quantity: round6(800 / w.exchange.price(symbol)) });
      return;
    }
    case 'enter-unfilled':
      await botEnters(w, false);
      return;
    case 'exit-unrecorded': {
      const open = (await openIn(w.tracker)).filter((p) => markOf(w, p) !== null);
      if (open.length > 0) closeOutside(w, w.bot.pick(open));
      return;
    }
    default: {
      const _exhaustive: never = w.s.crash;
      return _exhaustive;
    }
  }
}

/** Runs one story to its end. `dir` is where SQLite keeps its file (sqlite stories only). */
export async function runStory(s: SimSettings, mode: SimMode, dir?: string): Promise<SimResult> {
  const clock = { now: START };
  const exchange = new SimulatedExchange({
    seed: s.seed,
    clock: () => new Date(clock.now),
    lagSeconds: s.lagSeconds,
    faults: s.callFaults,
    positionMode: s.positionMode,
  });
  if (s.engine === 'sqlite' && dir === undefined) throw new Error(`seed ${s.seed}: a sqlite story needs a directory`);
  const storeSpec =
    s.engine === 'sqlite' ? `sqlite:${join(dir!, `sim-${s.seed}-${mode}.db`)}` : new MemoryEventStore({ now: () => new Date(clock.now) });
  const flaky = { on: true };
  const drops = new SeededRandom((s.seed * 31_337 + 3) >>> 0);
  const w: Story = {
    s,
    mode,
    clock,
    exchange,
    external: leaky(mode === 'heal' && s.directLook ? exchange : withoutDirectLook(exchange), drops, s.rates.listDrop, flaky),
    tracker: await openBook(s, storeSpec, clock),
    bot: new SeededRandom((s.seed * 7919 + 1) >>> 0),
    faults: new SeededRandom((s.seed * 104_729 + 2) >>> 0),
    counter: { n: 0 },
    outage: 0,
    flaky,
    reports: [],
  };
  await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'sim-bot' });

  let restart: SimResult['restart'] | undefined;
  for (let step = 1; step <= s.steps; step++) {
    clock.now += STEP_MS;
    exchange.tick(0.5);
    await botStep(w);
    faultStep(w);
    if (step % s.reconcileEvery === 0) await runReconcile(w, `rec-${step}`);

    if (step === s.restartAt) {
      await crash(w);
      const before = bookStateToJson(await w.tracker.state());
      const position = (await w.tracker.store.head()).position;
      // The process is gone: drop the tracker (and close the file). A new one opens the same log.
      const store = w.tracker.store;
      await w.tracker.close();
      clock.now += 2 * STEP_MS;
      w.tracker = await openBook(s, typeof storeSpec === 'string' ? storeSpec : store, clock);
      const afterReopen = bookStateToJson(await w.tracker.state());
      restart = { position, before, afterReopen };
      if (mode === 'dry') {
        await runReconcile(w, 'recovery');
        await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'sim-bot' }, { source: 'recovery' });
      } else {
        const outcome = await recoverOnStartup({
          handler: w.tracker.handler,
          external: w.external,
          mode: 'sync',
          policy: mode === 'heal' ? healPolicy(s) : manualPolicy(s),
          now: () => new Date(clock.now),
          guard: GUARD,
          processName: 'sim-bot',
        });
        if (outcome.report) w.reports.push(outcome.report);
      }
    }
  }

  // The world calms down: no more faults; wait out the lag and the grace window between looks.
  exchange.setFaults(NO_FAULTS);
  flaky.on = false;
  const finalReports: ReconcileReport[] = [];
  const pause = (s.lagSeconds + s.graceSeconds + 60) * 1000;
  const rounds = mode === 'heal' ? 5 : 2;
  for (let round = 1; round <= rounds; round++) {
    clock.now += pause;
    const report = await runReconcile(w, `final-${round}`);
    finalReports.push(report);
    if (mode === 'heal' && isSettled(report)) break;
  }

  return {
    settings: s,
    mode,
    exchange,
    tracker: w.tracker,
    store: w.tracker.store,
    reports: w.reports,
    finalReports,
    restart: restart!,
    events: await allEvents(w.tracker.store),
    close: () => w.tracker.close(),
  };
}

/** A run that found nothing and had nothing to do. */
export function isSettled(r: ReconcileReport): boolean {
  return r.errors.length === 0 && r.actions.length === 0 && r.orphans.length === 0 && r.phantoms.length === 0 && r.drift.length === 0;
}
