import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { SqliteEventStore, readWholeStream } from '../../src/store/index.js';
import { childScript } from '../helpers/children.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A child appends 5-event batches in a loop and prints an ack after each append returned;
 * we SIGKILL it at random moments. After every kill the log must open, hold every acked
 * batch, hold no partial batch, and have contiguous revisions.
 * PTRACK_CRASH_KILLS=1000 (npm run test:crash) runs the long version.
 */
const KILLS = Number(process.env.PTRACK_CRASH_KILLS ?? 20);
const BOUND_MS = Math.max(300_000, KILLS * 3000);
const SEED = Number(process.env.PTRACK_CRASH_SEED ?? 20261121);
const BATCH = 5;

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

function runAndKill(file: string, tag: string, delayAfterStartMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript('appendLoop.mjs'), file, tag, String(BATCH)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killed = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    // Kill at a random moment after the first ack (so most kills land mid-loop), or earlier.
    child.stdout.on('data', (d: Buffer) => {
      const first = out === '';
      out += d.toString();
      if (first) setTimeout(kill, delayAfterStartMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(kill, 5000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') return reject(new Error(`child ended by itself (${signal}): ${err}`));
      // Only complete lines were acknowledged; a torn last line was not.
      const lines = out
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.startsWith('ack '));
      resolve(lines.map((l) => l.split(' ')[1]!));
    });
  });
}

async function collect(store: SqliteEventStore, fromRevision: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of readWholeStream(store, 'tradelog-crash', { fromRevision })) out.push(e);
  return out;
}

/** Groups events (starting at revision `from`) into batches: contiguous revisions, every batch whole. */
function batchesOf(events: readonly RecordedEvent[], from: number, kill: number): Map<string, number> {
  const batches = new Map<string, number[]>();
  events.forEach((event, i) => {
    expect(event.revision, `revision after kill ${kill}`).toBe(from + i);
    const id = event.metadata.correlationId!;
    batches.set(id, [...(batches.get(id) ?? []), event.revision]);
  });
  const sizes = new Map<string, number>();
  for (const [id, revisions] of batches) {
    expect(revisions.length, `batch ${id} after kill ${kill}`).toBe(BATCH);
    expect(revisions[BATCH - 1]! - revisions[0]!, `batch ${id} is contiguous`).toBe(BATCH - 1);
    sizes.set(id, revisions.length);
  }
  return sizes;
}

describe('crash safety (SIGKILL during appends)', () => {
  it(
    `keeps every acknowledged batch and no partial batch over ${KILLS} kills (seed ${SEED})`,
    async () => {
      console.log(`crash safety: ${KILLS} kills, seed ${SEED} (PTRACK_CRASH_SEED=${SEED} reproduces the kill timings)`);
      const random = mulberry32(SEED);
      const { dir, cleanup } = tempDir();
      const file = join(dir, 'trades.db');
      const acked = new Set<string>();
      /** Whole batches seen so far (id -> events), and how many events of the stream were checked. */
      const verified = new Map<string, number>();
      let verifiedCount = 0;
      let lastBatch: string | undefined;
      // Generous: a kill takes about a second on a quiet machine and several on a busy one; the
      // bound is there to stop a stuck run, not to time a slow one.
      const deadline = Date.now() + BOUND_MS;
      let kills = 0;
      try {
        for (let kill = 0; kill < KILLS && Date.now() < deadline; kill++, kills++) {
          const ids = await runAndKill(file, `k${kill}`, Math.floor(random() * 40));
          ids.forEach((id) => acked.add(id));

          // Each kill checks what is new since the last check, and that the checked prefix is
          // unchanged; every 100 kills and after the last one the whole stream is checked again.
          const store = SqliteEventStore.open(file);
          try {
            const full = kill % 100 === 99 || kill === KILLS - 1;
            if (full) {
              const all = await collect(store, 0);
              expect(all.length, `whole stream after kill ${kill}`).toBeGreaterThanOrEqual(verifiedCount);
              const again = batchesOf(all, 0, kill);
              for (const [id, n] of verified) expect(again.get(id), `batch ${id} still whole after kill ${kill}`).toBe(n);
              again.forEach((n, id) => verified.set(id, n));
              verifiedCount = all.length;
            } else {
              if (verifiedCount > 0) {
                const [last] = await store.readStream('tradelog-crash', { fromRevision: verifiedCount - 1, limit: 1 });
                expect(last?.metadata.correlationId, `the checked prefix after kill ${kill}`).toBe(lastBatch);
              }
              const fresh = await collect(store, verifiedCount);
              const added = batchesOf(fresh, verifiedCount, kill);
              for (const id of added.keys()) expect(verified.has(id), `batch ${id} split across kills`).toBe(false);
              added.forEach((n, id) => verified.set(id, n));
              verifiedCount += fresh.length;
            }
            const tail = await store.readStream('tradelog-crash', { fromRevision: Math.max(0, verifiedCount - 1), limit: 1 });
            lastBatch = tail[0]?.metadata.correlationId;
          } finally {
            await store.close();
          }
          for (const id of ids) expect(verified.get(id), `acknowledged batch ${id} after kill ${kill}`).toBe(BATCH);
        }
        // The time bound keeps a stuck run from hanging CI; it must not shorten a run silently.
        expect(kills, `only ${kills} of ${KILLS} kills fit in the time bound`).toBe(KILLS);
        expect(acked.size).toBeGreaterThan(0);
        console.log(`crash safety: ${kills} kills, ${acked.size} acknowledged batches, all present and whole`);
      } finally {
        cleanup();
      }
    },
    BOUND_MS + 60_000,
  );
});
