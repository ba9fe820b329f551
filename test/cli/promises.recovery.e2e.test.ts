import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

/** A temp dir with a config in `mode`, its store, and an adapter whose outside system holds nothing. */
function world(onTestFinished: (fn: () => void) => void, mode: string) {
  const { dir, cleanup } = tempDir('ptrack-recovery-');
  onTestFinished(cleanup);
  const config = join(dir, 'ptrack.config.json');
  writeFileSync(config, JSON.stringify({ store: `sqlite:${join(dir, 'trades.db')}`, recovery: { mode, maxStateAgeSeconds: 3600 } }));
  const adapter = join(dir, 'adapter.mjs');
  writeFileSync(adapter, `export default { async listPositions() { return []; }, async closePosition() {} };\n`);
  const run = (...args: string[]) => runMain(['--config', config, ...args]);
  return { dir, config, adapter, run };
}

const types = (stdout: string): string[] =>
  stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { type: string }).type);

describe("#10.2 ptrack honours the config's recovery section", () => {
  it('#10.2 recovery.mode manual: ptrack reconcile opens the gate and exits 3, book commands exit 3, ptrack recover --ack lets them through', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, 'manual');
    expect((await w.run('track', 'A-1', '--symbol', 'A')).code).toBe(0);

    const started = await w.run('reconcile', '--adapter', w.adapter);
    expect(started.code, started.stderr).toBe(3);
    expect(started.stderr).toMatch(
      /^ptrack: cannot reconcile: the book waits for an operator since .*check it, then run ptrack recover --ack\n$/,
    );
    expect(types((await w.run('log', '--json')).stdout)).toEqual(['PositionTracked', 'RecoveryRequired', 'Heartbeat']);

    const refused = await w.run('enter', 'A-1', '--value', '100');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^ptrack: cannot enter "A-1": the book waits for an operator since /);
    // Through the binary too: the shell sees exit 3.
    const bin = await ptrack(['--config', w.config, 'exit', 'A-1', '--value', '100'], { cwd: w.dir, env: ENV, timeoutMs: 60_000 });
    expect(bin.code, bin.stderr).toBe(3);
    expect(bin.stderr).toMatch(/^ptrack: cannot exit "A-1": the book waits for an operator/);

    const ack = await w.run('recover', '--ack');
    expect(ack.code, ack.stderr).toBe(0);
    expect(ack.stdout).toMatch(/^acknowledged at \d{4}-.*: book main accepts commands again\n$/);
    expect(types((await w.run('log', '--json')).stdout).at(-1)).toBe('RecoveryAcknowledged');
    expect((await w.run('enter', 'A-1', '--value', '100')).code).toBe(0);
    // Acknowledging again: nothing is pending.
    expect((await w.run('recover', '--ack')).code).toBe(3);
  }, 90_000);

  it('#10.2 recovery.mode sync (the default): ptrack reconcile runs startup recovery first, and that sync is the run', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, 'sync');
    const r = await w.run('reconcile', '--adapter', w.adapter);
    expect(r.code, r.stderr).toBe(0);
    expect(types((await w.run('log', '--json')).stdout)).toEqual(['ReconciliationCompleted', 'Heartbeat']);
    // A dry run is no bot start: it appends nothing.
    expect((await w.run('reconcile', '--adapter', w.adapter, '--dry-run')).code).toBe(0);
    expect(types((await w.run('log', '--json')).stdout)).toHaveLength(2);
  }, 60_000);
});
