import { spawn } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { BookState } from '../../src/commands/index.js';
import { SimulatedExchange, type ExternalSystem, type SimulatedExchangeState } from '../../src/reconcile/index.js';
import { openTracker, type OpenTrackerOptions } from '../../src/tracker/index.js';
import { present } from '../../src/_internals/present.js';
import { childScript } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Orders through SIGKILL. A child bot (test/helpers/children/orderCrash.mjs) sends seeded orders
 * (entries, market and limit, and reduces) through tracker.submitOrder to a simulated venue whose
 * state lives in a file, and is killed with SIGKILL: at a named point of the submit path (before
 * the call, after OrderRequested, after the venue placed it, after the acceptance was recorded,
 * after a resting order filled at the venue) where it stops and waits, or at a random moment.
 * After each kill a restart opens the tracker with startup recovery `sync` and checks: every
 * order the venue holds is known to the book by its client order id; no order was sent twice
 * (the venue's submit log: one submit per client order id, one venue order per signal); the
 * book's open positions equal the venue's. PTRACK_ORDER_CRASH_KILLS=1000 (npm run test:crash:orders)
 * runs the long version; PTRACK_ORDER_CRASH_SEED reproduces a run.
 */

const KILLS = Number(process.env.PTRACK_ORDER_CRASH_KILLS ?? 200);
const SEED = Number(process.env.PTRACK_ORDER_CRASH_SEED ?? 20261202);
// Generous: about 2 s a kill on a loaded 2-core machine; the bound stops a stuck run, not a slow one.
const BOUND_MS = Math.max(600_000, KILLS * 3000);
/** How many children load ahead while one runs and is checked (loading is most of a kill's cost). */
const WARM = 2;
const POINTS = ['request', 'send', 'placed', 'recorded', 'filled'] as const;
type KillAt = (typeof POINTS)[number] | 'random';

const SYMBOLS = { BTC: 60_000, ETH: 3_000, SOL: 150, AAPL: 200, MSFT: 420 };
const BOOK = {
  book: 'crash-bot',
  maxPositions: 1000,
  equity: 1_000_000_000,
  minPositionValue: 1,
  rejectDuplicateSymbol: false,
  maxConsecutiveLossesPerSymbol: null,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  recovery: { mode: 'sync' },
  reconcile: { orphans: 'adopt', phantoms: 'clear', drift: 'alert', graceSeconds: 30 },
} as const satisfies OpenTrackerOptions;
const SETTINGS = JSON.stringify({ book: BOOK, symbols: SYMBOLS });

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  /** Killed where: a named point it reached, 'random' (killed while running), or null (it finished first). */
  killedAt: KillAt | null;
  sent: number;
}

/** A child that has loaded its modules and waits for its go (started while the last one is checked). */
interface Warm {
  go(at: KillAt, index: number, orders: number, delayMs: number): Promise<Run>;
  stop(): void;
}

function warmChild(script: string, dir: string, seed: number): Warm {
  const child = spawn(process.execPath, [script, dir, String(seed), SETTINGS], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    stop: () => child.kill('SIGKILL'),
    go: async (at, index, orders, delayMs) => {
      let killedAt: KillAt | null = null;
      const kill = (where: KillAt): void => {
        if (killedAt !== null) return;
        killedAt = where;
        child.kill('SIGKILL');
      };
      let armed = false;
      const onData = (): void => {
        if (armed) return;
        if (at === 'random' && /^ready /m.test(out)) {
          armed = true;
          setTimeout(() => kill('random'), delayMs);
        } else if (at !== 'random' && new RegExp(`^at ${at} `, 'm').test(out)) {
          armed = true;
          kill(at);
        }
      };
      child.stdout.on('data', onData);
      onData();
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdin.write(`go ${at === 'random' ? 'none' : at} ${index} ${orders}\n`);
      const { code, signal } = await closed;
      clearTimeout(guard);
      const sent = out.split('\n').filter((l) => l.startsWith('sent ')).length;
      if (signal === 'SIGKILL' && killedAt !== null) return { killedAt, sent };
      if (code === 0 && /^done$/m.test(out)) return { killedAt: null, sent };
      throw new Error(`the crash child ended by itself or hung (code ${code}, ${signal}); stdout: ${out}\nstderr: ${err}`);
    },
  };
}

/**
 * The child bundled into one file (with esbuild, as the CLI is): a child loads in a fraction of
 * the time hundreds of modules take, which is most of a kill's cost. Beside it, a link to
 * node_modules for the native and lazily loaded packages it leaves out.
 */
async function bundleChild(dir: string): Promise<string> {
  const outfile = join(dir, 'orderCrash.mjs');
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  await build({
    entryPoints: [childScript('orderCrash.mjs')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'pino', 'pino-pretty', '@eventstore/db-client', 'pg'],
    banner: { js: "import { createRequire as __crashRequire } from 'node:module'; const require = __crashRequire(import.meta.url);" },
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** The venue from its file, as a port whose every call is saved back (the restart's reconciliation may act on it). */
function venueFrom(dir: string, seed: number): { exchange: SimulatedExchange; venue: ExternalSystem; now: () => Date } {
  const file = join(dir, 'venue.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { clockMs: number; exchange: SimulatedExchangeState };
  const clockMs = saved.clockMs + 30_000;
  const now = (): Date => new Date(clockMs);
  const exchange = new SimulatedExchange({ seed, clock: now, symbols: SYMBOLS }, saved.exchange);
  const save = (): void => writeAtomically(file, JSON.stringify({ clockMs, exchange: exchange.snapshot() }));
  const venue = new Proxy(exchange, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
        } finally {
          save();
        }
      };
    },
  });
  return { exchange, venue, now };
}

/** What the checks found wrong after a restart (empty when all hold). */
function problems(book: BookState, exchange: SimulatedExchange): string[] {
  const out: string[] = [];
  const log = exchange.orderLog();
  // Every order the venue holds is known to the book by its client order id.
  for (const o of log.orders) {
    if (!book.orders.has(o.clientOrderId)) out.push(`venue order ${o.clientOrderId} (${o.externalOrderId}) is unknown to the book`);
  }
  // None sent twice: one submit per client order id at the venue (placed or refused), one venue order per signal.
  const submits = new Map<string, number>();
  for (const id of [...log.orders.map((o) => o.clientOrderId), ...log.rejections.map((r) => r.clientOrderId)]) {
    submits.set(id, (submits.get(id) ?? 0) + 1);
  }
  for (const [id, n] of submits) if (n > 1) out.push(`client order id ${id} reached the venue ${n} times`);
  const perSignal = new Map<string, string[]>();
  for (const o of log.orders) {
    const key = book.orders.get(o.clientOrderId)?.orderKey ?? `(unknown: ${o.clientOrderId})`;
    perSignal.set(key, [...(perSignal.get(key) ?? []), o.clientOrderId]);
  }
  for (const [key, ids] of perSignal) if (ids.length > 1) out.push(`signal ${key} became ${ids.length} venue orders: ${ids.join(', ')}`);
  // The book's open positions equal the venue's, by id and quantity.
  const outside = new Map((exchange.snapshot().positions ?? []).map((p) => [p.id, p.quantity]));
  const here = new Map<string, number>();
  for (const p of book.positions.values()) if (p.status === 'IN') here.set(p.id, p.quantity ?? Number.NaN);
  for (const [id, q] of outside) {
    const mine = here.get(id);
    if (mine === undefined) out.push(`position ${id} is open at the venue (${q}) and not in the book`);
    else if (!(Math.abs(mine - q) <= 1e-6 * Math.max(1, q))) out.push(`position ${id}: the book holds ${mine}, the venue ${q}`);
  }
  for (const [id, q] of here) if (!outside.has(id)) out.push(`position ${id} is IN in the book (${q}) and not open at the venue`);
  return out;
}

describe('orders through SIGKILL (the submit path, a venue that keeps its state in a file)', () => {
  it(
    `after each of ${KILLS} kills and a restart with sync recovery, the book knows every venue order, none was sent twice, positions equal the venue's (seed ${SEED})`,
    async () => {
      console.log(
        `orders crash: ${KILLS} kills, seed ${SEED} (PTRACK_ORDER_CRASH_SEED=${SEED} PTRACK_ORDER_CRASH_KILLS=${KILLS} reproduces it)`,
      );
      const random = mulberry32(SEED);
      const { dir: root, cleanup } = tempDir('ptrack-order-crash-');
      const dir = join(root, 'bot');
      mkdirSync(dir);
      const script = await bundleChild(root);
      const started = Date.now();
      const deadline = started + BOUND_MS;
      const byPoint = new Map<KillAt, number>();
      let kills = 0;
      let runs = 0;
      let sent = 0;
      let childMs = 0;
      let checkMs = 0;
      // Children load ahead (WARM of them), each waiting for its go before it touches the files.
      const warm = Array.from({ length: WARM }, () => warmChild(script, dir, SEED));
      try {
        while (kills < KILLS && Date.now() < deadline) {
          runs++;
          const roll = random();
          const at: KillAt = roll < 0.25 ? 'random' : POINTS[Math.floor(random() * POINTS.length)]!;
          const index = Math.floor(random() * 3);
          const t0 = Date.now();
          const next = present(warm.shift(), 'a warm child');
          warm.push(warmChild(script, dir, SEED));
          const run = await next.go(at, index, at === 'random' ? 30 : index + 8, Math.floor(random() * 120));
          sent += run.sent;
          if (run.killedAt !== null) {
            kills++;
            byPoint.set(run.killedAt, (byPoint.get(run.killedAt) ?? 0) + 1);
          }
          if (!existsSync(join(dir, 'venue.json'))) continue; // killed before the venue was first saved

          const t1 = Date.now();
          childMs += t1 - t0;
          // The restart: a tracker opened on the same files with startup recovery sync.
          const { exchange, venue, now } = venueFrom(dir, SEED);
          const tracker = await openTracker({ ...BOOK, store: `sqlite:${join(dir, 'trades.db')}`, now, external: venue });
          try {
            expect(tracker.recovery?.mode, `recovery after run ${runs}`).toBe('sync');
            expect(tracker.recovery?.errors, `recovery errors after run ${runs}`).toEqual([]);
            const found = problems(await tracker.state(), exchange);
            expect(found, `after run ${runs} (killed at ${run.killedAt ?? 'nothing: it finished'}), seed ${SEED}`).toEqual([]);
          } finally {
            await tracker.close();
            checkMs += Date.now() - t1;
          }
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(
          `orders crash: ${kills} kills in ${runs} runs, ${seconds} s (children ${(childMs / 1000).toFixed(1)} s, restarts and checks ${(checkMs / 1000).toFixed(1)} s); ${sent} orders sent; kills by point: ${[...byPoint].map(([p, n]) => `${p} ${n}`).join(', ')}`,
        );
        expect(kills, `only ${kills} of ${KILLS} kills fit in the time bound`).toBe(KILLS);
        // Every named point was reached (each is a kill of its own), and random kills happened.
        for (const p of [...POINTS, 'random' as const]) expect(byPoint.get(p) ?? 0, `kills at ${p}`).toBeGreaterThan(0);
      } finally {
        for (const w of warm) w.stop();
        cleanup();
      }
    },
    BOUND_MS + 60_000,
  );
});
