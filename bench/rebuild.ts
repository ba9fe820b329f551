import { spawnSync } from 'node:child_process';
import { rebuildReadModels } from '../src/projections/index.js';
import type { Row } from './lib.js';

/** 4: a fresh process rebuilds every read model from the big book; events/s and its peak RSS. */
export function rebuild(file: string, stateDir: string, script: string): Row[] {
  const run = spawnSync(process.execPath, [script, '--child', 'rebuild', file, stateDir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`rebuild child failed: ${run.stderr}`);
  const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as { events: number; eventsPerSecond: number; maxRssMB: number };
  return [
    {
      scenario: `4 rebuild ${r.events.toLocaleString('en-US')} events`,
      metric: 'throughput',
      value: r.eventsPerSecond,
      unit: 'events/s',
      goal: { op: '>=', value: 250_000 },
    },
    {
      scenario: `4 rebuild ${r.events.toLocaleString('en-US')} events`,
      metric: 'peak RSS of the process',
      value: r.maxRssMB,
      unit: 'MB',
      goal: { op: '<=', value: 150 },
    },
  ];
}

export async function rebuildChild(file: string, stateDir: string): Promise<void> {
  // The state directory is fresh, so there is nothing to regress against. Without acceptRegression
  // this row times the rebuild of the read models alone. With it, the library also checks and
  // repairs the book snapshots, which folds the book a second time.
  const result = await rebuildReadModels({ store: `sqlite:${file}`, stateDir });
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ events: result.events, eventsPerSecond: result.eventsPerSecond, maxRssMB })}\n`);
}
