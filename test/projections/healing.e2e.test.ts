import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocument, READ_MODEL_NAMES, rebuildReadModels, type ReadModelDocument } from '../../src/projections/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { ptrack } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, sampleLog } from './fixtures.js';

/*
 * Self-healing through the real `ptrack` binary: each read model, deleted, truncated,
 * garbled, tampered with (valid JSON, wrong checksum), or written by another version, is
 * back after one `ptrack project` cycle, byte for byte what a rebuild writes, and the heal
 * is logged. The other files are left as they were.
 */

type Damage = [label: string, damage: (file: string) => void, logged: RegExp];

const damages: Damage[] = [
  ['deleted', (f) => rmSync(f), /is missing: rebuilding it from the log/],
  [
    'truncated to half',
    (f) => writeFileSync(f, readFileSync(f, 'utf8').slice(0, readFileSync(f, 'utf8').length / 2)),
    /is unreadable: not JSON/,
  ],
  ['emptied', (f) => writeFileSync(f, ''), /is unreadable: not JSON/],
  [
    'with flipped bytes',
    (f) => {
      const b = readFileSync(f);
      for (const i of [0, Math.floor(b.length / 3), Math.floor((2 * b.length) / 3)]) b[i] = b[i]! ^ 0xff;
      writeFileSync(f, b);
    },
    /is unreadable: not JSON/,
  ],
  [
    'with a figure changed (valid JSON, bad checksum)',
    (f) => {
      const doc = JSON.parse(readFileSync(f, 'utf8')) as ReadModelDocument<{ asOf?: string }>;
      writeFileSync(f, JSON.stringify({ ...doc, eventCount: doc.eventCount + 1 }));
    },
    /is damaged: checksum mismatch/,
  ],
  [
    'of an older version (intact, with its own valid checksum)',
    (f) => {
      const { checksum: _c, ...doc } = JSON.parse(readFileSync(f, 'utf8')) as ReadModelDocument;
      writeFileSync(f, encodeDocument({ ...doc, version: `0.${doc.version}` }).text);
    },
    // The version it had, with `0.` in front: whatever shape number each read model is at.
    /is of version 0\.(\d+\.\d+-\w+), this build writes \1: rebuilding it from the log/,
  ],
];

describe('ptrack project heals a damaged read model in one cycle', () => {
  let dir: string;
  let cleanup: () => void;
  let store: string;
  let reference: Record<string, string>;
  const files = (d: string): Record<string, string> =>
    Object.fromEntries(READ_MODEL_NAMES.map((n) => [n, readFileSync(join(d, `${n}.json`), 'utf8')]));

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    const file = join(dir, 'state', 'trades.db');
    const s = SqliteEventStore.open(file);
    await appendAll(s, sampleLog(120));
    // An independent reference: the library's rebuild, into another directory.
    await rebuildReadModels({ store: s, stateDir: join(dir, 'reference'), logger: { info() {}, warn() {}, error() {}, fatal() {} } });
    await s.close();
    reference = files(join(dir, 'reference'));
    store = `sqlite:${file}`;
    const first = await ptrack(['project', '--store', store], { cwd: dir });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(files(join(dir, 'state'))).toEqual(reference);
  });
  afterAll(() => cleanup());

  for (const name of READ_MODEL_NAMES) {
    it(`${name}.json`, { timeout: 120_000 }, async () => {
      for (const [label, damage, logged] of damages) {
        const file = join(dir, 'state', `${name}.json`);
        damage(file);
        const r = await ptrack(['project', '--store', store], { cwd: dir, env: { LOG_LEVEL: 'warn' } });
        expect(r.code, `${label}: ${r.stderr}`).toBe(0);
        expect(r.stdout, label).toContain(`healed ${name}.json: it was`);
        // The heal is logged (pino JSON lines on stderr), naming the file and what was wrong.
        const logs = r.stderr
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { msg: string; readModel: string });
        expect(
          logs.filter((l) => l.readModel === name).map((l) => l.msg),
          label,
        ).toEqual([expect.stringMatching(logged)]);
        expect(files(join(dir, 'state')), label).toEqual(reference);
      }
    });
  }
});
