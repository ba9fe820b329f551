import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, decodeDocument, documentChecksum, encodeDocument, ReadModelStore } from '../../src/projections/index.js';
import { tempDir } from '../helpers/tmp.js';

const doc = {
  version: '1.2-abc',
  checkpoint: 7,
  eventCount: 7,
  lastEvent: { position: 7, stream: 'tradelog-main', revision: 6, type: 'PositionValued', recordedAt: '2026-01-05T10:00:00.000Z' },
  data: { z: 1, a: [{ y: 'x', b: null }], m: { k: -0, n: 0.1 } },
};

describe('canonical JSON', () => {
  it('sorts keys at every level, drops undefined properties, and writes -0 as 0', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: undefined, e: 'x' }], c: undefined }, n: -0 })).toBe(
      '{"a":{"d":[3,{"e":"x"}]},"b":1,"n":0}',
    );
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });
});

describe('read-model documents', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('checksums the canonical JSON of { checkpoint, data, eventCount, lastEvent, version }, as another language would', () => {
    const { text, checksum } = encodeDocument(doc);
    const parsed = JSON.parse(text) as typeof doc & { checksum: string };
    expect(parsed.checksum).toBe(checksum);
    // Recomputed by hand, the way a bot in any language can.
    const { checksum: _c, ...rest } = parsed;
    const byHand = `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
    expect(byHand).toBe(checksum);
    expect(documentChecksum(parsed)).toBe(checksum);
    // One line: the header fields, data, then the checksum (written once the data is hashed).
    expect(Object.keys(parsed)).toEqual(['version', 'checkpoint', 'eventCount', 'lastEvent', 'data', 'checksum']);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('tells a sound document from a missing, unparseable, tampered or other-version one', async () => {
    const models = new ReadModelStore(dir);
    expect(await models.load('portfolio', doc.version)).toEqual({ status: 'missing' });
    await models.save('portfolio', doc);
    const ok = await models.load('portfolio', doc.version);
    expect(ok.status).toBe('ok');
    expect(ok.status === 'ok' && ok.document.data).toEqual(JSON.parse(canonicalJson(doc.data)));
    expect(await models.load('portfolio', '2.2-abc')).toMatchObject({
      status: 'version',
      found: doc.version,
      expected: '2.2-abc',
      document: { checkpoint: 7 },
    });

    const file = join(dir, 'portfolio.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length / 2));
    expect(await models.load('portfolio', doc.version)).toMatchObject({ status: 'unreadable', reason: expect.stringMatching(/^not JSON/) });
    writeFileSync(file, JSON.stringify({ version: 'x' }));
    expect(await models.load('portfolio', doc.version)).toMatchObject({
      status: 'unreadable',
      reason: expect.stringMatching(/not a read-model document/),
    });
    writeFileSync(file, text.replace('"z":1', '"z":2'));
    expect(await models.load('portfolio', doc.version)).toMatchObject({
      status: 'checksum',
      reason: expect.stringMatching(/checksum mismatch/),
    });
    expect(decodeDocument(text, doc.version).status).toBe('ok');
  });

  it('writes atomically: the new file replaces the old whole, and no temporary file is left', async () => {
    const models = new ReadModelStore(join(dir, 'nested', 'state'));
    await models.save('risk', doc);
    const stamp = await models.save('risk', { ...doc, checkpoint: 8, eventCount: 8 });
    expect(readdirSync(join(dir, 'nested', 'state'))).toEqual(['risk.json']);
    expect(stamp).toEqual(await models.stamp('risk'));
    const loaded = await models.load('risk', doc.version);
    expect(loaded.status === 'ok' && loaded.document.checkpoint).toBe(8);
    expect(() => models.pathOf('../evil')).toThrow(/read model name/);
  });

  it('streams a large document to disk in pieces, byte for byte what encodeDocument gives', async () => {
    const models = new ReadModelStore(dir);
    const big = { ...doc, data: { curve: Array.from({ length: 20_000 }, (_, i) => ({ i, at: `t${i}`, v: i / 7, s: 'é"\\' })) } };
    await models.save('equity', big);
    const text = readFileSync(join(dir, 'equity.json'), 'utf8');
    expect(text.length).toBeGreaterThan(5 * 64 * 1024);
    expect(text).toBe(encodeDocument(big).text);
    expect(decodeDocument(text, doc.version).status).toBe('ok');
  });

  it('leaves the file as it was when a prepared write is aborted', async () => {
    const models = new ReadModelStore(dir);
    await models.save('audit', doc);
    const before = readFileSync(join(dir, 'audit.json'), 'utf8');
    const prepared = models.prepare('audit', { ...doc, checkpoint: 9, eventCount: 9 });
    expect(readdirSync(dir).sort()).toEqual([expect.stringMatching(/^\.audit\.json\.\d+\.[0-9a-f]+\.tmp$/), 'audit.json']);
    models.abort(prepared);
    expect(readdirSync(dir)).toEqual(['audit.json']);
    expect(readFileSync(join(dir, 'audit.json'), 'utf8')).toBe(before);
  });
});
