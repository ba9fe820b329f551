import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evolve, initialBookState, bookStateToJson, BookPolicy, type InPosition, type Position } from '../../src/commands/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import type { PositionMode } from '../../src/reconcile/index.js';
import { isSettled, runStory, simSettings, venueIdOf, type SimResult, type SimSettings } from '../helpers/reconcileSim.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The reconciliation simulation (see simulation.int.test.ts) on an exchange that keys positions
 * by symbol (netting) and by symbol and side (hedge, with longs and shorts on the same symbols):
 * several book positions are one venue position, healing goes by quantity, and at the end the
 * book summed by venue key must equal the outside. 200 seeds per mode by default;
 * PTRACK_SIM_SEEDS / PTRACK_SIM_SEED_START choose others, PTRACK_SIM_MODES=netting (or hedge) one mode.
 * A failure names its seed, its mode and the command that reruns it.
 */

const SEEDS = Number(process.env.PTRACK_SIM_SEEDS ?? 200);
const FIRST = Number(process.env.PTRACK_SIM_SEED_START ?? 1);
const MODES = (process.env.PTRACK_SIM_MODES ?? 'netting,hedge').split(',') as ('netting' | 'hedge')[];
/** Every Nth seed also runs the manual story and its dry twin. */
const MANUAL_EVERY = 4;
/** Every Nth seed runs twice to check the story is deterministic. */
const REPEAT_EVERY = 25;
const MAX_FAILURES = 5;

const RECORD_EVENTS = new Set(['OrphanDetected', 'PhantomSuspected', 'PhantomDismissed', 'ReconciliationCompleted']);

const sourceOf = (e: RecordedEvent): string | undefined => (e.data as { source?: string }).source;
const runOf = (e: RecordedEvent): string | undefined => e.metadata.correlationId;
const isIn = (p: Position): p is InPosition => p.status === 'IN';
const tolerance = (s: SimSettings, localValue: number): number => (s.driftTolerancePct / 100) * localValue + 1e-9;
const sameQuantity = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function replay(events: RecordedEvent[]) {
  const policy = BookPolicy.parse({});
  return events.reduce(evolve, initialBookState({ idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone }));
}

/** The book's IN positions summed by the outside id of their venue position. */
function bookByVenueKey(r: SimResult, positions: Iterable<Position>): Map<string, { quantity: number; value: number; ids: string[] }> {
  const sums = new Map<string, { quantity: number; value: number; ids: string[] }>();
  for (const p of positions) {
    if (!isIn(p)) continue;
    const key = venueIdOf(r.exchange, p);
    const sum = sums.get(key) ?? { quantity: 0, value: 0, ids: [] };
    sum.quantity += p.quantity ?? Number.NaN;
    sum.value += p.value;
    sum.ids.push(p.id);
    sums.set(key, sum);
  }
  return sums;
}

/** The checks every healed story must pass, by venue key. */
async function checkHealed(r: SimResult): Promise<void> {
  const s = r.settings;
  const tag = `seed ${s.seed} ${s.positionMode} (${JSON.stringify({ ...s, callFaults: undefined, rates: undefined })})`;

  const commandErrors = r.reports.flatMap((rep) =>
    rep.errors.filter((e) => e.stage === 'command').map((e) => `${rep.runId}: ${e.message}`),
  );
  expect(commandErrors, `${tag}: command errors`).toEqual([]);
  const skipped = r.reports.flatMap((rep) => rep.skipped.map((x) => `${rep.runId}: ${x.reason}`));
  expect(skipped, `${tag}: skipped steps`).toEqual([]);

  const last = r.finalReports.at(-1)!;
  expect(
    isSettled(last),
    `${tag}: not settled after ${r.finalReports.length} quiet rounds: ${JSON.stringify({ actions: last.actions, errors: last.errors })}`,
  ).toBe(true);

  // The book summed by venue key equals the outside: the same keys (above dust), the same quantity, the value within tolerance.
  const state = await r.tracker.state();
  const book = bookByVenueKey(r, state.positions.values());
  const outside = r.exchange.venuePositions();
  const outsideKeys = new Set(outside.map((v) => v.id));
  expect(
    outside.filter((v) => v.value >= s.minPositionValue && !book.has(v.id)).map((v) => v.id),
    `${tag}: open outside, the book holds none of it`,
  ).toEqual([]);
  expect(
    [...book.keys()].filter((k) => !outsideKeys.has(k)),
    `${tag}: IN here, not open outside`,
  ).toEqual([]);
  const gaps = outside.flatMap((v) => {
    const b = book.get(v.id);
    if (b === undefined) return [];
    // A surplus outside below the dust threshold (a reward on a held symbol) is dust, not an orphan.
    const surplus = v.quantity - b.quantity;
    const dust = surplus > 0 && (v.value * surplus) / v.quantity < s.minPositionValue;
    const quantityOk = sameQuantity(v.quantity, b.quantity) || dust;
    const valueOutside = dust ? v.value - (v.value * surplus) / v.quantity : v.value;
    const valueOk = Math.abs(valueOutside - b.value) <= tolerance(s, b.value);
    return quantityOk && valueOk ? [] : [{ key: v.id, outside: { quantity: v.quantity, value: v.value }, book: b }];
  });
  expect(gaps, `${tag}: venue positions and the book's sums differ: ${JSON.stringify(gaps)}`).toEqual([]);

  // Closes outside: none of a key that was not open, none without a close policy, each one in the log.
  const { closes, badCloses } = r.exchange.closeLog();
  expect(badCloses, `${tag}: closes of positions that were not open`).toEqual([]);
  if (s.closeSymbol === null) expect(closes, `${tag}: closes without a close policy`).toEqual({});
  const recordedCloses = r.events.filter(
    (e) => e.type === 'OrphanClosed' && sourceOf(e) === 'reconcile' && e.data.reason === 'closed by reconciliation (policy close)',
  ).length;
  expect(recordedCloses, `${tag}: closes outside and their records`).toBe(Object.values(closes).reduce((a, b) => a + b, 0));

  checkAuditTrail(r, tag);
  checkRestart(r, tag);
  expect(bookStateToJson(replay(r.events)), `${tag}: replay differs from the live book`).toEqual(bookStateToJson(state));
}

/** Every healing step a run reports is an event of that run in the log, naming the venue key it healed. */
function checkAuditTrail(r: SimResult, tag: string): void {
  const keyOf = new Map<string, string>();
  for (const e of r.events) {
    if (e.type === 'PositionTracked' || e.type === 'OrphanAdopted') {
      keyOf.set(e.data.positionId, e.data.venueKey ?? e.data.symbol ?? e.data.positionId);
    }
  }
  const ofRun = (runId: string, type: string) => r.events.filter((e) => runOf(e) === runId && e.type === type);
  const missing: string[] = [];
  for (const rep of r.reports) {
    for (const o of rep.orphans.filter((x) => x.outcome === 'adopted')) {
      const found = ofRun(rep.runId, 'OrphanAdopted').some(
        (e) => e.type === 'OrphanAdopted' && e.data.positionId === o.positionId && e.data.symbol === o.venueKey,
      );
      if (o.venueKey === undefined || !found) missing.push(`${rep.runId}: adopted ${o.positionId} (${o.venueKey})`);
    }
    for (const p of rep.phantoms.filter((x) => x.outcome === 'cleared')) {
      const found = ofRun(rep.runId, 'PhantomCleared').some(
        (e) =>
          e.type === 'PhantomCleared' &&
          e.data.positionId === p.positionId &&
          keyOf.get(p.positionId) === p.venueKey &&
          e.data.reason.includes(p.venueKey ?? '\u0000') &&
          (p.quantity === undefined ? e.data.quantity === undefined : sameQuantity(e.data.quantity ?? 0, p.quantity)),
      );
      if (!found) missing.push(`${rep.runId}: cleared ${p.positionId} (${p.venueKey})`);
    }
    for (const d of rep.drift.filter((x) => x.outcome === 'corrected')) {
      const found = ofRun(rep.runId, 'DriftCorrected').some(
        (e) => e.type === 'DriftCorrected' && keyOf.get(e.data.positionId) === d.venueKey,
      );
      if (d.venueKey === undefined || !found) missing.push(`${rep.runId}: drift corrected on ${d.venueKey}`);
    }
  }
  expect(missing, `${tag}: healing reported but not in the log`).toEqual([]);
}

function checkRestart(r: SimResult, tag: string): void {
  const { before, afterReopen, position } = r.restart;
  expect(afterReopen, `${tag}: the reopened book differs from the book before the restart`).toEqual(before);
  const adopted = before.positions.filter((p): p is InPosition => p.status === 'IN' && p.origin === 'adopted');
  const later = r.events.filter((e) => e.position > position);
  const endState = replay(r.events);
  for (const p of adopted) {
    const now = endState.positions.get(p.id);
    if (now?.status === 'IN') continue;
    const ended = later.find(
      (e) =>
        (e.type === 'PositionExited' && e.data.positionId === p.id && e.data.full) ||
        (e.type === 'PhantomCleared' && e.data.positionId === p.id),
    );
    expect(ended, `${tag}: adopted ${p.id} is ${now?.status ?? 'gone'} with no exit or clear after the restart`).toBeDefined();
  }
}

/** With manual policies the reconciler changes nothing: the story ends where its dry twin ends. */
async function checkManual(manual: SimResult, dry: SimResult): Promise<void> {
  const s = manual.settings;
  const tag = `seed ${s.seed} ${s.positionMode} (manual)`;
  expect(manual.exchange.closeLog(), `${tag}: the reconciler closed something`).toEqual({ closes: {}, badCloses: [] });
  expect(manual.exchange.snapshot(), `${tag}: the exchange differs from the twin run without reconciliation`).toEqual(
    dry.exchange.snapshot(),
  );
  const calm = (positions: Position[]) => positions.map((p) => (isIn(p) ? { ...p, missedLooks: 0 } : p));
  const manualState = await manual.tracker.state();
  const dryState = await dry.tracker.state();
  expect(calm([...manualState.positions.values()]), `${tag}: the book differs from the twin run without reconciliation`).toEqual(
    calm([...dryState.positions.values()]),
  );
  const vanishedRecord = (e: RecordedEvent) => e.type === 'OrphanClosed' && e.data.reason === 'no longer open outside';
  const healing = manual.events
    .filter((e) => sourceOf(e) === 'reconcile' && !RECORD_EVENTS.has(e.type) && !vanishedRecord(e))
    .map((e) => `${e.type} ${JSON.stringify(e.data)}`);
  expect(healing, `${tag}: reconciliation changed the book: ${healing.join('; ')}`).toEqual([]);
  expect(
    dry.events.filter((e) => sourceOf(e) === 'reconcile').map((e) => e.type),
    `${tag}: the dry twin appended`,
  ).toEqual([]);

  // The last quiet look hands every venue key that differs to a person, and no other.
  const last = manual.finalReports.at(-1)!;
  expect(last.errors, `${tag}: errors in the last quiet run`).toEqual([]);
  const book = bookByVenueKey(manual, manualState.positions.values());
  const outside = new Map(manual.exchange.venuePositions().map((v) => [v.id, v]));
  const differing = new Set<string>();
  for (const [key, v] of outside) {
    const b = book.get(key);
    if (b === undefined) {
      if (v.value >= s.minPositionValue) differing.add(key);
      continue;
    }
    // Dust on top of the book's quantity is left alone; the rest of the value is the book's.
    const surplus = v.quantity - b.quantity;
    const surplusValue = (v.value * surplus) / v.quantity;
    const dust = !sameQuantity(v.quantity, b.quantity) && surplus > 0 && surplusValue < s.minPositionValue;
    if (sameQuantity(v.quantity, b.quantity) || dust) {
      if (Math.abs(v.value - (dust ? surplusValue : 0) - b.value) > tolerance(s, b.value)) differing.add(key);
    } else differing.add(key);
  }
  for (const key of book.keys()) if (!outside.has(key)) differing.add(key);
  expect(alertedKeys(manual, last).sort(), `${tag}: venue keys alerted (${JSON.stringify(last.alerts.map((a) => a.message))})`).toEqual(
    [...differing].sort(),
  );
}

/** The venue keys a run's alerts are about: an orphan's and a drift's outside id, a phantom's position's venue position. */
function alertedKeys(r: SimResult, rep: SimResult['reports'][number]): string[] {
  const bookKeys = new Map<string, string>();
  for (const e of r.events) {
    if (e.type === 'PositionTracked' || e.type === 'OrphanAdopted') {
      const symbol = e.data.venueKey ?? e.data.symbol ?? e.data.positionId;
      bookKeys.set(e.data.positionId, r.exchange.venueIdOf({ id: e.data.positionId, symbol, side: e.data.side }));
    }
  }
  const keys = new Set<string>();
  for (const a of rep.alerts) {
    const id = a.positionId ?? '(none)';
    if (a.kind === 'orphan') {
      const o = rep.orphans.find((x) => x.positionId === id);
      keys.add(o === undefined ? `orphan ${id}?` : r.exchange.venueIdOf({ id, symbol: o.venueKey ?? id, side: o.side ?? 'long' }));
    } else if (a.kind === 'phantom') keys.add(bookKeys.get(id) ?? `phantom ${id}?`);
    else if (a.kind === 'drift') keys.add(id);
    else keys.add(`${a.kind} ${id}`);
  }
  return [...keys];
}

const tally = new Map<string, number>();
function count(key: string, n = 1): void {
  tally.set(key, (tally.get(key) ?? 0) + n);
}
function tallyStory(r: SimResult): void {
  const mode = r.settings.positionMode;
  for (const e of r.events) if (sourceOf(e) !== 'local') count(`${mode}:${sourceOf(e)}:${e.type}`);
  for (const rep of r.reports) {
    for (const e of rep.errors) count(`${mode}:error:${e.stage}:${e.failure ?? '-'}`);
    count(`${mode}:dust`, rep.dust.length);
    count(`${mode}:partial phantom`, rep.phantoms.filter((p) => p.outcome === 'cleared' && p.quantity !== undefined).length);
    count(`${mode}:drift over several positions`, rep.drift.filter((d) => d.outcome === 'corrected' && (d.localQuantity ?? 0) > 0).length);
  }
  const state = replay(r.events);
  const shared = [...bookByVenueKey(r, state.positions.values()).values()].filter((b) => b.ids.length > 1).length;
  count(`${mode}:venue keys held by several positions at the end`, shared);
  for (const e of r.events) {
    if (e.type === 'PositionTracked' && e.data.side === 'short') count(`${mode}:short tracked`);
    // A surplus on a venue key the book already holds, adopted as a position of its own.
    if (e.type === 'OrphanAdopted' && e.data.reason === 'the venue holds more than the book') count(`${mode}:partial orphan`);
  }
  count(
    `${mode}:closed outside`,
    Object.values(r.exchange.closeLog().closes).reduce((a, b) => a + b, 0),
  );
  count(`${mode}:engine:${r.settings.engine}`);
}

/** JSON with every object's keys sorted: the metadata of one event may list the same fields in another order (the handler's batch and single paths). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
const digest = (events: RecordedEvent[]) => canonical(events.map((e) => [e.type, e.data, e.metadata]));

async function runSeed(seed: number, mode: PositionMode, dir: string): Promise<void> {
  const settings = simSettings(seed, mode);
  const healed = await runStory(settings, 'heal', dir);
  try {
    tallyStory(healed);
    await checkHealed(healed);
    if (seed % REPEAT_EVERY === 0) {
      const again = await runStory(settings, 'heal', dir.concat('/again'));
      try {
        expect(digest(again.events), `seed ${seed} ${mode}: the same seed told a different story`).toBe(digest(healed.events));
      } finally {
        await again.close();
      }
    }
  } finally {
    await healed.close();
  }
  if (seed % MANUAL_EVERY === 0) {
    const manualSettings = { ...settings, engine: 'memory' as const };
    const manual = await runStory(manualSettings, 'manual');
    const dry = await runStory(manualSettings, 'dry');
    try {
      await checkManual(manual, dry);
    } finally {
      await manual.close();
      await dry.close();
    }
  }
}

describe('reconciliation simulation on netting and hedge accounts', () => {
  for (const mode of MODES) {
    it(
      `${mode}: seeds ${FIRST}..${FIRST + SEEDS - 1}: the book summed by venue key equals the outside, every healing step in the log`,
      { timeout: Math.max(120_000, SEEDS * 1_000) },
      async () => {
        const rerun = (seed: number, n = 1) =>
          `PTRACK_SIM_MODES=${mode} PTRACK_SIM_SEED_START=${seed} PTRACK_SIM_SEEDS=${n} npx vitest run test/reconcile/simulation.netting.int.test.ts`;
        console.log(`reconciliation simulation (${mode}): seeds ${FIRST}..${FIRST + SEEDS - 1} (${rerun(FIRST, SEEDS)})`);
        const { dir, cleanup } = tempDir(`ptrack-sim-${mode}-`);
        const failures: string[] = [];
        const started = performance.now();
        try {
          for (let seed = FIRST; seed < FIRST + SEEDS && failures.length < MAX_FAILURES; seed++) {
            const seedDir = `${dir}/${seed}`;
            mkdirSync(`${seedDir}/again`, { recursive: true });
            try {
              await runSeed(seed, mode, seedDir);
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              failures.push(
                `${message.startsWith(`seed ${seed}`) ? message : `seed ${seed} ${mode}: ${message}`}\n  rerun: ${rerun(seed)}`,
              );
              console.log(failures.at(-1));
            }
          }
        } finally {
          cleanup();
        }
        console.log(
          `reconciliation simulation (${mode}): ${SEEDS} seeds in ${Math.round(performance.now() - started)} ms, ${failures.length} failed`,
        );
        const mine = [...tally].filter(([k]) => k.startsWith(`${mode}:`)).sort();
        console.log(`reconciliation simulation (${mode}): ${JSON.stringify(Object.fromEntries(mine))}`);
        expect(failures, `failing seeds:\n${failures.join('\n')}`).toEqual([]);
        if (SEEDS >= 100) {
          const needed = [
            'reconcile:OrphanAdopted',
            'reconcile:OrphanClosed',
            'reconcile:PhantomSuspected',
            'reconcile:PhantomCleared',
            'reconcile:PhantomDismissed',
            'reconcile:DriftCorrected',
            'partial orphan',
            'partial phantom',
            'venue keys held by several positions at the end',
            'closed outside',
            'dust',
            'engine:sqlite',
            'error:listPositions:malformed',
            ...(mode === 'hedge' ? ['short tracked'] : []),
          ].map((k) => `${mode}:${k}`);
          expect(
            needed.filter((k) => !tally.get(k)),
            `${mode} seeds ${FIRST}..${FIRST + SEEDS - 1}: never happened`,
          ).toEqual([]);
        }
      },
    );
  }
});
