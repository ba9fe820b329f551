import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../src/store/sqliteSchema.js';
import { openTracker } from '../src/tracker/index.js';
import { BENCH_POLICY } from './data.js';
import { tempDir, type Row } from './lib.js';
import { paired } from './paired.js';

/**
 * 1, against its floor: a single caller's durable commands (`track`: one event each) beside a raw
 * SQLite commit of the same row (the events table's own schema, WAL, synchronous=FULL, one
 * `BEGIN IMMEDIATE ... COMMIT` per row, through better-sqlite3 with nothing else around it), in
 * alternating paired rounds: what the tracker keeps of what the disk allows.
 */
export async function singleCallerVsRaw(commands: number): Promise<Row[]> {
  const { dir, cleanup } = tempDir();
  try {
    const tracker = await openTracker({ ...BENCH_POLICY, store: `sqlite:${join(dir, 'trades.db')}`, book: 'bench' });
    const db = new Database(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(MIGRATIONS[0]!.sql);
    const insert = db.prepare('INSERT INTO events (stream, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?)');
    const commit = db.transaction((n: number) => {
      const positionId = `R-${n}`;
      insert.run(
        'tradelog-bench',
        n,
        'PositionTracked',
        JSON.stringify({ positionId, symbol: 'BTC', side: 'long', source: 'local' }),
        JSON.stringify({ recordedAt: new Date().toISOString(), schemaVersion: 1 }),
      );
    });
    const rounds = 6;
    const perRound = Math.max(10, Math.floor(commands / rounds));
    try {
      const p = await paired(
        rounds,
        perRound,
        async (r) => {
          for (let k = 0; k < perRound; k++) await tracker.track(`R-${r * perRound + k}`, { symbol: 'BTC' });
        },
        async (r) => {
          for (let k = 0; k < perRound; k++) commit.immediate(r * perRound + k);
        },
      );
      const scenario = '1 commands, 1 caller';
      return [
        { scenario, metric: 'track, paired with raw SQLite', value: p.ours, unit: 'commands/s' },
        { scenario, metric: 'raw SQLite single-row commit', value: p.theirs, unit: 'commits/s' },
        {
          scenario,
          metric: `ours / raw, median of ${p.rounds} paired rounds`,
          value: p.ratio,
          unit: 'x',
          goal: { op: '>=', value: 0.8 },
        },
      ];
    } finally {
      db.close();
      await tracker.close();
    }
  } finally {
    cleanup();
  }
}
