import { spawnSync } from 'node:child_process';
import { rebuildReadModels } from '../src/projections/index.js';
import type { Row } from './lib.js';

/**
 * 4: a fresh process rebuilds every read model from the big book; events/s and its peak RSS. The
 * store string goes to the child in its environment (a PostgreSQL one may hold a password).
 * `engine` names the rows of a store other than SQLite, without the issue's goals (set for SQLite).
 */
/**
 * 4: a fresh process rebuilds every read model from the big book, twice: into an empty state
 * directory, then over the read models the first run left (which it must not load). Events/s
 * over the child's whole wall time (process start included), and its peak RSS.
 */
export function rebuild(store: string, stateDir: string, script: string, engine?: string): Row[] {
  const rows: Row[] = [];
  for (const over of ['into an empty directory', 'over existing read models']) {
    const started = performance.now();
    const run = spawnSync(process.execPath, [script, '--child', 'rebuild', stateDir], {
      encoding: 'utf8',
      env: { ...process.env, PTRACK_BENCH_STORE: store },
    });
    const wallMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`rebuild child failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as { events: number; eventsPerSecond: number; maxRssMB: number };
    const scenario = `4 rebuild ${r.events.toLocaleString('en-US')} events ${over}${engine ? `, ${engine}` : ''}`;
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
        value: r.maxRssMB,
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
