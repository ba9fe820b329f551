import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startProjections } from '../src/projections/index.js';
import { bookStream } from '../src/events/index.js';
import { SqliteEventStore } from '../src/store/index.js';
import { lifecycle } from './data.js';
import type { Row } from './lib.js';

/** CPU seconds (utime + stime) of a process so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime), in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * 9: a `project --follow` worker (startProjections, persistEveryMs 1000) over a log of `history`
 * events, in its own process: its CPU idle (no event for `windowMs`) and with one event every
 * 500 ms (appended by this process), as % of a core, and the cost of one event (CPU with events
 * less CPU idle, over the events). Linux only (/proc).
 */
export async function follow(file: string, stateDir: string, script: string, history: number, windowMs: number): Promise<Row[]> {
  const child = spawn(process.execPath, [script, '--child', 'follow', file, stateDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the follow child exited ${code}`)));
    });
    const pid = child.pid!;
    await sleep(1500); // the first cycles after the catch-up
    const idle0 = cpuSeconds(pid);
    await sleep(windowMs);
    const idle = (cpuSeconds(pid) - idle0) / (windowMs / 1000);
    const store = SqliteEventStore.open(file);
    const stream = bookStream('big');
    const events = lifecycle(9_000_000, Date.parse('2027-01-01T00:00:00Z'));
    const busy0 = cpuSeconds(pid);
    let n = 0;
    const until = performance.now() + windowMs;
    while (performance.now() < until) {
      store.appendSync(stream, [events[n % events.length]!]);
      n += 1;
      await sleep(500);
    }
    await sleep(1200); // the last write
    const busySeconds = cpuSeconds(pid) - busy0;
    await store.close();
    const busy = busySeconds / ((windowMs + 1200) / 1000);
    const perEventMs = ((busySeconds - idle * ((windowMs + 1200) / 1000)) / n) * 1000;
    const scenario = `9 project --follow over ${history.toLocaleString('en-US')} events`;
    return [
      { scenario, metric: 'CPU idle', value: idle * 100, unit: '% of a core' },
      { scenario, metric: 'CPU, one event every 500 ms', value: busy * 100, unit: '% of a core', goal: { op: '<=', value: 2 } },
      { scenario, metric: 'cost of one event', value: perEventMs, unit: 'ms CPU' },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

export async function followChild(file: string, stateDir: string): Promise<void> {
  const handle = await startProjections({ store: `sqlite:${file}`, stateDir, persistEveryMs: 1000 });
  await handle.whenCaughtUp();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void handle.stop().then(() => process.exit(0)));
  await handle.done;
}
