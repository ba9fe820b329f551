import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, type Row } from './lib.js';

/** The package's `ptrack` (what `npx ptrack` and an installed bin run): book commands start from the CLI's snapshot. */
const BIN = fileURLToPath(new URL('../../bin/ptrack', import.meta.url));
const BLOB = fileURLToPath(new URL('../../dist/cli/ptrack.blob', import.meta.url));
/** How often (every n-th open) the same open also runs without the snapshot, for the before/after. */
const WITHOUT_SNAPSHOT_EVERY = 10;

/** Wall time of one child process, in ms; throws when it fails. */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const run = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
  const ms = performance.now() - t;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}: ${String(run.stderr)}`);
  return ms;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * `opens` scripted opens, one `bin/ptrack open` process each (one append, one fsync), interleaved with
 * bare `node -e 0` processes (node, ptrack, node, ptrack, ...), so both see the same machine:
 * the medians of each, the median of the paired ratios (the goal: at most 1.5), and the opens' total.
 * Every tenth round also runs one open with PTRACK_NO_SNAPSHOT=1 (bin/ptrack.js, no startup
 * snapshot): the same command before the snapshot, paired with the same round's bare node.
 */
export function cliOpens(opens: number): Row[] {
  if (!existsSync(BLOB)) throw new Error(`${BLOB} is missing: npm run build makes the CLI's startup snapshot`);
  const dir = tempDir();
  try {
    writeFileSync(
      join(dir.dir, 'ptrack.config.json'),
      JSON.stringify({
        store: `sqlite:${join(dir.dir, 'trades.db')}`,
        maxPositions: opens + Math.ceil(opens / WITHOUT_SNAPSHOT_EVERY) + 10,
        rejectDuplicateSymbol: false,
      }),
    );
    const open = (id: string, env?: NodeJS.ProcessEnv): number =>
      timed(BIN, ['open', id, '--symbol', id, '--value', '100', '--qty', '1', '--price', '100'], dir.dir, env);
    open('WARM'); // creates the log
    const node: number[] = [];
    const cli: number[] = [];
    const ratios: number[] = [];
    const js: number[] = [];
    const jsRatios: number[] = [];
    for (let i = 0; i < opens; i++) {
      const bare = timed(process.execPath, ['-e', '0'], dir.dir);
      const ms = open(`P${i}`);
      node.push(bare);
      cli.push(ms);
      ratios.push(ms / bare);
      if (i % WITHOUT_SNAPSHOT_EVERY === 0) {
        const without = open(`J${i}`, { PTRACK_NO_SNAPSHOT: '1' });
        js.push(without);
        jsRatios.push(without / bare);
      }
    }
    const head = spawnSync(BIN, ['head', '--json'], { cwd: dir.dir, encoding: 'utf8' });
    const { count } = JSON.parse(head.stdout) as { count: number };
    const expected = 2 * (opens + js.length + 1);
    if (count !== expected) throw new Error(`expected ${expected} events after the opens, the log has ${count}`);
    const scenario = `cli ${opens.toLocaleString('en-US')} opens, 1 process each`;
    return [
      { scenario, metric: 'bare node -e 0, median', value: median(node), unit: 'ms' },
      { scenario, metric: 'ptrack open, median', value: median(cli), unit: 'ms' },
      { scenario, metric: 'ptrack open / node -e 0 (paired)', value: median(ratios), unit: 'x', goal: { op: '<=', value: 1.5 } },
      { scenario, metric: `${opens.toLocaleString('en-US')} opens, total`, value: cli.reduce((a, b) => a + b, 0) / 1000, unit: 's' },
      { scenario, metric: `without the snapshot (${js.length} opens), median`, value: median(js), unit: 'ms' },
      { scenario, metric: 'without the snapshot / node -e 0 (paired)', value: median(jsRatios), unit: 'x' },
    ];
  } finally {
    dir.cleanup();
  }
}
