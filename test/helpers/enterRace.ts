import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { encodeBookSnapshot, evolve, initialBookState, type BookPolicyInput, type BookState } from '../../src/commands/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { runChild } from './children.js';

/*
 * Several processes enter positions on one book at once. Every rule that spans positions is
 * decided against the whole book and appended with the revision the decision saw, so the
 * limits must hold exactly however the processes interleave, and no acknowledged command
 * may go missing from the log. The races are the same on every engine
 * (test/commands/race.int.test.ts on SQLite, race.postgres.int.test.ts on PostgreSQL); each
 * racer is a process of its own (test/helpers/children/enterRacer.mjs) opening the store string.
 */

export const PROCS = 4;
const EACH = 6;
const EQUITY = 10_000;
const TECH = ['AAPL', 'MSFT', 'NVDA', 'AMD', 'GOOG', 'META'];
const OTHER = ['XOM', 'CVX', 'KO', 'PG'];

export interface PlannedEntry {
  id: string;
  symbol: string;
  value: number;
  quantity: number;
  price: number;
  stop: number;
}

export interface Outcome {
  command: 'Track' | 'Enter';
  positionId: string;
  commandId: string;
  ok: boolean;
  duplicate?: boolean;
  revisions?: number[];
  error?: string;
  rule?: string;
  message?: string;
  startedAt: number;
  endedAt: number;
}

export interface RacerReport {
  name: string;
  readyAt: number;
  goAt: number;
  outcomes: Outcome[];
  retries: number;
}

/** Risk of every planned entry: |100 - 95| x 10 = 50, i.e. 0.5% of the starting equity. */
const entry = (id: string, symbol: string): PlannedEntry => ({ id, symbol, value: 1000, quantity: 10, price: 100, stop: 95 });
const RISK = 50;

export interface Race {
  reports: RacerReport[];
  outcomes: Outcome[];
  events: RecordedEvent[];
  /** The book as a tracker opened after the race loads it (its snapshot, if any, and the rest of the stream). */
  reopened: BookState;
}

/** Runs one race: PROCS racers on the store string, started together at a barrier in `dir`; then the book's log as `readLog` reads it. */
export async function runRace(options: {
  store: string;
  dir: string;
  book: string;
  policy: BookPolicyInput;
  planOf: (name: string) => PlannedEntry[];
  readLog: () => Promise<RecordedEvent[]>;
}): Promise<Race> {
  const { store, dir, book, policy, planOf } = options;
  // The racers start together once all have opened their tracker (a file each in here).
  const barrier = join(dir, 'barrier');
  mkdirSync(barrier);
  const runs = await Promise.all(
    Array.from({ length: PROCS }, (_, i) =>
      runChild('enterRacer.mjs', [store, book, `p${i}`, barrier, String(PROCS), JSON.stringify(policy), JSON.stringify(planOf(`p${i}`))], {
        timeoutMs: 40_000,
      }),
    ),
  );
  const reports = runs.map((r) => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as RacerReport;
  });
  const events = await options.readLog();
  const tracker = await openTracker({ store, book, ...policy });
  let reopened: BookState;
  try {
    reopened = await tracker.state();
  } finally {
    await tracker.close();
  }
  return { reports, outcomes: reports.flatMap((r) => r.outcomes), events, reopened };
}

const groupPct = (state: BookState, group: string): number => ((state.groupRisk.get(group) ?? 0) / (EQUITY + state.realizedPnl)) * 100;

/**
 * Replays the log event by event and checks the limits after every one; returns the final state.
 * Also checks the log is contiguous (no gap, no reordering).
 */
function replayWithinLimits(events: RecordedEvent[], limits: { maxPositions: number; maxGroupRiskPct: number }): BookState {
  expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
  let state = initialBookState();
  for (const e of events) {
    state = evolve(state, e);
    expect(state.open, `open positions after revision ${e.revision}`).toBeLessThanOrEqual(limits.maxPositions);
    expect(groupPct(state, 'tech'), `tech risk after revision ${e.revision}`).toBeLessThanOrEqual(limits.maxGroupRiskPct + 1e-9);
  }
  return state;
}

/** Every command is accounted for: acknowledged ones are in the log exactly as reported, refused ones left nothing. */
function expectNothingLost(race: Race): void {
  const { outcomes, events } = race;
  expect(outcomes).toHaveLength(PROCS * EACH * 2);
  const byCommand = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    const id = e.metadata.commandId;
    expect(id, `event at revision ${e.revision} has a commandId`).toBeDefined();
    byCommand.set(id!, [...(byCommand.get(id!) ?? []), e]);
  }
  for (const o of outcomes) {
    const logged = byCommand.get(o.commandId) ?? [];
    if (o.ok) {
      expect(o.duplicate).toBe(false);
      expect(
        logged.map((e) => e.revision),
        o.commandId,
      ).toEqual(o.revisions);
      expect(
        logged.map((e) => [e.type, (e.data as { positionId?: string }).positionId]),
        o.commandId,
      ).toEqual([[o.command === 'Track' ? 'PositionTracked' : 'PositionEntered', o.positionId]]);
    } else {
      expect(logged, `${o.commandId} was refused but left events`).toEqual([]);
    }
  }
  const okTracks = outcomes.filter((o) => o.command === 'Track' && o.ok);
  const okEnters = outcomes.filter((o) => o.command === 'Enter' && o.ok);
  expect(okTracks).toHaveLength(PROCS * EACH);
  expect(events.filter((e) => e.type === 'PositionTracked')).toHaveLength(okTracks.length);
  expect(events.filter((e) => e.type === 'PositionEntered')).toHaveLength(okEnters.length);
  expect(events).toHaveLength(okTracks.length + okEnters.length);
}

/** Refusals are RiskLimitErrors with an expected rule, never a ConcurrencyError or anything else. */
function refusalsOf(race: Race): Outcome[] {
  const refused = race.outcomes.filter((o) => !o.ok);
  for (const o of refused) {
    expect(o.command, o.message).toBe('Enter');
    expect(o.error, o.message).toBe('RiskLimitError');
  }
  return refused;
}

/** The processes really ran at the same time: their command windows overlap. */
function expectOverlap(race: Race): void {
  const spans = race.reports.map((r) => ({
    from: Math.min(...r.outcomes.map((o) => o.startedAt)),
    to: Math.max(...r.outcomes.map((o) => o.endedAt)),
  }));
  const latestStart = Math.max(...spans.map((s) => s.from));
  const earliestEnd = Math.min(...spans.map((s) => s.to));
  expect(latestStart, 'every racer started before the first one finished').toBeLessThan(earliestEnd);
}

function report(label: string, r: Race): void {
  const rules = r.outcomes.filter((o) => !o.ok).map((o) => o.rule);
  const count = (rule: string): number => rules.filter((x) => x === rule).length;
  console.log(
    `${label}: ${r.events.length} events, ${r.outcomes.filter((o) => o.command === 'Enter' && o.ok).length} entered, ` +
      `refused maxPositions ${count('maxPositions')} / maxGroupRiskPct ${count('maxGroupRiskPct')}, ` +
      `retries after a lost append ${r.reports.map((x) => x.retries).join('+')}, ` +
      `waited ${r.reports.map((x) => x.goAt - x.readyAt).join('/')} ms at the barrier, ` +
      `start skew ${Math.max(...r.reports.map((x) => x.goAt)) - Math.min(...r.reports.map((x) => x.goAt))} ms, ` +
      `ran ${r.reports.map((x) => Math.max(...x.outcomes.map((o) => o.endedAt)) - Math.min(...x.outcomes.map((o) => o.startedAt))).join('/')} ms`,
  );
}

/**
 * The three races, as `it`s for the caller's `describe`: maxPositions binds, the group cap binds,
 * both bind. `race` runs one on the caller's engine.
 */
export function enterRaces(
  engine: string,
  race: (book: string, policy: BookPolicyInput, planOf: (name: string) => PlannedEntry[]) => Promise<Race>,
): void {
  it('maxPositions binds: exactly maxPositions end IN and every other Enter is refused by it', async () => {
    const policy = {
      maxPositions: 5,
      correlationGroups: { tech: TECH },
      maxGroupRiskPct: 50, // loose: only maxPositions can bind
      rejectDuplicateSymbol: false,
      equity: EQUITY,
    };
    const r = await race('max', policy, (name) => TECH.map((s) => entry(`${name}-${s}`, s)));
    report(`${engine} maxPositions`, r);
    expectOverlap(r);
    const refused = refusalsOf(r);
    expectNothingLost(r);
    expect(new Set(refused.map((o) => o.rule))).toEqual(new Set(['maxPositions']));
    expect(refused).toHaveLength(PROCS * EACH - 5);
    const final = replayWithinLimits(r.events, policy);
    expect(encodeBookSnapshot(r.reopened).state, 'the book a tracker loads after the race is the replay of its log').toEqual(
      encodeBookSnapshot(final).state,
    );
    expect(final.open).toBe(5);
    expect([...final.positions.values()].filter((p) => p.status === 'IN')).toHaveLength(5);
    expect(final.groupRisk.get('tech')).toBeCloseTo(5 * RISK, 9);
  }, 60_000);

  it('the group risk cap binds: the group fills to exactly its limit and every other Enter is refused by it', async () => {
    const policy = {
      maxPositions: 5,
      correlationGroups: { tech: TECH },
      maxGroupRiskPct: 2, // 4 entries of 0.5% each: the group is full before maxPositions
      rejectDuplicateSymbol: false,
      equity: EQUITY,
    };
    const r = await race('group', policy, (name) => TECH.map((s) => entry(`${name}-${s}`, s)));
    report(`${engine} maxGroupRiskPct`, r);
    expectOverlap(r);
    const refused = refusalsOf(r);
    expectNothingLost(r);
    expect(new Set(refused.map((o) => o.rule))).toEqual(new Set(['maxGroupRiskPct']));
    expect(refused).toHaveLength(PROCS * EACH - 4);
    const final = replayWithinLimits(r.events, policy);
    expect(encodeBookSnapshot(r.reopened).state, 'the book a tracker loads after the race is the replay of its log').toEqual(
      encodeBookSnapshot(final).state,
    );
    expect(final.open).toBe(4);
    expect(groupPct(final, 'tech')).toBeCloseTo(2, 9);
  }, 60_000);

  it('both bind: the group cap stops tech entries, maxPositions stops the rest, and the book ends exactly full', async () => {
    const policy = {
      maxPositions: 5,
      correlationGroups: { tech: TECH },
      maxGroupRiskPct: 1.5, // 3 tech entries
      rejectDuplicateSymbol: false,
      equity: EQUITY,
    };
    // Each racer tries 4 tech entries before its 2 others. Whichever racer finishes its tech
    // entries first does so while only tech positions are IN (at most 3 < 5), so at least one
    // of its 4 is refused by the group cap; and 8 ungrouped entries against 5 slots guarantee
    // maxPositions refusals and a full book.
    const r = await race('both', policy, (name) => [
      ...TECH.slice(0, 4).map((s) => entry(`${name}-${s}`, s)),
      ...OTHER.slice(0, 2).map((s) => entry(`${name}-${s}`, s)),
    ]);
    report(`${engine} both`, r);
    expectOverlap(r);
    const refused = refusalsOf(r);
    expectNothingLost(r);
    const isTech = (o: Outcome): boolean => TECH.some((s) => o.positionId.endsWith(`-${s}`));
    expect(new Set(refused.map((o) => o.rule))).toEqual(new Set(['maxPositions', 'maxGroupRiskPct']));
    // Ungrouped entries can only be refused for the count.
    expect(refused.filter((o) => !isTech(o)).every((o) => o.rule === 'maxPositions')).toBe(true);
    expect(refused).toHaveLength(PROCS * EACH - 5);
    const final = replayWithinLimits(r.events, policy);
    expect(encodeBookSnapshot(r.reopened).state, 'the book a tracker loads after the race is the replay of its log').toEqual(
      encodeBookSnapshot(final).state,
    );
    expect(final.open).toBe(5);
    const techIn = [...final.positions.values()].filter((p) => p.status === 'IN' && p.group === 'tech');
    expect(techIn.length).toBeLessThanOrEqual(3);
    expect(groupPct(final, 'tech')).toBeCloseTo((techIn.length * RISK * 100) / EQUITY, 9);
  }, 60_000);
}
