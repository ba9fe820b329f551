import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('config file boundary', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('#10.26 a "__proto__" key is refused, at the top and nested, and sets nothing', () => {
    const top = () => parseConfigText('{ "__proto__": { "maxPositions": 1 } }', 'c.json');
    expect(top).toThrow(ValidationError);
    expect(top).toThrow(/__proto__/);
    const nested = () => parseConfigText('{ "reconcile": { "__proto__": { "orphans": "manual" } } }', 'c.json');
    expect(nested).toThrow(ValidationError);
    expect(nested).toThrow(/reconcile\.__proto__/);
    const inRecord = () => parseConfigText('{ "reconcile": { "perSymbol": { "__proto__": { "orphans": "manual" } } } }', 'c.json');
    expect(inRecord).toThrow(/perSymbol\.__proto__/);
  });

  it('#10.26 a UTF-8 byte-order mark is skipped', () => {
    const config = parseConfigText('\uFEFF{ "book": "bom", "maxPositions": 4 }', 'c.json');
    expect(config).toMatchObject({ book: 'bom', maxPositions: 4 });
  });

  it('#10.26 a deeply nested file is a ValidationError naming the depth, not a stack overflow', () => {
    for (const text of ['['.repeat(200_000), `{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_001)}`]) {
      let thrown: unknown;
      try {
        parseConfigText(text, 'deep.json');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as Error).message).toMatch(/^deep\.json: nested deeper than \d+ levels at line 1/);
    }
  });

  it('#10.5 relative store and stateDir in a named config file resolve against its directory, not the cwd', () => {
    const confDir = join(dir, 'etc');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(confDir);
    mkdirSync(elsewhere);
    const file = join(confDir, 'bot.json');
    writeFileSync(file, '{ "store": "sqlite:./data/trades.db", "stateDir": "models" }');
    for (const named of [{ file }, { env: { PTRACK_CONFIG: file } }]) {
      const { config } = loadConfig({ cwd: elsewhere, ...named });
      expect(config.store).toBe(`sqlite:${join(confDir, 'data', 'trades.db')}`);
      expect(config.stateDir).toBe(join(confDir, 'models'));
    }
    // sqlite:// spelling too; absolute paths and other engines are untouched.
    writeFileSync(file, '{ "store": "sqlite://data/t.db" }');
    expect(loadConfig({ cwd: elsewhere, file }).config.store).toBe(`sqlite:${join(confDir, 'data', 't.db')}`);
    writeFileSync(file, `{ "store": "sqlite:${join(dir, 'abs.db')}" }`);
    expect(loadConfig({ cwd: elsewhere, file }).config.store).toBe(`sqlite:${join(dir, 'abs.db')}`);
    writeFileSync(file, '{ "store": "memory:" }');
    expect(loadConfig({ cwd: elsewhere, file }).config.store).toBe('memory:');
  });

  it('#10.5 ./ptrack.config.json in the cwd resolves against the cwd, and --store overrides stay as given', () => {
    writeFileSync(join(dir, 'ptrack.config.json'), '{ "store": "sqlite:./s/t.db" }');
    expect(loadConfig({ cwd: dir }).config.store).toBe(`sqlite:${join(dir, 's', 't.db')}`);
    expect(loadConfig({ cwd: dir, overrides: { store: 'sqlite:./other.db' } }).config.store).toBe('sqlite:./other.db');
  });
});
