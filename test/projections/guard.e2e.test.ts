import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTracker } from '../../src/tracker/index.js';
import {
  LogRegressionError,
  READ_MODEL_NAMES,
  startProjections,
  type ProjectionAlert,
  type ProjectionLogger,
} from '../../src/projections/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, sampleLog, type Appendable } from './fixtures.js';

/*
 * The corruption guard, for real: a SQLite log that loses its newest events, or is swapped
 * for an older copy, under a running worker. The worker stops, alerts and logs a fatal line,
 * the read models stay byte for byte as they were, and ptrack exits 4 saying what regressed
 * and by how much, until the log is restored or `ptrack rebuild --accept-regression` runs.
 */

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));
const LOG = sampleLog(60);

function capture(): ProjectionLogger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_o: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
}

const regressed = (holds: number, built: number): string =>
  `the log regressed: it holds ${holds} events (last position ${holds}) but the read models were built from ${built} events up to position ${built}: ` +
  `${built - holds} events are missing (restore the log, or run ptrack rebuild --accept-regression to rebuild the read models from it)`;

async function until<T>(check: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the corruption guard', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  let stateDir: string;
  const files = (): Record<string, string> =>
    Object.fromEntries(READ_MODEL_NAMES.map((n) => [n, readFileSync(join(stateDir, `${n}.json`), 'utf8')]));
  // The lowest checkpoint of the read-model files: the worker writes them one after another, so all of them must have
  // reached a position before a test compares them (audit.json alone once raced orders.json under load).
  const checkpointOnDisk = (): number =>
    Math.min(...READ_MODEL_NAMES.map((n) => JSON.parse(readFileSync(join(stateDir, `${n}.json`), 'utf8')).checkpoint as number));

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    stateDir = join(dir, 'state');
    file = join(stateDir, 'trades.db');
  });
  afterEach(() => cleanup());

  async function logOf(events: readonly Appendable[]): Promise<SqliteEventStore> {
    const store = SqliteEventStore.open(file);
    await appendAll(store, events);
    return store;
  }

  it('stops a running worker when the newest events are deleted: alert, fatal log, files untouched, exit 4 until rebuilt with --accept-regression', async () => {
    const store = await logOf(LOG.slice(0, 30));
    const alerts: ProjectionAlert[] = [];
    const log = capture();
    const handle = await startProjections({ store, stateDir, persistEveryMs: 50, logger: log, onAlert: (a) => alerts.push(a) });
    await handle.whenCaughtUp();
    const before = files();

    // Another connection (an operator, a bad restore script) cuts the log.
    const raw = new Database(file);
    // A tool that bypasses the log's append-only trigger.
    raw.exec('DROP TRIGGER events_no_delete');
    raw.prepare('DELETE FROM events WHERE position > ?').run(20);
    raw.close();

    const failure = await handle.done.then(
      () => new Error('the worker went on'),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(LogRegressionError);
    expect((failure as Error).message).toBe(regressed(20, 30));
    expect(handle.status().state).toBe('failed');
    expect(alerts.map((a) => a.error.message)).toEqual([regressed(20, 30)]);
    expect(log.lines.filter((l) => l.level === 'fatal').map((l) => l.msg)).toEqual([`projections stopped: ${regressed(20, 30)}`]);
    // A later append does not wake it, and nothing is written.
    await store.append('tradelog-alpha', [{ type: 'Heartbeat', data: { at: '2026-02-01T00:00:00.000Z', source: 'local' } }]);
    await expect(handle.whenCaughtUp()).rejects.toBe(failure);
    await handle.stop();
    expect(files()).toEqual(before);
    await store.close();

    const project = await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir });
    expect(project).toMatchObject({ code: 4, stdout: '' });
    // 20 left, plus the one appended since.
    expect(project.stderr).toBe(`ptrack: ${regressed(21, 30)}\n`);
    const rebuild = await ptrack(['rebuild', '--store', `sqlite:${file}`], { cwd: dir });
    expect(rebuild.code).toBe(4);
    expect(files()).toEqual(before);

    const accepted = await ptrack(['rebuild', '--accept-regression', '--store', `sqlite:${file}`], { cwd: dir });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/^rebuilt 6 read models from 21 events in /);
    expect(checkpointOnDisk()).toBe(21);
    expect((await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir })).code).toBe(0);
  }, 60_000);

  it('catches a log cut and written again up to the same length: the event at the checkpoint is another one', async () => {
    const store = await logOf(LOG.slice(0, 30));
    const handle = await startProjections({ store, stateDir, persistEveryMs: 60_000, persistEveryEvents: 1, logger: capture() });
    await handle.whenCaughtUp();
    const before = files();
    const raw = new Database(file);
    // A tool that bypasses the log's append-only trigger.
    raw.exec('DROP TRIGGER events_no_delete');
    raw.prepare('DELETE FROM events WHERE position > ?').run(20);
    raw.close();
    // Other events take positions 21..35: the log is longer than before, but not the same log.
    await appendAll(store, LOG.slice(40, 55));
    const failure = await handle.whenCaughtUp().then(
      () => new Error('the worker went on'),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(LogRegressionError);
    expect((failure as Error).message).toMatch(
      /^the log regressed: the read models were built up to position 30 \(.+\) but the log now holds .+ there: it was cut and written again/,
    );
    expect(files()).toEqual(before);
    await store.close();
    const r = await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ptrack: the log regressed: the read models were built up to position 30/);
  }, 60_000);

  it('stops a running `ptrack project --follow` when an older copy of the SQLite file is swapped in', async () => {
    const store = await logOf(LOG.slice(0, 12));
    // A consistent copy of the log as it was at 12 events (SQLite's online backup).
    const backup = join(dir, 'backup.db');
    const reader = new Database(file, { readonly: true });
    await reader.backup(backup);
    reader.close();
    await appendAll(store, LOG.slice(12, 30));

    const child = spawn(process.execPath, [BIN, 'project', '--follow', '--persist-every-ms', '100', '--store', `sqlite:${file}`], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: 'fatal', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
    try {
      // Caught up means both: the files at 30, and the worker saying so (it may write the files before it says it is live).
      await until(
        () =>
          READ_MODEL_NAMES.every((n) => existsSync(join(stateDir, `${n}.json`))) &&
          checkpointOnDisk() === 30 &&
          stdout.includes('caught up'),
        'the worker to catch up',
      );
      // The worker is live and follows this process's appends.
      await appendAll(store, LOG.slice(30, 32));
      await until(() => checkpointOnDisk() === 32, 'the worker to follow');
      const before = files();

      await store.close();
      renameSync(backup, file);

      const code = await exited;
      expect(code, stderr).toBe(4);
      expect(stdout).toMatch(/^caught up at position 30; following the log/);
      const lines = stderr.trim().split('\n');
      // A fatal log line (pino JSON), then ptrack's one-line message.
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 60, msg: `projections stopped: ${regressed(12, 32)}` });
      expect(lines.slice(1)).toEqual([`ptrack: ${regressed(12, 32)}`]);
      expect(files()).toEqual(before);
    } finally {
      clearTimeout(kill);
      child.kill('SIGKILL');
      await exited;
    }
    // Until it is restored or accepted, every run says the same.
    const again = await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir });
    expect(again).toMatchObject({ code: 4, stderr: `ptrack: ${regressed(12, 32)}\n` });
    const accepted = await ptrack(['rebuild', '--accept-regression', '--store', `sqlite:${file}`], { cwd: dir });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(checkpointOnDisk()).toBe(12);
  }, 90_000);

  it('rebuild --accept-regression also repairs the book snapshot that the log fell behind, so commands work again', async () => {
    const tracker = await openTracker({ store: `sqlite:${file}`, snapshotEvery: 4 });
    for (const id of ['A', 'B', 'C']) {
      await tracker.track(id, { symbol: id });
      await tracker.enter(id, { value: 100 });
      await tracker.exit(id, { value: 110 });
    }
    await tracker.close();
    expect((await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir })).code).toBe(0);
    const raw = new Database(file);
    // A tool that bypasses the log's append-only trigger.
    raw.exec('DROP TRIGGER events_no_delete');
    raw.prepare('DELETE FROM events WHERE position > ?').run(5);
    raw.close();

    // The high-water mark beside the file sees it first (#10.4); without the mark, the snapshot still does.
    const marked = await ptrack(['status', '--store', `sqlite:${file}`], { cwd: dir });
    expect(marked.code).toBe(4);
    expect(marked.stderr).toMatch(
      /the log regressed: it holds 5 events \(last position 5\) but this installation has seen 9 events up to position 9/,
    );
    rmSync(`${file}.hwm`);
    const status = await ptrack(['status', '--store', `sqlite:${file}`], { cwd: dir });
    expect(status.code).toBe(4);
    expect(status.stderr).toMatch(/snapshot of tradelog-main is at revision \d+ but the log ends at revision 4/);
    expect((await ptrack(['project', '--store', `sqlite:${file}`], { cwd: dir })).code).toBe(4);

    const accepted = await ptrack(['rebuild', '--accept-regression', '--store', `sqlite:${file}`], { cwd: dir });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/repaired the book snapshot of tradelog-main: it was at revision \d+, the log ends at 4/);
    const after = await ptrack(['status', '--store', `sqlite:${file}`, '--json'], { cwd: dir });
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { positions: { id: string; status: string }[] }).positions.map((p) => [p.id, p.status])).toEqual([
      ['A', 'EXITED'],
      ['B', 'IN'],
    ]);
    expect((await ptrack(['track', 'D', '--store', `sqlite:${file}`], { cwd: dir })).code).toBe(0);
  }, 60_000);
});
