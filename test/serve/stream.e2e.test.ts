import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { api, readSse, startServe, type SseFrame } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #14 GET /api/stream: one server-sent event per log event (id = global position, event = type,
 * data = the API's event JSON); a client that drops and reconnects with Last-Event-ID gets every
 * event after it, none missed, none repeated: catch-up, then live. Keep-alive comments.
 */

const events = (frames: SseFrame[]) => frames.filter((f) => f.id !== undefined);

describe('#14 the event stream', () => {
  it('resumes after a dropped connection from Last-Event-ID with no event missed or repeated, then goes on live', async ({
    onTestFinished,
  }) => {
    const { dir, cleanup } = tempDir('ptrack-stream-');
    onTestFinished(cleanup);
    const file = join(dir, 'ptrack.config.json');
    writeFileSync(file, JSON.stringify({ store: 'sqlite:./trades.db', serve: { heartbeatSeconds: 3600, keepAliveSeconds: 1 } }));
    const cli = async (...args: string[]) => {
      const r = await ptrack(['--config', file, ...args], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
      expect(r.code, r.stderr).toBe(0);
    };
    for (const id of ['A', 'B', 'C']) await cli('track', id, '--symbol', id);
    const s = await startServe(['--config', file], { cwd: dir });
    try {
      // From the start of the log: the three tracks and the daemon's start heartbeat, then dropped.
      const first = await readSse(`${s.url}/api/stream`, (f) => events(f).length >= 2, { lastEventId: '0' });
      expect(first.status).toBe(200);
      expect(first.contentType).toMatch(/^text\/event-stream/);
      const seen = events(first.frames).slice(0, 2);
      expect(seen.map((f) => [f.id, f.event])).toEqual([
        ['1', 'PositionTracked'],
        ['2', 'PositionTracked'],
      ]);
      expect(JSON.parse(seen[0]!.data!)).toEqual({
        position: 1,
        type: 'PositionTracked',
        streamId: 'tradelog-main',
        revision: 0,
        recordedAt: expect.any(String),
        data: expect.objectContaining({ positionId: 'A', symbol: 'A' }),
      });
      // While the client is away, more is appended by another process.
      for (const id of ['D', 'E']) await cli('track', id, '--symbol', id);
      const head = (await api(`${s.url}/api/health`)).body.head.position as number;
      expect(head).toBe(6);
      // It reconnects with the last id it saw: catch-up from there, then live.
      const again = readSse(`${s.url}/api/stream`, (f) => events(f).length >= head - 2 + 1, { lastEventId: seen[1]!.id! });
      await new Promise((r) => setTimeout(r, 300));
      await cli('track', 'F', '--symbol', 'F');
      const second = await again;
      const all = [...seen, ...events(second.frames)];
      const ids = all.map((f) => Number(f.id));
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const log = (await api(`${s.url}/api/events?limit=1000`)).body.events as { position: number; type: string }[];
      expect(all.map((f) => [Number(f.id), f.event])).toEqual(log.map((e) => [e.position, e.type]));
      expect(all.map((f) => JSON.parse(f.data!))).toEqual(log);

      // Without Last-Event-ID the stream starts live at the head, and keep-alive comments arrive.
      const live = await readSse(`${s.url}/api/stream`, (f) => f.filter((x) => x.comment === 'keep-alive').length >= 1, {
        timeoutMs: 5000,
      });
      expect(events(live.frames)).toEqual([]);
      expect(live.frames[0]).toEqual({ comment: 'ptrack stream from position 7' });

      const bad = await api(`${s.url}/api/stream`, { headers: { 'Last-Event-ID': 'x1' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toBe('header: Last-Event-ID: expected a global position (a whole number >= 0), got "x1"');
      const badFrom = await api(`${s.url}/api/stream?from=-3`);
      expect(badFrom.status).toBe(400);
      expect(badFrom.body.error.message).toBe('query: from: expected a global position (a whole number >= 0), got "-3"');
    } finally {
      await s.kill();
    }
  }, 60_000);
});
