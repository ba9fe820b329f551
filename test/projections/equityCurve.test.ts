import { appendFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EQUITY_CURVE_FILE,
  EQUITY_CURVE_SAMPLES,
  equityProjection,
  foldProjection,
  ProjectionOptions,
  readEquityCurve,
  ReadModelStore,
  rebuildReadModels,
  startProjections,
  type EquityData,
  type ProjectionLogger,
} from '../../src/projections/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, fact, recorded, t, type Appendable, type Fact } from './fixtures.js';

const options = ProjectionOptions.parse({ equity: 1000 });
const equity = equityProjection(options);

/** A position opened and closed with `pnl` (a point on the curve), `n`-th of its book. */
function trade(n: number, pnl: number, book = 'main'): Fact[] {
  const id = `P${n}`;
  const at = t(n);
  return [
    fact('PositionTracked', { positionId: id, side: 'long' }, at, book),
    fact('PositionEntered', { positionId: id, side: 'long', value: 100 }, at, book),
    fact(
      'PositionExited',
      { positionId: id, side: 'long', fraction: 1, value: 100 + pnl, costBasis: 100, realizedPnl: pnl, full: true },
      at,
      book,
    ),
  ];
}
const trades = (from: number, to: number, book = 'main'): Fact[] =>
  Array.from({ length: to - from }, (_, i) => trade(from + i, ((from + i) % 7) - 3, book)).flat();

const appendable = (facts: Fact[]): Appendable[] =>
  recorded(facts).map((e) => ({
    stream: e.stream,
    event: { type: e.type, data: e.data, metadata: { recordedAt: e.metadata.recordedAt } } as Appendable['event'],
  }));

const quiet: ProjectionLogger = { info() {}, warn() {}, error() {}, fatal() {} };
function capture(): ProjectionLogger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_o: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
}

const doc = (dir: string): { checkpoint: number; data: EquityData } => JSON.parse(readFileSync(join(dir, 'equity.json'), 'utf8'));

describe('the equity curve: sampled in equity.json, whole in its append-only segment file', () => {
  it('keeps at most EQUITY_CURVE_SAMPLES sampled points and the last one, every curveStride-th, and folds on from its JSON as from scratch', () => {
    const events = recorded(trades(0, 3000));
    const whole = foldProjection(equity, events);
    const data = equity.toJson(whole);
    const main = data.books.main!;
    expect(main.points).toBe(3000);
    expect(main.curve.length).toBeLessThanOrEqual(EQUITY_CURVE_SAMPLES + 1);
    expect(main.curveStride).toBeGreaterThan(1);
    // Every sampled point is the curve's point at a multiple of the stride; the last point closes it.
    const lines = equity.series!.take(whole).map((l) => JSON.parse(l) as { position: number });
    expect(lines).toHaveLength(3000);
    const sampled = main.curve.slice(0, -1);
    expect(sampled.map((p) => p.position)).toEqual(
      lines
        .filter((_, i) => i % main.curveStride === 0)
        .map((p) => p.position)
        .slice(0, sampled.length),
    );
    expect(main.curve.at(-1)?.position).toBe(lines.at(-1)?.position);
    expect(data.series).toMatchObject({ file: EQUITY_CURVE_FILE, points: 3000, lastPosition: lines.at(-1)?.position });
    // Cut anywhere, written and read back, it folds on to the same document.
    for (const cut of [1, 1024 * 3, 1025 * 3, 2049 * 3 + 1, 4500]) {
      let state = equity.fromJson(JSON.parse(JSON.stringify(equity.toJson(foldProjection(equity, events.slice(0, cut))))));
      for (const e of events.slice(cut)) state = equity.evolve(state, e);
      expect(equity.toJson(state)).toEqual(data);
    }
  });

  describe('written by the workers', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => ({ dir, cleanup } = tempDir()));
    afterEach(() => {
      vi.restoreAllMocks();
      cleanup();
    });

    it('appends the new points to the segment file (the old bytes untouched), and readEquityCurve reassembles the whole curve', async () => {
      const facts = [...trades(0, 40), ...trades(0, 5, 'other'), ...trades(40, 80)];
      const log = appendable(facts);
      const store = new MemoryEventStore();
      await appendAll(store, log.slice(0, 120));
      const first_ = await startProjections({ store, stateDir: dir, options, persistEveryMs: 60_000, logger: quiet });
      await first_.whenCaughtUp();
      const file = join(dir, EQUITY_CURVE_FILE);
      const first = readFileSync(file);
      const inode = statSync(file).ino;
      expect(doc(dir).data.series.bytes).toBe(first.length);
      // Following (one worker), then again after a restart (another worker going on from the files).
      await appendAll(store, log.slice(120, 180));
      await first_.whenCaughtUp();
      await first_.stop();
      const handle = await startProjections({ store, stateDir: dir, options, persistEveryMs: 60_000, logger: quiet });
      await appendAll(store, log.slice(180));
      await handle.whenCaughtUp();
      await handle.stop();
      const second = readFileSync(file);
      expect(statSync(file).ino).toBe(inode); // the same file, appended to, not replaced
      expect(second.length).toBeGreaterThan(first.length);
      expect(second.subarray(0, first.length).equals(first)).toBe(true);
      // The whole curve, as a fold from scratch draws it.
      const scratch = foldProjection(equity, recorded(facts));
      const expected = equity.series!.take(scratch).map((l) => JSON.parse(l) as { book: string });
      expect((await readEquityCurve(dir)).points).toEqual(expected);
      expect((await readEquityCurve(dir, { book: 'other' })).points).toEqual(expected.filter((p) => p.book === 'other'));
      expect(doc(dir).data.books.main!.points).toBe(80);
    });

    it('on start cuts what was appended for a document never committed; a segment shorter than its document is rebuilt with it', async () => {
      const log = appendable(trades(0, 30));
      const store = new MemoryEventStore();
      await appendAll(store, log);
      const run = async (logger: ProjectionLogger = quiet): Promise<void> => {
        const h = await startProjections({ store, stateDir: dir, options, logger });
        await h.whenCaughtUp();
        await h.stop();
      };
      await run();
      const file = join(dir, EQUITY_CURVE_FILE);
      const whole = readFileSync(file);
      appendFileSync(file, '{"book":"main","position":999}\n'); // a worker killed between the append and the document
      await run();
      expect(readFileSync(file).equals(whole)).toBe(true);
      // Cut under the document (or deleted): the document is sound but counts more than the file holds.
      rmSync(file);
      appendFileSync(file, whole.subarray(0, whole.length - 10));
      const log2 = capture();
      await run(log2);
      expect(log2.lines.some((l) => l.level === 'warn' && /equity\.json is sound but equity\.curve\.jsonl is shorter/.test(l.msg))).toBe(
        true,
      );
      expect(readFileSync(file).equals(whole)).toBe(true);
      expect((await readEquityCurve(dir)).points).toHaveLength(30);
    });

    it('a rebuild reads only the checked headers of the documents it replaces: a corrupt equity.json does not stop it', async () => {
      const store = new MemoryEventStore();
      await appendAll(store, appendable(trades(0, 20)));
      const h = await startProjections({ store, stateDir: dir, options, logger: quiet });
      await h.whenCaughtUp();
      await h.stop();
      const whole = readFileSync(join(dir, 'equity.json'), 'utf8');
      const load = vi.spyOn(ReadModelStore.prototype, 'load');
      // Damaged in its data: the header is intact, the checksum is not.
      writeFileSync(join(dir, 'equity.json'), whole.replace('"realizedPnl":', '"realizedPnl":1e9,"x":'));
      const result = await rebuildReadModels({ store, stateDir: dir, options, logger: quiet });
      expect(result.events).toBe(60);
      expect(load).not.toHaveBeenCalled();
      expect(readFileSync(join(dir, 'equity.json'), 'utf8')).toBe(whole);
      // The headers still stand guard: a log shorter than the documents is refused.
      const shorter = new MemoryEventStore();
      await appendAll(shorter, appendable(trades(0, 10)));
      await expect(rebuildReadModels({ store: shorter, stateDir: dir, options, logger: quiet })).rejects.toThrow(/the log regressed/);
    });
  });
});
