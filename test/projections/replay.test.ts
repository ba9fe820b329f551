import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bookStateToJson, CommandHandler } from '../../src/commands/index.js';
import { policyOf, TrackerConfig } from '../../src/config/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import { createProjections, projectionOptionsOf, READ_MODEL_NAMES, startProjections } from '../../src/projections/index.js';
import { parseReplayPoint, replayAt } from '../../src/tracker/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { asStored, intFromEnv, policy, SEED, simulate, steps, storeWith } from './fixtures.js';

/*
 * Time travel: the book and the read models at time T (or position P) equal those of a log
 * that ends at T, built another way: the events up to T copied into a fresh store, the book
 * loaded by the command handler, the read models written by the runner.
 *
 * Reproduce: PTRACK_FC_SEED=<seed> PTRACK_FC_RUNS=<n> npx vitest run test/projections/replay.test.ts
 */

const runs = intFromEnv('PTRACK_FC_IO_RUNS', Math.max(5, Math.round(intFromEnv('PTRACK_FC_RUNS', 150) / 5)));
const config = TrackerConfig.parse({ ...policy, book: 'alpha', timeZone: 'Asia/Kolkata', equity: 7500 });
const quiet = { info() {}, warn() {}, error() {}, fatal() {} };

/** A log that ends where a replay to `until` stops: the events before the first one recorded after it. */
function prefix(events: readonly RecordedEvent[], until: { position: number } | { time: string }): RecordedEvent[] {
  if ('position' in until) return events.filter((e) => e.position <= until.position);
  const end = events.findIndex((e) => Date.parse(e.metadata.recordedAt) > Date.parse(until.time));
  return end < 0 ? [...events] : events.slice(0, end);
}

async function copyOf(events: readonly RecordedEvent[]): Promise<MemoryEventStore> {
  const store = new MemoryEventStore();
  for (const e of events) await store.append(e.stream, [{ type: e.type, data: e.data, metadata: e.metadata } as never]);
  return store;
}

describe('replay', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it(`the state at T equals the state of a log that ends at T (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(steps, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), async (run, where, byTime) => {
        const { store, recorded } = await storeWith(simulate(run));
        if (recorded.length === 0) return;
        const at = recorded[Math.min(recorded.length - 1, Math.floor(where * recorded.length))]!;
        // By time: sometimes an event's own time (it is included), sometimes between two events.
        const until = byTime
          ? { time: new Date(Date.parse(at.metadata.recordedAt) + (where < 0.5 ? 0 : 500)).toISOString() }
          : { position: at.position };
        const then = await replayAt(store, { until, config });

        const kept = prefix(recorded, until);
        const truncated = await copyOf(kept);
        expect(then.events).toBe(kept.length);
        expect(then.position).toBe(kept[kept.length - 1]?.position ?? 0);
        const handler = new CommandHandler({ store: truncated, bookId: config.book, policy: policyOf(config) });
        expect(asStored(bookStateToJson(then.book))).toEqual(asStored(bookStateToJson(await handler.load())));

        const stateDir = join(dir, `run-${Math.random().toString(36).slice(2)}`);
        const handle = await startProjections({ store: truncated, stateDir, options: projectionOptionsOf(config), logger: quiet });
        await handle.whenCaughtUp();
        await handle.stop();
        for (const name of READ_MODEL_NAMES) {
          const onDisk = (JSON.parse(readFileSync(join(stateDir, `${name}.json`), 'utf8')) as { data: unknown }).data;
          expect(asStored(then.readModels[name]), name).toEqual(onDisk);
        }
      }),
      { seed: SEED, numRuns: runs },
    );
  }, 120_000);

  it('includes events recorded at exactly T, and stops at the first one after it', async () => {
    const hb = (at: string) => ({
      stream: 'tradelog-main',
      event: { type: 'Heartbeat' as const, data: { at, source: 'local' as const }, metadata: { recordedAt: at } },
    });
    const { store } = await storeWith([hb('2026-01-05T10:00:00.000Z'), hb('2026-01-05T11:00:00.000Z'), hb('2026-01-05T12:00:00.000Z')]);
    expect((await replayAt(store, { until: '2026-01-05T11:00:00.000Z' })).events).toBe(2);
    expect((await replayAt(store, { until: '2026-01-05T12:59:59+01:00' })).events).toBe(2);
    expect((await replayAt(store, { until: '2026-01-05T09:00:00Z' })).events).toBe(0);
    const none = await replayAt(store, { until: 0 });
    expect(none).toMatchObject({ position: 0, at: null, events: 0 });
    expect(none.book.positions.size).toBe(0);
    expect((await replayAt(store, { until: '2' })).position).toBe(2);
  });

  it('reads --until as a position or an ISO time, and refuses anything else', () => {
    expect(parseReplayPoint('42')).toEqual({ position: 42 });
    expect(parseReplayPoint(7)).toEqual({ position: 7 });
    expect(parseReplayPoint('2026-01-05T12:00:00Z')).toEqual({ time: '2026-01-05T12:00:00Z' });
    expect(() => parseReplayPoint('yesterday')).toThrow(
      /--until: expected a position \(a whole number\) or an ISO-8601 time with an offset/,
    );
    expect(() => parseReplayPoint('2026-01-05')).toThrow(/ISO-8601/);
    expect(() => parseReplayPoint(-1)).toThrow(/--until/);
  });

  it('refuses unknown projection settings with a message that names them', () => {
    expect(() => createProjections(config as never)).toThrow(/^projection options: .*Unrecognized key/);
  });
});
