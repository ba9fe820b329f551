import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { defaultConfigText, parseConfigText, TrackerConfig } from '../../src/config/index.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

describe('#10.27 ptrack init writes every key', () => {
  it('#10.27 the file init writes has every key of the schema, each with a comment, and reads back as the defaults', async ({
    onTestFinished,
  }) => {
    const { dir, cleanup } = tempDir('ptrack-init-');
    onTestFinished(cleanup);
    const file = join(dir, 'ptrack.config.json');
    const store = `sqlite:${join(dir, 'trades.db')}`;
    const r = await runMain(['--config', file, '--store', store, 'init']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(defaultConfigText({ store }));

    const written = Object.keys(parseJsonc(text) as Record<string, unknown>);
    const keys = Object.keys(TrackerConfig.shape);
    expect([...written].sort()).toEqual([...keys].sort());
    for (const key of ['reconcile', 'recovery', 'logLevel']) expect(written).toContain(key);
    for (const key of keys) {
      // The line above each key is its comment.
      expect(text, key).toMatch(new RegExp(`\\n  // [^\\n]+\\n  "${key}": `));
    }
    const { logLevel, ...rest } = parseConfigText(text, file);
    const { logLevel: unset, ...defaults } = TrackerConfig.parse({ store });
    expect(rest).toEqual(defaults);
    // Unset means warn for the CLI; init spells it out.
    expect(unset).toBeUndefined();
    expect(logLevel).toBe('warn');
  });
});
