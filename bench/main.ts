/**
 * The benchmark suite: `npm run bench` (at most ~5 minutes on 2 cores) or `npm run bench -- --quick`
 * (under a minute). Prints a table and writes bench/results.json. Figures only: nothing fails on time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOpens } from './cli.js';
import { machine, printTable, tempDir, type Row } from './lib.js';
import { peer } from './peer.js';
import { benchPostgres, postgresSkipReason } from './postgres.js';
import { singleCallerVsRaw } from './raw.js';
import { rebuild, rebuildChild } from './rebuild.js';
import { follow, followChild } from './follow.js';
import {
  appendThroughput,
  bookMemory,
  buildBigBook,
  buildBigBookOn,
  coldOpen,
  coldOpenChild,
  coldOpenTailChild,
  coldOpenWithTail,
  commandThroughput,
  reconciliation,
} from './scenarios.js';

const script = fileURLToPath(import.meta.url);

/** `--only 1,2,6` runs those scenarios (for profiling); the big book is built only for 4 and 5. */
class SkipBig extends Error {}
const args = process.argv.slice(2);

async function child(kind: string, rest: string[]): Promise<void> {
  if (kind === 'cold-open') return coldOpenChild(rest[0]!);
  if (kind === 'cold-open-tail') return coldOpenTailChild(rest[0]!);
  if (kind === 'rebuild') return rebuildChild(rest[0]!);
  if (kind === 'follow') return followChild(rest[0]!, rest[1]!);
  if (kind === 'memory') {
    process.stdout.write(`${JSON.stringify(bookMemory(Number(rest[0])))}\n`);
    return;
  }
  throw new Error(`unknown child ${kind}`);
}

async function main(): Promise<void> {
  const quick = args.includes('--quick');
  const started = performance.now();
  const rows: Row[] = [];
  const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : null;
  const step = async (name: string, work: () => Promise<Row[]> | Row[]): Promise<void> => {
    if (
      only &&
      !name
        .split(' ')[0]!
        .split('+')
        .some((k) => only.has(k))
    )
      return;
    const t = performance.now();
    process.stderr.write(`bench: ${name} ...`);
    const r = await work();
    rows.push(...r);
    process.stderr.write(` ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  };

  await step('1 commands, one caller', () => commandThroughput(quick ? 400 : 2000, 1));
  await step('1 commands, one caller, against a raw SQLite commit', () => singleCallerVsRaw(quick ? 600 : 3000));
  await step('2 commands, 64 callers', () => commandThroughput(quick ? 3200 : 16_000, 64));
  // PostgreSQL beside SQLite: 1pg, 2pg and 4pg (or pg for all three) in --only.
  const wantsPg = !only || ['pg', '1pg', '2pg', '4pg'].some((k) => only.has(k));
  const pgSkipped = wantsPg ? postgresSkipReason() : null;
  if (pgSkipped) process.stderr.write(`bench: PostgreSQL rows (1pg, 2pg, 4pg) skipped: ${pgSkipped}\n`);
  const pg = wantsPg && pgSkipped === null ? await benchPostgres() : null;
  try {
    if (pg) {
      const on = (store: string): { store: string; engine: string } => ({ store, engine: 'PostgreSQL' });
      await step('1pg+pg commands, one caller, PostgreSQL', () => pg.inSchema((s) => commandThroughput(quick ? 400 : 2000, 1, on(s))));
      await step('2pg+pg commands, 64 callers, PostgreSQL', () => pg.inSchema((s) => commandThroughput(quick ? 3200 : 16_000, 64, on(s))));
      const events = quick ? 200_000 : 1_000_000;
      await step(`4pg+pg rebuild, PostgreSQL (a book of ${events.toLocaleString('en-US')} events written first)`, () =>
        pg.inSchema(async (s) => {
          await buildBigBookOn(s, events);
          const state = tempDir();
          try {
            return rebuild(s, join(state.dir, 'state'), script, 'PostgreSQL');
          } finally {
            state.cleanup();
          }
        }),
      );
    }
  } finally {
    await pg?.destroy();
  }
  await step('3 appends', () => appendThroughput(quick ? 2000 : 10_000));
  const big = tempDir();
  try {
    if (only && !only.has('4') && !only.has('5') && !only.has('9')) throw new SkipBig();
    const events = quick ? 200_000 : 1_000_000;
    const file = join(big.dir, 'big.db');
    await step(`4+5 setup: a book of ${events.toLocaleString('en-US')} events`, async () => {
      await buildBigBook(file, events);
      return [];
    });
    await step('4 rebuild', () => rebuild(`sqlite:${file}`, join(big.dir, 'state'), script));
    await step('5 cold open', () => coldOpen(file));
    // 9: following a small and the big log (quick: 20,000 and the 200,000 of --quick; else 100,000 and 1,000,000).
    const small = join(big.dir, 'small.db');
    const windowMs = quick ? 4000 : 10_000;
    await step('9 project --follow', async () => {
      await buildBigBook(small, quick ? 20_000 : 100_000);
      return [
        ...(await follow(small, join(big.dir, 'follow-small'), script, quick ? 20_000 : 100_000, windowMs)),
        ...(await follow(file, join(big.dir, 'follow-big'), script, events, windowMs)),
      ];
    });
  } catch (error) {
    if (!(error instanceof SkipBig)) throw error;
  } finally {
    big.cleanup();
  }
  await step('5 cold open with a tail', () => coldOpenWithTail(quick ? [10_000] : [10_000, 100_000], 1000));
  await step('6 reconciliation', () => reconciliation(quick ? [100, 10_000] : [100, 10_000, 100_000]));
  await step('7 book memory', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, ['--expose-gc', script, '--child', 'memory', String(quick ? 20_000 : 100_000)], {
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout.trim()) as Row[];
  });
  await step('8 peer', () => peer(quick ? 500 : 2000, quick ? 20_000 : 100_000));
  await step('cli CLI: opens through ptrack processes', () => cliOpens(quick ? 100 : 1000));

  const seconds = (performance.now() - started) / 1000;
  const m = machine();
  const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const table = printTable(rows);
  const postgres = pgSkipped ? `skipped: ${pgSkipped}` : pg ? pg.where : 'not selected';
  process.stdout.write(
    `\n${command} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; ${seconds.toFixed(0)} s\n` +
      `PostgreSQL rows: ${postgres}\n\n${table}\n`,
  );
  const out = join(fileURLToPath(new URL('../../bench/', import.meta.url)), 'results.json');
  writeFileSync(
    out,
    `${JSON.stringify({ command, date: new Date().toISOString(), machine: m, seconds, quick, postgres, rows }, null, 2)}\n`,
  );
  process.stdout.write(`\nwrote ${out}\n`);
}

if (args[0] === '--child') await child(args[1]!, args.slice(2));
else await main();
