import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { api, eventually, readSse, startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #14 `ptrack serve`: a real child process on 127.0.0.1 runs the workers, archiving and
 * heartbeats, answers the read endpoints from the read models, stops cleanly on SIGTERM (exit 0,
 * read models flushed), and when the corruption guard fires keeps answering red and exits 4.
 */

function world(onTestFinished: (fn: () => void) => void, config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('ptrack-serve-');
  onTestFinished(cleanup);
  const file = join(dir, 'ptrack.config.json');
  writeFileSync(
    file,
    JSON.stringify({
      store: 'sqlite:./trades.db',
      book: 'main',
      exitedCleanupSeconds: 1,
      ...config,
      serve: { heartbeatSeconds: 1, archiveEverySeconds: 1, ...(config.serve as object) },
    }),
  );
  const cli = async (...args: string[]) => {
    const r = await ptrack(['--config', file, ...args], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  return { dir, file, cli, db: join(dir, 'trades.db') };
}

describe('#14 ptrack serve: the daemon and its read endpoints', () => {
  it('answers every read endpoint with the read models, follows other processes, archives by timeout, beats, and stops with exit 0', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished);
    await w.cli('track', 'A-1', '--symbol', 'AAPL', '--group', 'tech');
    await w.cli('enter', 'A-1', '--value', '500', '--qty', '5', '--price', '100');
    const s = await startServe(['--config', w.file], { cwd: w.dir });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await api(`${s.url}/api/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'ok',
        book: 'main',
        head: { position: expect.any(Number), count: expect.any(Number) },
        guard: { ok: true },
        breaker: { status: 'OK' },
        reconciliation: { adapter: null, scheduler: null },
        recovery: { mode: 'sync', ran: false, pending: false },
      });
      expect(health.body.readModels.map((m: { name: string }) => m.name).sort()).toEqual([
        'audit',
        'equity',
        'orders',
        'performance',
        'portfolio',
        'risk',
      ]);
      for (const m of health.body.readModels) expect(m).toMatchObject({ checkpoint: expect.any(Number), lag: expect.any(Number) });

      const positions = await api(`${s.url}/api/positions`);
      expect(positions.status).toBe(200);
      expect(positions.body).toMatchObject({ book: 'main', unavailable: null });
      expect(positions.body.positions.IN).toEqual([
        expect.objectContaining({ id: 'A-1', symbol: 'AAPL', status: 'IN', value: 500, quantity: 5 }),
      ]);

      for (const name of ['portfolio', 'equity', 'risk', 'performance', 'audit', 'orders']) {
        const r = await api(`${s.url}/api/${name}`);
        expect(r.status, name).toBe(200);
        expect(r.body, name).toMatchObject({ book: 'main', readModel: name, checkpoint: expect.any(Number), unavailable: null });
        expect(r.body.data, name).toEqual(expect.any(Object));
      }
      expect((await api(`${s.url}/api/equity`)).body.data).toMatchObject({ equity: expect.any(Number), curve: expect.any(Array) });
      expect((await api(`${s.url}/api/risk`)).body.data).toMatchObject({ circuitBreaker: { status: 'OK' }, heat: expect.any(Object) });
      expect((await api(`${s.url}/api/orders`)).body.data).toMatchObject({ inFlight: [], open: [] });
      expect((await api(`${s.url}/api/reconciliations`)).body).toMatchObject({ book: 'main', reconciliations: [] });

      // Another process's command reaches the read models the daemon serves.
      await w.cli('exit', 'A-1', '--value', '550');
      const exited = await eventually('the exit in /api/positions', async () => {
        const p = (await api(`${s.url}/api/positions`)).body;
        return p.positions.EXITED?.length === 1 ? p : undefined;
      });
      expect(exited.positions.EXITED[0]).toMatchObject({ id: 'A-1', status: 'EXITED' });
      // The whole equity curve, from the segment file as far as equity.json counts: the exit's point.
      const curve = await eventually('the exit on the equity curve', async () => {
        const c = (await api(`${s.url}/api/equity/curve`)).body;
        return c.points?.length === 1 ? c : undefined;
      });
      expect(curve).toMatchObject({ book: 'main', unavailable: null, points: [{ positionId: 'A-1', type: 'exit', pnl: 50 }] });
      // Archived by timeout (exitedCleanupSeconds 1, archiving every second), and heartbeats keep coming.
      const types = await eventually('archiving and two heartbeats', async () => {
        const page = (await api(`${s.url}/api/events?limit=1000`)).body;
        const t: string[] = page.events.map((e: { type: string }) => e.type);
        return t.includes('PositionArchived') && t.filter((x) => x === 'Heartbeat').length >= 3 ? t : undefined;
      });
      expect(types.slice(0, 3)).toEqual(['PositionTracked', 'PositionEntered', 'Heartbeat']);
      const afterArchive = await eventually('the archive in the read models', async () => {
        const p = (await api(`${s.url}/api/positions`)).body;
        return p.positions.EXITED?.length === 0 ? p : undefined;
      });
      expect(afterArchive.positions.IN).toEqual([]);
    } finally {
      const code = await s.stop('SIGTERM');
      expect(code, s.stderr()).toBe(0);
    }
    expect(s.stdout()).toMatch(/ptrack serve: stopped\n$/);
    // Pending read-model writes were flushed: the files stand at the log's head.
    const head = JSON.parse(await w.cli('head', '--json')) as { position: number };
    const portfolio = JSON.parse(readFileSync(join(w.dir, 'portfolio.json'), 'utf8')) as { checkpoint: number };
    expect(portfolio.checkpoint).toBe(head.position);
  }, 60_000);

  it('the events endpoint pages the log by position and names a bad query field', async ({ onTestFinished }) => {
    const w = world(onTestFinished, { serve: { heartbeatSeconds: 3600 } });
    for (const id of ['A', 'B', 'C']) await w.cli('track', id, '--symbol', id);
    const s = await startServe(['--config', w.file], { cwd: w.dir });
    try {
      const first = await api(`${s.url}/api/events?from=0&limit=2`);
      expect(first.status).toBe(200);
      expect(first.body.events).toEqual([
        {
          position: 1,
          type: 'PositionTracked',
          streamId: 'tradelog-main',
          revision: 0,
          recordedAt: expect.any(String),
          data: expect.objectContaining({ positionId: 'A' }),
        },
        {
          position: 2,
          type: 'PositionTracked',
          streamId: 'tradelog-main',
          revision: 1,
          recordedAt: expect.any(String),
          data: expect.objectContaining({ positionId: 'B' }),
        },
      ]);
      expect(first.body.next).toBe(2);
      const second = await api(`${s.url}/api/events?from=${first.body.next}&limit=1000`);
      expect(second.body.events.map((e: { position: number }) => e.position)).toEqual([3, 4]); // C, then the daemon's heartbeat
      expect(second.body.next).toBeNull();
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=1001', 'limit'],
        ['from=-1', 'from'],
        ['from=x', 'from'],
        ['page=2', 'page'],
      ] as const) {
        const bad = await api(`${s.url}/api/events?${query}`);
        expect(bad.status, query).toBe(400);
        expect(bad.body.error.code, query).toBe('VALIDATION');
        expect(bad.body.error.message, query).toContain(field);
      }
      expect((await api(`${s.url}/api/nothing`)).status).toBe(404);
      expect((await api(`${s.url}/api/health`, { method: 'DELETE' })).status).toBe(405);
    } finally {
      await s.kill();
    }
  }, 60_000);

  it('when the log regresses under it: health turns red with the guard message, work stops, HTTP keeps answering, exit 4 on SIGTERM', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, { serve: { heartbeatSeconds: 3600, archiveEverySeconds: 3600 } });
    for (const id of ['A', 'B', 'C', 'D']) await w.cli('track', id, '--symbol', id);
    const s = await startServe(['--config', w.file], { cwd: w.dir });
    try {
      await eventually('the workers to catch up', async () => {
        const h = (await api(`${s.url}/api/health`)).body;
        return h.readModels.every((m: { persistedCheckpoint: number | null; lag: number }) => m.persistedCheckpoint === 5 && m.lag === 0)
          ? h
          : undefined;
      });
      // A page following the stream hears the guard fire.
      const stream = readSse(`${s.url}/api/stream`, (f) => f.some((x) => x.event === 'guard'), { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      const raw = new Database(w.db);
      // A tool that bypasses the log's append-only trigger.
      raw.exec('DROP TRIGGER events_no_delete');
      raw.prepare('DELETE FROM events WHERE position > ?').run(2);
      raw.close();
      const red = await eventually('health to turn red', async () => {
        const h = await api(`${s.url}/api/health`);
        return h.status === 503 ? h : undefined;
      });
      expect(red.body).toMatchObject({ status: 'stopped', guard: { ok: false, message: expect.stringMatching(/regressed/) } });
      expect(red.body.workers).toBe('failed');
      const guardFrame = (await stream).frames.find((x) => x.event === 'guard');
      expect(JSON.parse(guardFrame!.data!)).toEqual(red.body.guard);
      // The server still answers everything else.
      expect((await api(`${s.url}/api/positions`)).status).toBe(200);
      const code = await s.stop('SIGTERM');
      expect(code).toBe(4);
      expect(s.stderr()).toContain(`ptrack: ${red.body.guard.message as string}`);
    } finally {
      await s.kill();
    }
  }, 60_000);

  it('refuses to bind beyond loopback without an API token (exit 2, nothing served)', async ({ onTestFinished }) => {
    const w = world(onTestFinished);
    await w.cli('track', 'A', '--symbol', 'A');
    const r = await ptrack(['--config', w.file, 'serve', '--host', '0.0.0.0', '--port', '0'], {
      cwd: w.dir,
      env: { PTRACK_CONFIG: undefined, PTRACK_API_TOKEN: undefined },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ptrack: --host: "0.0.0.0" is reachable beyond this machine, and no API token is configured (set serve.apiToken or PTRACK_API_TOKEN, or bind 127.0.0.1)\n',
    );
    expect(r.stdout).toBe('');
  }, 30_000);
});
