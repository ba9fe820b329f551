import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/index.js';
import { ExternalError, ValidationError } from '../../src/errors/index.js';
import { defaultCodec } from '../../src/events/index.js';
import { guardExternal } from '../../src/reconcile/externalSystem.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { quote } from '../../src/_internals/zodIssues.js';

const HOSTILE = ['\u001b[2J', '\u0007', '\u0000', '\u202e', '\u200f', '\u009b31m', '\u2066', '\ufeff', '\u007f'].map((c) => `A${c}1`);

describe('#10.25 control characters in ids and symbols are refused at the boundary', () => {
  it.each(HOSTILE)('#10.25 command schemas refuse %j as a position id, a symbol and a command id', (bad) => {
    for (const command of [
      { type: 'Track', positionId: bad },
      { type: 'Track', positionId: 'A1', symbol: bad },
      { type: 'StartCooldown', symbol: bad, seconds: 60 },
      { type: 'Skip', positionId: 'A1', commandId: bad },
      { type: 'DetectOrphan', positionId: 'A1', value: 5, runId: bad },
    ]) {
      let thrown: unknown;
      try {
        parseCommand(command);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(command)).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toMatch(/must not contain (control characters|white space)/);
      expect((thrown as Error).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u200f\u2066\ufeff]/);
    }
  });

  it('#10.25 a new append with a control character in positionId, symbol or runId is refused and writes nothing', async () => {
    const store = new MemoryEventStore();
    for (const data of [
      { positionId: HOSTILE[0], side: 'long', source: 'local' },
      { positionId: 'A1', symbol: HOSTILE[3], side: 'long', source: 'local' },
    ]) {
      await expect(store.append('tradelog-main', [{ type: 'PositionTracked', data } as never])).rejects.toThrow(
        /data\.(positionId|symbol): must not contain control characters/,
      );
    }
    expect((await store.head()).count).toBe(0);
  });

  it('#10.25 events already stored with such ids are still read back (the log is fact)', () => {
    const row = {
      stream: 'tradelog-main',
      revision: 0,
      position: 1,
      type: 'PositionTracked',
      data: JSON.stringify({ positionId: HOSTILE[0], side: 'long', source: 'local' }),
      metadata: JSON.stringify({ recordedAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 }),
    };
    expect(defaultCodec.decode(row as never).data).toMatchObject({ positionId: HOSTILE[0] });
  });

  it('#10.25 an outside snapshot with a control character in an id or a symbol is malformed', async () => {
    for (const position of [
      { id: HOSTILE[0], value: 10 },
      { id: 'A1', symbol: HOSTILE[3], value: 10 },
    ]) {
      const external = guardExternal({ listPositions: async () => [position], closePosition: async () => undefined }, { retries: 0 });
      const listing = external.listPositions();
      await expect(listing).rejects.toThrow(ExternalError);
      await expect(listing).rejects.toThrow(/malformed answer: .*must not contain control characters/);
    }
  });

  it('#10.25 quote() never lets C1 controls or direction marks through raw', () => {
    expect(quote('a\u202eb\u009bc\u001bd')).toBe('"a\\u202eb\\u009bc\\u001bd"');
  });
});
