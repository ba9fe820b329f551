import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The high-water mark is rewritten in place after every append (no rename per command): it must
 * still parse when a shorter mark follows a longer one, follow every append, and be let go on close.
 */
describe('the high-water mark beside a SQLite log', () => {
  it('follows every append, in place, and a shorter mark over a longer one still guards the log', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-hwm-');
    onTestFinished(cleanup);
    const db = join(dir, 'trades.db');
    const mark = () =>
      JSON.parse(readFileSync(`${db}.hwm`, 'utf8').split('\n')[0]!) as {
        count: number;
        position: number;
        lastEvent: { stream: string } | null;
      };

    const long = await openTracker({ store: `sqlite:${db}`, book: 'a-rather-long-book-name-for-a-long-mark' });
    await long.track('L-1', { symbol: 'L' });
    await long.track('L-2', { symbol: 'L' });
    expect(mark()).toMatchObject({ count: 2, position: 2, lastEvent: { stream: 'tradelog-a-rather-long-book-name-for-a-long-mark' } });
    const short = await openTracker({ store: `sqlite:${db}`, book: 'b' });
    await short.track('S-1', { symbol: 'S' });
    expect(mark()).toMatchObject({ position: 3, lastEvent: { stream: 'tradelog-b' } });
    // The long mark's tail is still on disk after the short one: the next open reads the first line.
    expect(readFileSync(`${db}.hwm`, 'utf8').split('\n')[1]).not.toBe('');
    await short.close();
    await long.close();
    const again = await openTracker({ store: `sqlite:${db}`, book: 'b' });
    await again.track('S-2', { symbol: 'S' });
    expect(mark()).toMatchObject({ position: 4 });
    await again.close();
    // A zeroed log under that mark is refused.
    const { truncateSync } = await import('node:fs');
    truncateSync(db, 0);
    await expect(openTracker({ store: `sqlite:${db}`, book: 'b' })).rejects.toBeInstanceOf(CorruptionError);
  });

  it('a log behind its mark is refused on open, as seen by the O(1) head', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-hwm-');
    onTestFinished(cleanup);
    const db = join(dir, 'trades.db');
    const t = await openTracker({ store: `sqlite:${db}`, book: 'main' });
    await t.track('A-1', { symbol: 'A' });
    await t.close();
    const raw = readFileSync(`${db}.hwm`, 'utf8');
    const bumped = raw.replace(/"position":1/g, '"position":5').replace(/"count":1/, '"count":5');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${db}.hwm`, bumped);
    await expect(openTracker({ store: `sqlite:${db}`, book: 'main' })).rejects.toBeInstanceOf(CorruptionError);
  });
});
