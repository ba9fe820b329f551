import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import * as projections from '../src/projections/index.js';
import * as tracker from '../src/tracker/index.js';

/*
 * src/index.ts names the public API one by one (issue 16 step 8), so a folder's index.ts may
 * also export what other folders of src need, in a block marked "for other folders of src;
 * not public". Everything else a folder's index.ts exports at run time is public: a name added
 * there and forgotten in src/index.ts fails here.
 */
const MARKER = '// for other folders of src; not public';
const src = new URL('../src/', import.meta.url);

/** The folders src/index.ts takes names from, read from its own export statements. */
function publicFolders(): string[] {
  const text = readFileSync(new URL('index.ts', src), 'utf8');
  return [...text.matchAll(/from '\.\/([a-z_]+)\/index\.js'/g)].map((m) => m[1] ?? '');
}

/** The run-time names a folder's index.ts exports below its not-public marker (type-only ones are not seen at run time). */
function notPublicNames(folder: string): string[] {
  const text = readFileSync(new URL(`${folder}/index.ts`, src), 'utf8');
  const at = text.indexOf(MARKER);
  if (at < 0) return [];
  return [...text.slice(at).matchAll(/export \{([^}]*)\}/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '' && !name.startsWith('type '))
      // `export { a as b }` exports b.
      .map((name) => name.split(/\s+as\s+/).pop() ?? name),
  );
}

describe('the public API lists every public name of the folders', () => {
  const folders = publicFolders();
  const publicNames = new Set(Object.keys(api));

  it('reads the folders from src/index.ts', () => {
    expect(folders).toEqual(
      expect.arrayContaining(['events', 'store', 'commands', 'config', 'tracker', 'reconcile', 'projections', 'testing', 'errors', 'cli']),
    );
  });

  it.each(folders)('src/%s/index.ts: each run-time name is public, but the not-public block', async (folder) => {
    const module = (await import(new URL(`${folder}/index.js`, src).href)) as Record<string, unknown>;
    const hidden = new Set(notPublicNames(folder));
    const expected = Object.keys(module).filter((name) => !hidden.has(name));
    expect(expected.filter((name) => !publicNames.has(name))).toEqual([]);
    for (const name of expected) expect(api[name as keyof typeof api], name).toBe(module[name]);
    expect([...hidden].filter((name) => publicNames.has(name))).toEqual([]);
    for (const name of hidden) expect(module[name], `${folder}: ${name} is exported`).toBeDefined();
  });

  it('names in a not-public block stay out of the package (resolveStoreSpec, ReconcileEverySeconds)', () => {
    expect(notPublicNames('store')).toContain('resolveStoreSpec');
    expect(notPublicNames('reconcile')).toContain('ReconcileEverySeconds');
    expect('resolveStoreSpec' in api).toBe(false);
    expect('ReconcileEverySeconds' in api).toBe(false);
  });

  it('replayAt and parseReplayPoint come from src/tracker now, still public', () => {
    expect(api.replayAt).toBe(tracker.replayAt);
    expect(api.parseReplayPoint).toBe(tracker.parseReplayPoint);
    expect('replayAt' in projections).toBe(false);
  });
});
