import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createProjections,
  foldProjection,
  READ_MODEL_NAMES,
  rebuildReadModels,
  startProjections,
  type ProjectionLogger,
  type ReadModelDocument,
} from '../../src/projections/index.js';
import { projectionOptionsOf } from '../../src/projections/options.js';
import { planStageStart } from '../../src/projections/startPlan.js';
import { canonicalJson } from '../../src/projections/_internals/canonicalJson.js';
import { foldLimits } from '../../src/projections/_internals/bookFold.js';
import { TrackerConfig } from '../../src/config/index.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, sampleLog, storeWith } from './fixtures.js';

/*
 * Issue 16 step 3: the book fold is a stage owned by the runner. It folds each event into the
 * books once, hands them to the five read models, and persists them once, in books.json.
 */

const quiet: ProjectionLogger = { info() {}, warn() {}, error() {}, fatal() {} };
const NAMES = [...READ_MODEL_NAMES, 'books'];
const bytes = (dir: string): Record<string, string> =>
  Object.fromEntries(NAMES.map((n) => [n, readFileSync(join(dir, `${n}.json`), 'utf8')]));
const read = (dir: string, name: string): { checkpoint: number; data: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));

const limits = foldLimits('UTC');
const doc = (checkpoint: number, data: unknown = {}): ReadModelDocument => ({
  version: '1',
  checkpoint,
  eventCount: checkpoint,
  lastEvent: null,
  checksum: 'x',
  data,
});

describe('planStageStart', () => {
  it('loads a sound stage at or behind every reader, and folds it again from 0 otherwise, saying why', () => {
    const readers = [
      { name: 'portfolio', checkpoint: 9 },
      { name: 'risk', checkpoint: 7 },
    ];
    expect(planStageStart({ status: 'ok', document: doc(7) }, limits, readers)).toMatchObject({
      action: 'load',
      document: { checkpoint: 7 },
    });
    expect(planStageStart({ status: 'ok', document: doc(5) }, limits, readers).action).toBe('load');
    expect(planStageStart({ status: 'ok', document: doc(8) }, limits, readers)).toEqual({
      action: 'heal',
      reason: 'ahead of risk (at position 8, risk at 7)',
    });
    expect(planStageStart({ status: 'missing' }, limits, readers)).toEqual({ action: 'heal', reason: 'missing' });
    expect(planStageStart({ status: 'version', found: '0', expected: '1', document: doc(7) }, limits, readers)).toEqual({
      action: 'heal',
      reason: 'of version 0, this build writes 1',
    });
    expect(planStageStart({ status: 'ok', document: doc(7, { main: { positions: 'x' } }) }, limits, readers)).toEqual({
      action: 'heal',
      reason: 'unreadable: fold: book "main" is not a folded book of this configuration',
    });
    expect(planStageStart({ status: 'ok', document: doc(7) }, limits, readers, true)).toEqual({ action: 'rebuild' });
  });
});

describe('the book stage', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('is written once, to books.json, and the five documents carry no copy of it', async () => {
    const { store, recorded } = await storeWith(sampleLog());
    const options = projectionOptionsOf(TrackerConfig.parse({}));
    const handle = await startProjections({ store, stateDir: dir, options, logger: quiet });
    await handle.whenCaughtUp();
    await handle.stop();
    const head = await store.head();
    const books = read(dir, 'books');
    expect(books.checkpoint).toBe(head.position);
    for (const projection of createProjections(options)) {
      const file = read(dir, projection.name);
      expect(file.data, projection.name).not.toHaveProperty('fold');
      const { fold, ...alone } = JSON.parse(canonicalJson(projection.toJson(foldProjection(projection, recorded)))) as Record<
        string,
        unknown
      >;
      expect(file.data, projection.name).toEqual(alone);
      expect(books.data, projection.name).toEqual(fold);
    }
  });

  it.each([
    ['books.json is deleted', ['books']],
    ['one read model is deleted (it heals from 0 beside the others at their checkpoint)', ['risk']],
    ['a read model and books.json are deleted', ['portfolio', 'books']],
  ])('writes the files a rebuild writes when %s', async (_label, deleted) => {
    const events = sampleLog();
    const half = Math.floor(events.length / 2);
    const { store } = await storeWith(events.slice(0, half));
    let handle = await startProjections({ store, stateDir: join(dir, 'live'), logger: quiet });
    await handle.whenCaughtUp();
    await handle.stop();
    for (const name of deleted) rmSync(join(dir, 'live', `${name}.json`));
    await appendAll(store, events.slice(half));
    handle = await startProjections({ store, stateDir: join(dir, 'live'), logger: quiet });
    await handle.whenCaughtUp();
    await handle.stop();
    await rebuildReadModels({ store, stateDir: join(dir, 'rebuilt'), logger: quiet });
    expect(bytes(join(dir, 'live'))).toEqual(bytes(join(dir, 'rebuilt')));
  });

  it('folds the books again from 0 when books.json is ahead of a read model (a write that stopped between two files)', async () => {
    const events = sampleLog();
    const half = Math.floor(events.length / 2);
    const { store } = await storeWith(events.slice(0, half));
    let handle = await startProjections({ store, stateDir: dir, logger: quiet });
    await handle.whenCaughtUp();
    await handle.stop();
    const older = readFileSync(join(dir, 'audit.json'), 'utf8');
    await appendAll(store, events.slice(half));
    handle = await startProjections({ store, stateDir: dir, logger: quiet });
    await handle.whenCaughtUp();
    await handle.stop();
    // audit.json as it was at the first half: books.json is ahead of it.
    writeFileSync(join(dir, 'audit.json'), older);
    const lines: string[] = [];
    const log: ProjectionLogger = { ...quiet, info: (_o, msg) => void lines.push(msg ?? '') };
    handle = await startProjections({ store, stateDir: dir, logger: log });
    await handle.whenCaughtUp();
    await handle.stop();
    expect(lines.some((l) => /^books\.json is ahead of audit/.test(l))).toBe(true);
    await rebuildReadModels({ store, stateDir: join(dir, 'rebuilt'), logger: quiet });
    expect(bytes(dir)).toEqual(bytes(join(dir, 'rebuilt')));
  });
});
