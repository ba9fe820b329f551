import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticFile } from '../../src/serve/staticFiles.js';
import { tempDir } from '../helpers/tmp.js';

describe('#14 the dashboard files', () => {
  it("serves index.html at / and the folder's own files with their content types, and nothing outside it", async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-static-');
    onTestFinished(cleanup);
    const site = join(dir, 'dashboard');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<!doctype html>');
    writeFileSync(join(site, 'app.js'), 'export {}');
    writeFileSync(join(site, 'uPlot.min.css'), 'a{}');
    writeFileSync(join(dir, 'secret.json'), '{"token":"x"}');
    mkdirSync(join(site, 'sub'));
    writeFileSync(join(site, 'sub', 'x.js'), '1');

    expect(await staticFile(site, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: Buffer.from('<!doctype html>') });
    expect(await staticFile(site, '/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await staticFile(site, '/uPlot.min.css')).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' });
    for (const path of [
      '/../secret.json',
      '/%2e%2e/secret.json',
      '/..%2fsecret.json',
      '/sub/x.js',
      '/.hidden.js',
      '/missing.js',
      '/%',
      '/app.exe',
    ])
      expect(await staticFile(site, path), path).toEqual({ status: 404 });
  });
});
