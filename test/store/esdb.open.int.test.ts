import { exitCodeOf } from '../../src/cli/exitCodes.js';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { EventStoreDbStore, openStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Opening an esdb:// store where there is no EventStoreDB: a port nobody listens on, and a
 * server that accepts connections and never answers. Both are real sockets on this machine;
 * the point is that opening fails with one clear error in bounded time and lets the process end.
 */
async function listen(onConnection: (socket: Socket) => void = () => {}): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}

async function stop(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

/** A port that was just free: connecting to it is refused. */
async function refusedPort(): Promise<number> {
  const s = await listen();
  await stop(s);
  return s.port;
}

describe('opening an esdb:// store without a server', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('a refused connection is a StoreError with exit code 5, at once', async () => {
    const port = await refusedPort();
    const started = Date.now();
    const error = await openStore(`esdb://127.0.0.1:${port}?tls=false`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(exitCodeOf(error)).toBe(5);
    expect((error as Error).message).toBe(
      `cannot reach EventStoreDB at esdb://127.0.0.1:${port}?tls=false (connect): 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (is the server running? docker compose up -d starts one)`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a cluster none of whose seeds answers names each one', async () => {
    const [a, b] = [await refusedPort(), await refusedPort()];
    const error = await openStore(`esdb://127.0.0.1:${a},127.0.0.1:${b}`).catch((e: unknown) => e);
    expect(exitCodeOf(error)).toBe(5);
    expect((error as Error).message).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${a}: connect ECONNREFUSED.*127\\.0\\.0\\.1:${b}: connect ECONNREFUSED`),
    );
    expect((error as Error).message).toMatch(/a development node without TLS needs \?tls=false/);
  });

  it.each([
    ['with TLS (the handshake never completes)', ''],
    ['without TLS (gRPC never gets an answer)', '?tls=false'],
  ])('a server that accepts and never answers: refused after the connect timeout, %s', async (_name, query) => {
    const silent = await listen();
    try {
      const started = Date.now();
      const error = await EventStoreDbStore.open(`esdb://127.0.0.1:${silent.port}${query}`, { connectTimeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect(exitCodeOf(error)).toBe(5);
      expect((error as Error).message).toMatch(/(no answer within 0\.3 s|no answer from EventStoreDB at .* within 0\.3 s)/);
      // The client takes about a second to load; the wait itself is the 300 ms asked for.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await stop(silent);
    }
  });

  it('ptrack init --store esdb://... exits 5 with one line and writes no config', async () => {
    const port = await refusedPort();
    const r = await ptrack(['init', '--store', `esdb://127.0.0.1:${port}?tls=false`], { cwd: dir });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `ptrack: cannot reach EventStoreDB at esdb://127.0.0.1:${port}?tls=false (connect): 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (is the server running? docker compose up -d starts one)\n`,
    );
    expect(existsSync(join(dir, 'ptrack.config.json'))).toBe(false);
  });

  it('ptrack ends after the error even when a TLS handshake was left hanging (no lingering socket)', async () => {
    const silent = await listen();
    try {
      const started = Date.now();
      const r = await ptrack(['head', '--store', `esdb://127.0.0.1:${silent.port}`], { cwd: dir, timeoutMs: 15_000 });
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/^ptrack: cannot reach EventStoreDB at esdb:\/\/127\.0\.0\.1:\d+ \(connect\): .*no answer within 5 s/);
      expect(Date.now() - started).toBeLessThan(12_000);
    } finally {
      await stop(silent);
    }
  });

  it('a bad connection string is exit code 2, before anything is dialled', async () => {
    const r = await ptrack(['head', '--store', 'esdb://localhost:2113?tsl=false'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ptrack: store "esdb:\/\/localhost:2113\?tsl=false": unknown option "tsl"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
