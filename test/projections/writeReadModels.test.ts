import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogRegressionError, ReadModelStore } from '../../src/projections/index.js';
import { writeGuarded, type WriteSteps, type Written } from '../../src/projections/writeReadModels.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 16 step 3: writing the read models is prepare -> guard -> commit with one abort path.
 */
interface Item {
  name: string;
  checkpoint: number;
}

function steps(over: Partial<WriteSteps<Item>> = {}): WriteSteps<Item> & { log: string[]; written: Written[] } {
  const log: string[] = [];
  const written: Written[] = [];
  return {
    log,
    written,
    documentOf: (item) => ({
      name: item.name,
      document: { version: '1', checkpoint: item.checkpoint, eventCount: item.checkpoint, lastEvent: null, data: { n: item.checkpoint } },
    }),
    guard: () => {
      log.push('guard');
      return Promise.resolve(null);
    },
    committed: (item, w) => {
      log.push(`committed ${item.name}`);
      written.push(w);
    },
    aborted: (item) => void log.push(`aborted ${item.name}`),
    ...over,
  };
}

describe('writeGuarded', () => {
  let dir: string;
  let cleanup: () => void;
  let models: ReadModelStore;
  const items: Item[] = [
    { name: 'a', checkpoint: 3 },
    { name: 'b', checkpoint: 5 },
    { name: 'c', checkpoint: 7 },
  ];
  const temporaries = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    models = new ReadModelStore(dir);
  });
  afterEach(() => cleanup());

  it('prepares every document, runs the guard once, then commits them in order', async () => {
    const s = steps({
      guard: () => {
        // Every document is prepared (to a temporary file) before the guard runs, none committed.
        s.log.push(`guard with ${temporaries().length} prepared`);
        return Promise.resolve(null);
      },
    });
    expect(await writeGuarded(models, items, s)).toEqual({ status: 'written', count: 3 });
    expect(s.log).toEqual(['guard with 3 prepared', 'committed a', 'committed b', 'committed c']);
    expect(s.written).toEqual([
      { file: join(dir, 'a.json'), version: '1', checkpoint: 3, eventCount: 3, lastEvent: null },
      { file: join(dir, 'b.json'), version: '1', checkpoint: 5, eventCount: 5, lastEvent: null },
      { file: join(dir, 'c.json'), version: '1', checkpoint: 7, eventCount: 7, lastEvent: null },
    ]);
    for (const { name, checkpoint } of items) {
      const load = await models.load(name, '1');
      expect(load).toMatchObject({ status: 'ok', document: { checkpoint, data: { n: checkpoint } } });
    }
    expect(temporaries()).toEqual([]);
  });

  it('a guard that refuses writes nothing, hands every item back and leaves no temporary file', async () => {
    const problem = new LogRegressionError('the log regressed', {
      head: { position: 1, count: 1 },
      projected: { name: 'a', checkpoint: 3, eventCount: 3, lastEvent: null },
      missingEvents: 2,
      positionsBehind: 2,
    });
    const s = steps({ guard: () => Promise.resolve(problem) });
    expect(await writeGuarded(models, items, s)).toEqual({ status: 'refused', problem });
    expect(s.log).toEqual(['aborted a', 'aborted b', 'aborted c']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a prepare that throws aborts those prepared, hands back every item, and rethrows', async () => {
    const s = steps({
      documentOf: (item) => {
        if (item.name === 'b') throw new Error('toJson failed');
        return steps().documentOf(item);
      },
    });
    await expect(writeGuarded(models, items, s)).rejects.toThrow('toJson failed');
    expect(s.log).toEqual(['aborted a', 'aborted b', 'aborted c']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a guard that throws aborts every document', async () => {
    const s = steps({ guard: () => Promise.reject(new Error('head failed')) });
    await expect(writeGuarded(models, items, s)).rejects.toThrow('head failed');
    expect(s.log).toEqual(['aborted a', 'aborted b', 'aborted c']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a commit that fails keeps what was committed and aborts the rest', async () => {
    // A directory where b.json should go: the rename over it fails.
    mkdirSync(join(dir, 'b.json'));
    const s = steps();
    await expect(writeGuarded(models, items, s)).rejects.toThrow();
    expect(s.log).toEqual(['guard', 'committed a', 'aborted b', 'aborted c']);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.json']);
    expect(temporaries()).toEqual([]);
  });
});
