#!/usr/bin/env node
/*
 * The soak run of `ptrack serve` (off CI): the daemon with the simulated exchange as its adapter,
 * reconciling every second, while this script drives commands into the same log at a steady rate
 * (track, enter, exit, through the library in this process: another writer, as a bot would be).
 * Every --sample seconds it reads the daemon's resident memory (VmRSS) and open file descriptors
 * from /proc, and at the end prints the samples and a verdict: the last minute's medians against
 * the minute after --warmup (the second minute by default: the first is warm-up), flat when memory grew by at most --max-growth % and
 * descriptors by at most 5. Exit 0 flat, 1 not flat, 2 bad arguments or a failed run.
 * Each sample also reads the daemon's V8 heap in use and its external memory from its own
 * `/metrics`, so a rise in RSS can be told apart: the heap growing (live objects: a leak, or data
 * the read models hold) or the process keeping pages it freed. With --heap-snapshots the daemon
 * writes a V8 heap snapshot (a full collection first) at the start of the compared windows and at
 * the end, and the script prints which kinds of object grew between them.
 *
 *   npm run soak -- --minutes 10            # the documented run (10 minutes)
 *   npm run soak -- --seconds 20 --json     # a quick check of the script itself
 *
 * Needs a build (`npm run build`; `npm run soak` builds first) and Linux (/proc).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'ptrack.js');
const DIST = join(ROOT, 'dist', 'index.js');

function fail(message) {
  process.stderr.write(`soak: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      sample: { type: 'string', default: '10' },
      rate: { type: 'string', default: '2' },
      'max-growth': { type: 'string', default: '15' },
      warmup: { type: 'string' },
      json: { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  fail(`${error.message} (run with --help)`);
}
if (args.help) {
  process.stdout.write(
    [
      'usage: npm run soak -- [--minutes N | --seconds N] [--sample S] [--rate R] [--max-growth P] [--json]',
      '  --minutes N      how long (1 to 60; default 10)',
      '  --seconds N      how long, in seconds instead (10 to 3600), for a quick check',
      '  --sample S       seconds between samples of RSS and open fds (1 to 60; default 10)',
      '  --rate R         commands per second driven into the log (0.1 to 50; default 2)',
      '  --max-growth P   % of memory growth still called flat (default 15)',
      '  --warmup S       seconds left out before the early window the end is compared with',
      '                   (default 60: the second minute; 0 for runs under 3 minutes)',
      '  --json           print the samples and the verdict as one JSON line',
      '  --heap-snapshots write heap snapshots (early and at the end) and print the object kinds that grew;',
      '                   writing one costs the daemon memory of its own, so judge RSS on a run without it',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

/** A number flag within bounds, or a clear error naming it. */
function bounded(name, text, min, max) {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    fail(`--${name}: expected a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

if (args.minutes !== undefined && args.seconds !== undefined) fail('--minutes and --seconds: give one of them');
const durationS =
  args.seconds !== undefined ? bounded('seconds', args.seconds, 10, 3600) : bounded('minutes', args.minutes ?? '10', 1, 60) * 60;
const sampleS = bounded('sample', args.sample, 1, 60);
const rate = bounded('rate', args.rate, 0.1, 50);
const maxGrowth = bounded('max-growth', args['max-growth'], 0, 1000);
// The compared windows: a minute each (a third of a short run), the early one after the warm-up.
const window = durationS >= 180 ? 60 : Math.max(1, Math.floor(durationS / 3));
const earlyFrom = bounded('warmup', args.warmup ?? (durationS >= 180 ? '60' : '0'), 0, Math.max(0, durationS - 2 * window));
if (!existsSync(DIST) || !existsSync(join(ROOT, 'dist', 'cli', 'ptrack.mjs'))) fail('no build: run npm run build first');
if (!existsSync('/proc/self/status')) fail('needs /proc (Linux) to read the daemon’s memory and descriptors');

const { openTracker } = await import(pathToFileURL(DIST).href);

const dir = mkdtempSync(join(tmpdir(), 'ptrack-soak-'));
const store = `sqlite:${join(dir, 'trades.db')}`;
const config = join(dir, 'ptrack.config.json');
writeFileSync(
  config,
  JSON.stringify({
    store,
    // Positions exit and are archived while the run lasts, so the book stays the same size.
    exitedCleanupSeconds: 5,
    recovery: { mode: 'restore' },
    // Orphans are closed at the venue (after a second look), so the book stays the size the driver makes it.
    reconcile: { everySeconds: 1, orphans: 'close', phantoms: 'clear', drift: 'correct' },
    serve: { heartbeatSeconds: 5, archiveEverySeconds: 2 },
  }),
);
// The adapter: the simulated exchange, with an orphan appearing at it now and then (closed by the runs).
const venue = join(dir, 'venue.mjs');
writeFileSync(
  venue,
  `import { SimulatedExchange } from ${JSON.stringify(pathToFileURL(DIST).href)};
const exchange = new SimulatedExchange({ seed: 7, clock: () => new Date() });
setInterval(() => exchange.injectOrphan(), 15_000).unref();
export default exchange;
`,
);

let child;
let tracker;
const cleanup = async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 15_000);
      child.once('close', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  await tracker?.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startDaemon() {
  const nodeFlags = args['heap-snapshots'] ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : [];
  child = spawn(
    process.execPath,
    [...nodeFlags, BIN, '--config', config, 'serve', '--adapter', venue, '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: dir,
      env: { ...process.env, PTRACK_CONFIG: undefined, LOG_LEVEL: 'warn', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (url) return { url, stderr: () => err };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`ptrack serve did not start: ${out} ${err}`);
    await sleep(50);
  }
}

/** One line of the daemon's own `/metrics` (prom-client's process defaults), in MB; NaN if absent. */
function metricMb(text, name) {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Math.round((Number(m[1]) / 1048576) * 10) / 10 : NaN;
}

async function sampleOf(pid, url, startedAt, head) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  let metrics = '';
  try {
    metrics = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  } catch {
    // A scrape that fails leaves the heap figures out of this sample (NaN), not the run.
  }
  return {
    t: Math.round((Date.now() - startedAt) / 1000),
    rssMb: Math.round((rssKb / 1024) * 10) / 10,
    heapMb: metricMb(metrics, 'ptrack_nodejs_heap_size_used_bytes'),
    externalMb: metricMb(metrics, 'ptrack_nodejs_external_memory_bytes'),
    fds,
    head,
  };
}

/** Asks the daemon for a heap snapshot (SIGUSR2) and waits until the file is whole (it parses). */
async function heapSnapshot(pid) {
  const before = new Set(readdirSync(dir).filter((n) => n.endsWith('.heapsnapshot')));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    await sleep(1000);
    const file = readdirSync(dir).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    if (!file) continue;
    try {
      return summarizeSnapshot(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    } catch {
      // Still being written.
    }
  }
  throw new Error('the daemon wrote no heap snapshot within 180 s');
}

/** Live objects by kind (constructor for objects and closures, the node type otherwise): count and bytes. */
function summarizeSnapshot(snap) {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + iType]];
    const size = snap.nodes[i + iSize];
    const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + iName]]}` : `(${type})`;
    const k = kinds.get(key) ?? { count: 0, bytes: 0 };
    k.count += 1;
    k.bytes += size;
    kinds.set(key, k);
    total += size;
  }
  return { totalMb: Math.round((total / 1048576) * 10) / 10, kinds };
}

/** The kinds that grew most in bytes between two snapshots. */
function heapGrowth(early, late, top = 12) {
  const rows = [];
  for (const [key, l] of late.kinds) {
    const e = early.kinds.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ kind: key.slice(0, 80), count: l.count - e.count, kb: Math.round((l.bytes - e.bytes) / 1024) });
  }
  rows.sort((a, b) => b.kb - a.kb);
  return { earlyMb: early.totalMb, lateMb: late.totalMb, grew: rows.slice(0, top) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let code = 0;
try {
  const daemon = await startDaemon();
  tracker = await openTracker({ store, exitedCleanupSeconds: 5 });
  const startedAt = Date.now();
  const endAt = startedAt + durationS * 1000;
  const samples = [];
  let commands = 0;
  let refused = 0;
  const refusals = new Map();
  let n = 0;
  let nextSample = startedAt;
  const gap = 1000 / rate;
  // The early heap snapshot is taken where the compared early window starts (see the verdict).
  let earlySnapshot;
  if (!args.json)
    process.stderr.write(
      `soak: ptrack serve at ${daemon.url} (pid ${child.pid}), ${durationS} s, ${rate} commands/s, a sample every ${sampleS} s\n`,
    );
  while (Date.now() < endAt) {
    if (child.exitCode !== null) throw new Error(`ptrack serve exited (${child.exitCode}) during the run: ${daemon.stderr()}`);
    const tick = Date.now();
    // One command per tick, cycling track -> enter -> exit over ids.
    const id = `SOAK-${Math.floor(n / 3)}`;
    const step = n % 3;
    n += 1;
    try {
      if (step === 0) await tracker.track(id, { symbol: ['BTC', 'ETH', 'SOL'][Math.floor(n / 3) % 3] });
      else if (step === 1) await tracker.enter(id, { value: 100 });
      else await tracker.exit(id, { value: 101 });
      commands += 1;
    } catch (error) {
      // A rule may refuse (reconciliation cleared the position first: a phantom); the run goes on, counting why.
      refused += 1;
      const why = String(error?.message ?? error)
        .split('\n')[0]
        .replace(/SOAK-\d+/g, 'SOAK-n')
        .slice(0, 160);
      refusals.set(why, (refusals.get(why) ?? 0) + 1);
    }
    if (Date.now() >= nextSample) {
      const head = (await tracker.store.head()).position;
      samples.push(await sampleOf(child.pid, daemon.url, startedAt, head));
      nextSample += sampleS * 1000;
      if (!args.json) {
        const s = samples.at(-1);
        process.stderr.write(
          `soak: ${String(s.t).padStart(5)} s  rss ${s.rssMb} MB  heap ${s.heapMb} MB  fds ${s.fds}  log head ${s.head}\n`,
        );
      }
      if (args['heap-snapshots'] && !earlySnapshot && Date.now() - startedAt >= earlyFrom * 1000) {
        earlySnapshot = await heapSnapshot(child.pid);
        if (!args.json) process.stderr.write(`soak: heap snapshot at ${samples.at(-1).t} s: ${earlySnapshot.totalMb} MB live\n`);
      }
    }
    await sleep(Math.max(0, gap - (Date.now() - tick)));
  }
  const health = await (await fetch(`${daemon.url}/api/health`, { signal: AbortSignal.timeout(10_000) })).json();
  const runs = health.reconciliation?.scheduler?.runs ?? null;

  // The minute after the warm-up (by default the second) against the last; a short run compares its first and last thirds.
  const early = samples.filter((s) => s.t >= earlyFrom && s.t < earlyFrom + window);
  const late = samples.filter((s) => s.t >= durationS - window);
  const rssEarly = Math.round(median(early.map((s) => s.rssMb)) * 10) / 10;
  const rssLate = Math.round(median(late.map((s) => s.rssMb)) * 10) / 10;
  const fdEarly = median(early.map((s) => s.fds));
  const fdLate = median(late.map((s) => s.fds));
  const growthPct = Math.round(((rssLate - rssEarly) / rssEarly) * 1000) / 10;
  const round1 = (x) => Math.round(x * 10) / 10;
  const heapEarly = round1(median(early.map((s) => s.heapMb).filter(Number.isFinite)));
  const heapLate = round1(median(late.map((s) => s.heapMb).filter(Number.isFinite)));
  const heap = earlySnapshot ? heapGrowth(earlySnapshot, await heapSnapshot(child.pid)) : undefined;
  const flat = Number.isFinite(growthPct) && growthPct <= maxGrowth && fdLate - fdEarly <= 5;
  code = flat ? 0 : 1;
  const verdict = {
    seconds: durationS,
    windows: { early: [earlyFrom, earlyFrom + window], late: [durationS - window, durationS] },
    daemonPid: child.pid,
    commands,
    refused,
    refusals: Object.fromEntries(refusals),
    reconciliations: runs,
    rssMb: { first: samples[0]?.rssMb, early: rssEarly, late: rssLate, last: samples.at(-1)?.rssMb, growthPct },
    heapMb: { early: heapEarly, late: heapLate },
    fds: { first: samples[0]?.fds, early: fdEarly, late: fdLate, last: samples.at(-1)?.fds },
    ...(heap ? { heapSnapshots: heap } : {}),
    flat,
  };
  if (args.json) process.stdout.write(`${JSON.stringify({ samples, verdict })}\n`);
  else {
    const cols = [7, 9, 10, 9, 5, 9];
    const row = (xs) => `${xs.map((x, i) => String(x).padStart(cols[i])).join(' ')}\n`;
    process.stdout.write(row(['t (s)', 'rss (MB)', 'heap (MB)', 'ext (MB)', 'fds', 'log head']));
    for (const s of samples) process.stdout.write(row([s.t, s.rssMb, s.heapMb, s.externalMb, s.fds, s.head]));
    if (heap) {
      process.stdout.write(`heap snapshots: ${heap.earlyMb} MB live at ${earlyFrom} s, ${heap.lateMb} MB at the end; grew most:\n`);
      for (const g of heap.grew)
        process.stdout.write(`  ${String(g.kb).padStart(8)} KB ${String(g.count).padStart(8)} objects  ${g.kind}\n`);
    }
    process.stdout.write(
      `${[...refusals].map(([why, k]) => `refused ${k}x: ${why}\n`).join('')}${durationS} s, ${commands} commands (${refused} refused), ${runs ?? '?'} reconciliations: rss ${rssEarly} -> ${rssLate} MB (${growthPct >= 0 ? '+' : ''}${growthPct} %), heap in use ${heapEarly} -> ${heapLate} MB, fds ${fdEarly} -> ${fdLate}: ${flat ? 'flat' : 'NOT flat'}\n`,
    );
  }
} catch (error) {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  code = 2;
} finally {
  await cleanup();
}
process.exit(code);
