import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BookPolicy,
  bookStateToJson,
  CommandHandler,
  evolve,
  initialBookState,
  type BookState,
  type CommandResult,
} from '../../src/commands/index.js';
import { ConcurrencyError, InvalidTransitionError, RiskLimitError, TrackerError, ValidationError } from '../../src/errors/index.js';
import { bookStream, type RecordedEvent } from '../../src/events/index.js';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';
import { readWholeStream } from '../../src/store/iterate.js';
import { intFromEnv } from '../helpers/env.js';

/*
 * Model-based test of the CommandHandler (not only decide/evolve): each step submits a batch
 * of commands at once, so they are group-committed in one append, with command ids repeated
 * inside the batch and across batches (the same command again: a duplicate answered with the
 * first run's events; another command under the id: a ValidationError), sometimes with another
 * writer getting in between the batch's decision and its append (a ConcurrencyError, decided
 * again). After every step: each caller's answer is the model's, the handler's book, the log
 * read back and a fresh handler loading it (snapshot + tail) all agree with the model.
 *
 * Reproduce a failure: PTRACK_FC_SEED=<seed> [PTRACK_FC_RUNS=<n>] npx vitest run test/commands/handler.model.test.ts
 */

const seed = intFromEnv('PTRACK_FC_SEED', 20_261_202);
const numRuns = intFromEnv('PTRACK_FC_RUNS', 60);

const WINDOW = 4;
const policy = BookPolicy.parse({
  maxPositions: 2,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  maxConsecutiveLossesPerSymbol: null,
  // Small, so repeats also meet command ids the window has forgotten (they run again).
  idempotencyWindow: WINDOW,
});
const limits = { idempotencyWindow: policy.idempotencyWindow, timeZone: policy.timeZone };
const stream = bookStream('hm');
const START = Date.parse('2026-01-05T12:00:00.000Z');

const IDS = ['A', 'B', 'C', 'D'] as const;
const COMMAND_IDS = ['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7'] as const;

// ---------------------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------------------

type Status = 'WATCHING' | 'IN' | 'EXITED' | 'SKIPPED';
type Action =
  | { type: 'Track'; positionId: string }
  | { type: 'Enter'; positionId: string; value: number }
  | { type: 'Exit'; positionId: string; value: number }
  | { type: 'Skip'; positionId: string }
  | { type: 'Archive'; positionId: string };

const EVENT_OF: Record<Action['type'], RecordedEvent['type']> = {
  Track: 'PositionTracked',
  Enter: 'PositionEntered',
  Exit: 'PositionExited',
  Skip: 'PositionSkipped',
  Archive: 'PositionArchived',
};

interface Remembered {
  /** The command as sent (JSON): the same text is the same command. */
  key: string;
  /** Where its first run's events are in the log. */
  from: number;
  to: number;
}

interface Model {
  positions: Map<string, Status>;
  /** Revision of the last event; -1 for an empty log. */
  revision: number;
  /** The idempotency window: command ids of accepted commands, oldest first, at most WINDOW. */
  window: Map<string, Remembered>;
}

type Verdict =
  | { kind: 'events'; types: RecordedEvent['type'][]; from: number }
  | { kind: 'duplicate'; from: number; to: number }
  | { kind: 'error'; error: typeof ValidationError | typeof InvalidTransitionError | typeof RiskLimitError };

const cloneModel = (m: Model): Model => ({ positions: new Map(m.positions), revision: m.revision, window: new Map(m.window) });
const openCount = (m: Model): number => [...m.positions.values()].filter((s) => s === 'IN').length;

/** The rules a reader would write down: which status each command needs, and the cap. */
function decideOne(m: Model, a: Action): Verdict {
  const status = m.positions.get(a.positionId);
  const needs = (...allowed: (Status | undefined)[]): boolean => allowed.includes(status);
  let next: Status | null;
  switch (a.type) {
    case 'Track':
      if (!needs(undefined)) return { kind: 'error', error: InvalidTransitionError };
      next = 'WATCHING';
      break;
    case 'Enter':
      if (!needs('WATCHING')) return { kind: 'error', error: InvalidTransitionError };
      if (openCount(m) >= policy.maxPositions) return { kind: 'error', error: RiskLimitError };
      next = 'IN';
      break;
    case 'Exit':
      if (!needs('IN')) return { kind: 'error', error: InvalidTransitionError };
      next = 'EXITED';
      break;
    case 'Skip':
      if (!needs('WATCHING')) return { kind: 'error', error: InvalidTransitionError };
      next = 'SKIPPED';
      break;
    case 'Archive':
      if (!needs('WATCHING', 'EXITED', 'SKIPPED')) return { kind: 'error', error: InvalidTransitionError };
      next = null;
      break;
    default: {
      const _exhaustive: never = a;
      return _exhaustive;
    }
  }
  if (next === null) m.positions.delete(a.positionId);
  else m.positions.set(a.positionId, next);
  m.revision += 1;
  return { kind: 'events', types: [EVENT_OF[a.type]], from: m.revision };
}

/** One submission, judged in batch order: the idempotency window first, then the rules. */
function modelSubmit(m: Model, s: Submission): Verdict {
  const key = JSON.stringify(s.action);
  if (s.commandId !== undefined) {
    const seen = m.window.get(s.commandId);
    if (seen) return seen.key === key ? { kind: 'duplicate', from: seen.from, to: seen.to } : { kind: 'error', error: ValidationError };
  }
  const verdict = decideOne(m, s.action);
  if (verdict.kind === 'events' && s.commandId !== undefined) {
    m.window.set(s.commandId, { key, from: verdict.from, to: verdict.from + verdict.types.length - 1 });
    if (m.window.size > WINDOW) m.window.delete(m.window.keys().next().value!);
  }
  return verdict;
}

// ---------------------------------------------------------------------------------------
// The real system: a CommandHandler on a memory store, with a hook before its appends.
// ---------------------------------------------------------------------------------------

interface Real {
  inner: MemoryEventStore;
  handler: CommandHandler;
  /** Appends the handler tried (conflicts included) in the current step. */
  appendCalls: number;
  /** Runs once before the handler's next append (another writer getting in first). */
  beforeNextAppend: (() => Promise<void>) | null;
  /** Commands sent so far, for repeats to pick from. */
  sent: { commandId: string; action: Action }[];
  /** The first run's events of each remembered command id (the model says which are remembered). */
  firstRuns: Map<string, RecordedEvent[]>;
  clock: number;
  seq: number;
}

function newReal(): Real {
  const inner = new MemoryEventStore();
  const store: EventStore = Object.create(inner) as EventStore;
  const real: Real = {
    inner,
    handler: undefined as unknown as CommandHandler,
    appendCalls: 0,
    beforeNextAppend: null,
    sent: [],
    firstRuns: new Map(),
    clock: START,
    seq: 0,
  };
  store.append = async (s, events, options) => {
    real.appendCalls += 1;
    const hook = real.beforeNextAppend;
    real.beforeNextAppend = null;
    if (hook) await hook();
    return inner.append(s, events, options);
  };
  real.handler = handlerOn(store, real);
  return real;
}

function handlerOn(store: EventStore, real: Real): CommandHandler {
  return new CommandHandler({
    store,
    bookId: 'hm',
    policy,
    now: () => new Date((real.clock += 1000)),
    snapshotEvery: 3,
    random: () => 0,
  });
}

async function replay(store: MemoryEventStore): Promise<{ state: BookState; events: RecordedEvent[] }> {
  let state = initialBookState(limits);
  const events: RecordedEvent[] = [];
  for await (const e of readWholeStream(store, stream)) {
    events.push(e);
    state = evolve(state, e);
  }
  return { state, events };
}

// ---------------------------------------------------------------------------------------
// The steps.
// ---------------------------------------------------------------------------------------

/** What a batch sends: a fresh command, or one sent before again under its command id (as it was, or changed). */
type Planned =
  { kind: 'fresh'; action: Action; commandId: number | null } | { kind: 'repeat'; back: number; same: boolean; action: Action };

interface Submission {
  action: Action;
  commandId?: string;
}

/** Coverage over the whole run, so the generators are seen to reach what the test is about. */
const coverage = new Map<string, number>();
const count = (key: string, n = 1): void => void coverage.set(key, (coverage.get(key) ?? 0) + n);

class Batch implements fc.AsyncCommand<Model, Real> {
  private sentAs: Submission[] = [];
  constructor(
    readonly planned: readonly Planned[],
    /** Another writer tracks a position between this batch's decision and its append. */
    readonly interleave: boolean,
  ) {}

  check(): boolean {
    return true;
  }

  /** Repeats are resolved against what was sent before (this batch's earlier ones included): deterministic, so the seed replays. */
  private resolve(r: Real): Submission[] {
    const subs: Submission[] = [];
    for (const p of this.planned) {
      let sub: Submission;
      if (p.kind === 'fresh' || r.sent.length === 0) {
        const commandId = p.kind === 'fresh' && p.commandId === null ? undefined : COMMAND_IDS[r.seq++ % COMMAND_IDS.length];
        sub = commandId === undefined ? { action: p.action } : { action: p.action, commandId };
      } else {
        const earlier = r.sent[r.sent.length - 1 - (p.back % r.sent.length)]!;
        sub = { action: p.same ? earlier.action : p.action, commandId: earlier.commandId };
      }
      if (sub.commandId !== undefined) r.sent.push({ commandId: sub.commandId, action: sub.action });
      subs.push(sub);
    }
    return subs;
  }

  async run(m: Model, r: Real): Promise<void> {
    const subs = this.resolve(r);
    this.sentAs = subs;
    const where = `${this.toString()}`;

    // The model: the batch in order; if it appends anything and another writer gets in first,
    // that writer's Track comes first and the batch is decided again on top of it.
    const before = cloneModel(m);
    let verdicts = subs.map((s) => modelSubmit(m, s));
    let other: string | undefined;
    const appends = verdicts.some((v) => v.kind === 'events');
    if (this.interleave && appends) other = IDS.find((id) => !before.positions.has(id));
    if (other !== undefined) {
      const replayed = before;
      decideOne(replayed, { type: 'Track', positionId: other });
      verdicts = subs.map((s) => modelSubmit(replayed, s));
      Object.assign(m, replayed);
      const otherId = other;
      r.beforeNextAppend = async () => {
        const writer = new CommandHandler({ store: r.inner, bookId: 'hm', policy, snapshotEvery: 0 });
        await writer.handle({ type: 'Track', positionId: otherId });
        await writer.close();
      };
      count('interleaved');
    }

    r.appendCalls = 0;
    const settled = await Promise.allSettled(
      subs.map((s) => r.handler.handle(s.commandId === undefined ? s.action : { ...s.action, commandId: s.commandId })),
    );
    r.beforeNextAppend = null;

    // One transaction for the whole batch (two when another writer got in first).
    const expectedCalls = !appends ? 0 : other === undefined ? 1 : verdicts.some((v) => v.kind === 'events') ? 2 : 1;
    expect(r.appendCalls, `${where}: appends tried`).toBe(expectedCalls);
    if (subs.length > 1 && appends) count('group-commit');

    const results: (CommandResult | undefined)[] = [];
    settled.forEach((got, i) => {
      const v = verdicts[i]!;
      const s = subs[i]!;
      const label = `${where}: #${i} ${JSON.stringify(s)}`;
      if (v.kind === 'error') {
        expect(got.status, `${label}: model refuses with ${v.error.name}`).toBe('rejected');
        const error = (got as PromiseRejectedResult).reason as unknown;
        expect(error, `${label}: a TrackerError`).toBeInstanceOf(TrackerError);
        expect((error as Error).constructor, `${label}: error class (${(error as Error).message})`).toBe(v.error);
        if (v.error === ValidationError) count('reused-id-refused');
        results.push(undefined);
        return;
      }
      expect(
        got.status,
        `${label}: model accepts (${got.status === 'rejected' ? String((got as PromiseRejectedResult).reason) : ''})`,
      ).toBe('fulfilled');
      const result = (got as PromiseFulfilledResult<CommandResult>).value;
      results.push(result);
      if (v.kind === 'events') {
        expect(result.duplicate, `${label}: duplicate`).toBe(false);
        expect(
          result.events.map((e) => e.type),
          `${label}: event types`,
        ).toEqual(v.types);
        expect(
          result.events.map((e) => e.revision),
          `${label}: revisions`,
        ).toEqual(v.types.map((_, k) => v.from + k));
        expect(
          result.events.every((e) => e.metadata.commandId === s.commandId),
          `${label}: commandId on the events`,
        ).toBe(true);
        if (s.commandId !== undefined) r.firstRuns.set(s.commandId, result.events);
      } else {
        expect(result.duplicate, `${label}: duplicate`).toBe(true);
        const first = r.firstRuns.get(s.commandId!);
        expect(first, `${label}: the model remembers a first run the test never saw`).toBeDefined();
        expect(result.events, `${label}: a duplicate gets the first run's events`).toEqual(first);
        expect(
          result.events.map((e) => e.revision),
          `${label}: revisions of the first run`,
        ).toEqual(Array.from({ length: v.to - v.from + 1 }, (_, k) => v.from + k));
        const inBatch = v.from > before.revision;
        count(inBatch ? 'duplicate-in-batch' : 'duplicate-across-batches');
      }
    });
    // Ids the window forgot may run again: what they did first is no longer their answer.
    for (const id of r.firstRuns.keys()) if (!m.window.has(id)) r.firstRuns.delete(id);

    await checkAgreement(m, r, where, results);
  }

  toString(): string {
    const shown = this.sentAs.length > 0 ? this.sentAs : this.planned;
    return `Batch(${JSON.stringify(shown)}${this.interleave ? ', interleaved' : ''})`;
  }
}

async function checkAgreement(m: Model, r: Real, where: string, results: (CommandResult | undefined)[]): Promise<void> {
  const state = await r.handler.load();
  // Handler state vs model: statuses, revision, and the idempotency window (ids, in order, and where their events are).
  expect(new Map([...state.positions].map(([id, p]) => [id, p.status])), `${where}: statuses`).toEqual(m.positions);
  expect(state.revision, `${where}: revision`).toBe(m.revision);
  expect(
    [...state.commands].map(([id, c]) => [id, c.from, c.to]),
    `${where}: idempotency window`,
  ).toEqual([...m.window].map(([id, c]) => [id, c.from, c.to]));
  // Everyone answered by this batch holds the book as it committed.
  for (const result of results) if (result) expect(result.state.revision, `${where}: state handed to a caller`).toBe(m.revision);

  // The log read back: as many events as the model counts, and replaying it gives the handler's book.
  const { state: replayed, events } = await replay(r.inner);
  expect(events.length, `${where}: events in the log`).toBe(m.revision + 1);
  const json = bookStateToJson(state);
  expect(bookStateToJson(replayed), `${where}: replay of the log vs the handler's book`).toStrictEqual(json);

  // A fresh handler loading the log (from the latest snapshot, then the tail) agrees too.
  const fresh = handlerOn(r.inner, r);
  expect(bookStateToJson(await fresh.load()), `${where}: a fresh handler's book`).toStrictEqual(json);
  await fresh.close();
}

// ---------------------------------------------------------------------------------------
// Generators: few ids and command ids, so statuses, the cap and repeats are met often.
// ---------------------------------------------------------------------------------------

const positionId = fc.constantFrom(...IDS);
const value = fc.integer({ min: 10, max: 1_000 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: positionId.map((id) => ({ type: 'Track' as const, positionId: id })) },
  { weight: 3, arbitrary: fc.record({ positionId, value }).map((a) => ({ type: 'Enter' as const, ...a })) },
  { weight: 2, arbitrary: fc.record({ positionId, value }).map((a) => ({ type: 'Exit' as const, ...a })) },
  { weight: 1, arbitrary: positionId.map((id) => ({ type: 'Skip' as const, positionId: id })) },
  { weight: 2, arbitrary: positionId.map((id) => ({ type: 'Archive' as const, positionId: id })) },
);
const planned: fc.Arbitrary<Planned> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ action, commandId: fc.option(fc.nat(), { nil: null, freq: 5 }) }).map((p) => ({ kind: 'fresh' as const, ...p })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ back: fc.nat({ max: 6 }), same: fc.boolean(), action }).map((p) => ({ kind: 'repeat' as const, ...p })),
  },
);
const batch = fc
  .record({ planned: fc.array(planned, { minLength: 1, maxLength: 6 }), interleave: fc.boolean() })
  .map(({ planned: p, interleave }): fc.AsyncCommand<Model, Real> => new Batch(p, interleave));

const commands = fc.commands([batch], { maxCommands: 25, size: 'max' });

describe('CommandHandler (model-based)', () => {
  it('group-commits batches, answers repeated command ids like the model, and its book, the log and a fresh load agree', async () => {
    console.log(
      `[handler.model] fast-check seed=${seed} numRuns=${numRuns}; reproduce with ` +
        `PTRACK_FC_SEED=${seed} PTRACK_FC_RUNS=${numRuns} npx vitest run test/commands/handler.model.test.ts`,
    );
    coverage.clear();
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const model: Model = { positions: new Map(), revision: -1, window: new Map() };
        const real = newReal();
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.handler.close();
          await real.inner.close();
        }
      }),
      { seed, numRuns },
    );
    console.log('[handler.model] coverage', JSON.stringify(Object.fromEntries([...coverage].sort())));
    if (numRuns >= 30) {
      for (const key of ['group-commit', 'duplicate-in-batch', 'duplicate-across-batches', 'reused-id-refused', 'interleaved']) {
        expect(coverage.get(key) ?? 0, `never reached: ${key}`).toBeGreaterThan(0);
      }
    }
  }, 60_000);
});

// The interleaving above must really be a conflict the handler retries, not a catch-up.
it('an interleaved writer makes the batch conflict once and be decided again', async () => {
  const real = newReal();
  await real.handler.handle({ type: 'Track', positionId: 'A' });
  let conflicts = 0;
  real.beforeNextAppend = async () => {
    const writer = new CommandHandler({ store: real.inner, bookId: 'hm', policy, snapshotEvery: 0 });
    await writer.handle({ type: 'Track', positionId: 'B' });
  };
  const append = real.inner.append.bind(real.inner);
  real.inner.append = async (s, e, o) => {
    try {
      return await append(s, e, o);
    } catch (error) {
      if (error instanceof ConcurrencyError) conflicts += 1;
      throw error;
    }
  };
  const results = await Promise.allSettled([
    real.handler.handle({ type: 'Track', positionId: 'B' }),
    real.handler.handle({ type: 'Track', positionId: 'C' }),
  ]);
  expect(conflicts).toBe(1);
  expect(results.map((x) => x.status)).toEqual(['rejected', 'fulfilled']);
  expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidTransitionError);
  expect([...(await real.handler.load()).positions.keys()]).toEqual(['A', 'B', 'C']);
});
