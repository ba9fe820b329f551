import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, progressPrinter } from '../../src/cli/commands/projections.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { openTracker } from '../../src/tracker/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));

describe('ptrack project, rebuild, audit, replay', () => {
  let dir: string;
  let cleanup: () => void;
  let store: string;
  let file: string;
  const checkpoint = (name: string): number =>
    (JSON.parse(readFileSync(join(dir, 'state', `${name}.json`), 'utf8')) as { checkpoint: number }).checkpoint;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'state', 'trades.db');
    store = `sqlite:${file}`;
    let clock = Date.parse('2026-01-05T10:00:00.000Z');
    const at = (minutes: number) => () => new Date((clock = Date.parse('2026-01-05T10:00:00.000Z') + minutes * 60_000));
    let now = at(0);
    const tracker = await openTracker({ store, now: () => now() });
    const step = async (minutes: number, work: () => Promise<unknown>): Promise<void> => {
      now = at(minutes);
      await work();
    };
    await step(0, () => tracker.track('A', { symbol: 'BTC', setup: 'breakout' }));
    await step(1, () => tracker.enter('A', { value: 1000 }));
    await step(2, () => tracker.exit('A', { value: 1200 }));
    await step(10, () => tracker.execute({ type: 'DetectOrphan', positionId: 'X', value: 300, symbol: 'SOL', runId: 'r1' }));
    await step(40, () => tracker.adoptOrphan('X', { value: 300, symbol: 'SOL' }));
    await step(41, () => tracker.track('B', { symbol: 'ETH' }));
    await step(42, () => tracker.enter('B', { value: 500 }));
    await step(60, () => tracker.execute({ type: 'SuspectPhantom', positionId: 'B', looks: 1 }));
    await step(90, () => tracker.execute({ type: 'ClearPhantom', positionId: 'B', looks: 3, reason: 'gone' }));
    await step(100, () => tracker.execute({ type: 'DetectOrphan', positionId: 'Y', value: 100 }));
    await step(160, () => tracker.execute({ type: 'RecordHeartbeat', process: 'bot' }));
    await tracker.close();
    expect(clock).toBeGreaterThan(0);
  });
  afterAll(() => cleanup());

  it('project: one cycle, a table of the read models and their checkpoints; --json for scripts', async () => {
    const text = await ptrack(['project', '--store', store], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`read models in ${join(dir, 'state')} (the log holds 11 events, last position 11):`);
    expect(text.stdout).toMatch(/portfolio\.json\s+11\s+11/);
    const json = await ptrack(['project', '--json', '--store', store], { cwd: dir });
    const parsed = JSON.parse(json.stdout) as { head: unknown; readModels: { name: string; checkpoint: number; healed: unknown }[] };
    expect(parsed.head).toEqual({ position: 11, count: 11 });
    expect(parsed.readModels.map((m) => [m.name, m.checkpoint, m.healed])).toEqual([
      ['portfolio', 11, null],
      ['equity', 11, null],
      ['risk', 11, null],
      ['performance', 11, null],
      ['audit', 11, null],
      ['orders', 11, null],
    ]);
  });

  it('rebuild: plain progress lines on a pipe, and a summary with events/s', async () => {
    const r = await ptrack(['rebuild', '--store', store], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^rebuild: 11\/11 events \(100%\), [\d,]+ events\/s\n$/);
    expect(r.stdout).toMatch(
      new RegExp(
        `^rebuilt 6 read models from 11 events in \\d+\\.\\d\\d s \\([\\d,]+ events/s\\) into ${join(dir, 'state').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`,
      ),
    );
    expect(checkpoint('equity')).toBe(11);
  });

  it('audit: the leak report as tables, and as JSON', async () => {
    const r = await ptrack(['audit', '--store', store], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('audit of book main as of 2026-01-05T12:40:00.000Z (position 11)');
    // X: 300 for 30 minutes = 150 value-hours; Y: 100 for an hour so far = 100.
    expect(out).toContain('orphans: 2 (1 open, 1 adopted, 0 closed), leaked 250 value-hours');
    expect(out).toMatch(/X\s+SOL\s+2026-01-05T10:10:00\.000Z\s+2026-01-05T10:40:00\.000Z\s+adopted\s+300\s+30m\s+150/);
    expect(out).toMatch(/Y\s+2026-01-05T11:40:00\.000Z\s+-\s+open\s+100\s+1h\s+100/);
    // B: 500 suspected for 30 minutes, then cleared.
    expect(out).toContain('phantoms: 1 (0 open, 1 cleared, 0 dismissed, 0 exited), leaked 250 value-hours');
    expect(out).toMatch(/B\s+ETH\s+2026-01-05T11:00:00\.000Z\s+2026-01-05T11:30:00\.000Z\s+cleared\s+3\s+500\s+30m\s+250/);
    expect(out).toContain('drift corrections: 0');
    const json = JSON.parse((await ptrack(['audit', '--json', '--store', store], { cwd: dir })).stdout) as {
      book: string;
      totals: { orphans: { valueSeconds: number } };
    };
    expect(json.book).toBe('main');
    expect(json.totals.orphans.valueSeconds).toBe(250 * 3600);
  });

  it('replay: the book and the read models as they were at a position or a time', async () => {
    const byPosition = await ptrack(['replay', '--until', '2', '--store', store], { cwd: dir });
    expect(byPosition.code, byPosition.stderr).toBe(0);
    expect(byPosition.stdout).toMatch(
      /^book main as of position 2 \(2026-01-05T10:01:00\.000Z\), 2 events:\n {2}A: IN BTC long setup breakout value 1000 entry value 1000 realized 0 since 2026-01-05T10:01:00\.000Z\n/,
    );
    const byTime = await ptrack(['replay', '--until', '2026-01-05T10:30:00Z', '--position', 'A', '--json', '--store', store], { cwd: dir });
    expect(JSON.parse(byTime.stdout)).toMatchObject({
      until: { position: 4, events: 4 },
      book: 'main',
      position: { id: 'A', status: 'EXITED', realizedPnl: 200 },
    });
    const all = JSON.parse(
      (await ptrack(['replay', '--until', '2026-01-05T10:30:00Z', '--json', '--store', store], { cwd: dir })).stdout,
    ) as {
      readModels: { equity: { books: { main: { equity: number } } }; audit: { books: { main: { orphans: { resolution: string }[] } } } };
    };
    expect(all.readModels.equity.books.main.equity).toBe(10_200);
    expect(all.readModels.audit.books.main.orphans.map((o) => o.resolution)).toEqual(['open']);
    expect(all.readModels).not.toHaveProperty('portfolio.fold');
    const bad = await ptrack(['replay', '--until', 'last tuesday', '--store', store], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ptrack: --until: expected a position \(a whole number\) or an ISO-8601 time/);
  });

  it('project --follow writes on SIGTERM what came in since its last write, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'project', '--follow', '--persist-every-ms', '60000', '--store', store], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('caught up') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stdout).toContain('caught up at position 11');
      const s = SqliteEventStore.open(file);
      for (let i = 0; i < 5; i++)
        await s.append('tradelog-main', [{ type: 'Heartbeat', data: { at: '2026-01-06T00:00:00.000Z', source: 'local' } }]);
      await s.close();
      // Followed, but not written: the throttle is a minute.
      await new Promise((r) => setTimeout(r, 400));
      expect(checkpoint('risk')).toBe(11);
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      expect(checkpoint('risk')).toBe(16);
      expect(stdout).toMatch(/the log holds 16 events, last position 16/);
    } finally {
      clearTimeout(kill);
      child.kill('SIGKILL');
    }
  }, 45_000);
});

describe('rebuild progress', () => {
  const progress = (processed: number, elapsedMs: number, done = false) => ({
    processed,
    total: 1000,
    elapsedMs,
    eventsPerSecond: (processed / elapsedMs) * 1000,
    done,
  });

  it('is one line rewritten in place on a TTY', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => undefined, err: (t) => lines.push(t), liveStderr: true });
    print(progress(100, 100));
    print(progress(500, 200));
    print(progress(1000, 400, true));
    expect(lines).toEqual([
      'rebuild: 100/1,000 events (10%), 1,000 events/s',
      '\x1b[1A\x1b[2Krebuild: 500/1,000 events (50%), 2,500 events/s',
      '\x1b[1A\x1b[2Krebuild: 1,000/1,000 events (100%), 2,500 events/s',
    ]);
  });

  it('is a plain line at most every second otherwise, and always at the end', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => undefined, err: (t) => lines.push(t), liveStderr: false });
    for (const ms of [250, 500, 750, 1000, 1250, 2300]) print(progress(Math.floor(ms / 4), ms));
    print(progress(1000, 2400, true));
    expect(lines).toEqual([
      'rebuild: 62/1,000 events (6%), 248 events/s',
      'rebuild: 312/1,000 events (31%), 250 events/s',
      'rebuild: 575/1,000 events (57%), 250 events/s',
      'rebuild: 1,000/1,000 events (100%), 417 events/s',
    ]);
  });

  it('writes durations short', () => {
    expect([0, 59, 90, 3600, 5400, 93_600, 90_061].map(duration)).toEqual(['0s', '59s', '1m 30s', '1h', '1h 30m', '1d 2h', '1d 1h']);
  });
});
