import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rebuildReadModels } from '../src/projections/index.js';
import type { Row } from './lib.js';

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));

/** Preloaded into the measured process: prints its peak RSS (KB) as the last line of stderr when it exits. */
const PEAK_RSS = `data:text/javascript,process.on('exit', () => process.stderr.write('\\npeak-rss-kb ' + process.resourceUsage().maxRSS + '\\n'));`;

/**
 * 4: a fresh process rebuilds every read model from the big book, twice: into an empty state
 * directory, then over the read models the first run left (which it must not load). Events/s
 * over the child's whole wall time (process start included), and its peak RSS.
 *
 * On SQLite the process is `ptrack rebuild --json` itself, the command the issue names, given the
 * store in a config file. A server store is rebuilt by a child of this bench calling
 * rebuildReadModels, with the store string in its environment (a PostgreSQL one may hold a
 * password, which is never written to a file); its rows are named after `engine` and carry no goal.
 */
export function rebuild(store: string, stateDir: string, script: string, engine?: string): Row[] {
  const rows: Row[] = [];
  const cwd = dirname(stateDir);
  if (!engine) writeFileSync(join(cwd, 'ptrack.config.json'), JSON.stringify({ store, stateDir }));
  for (const over of ['into an empty directory', 'over existing read models']) {
    const started = performance.now();
    const run = engine
      ? spawnSync(process.execPath, [script, '--child', 'rebuild', stateDir], {
          encoding: 'utf8',
          env: { ...process.env, PTRACK_BENCH_STORE: store },
        })
      : spawnSync(process.execPath, ['--import', PEAK_RSS, BIN, 'rebuild', '--json'], {
          cwd,
          encoding: 'utf8',
          env: { ...process.env, LOG_LEVEL: 'warn' },
        });
    const wallMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`rebuild child failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as { events: number; eventsPerSecond: number; maxRssMB?: number };
    const rssKb = /peak-rss-kb (\d+)\s*$/.exec(run.stderr)?.[1];
    const maxRssMB = r.maxRssMB ?? (rssKb === undefined ? Number.NaN : Number(rssKb) / 1024);
    const scenario = `4 rebuild ${r.events.toLocaleString('en-US')} events ${over}${engine ? `, ${engine}` : ', ptrack rebuild'}`;
    rows.push(
      {
        scenario,
        metric: 'throughput, process start included',
        value: (r.events / wallMs) * 1000,
        unit: 'events/s',
        ...(engine ? {} : { goal: { op: '>=', value: 200_000 } as const }),
      },
      { scenario, metric: 'throughput inside the process', value: r.eventsPerSecond, unit: 'events/s' },
      {
        scenario,
        metric: 'peak RSS of the process',
        value: maxRssMB,
        unit: 'MB',
        ...(engine ? {} : { goal: { op: '<=', value: 150 } as const }),
      },
    );
  }
  return rows;
}

export async function rebuildChild(stateDir: string): Promise<void> {
  const store = process.env.PTRACK_BENCH_STORE;
  if (!store) throw new Error('the rebuild child reads its store from PTRACK_BENCH_STORE');
  // The first run's state directory is fresh; the second's holds what the first wrote. Without acceptRegression
  // this row times the rebuild of the read models alone. With it, the library also checks and
  // repairs the book snapshots, which folds the book a second time.
  const result = await rebuildReadModels({ store, stateDir });
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ events: result.events, eventsPerSecond: result.eventsPerSecond, maxRssMB })}\n`);
}
