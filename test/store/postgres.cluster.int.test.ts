import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/** The throwaway-cluster helper itself: TCP and socket, a crash and a restart, nothing left behind. */
describePostgres('test helper: a throwaway PostgreSQL cluster', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  const query = async (config: pg.ClientConfig, sql: string): Promise<unknown> => {
    const client = new pg.Client(config);
    await client.connect();
    try {
      return (await client.query(sql)).rows[0];
    } finally {
      await client.end();
    }
  };

  it('answers on 127.0.0.1 at its port and on the Unix socket in its directory, as PostgreSQL 15', async () => {
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    const overTcp = (await query({ connectionString: cluster.url }, 'SHOW server_version_num')) as { server_version_num: string };
    expect(Number(overTcp.server_version_num)).toBeGreaterThanOrEqual(150000);
    expect(existsSync(join(cluster.dir, `.s.PGSQL.${cluster.port}`))).toBe(true);
    const overSocket = (await query(
      { host: cluster.dir, port: cluster.port, user: 'postgres', database: 'postgres' },
      'SELECT 1 AS one',
    )) as { one: number };
    expect(overSocket.one).toBe(1);
  });

  it('keeps committed data across an immediate stop (a crash) and a restart', async () => {
    await query({ connectionString: cluster.url }, 'CREATE TABLE kept (n int)');
    await query({ connectionString: cluster.url }, 'INSERT INTO kept VALUES (42)');
    await cluster.stop('immediate');
    await expect(query({ connectionString: cluster.url, connectionTimeoutMillis: 2000 }, 'SELECT 1')).rejects.toThrow();
    await cluster.start();
    expect(await query({ connectionString: cluster.url }, 'SELECT n FROM kept')).toEqual({ n: 42 });
  });

  it('destroy() stops it and removes its directory; a second destroy() is harmless', async () => {
    const other = await startPostgres();
    await other.destroy();
    await other.destroy();
    expect(existsSync(other.dir)).toBe(false);
    await expect(query({ connectionString: other.url, connectionTimeoutMillis: 2000 }, 'SELECT 1')).rejects.toThrow();
  });
});
