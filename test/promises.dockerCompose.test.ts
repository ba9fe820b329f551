import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseStoreSpec } from '../src/store/index.js';

/*
 * #13 docker-compose.yml, read as YAML (no docker here): the services and images the README
 * names are the ones the file starts, pinned, each with a health check and a named volume.
 */

const root = new URL('../', import.meta.url);
const README = readFileSync(new URL('README.md', root), 'utf8');

interface Service {
  image?: string;
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] };
}
const compose = load(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = new Map(Object.entries(compose.services));

describe('docker-compose.yml', () => {
  it('has the postgres service the README starts, pinned to a PostgreSQL 15 minor version, checked by pg_isready, on a named volume', () => {
    const pg = services.get('postgres');
    expect(pg).toBeDefined();
    expect(pg!.profiles).toBeUndefined(); // `docker compose up -d postgres` starts it, no profile needed
    expect(pg!.image).toMatch(/^postgres:15\.\d+-bookworm$/);
    expect(README).toContain('docker compose up -d postgres');
    expect(pg!.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U ptrack -d trading -h 127.0.0.1 -p 5432']);
    const [volume] = pg!.volumes ?? [];
    expect(volume).toBe('postgres-data:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain('postgres-data');
    expect(pg!.ports).toEqual(['127.0.0.1:5432:5432']);
  });

  it("the README's store string and password are the service's user, database and default password", () => {
    const pg = services.get('postgres')!;
    const env = new Map(Object.entries(pg.environment ?? {}));
    const m = /npx ptrack init --store '(postgres:\/\/[^']+)'/.exec(README);
    expect(m).not.toBeNull();
    const url = new URL(m![1]!);
    expect(parseStoreSpec(m![1]!)).toMatchObject({ engine: 'postgres', connection: { schema: 'ptrack' } });
    expect(url.username).toBe(env.get('POSTGRES_USER'));
    expect(url.password).toBe(''); // the password is in PGPASSWORD, never the string
    expect(url.pathname).toBe(`/${env.get('POSTGRES_DB')}`);
    expect(url.port).toBe('5432');
    expect(env.get('POSTGRES_PASSWORD')).toBe('${POSTGRES_PASSWORD:-ptrack}');
    expect(README).toContain('export PGPASSWORD=ptrack ');
  });

  it('keeps the EventStoreDB service and its cluster beside it, with the image the README names', () => {
    const esdb = services.get('kurrentdb');
    expect(esdb?.image).toBe('docker.kurrent.io/kurrent-latest/kurrentdb:25.0.1');
    expect(README).toContain('image `docker.kurrent.io/kurrent-latest/kurrentdb:25.0.1`');
    expect(README).toContain('docker compose up -d kurrentdb');
    for (const node of ['node1', 'node2', 'node3']) {
      expect(services.get(node)?.profiles).toEqual(['cluster']);
      expect(services.get(node)?.image).toBe(esdb?.image);
    }
    for (const [name, service] of services) {
      expect(service.healthcheck?.test, name).toBeDefined();
      for (const v of service.volumes ?? []) expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(v.split(':')[0]);
    }
  });
});
