import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BookPolicy, CommandHandler, decodeBookSnapshot, encodeBookSnapshot, initialBookState } from '../../src/commands/index.js';
import { bookStream } from '../../src/events/index.js';
import { SqliteEventStore, type Snapshot } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * A snapshot read from SQLite comes with the text it was stored as. Its checksum is checked over
 * that text, so a big book is not written out as JSON again on every cold open; any other text is
 * checked the long way, and a checksum that matches neither is still refused.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });
const stream = bookStream('b');

async function storedSnapshot(): Promise<{ snapshot: Snapshot; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const store = SqliteEventStore.open(join(dir, 'trades.db'));
  const handler = new CommandHandler({ store, bookId: 'b', policy, snapshotEvery: 1 });
  await handler.handle({ type: 'Track', positionId: 'A', symbol: 'AAPL' });
  await handler.handle({ type: 'Enter', positionId: 'A', value: 100 });
  const snapshot = (await store.readSnapshot(stream))!;
  await store.close();
  return { snapshot, cleanup };
}

afterEach(() => vi.restoreAllMocks());

describe('a stored snapshot checked over its stored text', () => {
  it('SQLite hands back the text it stored, whose parse is the state', async () => {
    const { snapshot, cleanup } = await storedSnapshot();
    try {
      expect(typeof snapshot.stateText).toBe('string');
      expect(JSON.parse(snapshot.stateText!)).toEqual(snapshot.state);
      expect(snapshot.stateText).toMatch(/^\{"checksum":"fnv64:[0-9a-f]{16}","book":\{/);
    } finally {
      cleanup();
    }
  });

  it('with the text as written, the book is not written out as JSON again to be checked', async () => {
    const { snapshot, cleanup } = await storedSnapshot();
    try {
      const book = (snapshot.state as { book: unknown }).book;
      const stringify = vi.spyOn(JSON, 'stringify');
      const decoded = decodeBookSnapshot(snapshot);
      expect(decoded.ok).toBe(true);
      expect(stringify.mock.calls.filter(([value]) => value === book)).toHaveLength(0);
      // Without the text, the same snapshot is checked by writing the book out.
      stringify.mockClear();
      const { stateText: _, ...bare } = snapshot;
      expect(decodeBookSnapshot(bare).ok).toBe(true);
      expect(stringify.mock.calls.filter(([value]) => value === book)).toHaveLength(1);
    } finally {
      cleanup();
    }
  });

  it('a reformatted text is checked the long way and still accepted; a wrong checksum is refused either way', async () => {
    const { snapshot, cleanup } = await storedSnapshot();
    try {
      const state = snapshot.state as { checksum: string; book: unknown };
      expect(decodeBookSnapshot({ ...snapshot, stateText: JSON.stringify(state, null, 1) }).ok).toBe(true);
      const wrong = { ...state, checksum: 'fnv64:0000000000000000' };
      for (const stateText of [JSON.stringify(wrong), undefined]) {
        const decoded = decodeBookSnapshot({ ...snapshot, state: wrong, ...(stateText === undefined ? {} : { stateText }) });
        expect(decoded).toEqual({
          ok: false,
          reason: `its checksum does not match (stored fnv64:0000000000000000, computed ${state.checksum})`,
        });
      }
      // A text whose book was changed after the checksum was taken does not match it.
      const edited = snapshot.stateText!.replace('"value":100', '"value":101');
      expect(edited).not.toBe(snapshot.stateText);
      const decoded = decodeBookSnapshot({ ...snapshot, state: JSON.parse(edited), stateText: edited });
      expect(decoded.ok).toBe(false);
      expect(!decoded.ok && decoded.reason).toMatch(/^its checksum does not match/);
    } finally {
      cleanup();
    }
  });

  it('encodeBookSnapshot writes the checksum first and the book second, the text the fast path expects', () => {
    const encoded = encodeBookSnapshot(initialBookState());
    expect(Object.keys(encoded.state as object)).toEqual(['checksum', 'book']);
  });
});
