import type { Command } from 'commander';
import { migrateStore, openStore, type EventStore, type MigrateProgress, type MigrateReport } from '../../store/index.js';
import { lineInPlace, type Io } from '../io.js';

const n = (x: number): string => x.toLocaleString('en-US');

function progressLine(p: MigrateProgress): string {
  switch (p.phase) {
    case 'verify':
      return `verify: ${n(p.scanned)} / ${n(p.total)} events compared with the target`;
    case 'copy':
      return `copy: ${n(p.scanned)} / ${n(p.total)} events (copied ${n(p.copied)}, already there ${n(p.skipped)})`;
    case 'check':
      return `check: counting the target's streams`;
    default: {
      const _exhaustive: never = p.phase;
      return String(_exhaustive);
    }
  }
}

/**
 * Progress on stderr: on a live terminal one line rewritten in place, otherwise a line at most
 * every second and at each change of phase (so a log file stays readable).
 */
export function migrateProgressPrinter(io: Io): { update: (p: MigrateProgress) => void; done: () => void } {
  const tty = io.liveStderr;
  const draw = lineInPlace(io);
  let lastPhase: MigrateProgress['phase'] | undefined;
  let lastAt = 0;
  let pending: MigrateProgress | undefined;
  return {
    update: (p) => {
      if (tty) {
        draw(progressLine(p));
        return;
      }
      const now = Date.now();
      if (p.phase !== lastPhase || now - lastAt >= 1000) {
        if (pending && pending.phase === lastPhase && pending.phase !== p.phase) io.err(progressLine(pending));
        io.err(progressLine(p));
        lastPhase = p.phase;
        lastAt = now;
        pending = undefined;
      } else {
        pending = p;
      }
    },
    done: () => {
      // On a terminal the last line drawn stays: it is the final count.
      if (!tty && pending) io.err(progressLine(pending));
      pending = undefined;
    },
  };
}

function summary(r: MigrateReport): string {
  const verb = r.dryRun ? 'would copy' : 'copied';
  const others = r.targetCount - r.events;
  return (
    `${r.dryRun ? 'dry run: ' : ''}${r.from.engine} ${r.from.location} -> ${r.to.engine} ${r.to.location}: ` +
    `${n(r.events)} events in ${n(r.streams)} stream${r.streams === 1 ? '' : 's'}; ${verb} ${n(r.copied)}, already there ${n(r.skipped)}; ` +
    `the target holds ${n(r.targetCount)} events${others > 0 ? ` (${n(others)} of other streams)` : ''}; snapshots are not copied (a cache, rebuilt from the streams)`
  );
}

/** Registers `ptrack migrate --from <store> --to <store>`: copy a trade log into another store, re-runnable. */
export function registerMigrateCommand(program: Command, io: Io): void {
  program
    .command('migrate')
    .description('copy every stream of one store into another in global order, keeping revisions (safe to run again)')
    .requiredOption('--from <store>', 'the store to copy from, e.g. sqlite:./state/trades.db')
    .requiredOption('--to <store>', 'the store to copy into, e.g. esdb://localhost:2113?tls=false')
    .option('--dry-run', 'compare the target with the source and count what would be copied; append nothing')
    .option('--json', 'print the report as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.opts<{ from: string; to: string; dryRun?: boolean; json?: boolean }>();
      const stores: EventStore[] = [];
      const printer = migrateProgressPrinter(io);
      try {
        const from = await openStore(opts.from, { readOnly: true }); // the source is only read: never created
        stores.push(from);
        const to = await openStore(opts.to);
        stores.push(to);
        const report = await migrateStore(from, to, { onProgress: printer.update, dryRun: Boolean(opts.dryRun) });
        printer.done();
        io.out(opts.json ? JSON.stringify(report) : summary(report));
      } finally {
        printer.done();
        for (const s of stores.reverse()) await s.close().catch(() => undefined);
      }
    });
}
