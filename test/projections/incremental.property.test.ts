import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { projectionOptionsOf } from '../../src/projections/options.js';
import {
  canonicalJson,
  createProjections,
  foldProjection,
  READ_MODEL_NAMES,
  rebuildReadModels,
  startProjections,
  type ProjectionLogger,
} from '../../src/projections/index.js';
import { TrackerConfig } from '../../src/config/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, intFromEnv, policy, SEED, simulate, steps, storeWith } from './fixtures.js';

/*
 * For random valid logs (made by the real decider over two books and a foreign stream):
 * the read models maintained incrementally equal a full rebuild, and equal a rebuild done in
 * chunks with restarts between them, so the checkpoints and the persisted state are right.
 *
 * Reproduce: PTRACK_FC_SEED=<seed> [PTRACK_FC_RUNS=<n>] npx vitest run test/projections/incremental.property.test.ts
 */

const runs = intFromEnv('PTRACK_FC_RUNS', 150);
const ioRuns = intFromEnv('PTRACK_FC_IO_RUNS', Math.max(5, Math.round(runs / 6)));
const options = projectionOptionsOf(TrackerConfig.parse({ ...policy, timeZone: 'Europe/Berlin', equity: 5000, weekStartsOn: 0 }));
const quiet: ProjectionLogger = { info() {}, warn() {}, error() {}, fatal() {} };

/** Cut points (sorted, distinct, inside the log) from random fractions. */
function cuts(length: number, fractions: readonly number[]): number[] {
  return [...new Set(fractions.map((f) => Math.floor(f * length)).filter((c) => c > 0 && c < length))].sort((a, b) => a - b);
}

const files = (dir: string): Record<string, string> =>
  Object.fromEntries([...READ_MODEL_NAMES, 'books'].map((n) => [n, readFileSync(join(dir, `${n}.json`), 'utf8')]));

describe('incremental read models equal a rebuild', () => {
  it(`in memory: folding in chunks through toJson/fromJson equals one fold (seed ${SEED})`, async () => {
    console.log(`[projections] fast-check seed=${SEED} runs=${runs}; reproduce with PTRACK_FC_SEED=${SEED} PTRACK_FC_RUNS=${runs}`);
    await fc.assert(
      fc.asyncProperty(steps, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (run, fractions) => {
        const { recorded } = await storeWith(simulate(run));
        for (const projection of createProjections(options)) {
          const whole = canonicalJson(projection.toJson(foldProjection(projection, recorded)));
          let state = projection.initialState();
          let from = 0;
          for (const cut of [...cuts(recorded.length, fractions), recorded.length]) {
            for (const e of recorded.slice(from, cut)) state = projection.evolve(state, e);
            from = cut;
            // What a restart reads back: the file's text.
            state = projection.fromJson(JSON.parse(canonicalJson(projection.toJson(state))));
          }
          expect(canonicalJson(projection.toJson(state)), projection.name).toBe(whole);
        }
      }),
      { seed: SEED, numRuns: runs },
    );
  });

  it(`on disk: a live runner, a full rebuild, and a runner restarted between chunks write the same files (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        steps,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 7 }),
        async (run, fractions, every) => {
          const events = simulate(run);
          const { dir, cleanup } = tempDir('ptrack-prop-');
          try {
            // 1. A full rebuild of the whole log.
            const { store: full } = await storeWith(events);
            await rebuildReadModels({ store: full, stateDir: join(dir, 'full'), options, logger: quiet });

            // 2. One runner, live, while the log grows in bursts; writes every `every` events.
            const live = new MemoryEventStore();
            const handle = await startProjections({
              store: live,
              stateDir: join(dir, 'live'),
              options,
              persistEveryEvents: every,
              persistEveryMs: 5,
              logger: quiet,
            });
            let from = 0;
            for (const cut of [...cuts(events.length, fractions), events.length]) {
              await appendAll(live, events.slice(from, cut));
              from = cut;
              await new Promise((r) => setTimeout(r, 1));
            }
            await handle.whenCaughtUp();
            await handle.stop();

            // 3. A runner started and stopped around each chunk: it resumes from its files.
            const chunked = new MemoryEventStore();
            from = 0;
            for (const cut of [...cuts(events.length, fractions), events.length]) {
              await appendAll(chunked, events.slice(from, cut));
              from = cut;
              const h = await startProjections({ store: chunked, stateDir: join(dir, 'chunked'), options, logger: quiet });
              await h.whenCaughtUp();
              await h.stop();
            }

            const expected = files(join(dir, 'full'));
            expect(files(join(dir, 'live'))).toEqual(expected);
            expect(files(join(dir, 'chunked'))).toEqual(expected);
            // And all three hold what a plain fold gives (the runner folds the books once, into books.json; this folds them per read model).
            const recorded = await full.readAll({ fromPosition: 0, limit: 10_000 });
            const books = (JSON.parse(expected.books!) as { data: unknown }).data;
            for (const projection of createProjections(options)) {
              const data = (JSON.parse(expected[projection.name]!) as { data: unknown }).data;
              const { fold, ...alone } = JSON.parse(canonicalJson(projection.toJson(foldProjection(projection, recorded)))) as Record<
                string,
                unknown
              >;
              expect(data, projection.name).toEqual(alone);
              expect(books, `${projection.name}: books.json`).toEqual(fold);
            }
            const head = await full.head();
            for (const text of Object.values(expected))
              expect(JSON.parse(text)).toMatchObject({ checkpoint: head.position, eventCount: head.count });
          } finally {
            cleanup();
          }
        },
      ),
      { seed: SEED, numRuns: ioRuns },
    );
  }, 120_000);
});
