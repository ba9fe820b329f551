import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, type Row } from './lib.js';

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));

/** Wall time of one child process, in ms; throws when it fails. */
function timed(args: string[], cwd: string): number {
  const t = performance.now();
  const run = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  const ms = performance.now() - t;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${String(run.stderr)}`);
  return ms;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * `opens` scripted opens, one `ptrack open` process each (one append, one fsync), interleaved with
 * bare `node -e 0` processes (node, ptrack, node, ptrack, ...), so both see the same machine:
 * the medians of each, the median of the paired ratios (the goal: at most 1.5), and the opens' total.
 */
export function cliOpens(opens: number): Row[] {
  const dir = tempDir();
  try {
    writeFileSync(
      join(dir.dir, 'ptrack.config.json'),
      JSON.stringify({ store: `sqlite:${join(dir.dir, 'trades.db')}`, maxPositions: opens + 10, rejectDuplicateSymbol: false }),
    );
    timed([BIN, 'open', 'WARM', '--symbol', 'W', '--value', '100'], dir.dir); // creates the log
    const node: number[] = [];
    const cli: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < opens; i++) {
      const bare = timed(['-e', '0'], dir.dir);
      const open = timed([BIN, 'open', `P${i}`, '--symbol', `S${i % 50}`, '--value', '100', '--qty', '1', '--price', '100'], dir.dir);
      node.push(bare);
      cli.push(open);
      ratios.push(open / bare);
    }
    const head = spawnSync(process.execPath, [BIN, 'head', '--json'], { cwd: dir.dir, encoding: 'utf8' });
    const { count } = JSON.parse(head.stdout) as { count: number };
    if (count !== 2 * (opens + 1)) throw new Error(`expected ${2 * (opens + 1)} events after the opens, the log has ${count}`);
    const scenario = `cli ${opens.toLocaleString('en-US')} opens, 1 process each`;
    return [
      { scenario, metric: 'bare node -e 0, median', value: median(node), unit: 'ms' },
      { scenario, metric: 'ptrack open, median', value: median(cli), unit: 'ms' },
      { scenario, metric: 'ptrack open / node -e 0 (paired)', value: median(ratios), unit: 'x', goal: { op: '<=', value: 1.5 } },
      { scenario, metric: `${opens.toLocaleString('en-US')} opens, total`, value: cli.reduce((a, b) => a + b, 0) / 1000, unit: 's' },
    ];
  } finally {
    dir.cleanup();
  }
}
