import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import { bookStream } from '../../src/events/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('openTracker options are parsed at the boundary', () => {
  let dir: string;
  let cleanup: () => void;
  let cwd: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    cwd = process.cwd();
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    cleanup();
  });

  it('#10.9 a store of the wrong type is a ValidationError naming store, and no default log is created', async () => {
    for (const store of [5, null, true, {}, [], { append: 1 }]) {
      const opening = openTracker({ store } as never);
      await expect(opening).rejects.toThrow(ValidationError);
      await expect(opening).rejects.toThrow(/^openTracker: store: must be a store string/);
    }
    expect(existsSync(join(dir, 'state'))).toBe(false);
  });

  it('#10.9 the clock, logger and store options are checked too; a good store still opens', async () => {
    await expect(openTracker({ store: 'memory:', now: 'today' } as never)).rejects.toThrow(/^openTracker: now: must be a function/);
    await expect(openTracker({ store: 'memory:', logger: {} } as never)).rejects.toThrow(
      /^openTracker: logger: must be an object with debug\(\) and warn\(\)/,
    );
    await expect(openTracker({ store: 'memory:', maxPositions: '3' } as never)).rejects.toThrow(/^openTracker: maxPositions: .*got "3"/);
    await expect(openTracker({ store: 'memory:', colour: 'red' } as never)).rejects.toThrow(/colour/);
    const store = new MemoryEventStore();
    const tracker = await openTracker({ store, book: 'b1', maxPositions: 3 });
    expect(tracker.store).toBe(store);
    expect(tracker.config).toMatchObject({ book: 'b1', maxPositions: 3 });
    await tracker.close();
    const byString = await openTracker({ store: 'memory:' });
    expect(byString.config.store).toBe('memory:');
    await byString.close();
  });

  it('#10.9 bookStream with a bad book name throws a ValidationError naming the book, not a raw ZodError', () => {
    for (const bad of ['a/b', '', 'x'.repeat(101), 5 as unknown as string]) {
      let thrown: unknown;
      try {
        bookStream(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toMatch(/^book: .*, got /);
    }
    expect(bookStream('main')).toBe('tradelog-main');
  });
});
