import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  auditProjection,
  encodeDocument,
  ProjectionOptions,
  rebuildReadModels,
  startProjections,
  type AuditData,
  type ProjectionLogger,
} from '../../src/projections/index.js';
import { tempDir } from '../helpers/tmp.js';
import { fact, storeWith, t, type Appendable, type Fact } from './fixtures.js';

/*
 * Issue 15: audit.json's shape number went up (leaks with a start, a cause and segments). A file
 * of the old shape is rebuilt from the log on the next start, not read as the new one.
 */

const warns: string[] = [];
const logger: ProjectionLogger = { info() {}, warn: (_o, msg) => void warns.push(String(msg)), error() {}, fatal() {} };
let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('ptrack-audit-shape-'));
  warns.length = 0;
});
afterEach(() => cleanup());

const asAppendable = (f: Fact): Appendable => ({
  stream: 'tradelog-main',
  event: { type: f.type, data: { ...f.data, source: 'reconcile' }, metadata: { recordedAt: f.at } } as Appendable['event'],
});

describe('#15 audit.json shape 5 and later', () => {
  it('#15 a shape-4 audit.json (valueSince, settledValueSeconds, no start or cause) is rebuilt from the log on start', async () => {
    const { store } = await storeWith(
      [
        fact('OrphanDetected', { positionId: 'X', value: 100, openedAt: t(0) }, t(10)),
        fact('OrphanAdopted', { positionId: 'X', side: 'long', value: 100 }, t(10)),
      ].map(asAppendable),
    );
    const version = auditProjection(ProjectionOptions.parse({})).version;
    // Shape 5 (issue 15) or later: a shape-4 file is older.
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(5);
    const old = {
      asOf: t(10),
      books: {
        main: {
          orphans: [{ positionId: 'X', detectedAt: t(10), value: 100, valueSince: t(10), settledValueSeconds: 0, resolution: 'adopted' }],
          phantoms: [],
          drift: [],
          reconciliations: [],
          orders: [],
        },
      },
    };
    const file = join(dir, 'audit.json');
    writeFileSync(
      file,
      encodeDocument({ version: version.replace(/^\d+\./, '4.'), checkpoint: 2, eventCount: 2, lastEvent: null, data: old }).text,
    );
    const handle = await startProjections({ store, stateDir: dir, logger });
    await handle.whenCaughtUp();
    await handle.stop();
    expect(warns.some((w) => /^audit\.json is of version 4\.\S+, this build writes \d+\.\S+: rebuilding it from the log$/.test(w))).toBe(
      true,
    );
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: string; data: AuditData };
    expect(doc.version).toBe(version);
    expect(doc.data.books.main?.orphans[0]).toMatchObject({
      start: { evidence: 'venue', at: t(0) },
      durationSeconds: 600,
      valueSeconds: 100 * 600,
    });
    await rebuildReadModels({ store, stateDir: join(dir, 'rebuilt'), logger });
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(dir, 'rebuilt', 'audit.json'), 'utf8'));
  });
});
