import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bookStream, type NewEvent } from '../src/events/index.js';
import { evolve, initialBookState, type BookState } from '../src/commands/index.js';
import { openStore, SqliteEventStore } from '../src/store/index.js';
import { openTracker, type Tracker } from '../src/tracker/index.js';
import { planReconciliation, reconcile, ReconcilePolicy, type ExternalSystem } from '../src/reconcile/index.js';
import { BENCH_POLICY, lifecycle, openPosition } from './data.js';
import { gc, percentile, tempDir, type Row } from './lib.js';

const T0 = Date.parse('2026-01-05T00:00:00.000Z');
const self = fileURLToPath(import.meta.url);

async function lifecycleCommands(tracker: Tracker, i: number, latencies: number[]): Promise<void> {
  const id = `L-${i}`;
  const timed = async (f: () => Promise<unknown>): Promise<void> => {
    const t = performance.now();
    await f();
    latencies.push(performance.now() - t);
  };
  await timed(() => tracker.track(id, { symbol: 'BTC' }));
  await timed(() => tracker.enter(id, { value: 1000, quantity: 1, price: 1000 }));
  await timed(() => tracker.hold(id, { value: 1010 }));
  await timed(() => tracker.exit(id, { value: 1020 }));
}

/**
 * 1 and 2: full lifecycles through the public API, one caller, then `callers` concurrent callers.
 * On a SQLite file in a temporary directory, or on `on.store` (a PostgreSQL schema), whose rows
 * are named after `on.engine` and carry no goal (the goals are for SQLite).
 */
export async function commandThroughput(lifecycles: number, callers: number, on?: { store: string; engine: string }): Promise<Row[]> {
  const { dir, cleanup } = tempDir();
  try {
    const tracker = await openTracker({ ...BENCH_POLICY, store: on?.store ?? `sqlite:${join(dir, 'trades.db')}`, book: 'bench' });
    const scenario = (callers === 1 ? '1 commands, 1 caller' : `2 commands, ${callers} callers`) + (on ? `, ${on.engine}` : '');
    const latencies: number[] = [];
    const perCaller = Math.ceil(lifecycles / callers);
    const t = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let k = 0; k < perCaller; k++) await lifecycleCommands(tracker, c * perCaller + k, latencies);
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    await tracker.close();
    latencies.sort((a, b) => a - b);
    const rows: Row[] = [
      {
        scenario,
        metric: 'throughput',
        value: latencies.length / seconds,
        unit: 'commands/s',
        ...(callers > 1 && !on ? { goal: { op: '>=', value: 40_000 } } : {}),
      },
      { scenario, metric: 'latency p50', value: percentile(latencies, 50), unit: 'ms' },
      { scenario, metric: 'latency p99', value: percentile(latencies, 99), unit: 'ms' },
    ];
    return rows;
  } finally {
    cleanup();
  }
}

/** 3: raw appends of batches of 1, 100, 1000 events. */
export async function appendThroughput(eventsPerSize: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [1, 100, 1000]) {
    const { dir, cleanup } = tempDir();
    try {
      const store = SqliteEventStore.open(join(dir, 'trades.db'));
      const batches = Math.max(10, Math.floor(eventsPerSize / size));
      const batch = (n: number): NewEvent[] =>
        Array.from(
          { length: size },
          (_, k) =>
            ({
              type: 'Heartbeat',
              data: { at: new Date(T0 + n * size + k).toISOString(), source: 'local' },
              metadata: { recordedAt: new Date(T0).toISOString() },
            }) as NewEvent,
        );
      const prepared = Array.from({ length: batches }, (_, n) => batch(n));
      const t = performance.now();
      for (let n = 0; n < batches; n++) await store.append(`tradelog-s${n % 100}`, prepared[n]!);
      const seconds = (performance.now() - t) / 1000;
      await store.close();
      rows.push({ scenario: '3 append', metric: `batches of ${size}`, value: (batches * size) / seconds, unit: 'events/s' });
    } finally {
      cleanup();
    }
  }
  return rows;
}

/** Writes `events` events of finished lifecycles into one book, in 1,000-event transactions, and a snapshot. */
export async function buildBigBook(file: string, events: number): Promise<void> {
  const store = SqliteEventStore.open(file);
  const stream = bookStream('big');
  let buffer: NewEvent[] = [];
  let revision = -1;
  for (let i = 0; revision + 1 + buffer.length < events; i++) {
    buffer.push(...lifecycle(i, T0));
    if (buffer.length >= 1000) {
      revision = store.appendSync(stream, buffer, { expectedRevision: revision < 0 ? 'no_stream' : revision }).nextExpectedRevision;
      buffer = [];
    }
  }
  if (buffer.length) store.appendSync(stream, buffer);
  await store.close();
  // One command through the tracker replays the book once and leaves a snapshot behind.
  const tracker = await openTracker({ ...BENCH_POLICY, store: `sqlite:${file}`, book: 'big' });
  await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'bench-setup' });
  await tracker.close();
}

/** The same big book on any store (PostgreSQL): 1,000-event appends, each conditioned on the revision before it, then a snapshot. */
export async function buildBigBookOn(spec: string, events: number): Promise<void> {
  const store = await openStore(spec);
  const stream = bookStream('big');
  let buffer: NewEvent[] = [];
  let revision = -1;
  try {
    for (let i = 0; revision + 1 + buffer.length < events; i++) {
      buffer.push(...lifecycle(i, T0));
      if (buffer.length >= 1000) {
        revision = (await store.append(stream, buffer, { expectedRevision: revision < 0 ? 'no_stream' : revision })).nextExpectedRevision;
        buffer = [];
      }
    }
    if (buffer.length) await store.append(stream, buffer);
  } finally {
    await store.close();
  }
  const tracker = await openTracker({ ...BENCH_POLICY, store: spec, book: 'big' });
  await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'bench-setup' });
  await tracker.close();
}

/** 5: a fresh process opens the big book (snapshot + tail) and runs one command. */
export function coldOpen(file: string): Row[] {
  const run = spawnSync(process.execPath, [self, '--child', 'cold-open', file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cold-open child failed: ${run.stderr}`);
  const { openAndCommandMs, replayMs } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { openAndCommandMs: number; replayMs: number };
  return [
    { scenario: '5 cold open', metric: 'open + 1 command (snapshot)', value: openAndCommandMs, unit: 'ms', goal: { op: '<=', value: 100 } },
    { scenario: '5 cold open', metric: 'replay without snapshot', value: replayMs, unit: 'ms' },
  ];
}

export async function coldOpenChild(file: string): Promise<void> {
  const t = performance.now();
  const tracker = await openTracker({ ...BENCH_POLICY, store: `sqlite:${file}`, book: 'big' });
  await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'bench' });
  const openAndCommandMs = performance.now() - t;
  await tracker.close();
  // For comparison: the same book folded from the first event.
  const store = SqliteEventStore.open(file);
  const t2 = performance.now();
  let state = initialBookState();
  let after = 0;
  for (;;) {
    const page = store.readAllSync(after, 10_000);
    for (const e of page) state = evolve(state, e);
    if (page.length < 10_000) break;
    after = page[page.length - 1]!.position;
  }
  const replayMs = performance.now() - t2;
  await store.close();
  process.stdout.write(`${JSON.stringify({ openAndCommandMs, replayMs, revision: state.revision })}\n`);
}

/** Writes a book of `n` open positions (track + enter each) into `stream`, 2,000 events per transaction. */
export async function writeOpenBook(file: string, stream: string, n: number): Promise<void> {
  const store = SqliteEventStore.open(file);
  let buffer: NewEvent[] = [];
  for (let i = 0; i < n; i++) {
    buffer.push(...openPosition(i, T0));
    if (buffer.length >= 2000) {
      store.appendSync(stream, buffer);
      buffer = [];
    }
  }
  if (buffer.length) store.appendSync(stream, buffer);
  await store.close();
}

/** Cold opens per book in scenario 5 with a tail; the row is their median. */
const COLD_OPEN_RUNS = 5;

/**
 * 5, as a bot meets it: a book of `open` open positions with a snapshot, then a tail of `tail`
 * events written after it (valuations of open positions, as a running bot leaves them), opened by
 * a fresh process that runs one command (the median of five). Process start is not included; the open is.
 */
export async function coldOpenWithTail(opens: readonly number[], tail: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of opens) {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'trades.db');
      const stream = bookStream('tail');
      await writeOpenBook(file, stream, n);
      // One command replays the book and leaves a snapshot behind (the book is larger than snapshotEvery).
      const setup = await openTracker({ ...BENCH_POLICY, store: `sqlite:${file}`, book: 'tail' });
      await setup.handler.handle({ type: 'RecordHeartbeat', process: 'bench-setup' });
      await setup.close();
      const after = SqliteEventStore.open(file);
      const valuations: NewEvent[] = Array.from({ length: tail }, (_, k) => ({
        type: 'PositionValued',
        data: { positionId: `P-${k % n}`, value: 600 + (k % 50), price: 600 + (k % 50), source: 'local' },
        metadata: { recordedAt: new Date(T0 + n + k).toISOString() },
      }));
      for (let k = 0; k < valuations.length; k += 500) after.appendSync(stream, valuations.slice(k, k + 500));
      await after.close();
      // One open is one sample of a noisy figure: the median of COLD_OPEN_RUNS, each a fresh process
      // on its own copy of the book (a run's command may leave a newer snapshot behind).
      const times: number[] = [];
      for (let r = 0; r < COLD_OPEN_RUNS; r++) {
        const copy = join(dir, `run-${r}.db`);
        copyFileSync(file, copy);
        const run = spawnSync(process.execPath, [self, '--child', 'cold-open-tail', copy], { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`cold-open-tail child failed: ${run.stderr}`);
        const { openAndCommandMs, replayed } = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
          openAndCommandMs: number;
          replayed: number;
        };
        if (replayed < tail) throw new Error(`cold open replayed ${replayed} events after the snapshot, expected at least ${tail}`);
        times.push(openAndCommandMs);
      }
      rows.push({
        scenario: `5 cold open, ${n.toLocaleString('en-US')} open`,
        metric: `open + 1 command, ${tail.toLocaleString('en-US')}-event tail, median of ${COLD_OPEN_RUNS}`,
        value: percentile(
          [...times].sort((a, b) => a - b),
          50,
        ),
        unit: 'ms',
        ...(n === 10_000 ? { goal: { op: '<=', value: 100 } } : {}),
      });
    } finally {
      cleanup();
    }
  }
  return rows;
}

export async function coldOpenTailChild(file: string): Promise<void> {
  const t = performance.now();
  const tracker = await openTracker({ ...BENCH_POLICY, store: `sqlite:${file}`, book: 'tail' });
  const result = await tracker.handler.handle({ type: 'RecordHeartbeat', process: 'bench' });
  const openAndCommandMs = performance.now() - t;
  await tracker.close();
  // How far past the snapshot the open had to fold: the command's revision minus the snapshot's.
  const store = SqliteEventStore.open(file);
  const snapshot = await store.readSnapshot(bookStream('tail'));
  await store.close();
  const revision = result.events.at(-1)?.revision ?? NaN;
  process.stdout.write(`${JSON.stringify({ openAndCommandMs, replayed: revision - 1 - (snapshot?.revision ?? NaN) })}\n`);
}

function stateWithOpen(n: number): BookState {
  let state = initialBookState();
  let revision = 0;
  for (let i = 0; i < n; i++) {
    for (const e of openPosition(i, T0)) {
      state = evolve(state, {
        ...e,
        metadata: { recordedAt: e.metadata!.recordedAt!, schemaVersion: 1 },
        revision: revision++,
      } as Parameters<typeof evolve>[1]);
    }
  }
  return state;
}

/** 6: reconciliation plan and execution with 1 % orphans and 1 % phantoms. */
export async function reconciliation(sizes: readonly number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of sizes) {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'trades.db');
      await writeOpenBook(file, bookStream('rec'), n);
      const onePct = Math.max(1, Math.floor(n / 100));
      // Outside: every local position but the first 1 % (phantoms), plus 1 % unknown here (orphans).
      const outside = [
        ...Array.from({ length: n - onePct }, (_, k) => {
          const i = k + onePct;
          return { id: `P-${i}`, value: 500 + (i % 100), quantity: 1 };
        }),
        ...Array.from({ length: onePct }, (_, k) => ({ id: `X-${k}`, value: 750, symbol: 'ETH' })),
      ];
      const external: ExternalSystem = { listPositions: async () => outside, closePosition: async () => undefined };
      const tracker = await openTracker({ ...BENCH_POLICY, store: `sqlite:${file}`, book: 'rec' });
      const state = await tracker.state();
      const policy = { ...ReconcilePolicy.parse({ graceSeconds: 0 }), minPositionValue: 1 };
      const snapshot = { positions: outside, startedAt: new Date(T0 + 86_400_000), canVerify: false };
      planReconciliation(state, snapshot, policy, new Date()); // warm-up
      const reps = n >= 100_000 ? 5 : 20;
      const t = performance.now();
      for (let r = 0; r < reps; r++) planReconciliation(state, snapshot, policy, new Date());
      const planMs = (performance.now() - t) / reps;
      const t2 = performance.now();
      const report = await reconcile({
        handler: tracker.handler,
        external,
        policy: { graceSeconds: 0 },
        now: () => new Date(T0 + 86_400_000),
      });
      const execMs = performance.now() - t2;
      await tracker.close();
      if (report.orphans.length !== onePct || report.phantoms.length !== onePct) {
        throw new Error(
          `reconciliation bench found ${report.orphans.length} orphans and ${report.phantoms.length} phantoms, expected ${onePct} each`,
        );
      }
      rows.push({
        scenario: `6 reconcile ${n.toLocaleString('en-US')}`,
        metric: 'plan',
        value: planMs,
        unit: 'ms',
        ...(n === 100_000 ? { goal: { op: '<=', value: 50 } } : {}),
      });
      rows.push({ scenario: `6 reconcile ${n.toLocaleString('en-US')}`, metric: 'read + plan + execute', value: execMs, unit: 'ms' });
    } finally {
      cleanup();
    }
  }
  return rows;
}

/** 7: heap per open position at `n` open. */
export function bookMemory(n: number): Row[] {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const state = stateWithOpen(n);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (state.open !== n) throw new Error(`expected ${n} open, got ${state.open}`);
  return [
    {
      scenario: '7 book memory',
      metric: `per open position at ${n.toLocaleString('en-US')}`,
      value: (after - before) / n,
      unit: 'bytes',
      goal: { op: '<=', value: 512 },
    },
  ];
}
