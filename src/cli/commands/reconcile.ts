import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Option, type Command } from 'commander';
import type { TrackerConfig } from '../../config/index.js';
import { recoveryPending } from '../../commands/index.js';
import { ExternalError, RecoveryPendingError, ValidationError, type ExternalFailure } from '../../errors/index.js';
import {
  type ExternalCallOptions,
  type ExternalSystem,
  ReconcilePolicy,
  type ReconcilePolicyInput,
  reconcile,
  type ReconcileReport,
  ReconcileEverySeconds,
  scheduleReconciliation,
} from '../../reconcile/index.js';
import { builtInAdapter, type BuiltInAdapter } from '../../adapters/index.js';
import { withTimeout } from '../../_internals/timeout.js';
import { parseOrThrow } from '../../_internals/zodIssues.js';
import { durationFlag, numberFlag, parseFlagValue } from '../args.js';
import { globalsOf, withTracker } from '../context.js';
import { num, table } from '../format.js';
import type { Io } from '../io.js';
import { definedFields } from '../../_internals/definedFields.js';

interface Flags {
  adapter: string;
  every?: string;
  times?: string;
  dryRun?: boolean;
  json?: boolean;
  orphans?: 'adopt' | 'close' | 'manual';
  phantoms?: 'clear' | 'manual';
  drift?: 'correct' | 'alert';
  externalOrders?: 'adopt' | 'cancel' | 'manual';
  tolerance?: string;
  webhook?: string;
}

function isExternal(x: unknown): x is ExternalSystem {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ExternalSystem).listPositions === 'function' &&
    typeof (x as ExternalSystem).closePosition === 'function'
  );
}

/** How long loading an adapter (its import and its factory) may take: the bound of one outside call. */
export const ADAPTER_LOAD_TIMEOUT_MS = 5000;

/** How long importing a built-in adapter's module and its client library may take (a local import, not an outside call). */
const BUILT_IN_IMPORT_TIMEOUT_MS = 30_000;

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * Loads a user's adapter module: its default export (or `adapter` export) is an ExternalSystem,
 * or a function (sync or async) that receives the config and `{ signal }` and returns one.
 * A module that cannot be imported or exports no adapter is bad input (ValidationError); a
 * factory that throws, or loading that takes longer than `timeoutMs` (the signal is aborted
 * then), is a failure of the outside system (ExternalError).
 *
 * @example
 * ```ts
 * const external = await loadAdapter('./broker-adapter.mjs', tracker.config);
 * ```
 */
export async function loadAdapter(
  path: string,
  config: TrackerConfig,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ExternalSystem> {
  const timeoutMs = options.timeoutMs ?? ADAPTER_LOAD_TIMEOUT_MS;
  const builtIn = builtInAdapter(path);
  if (builtIn !== undefined) return loadBuiltIn(path, builtIn, options.env ?? process.env, timeoutMs);
  const file = resolve(path);
  let timedOut: ExternalError | undefined;
  const tooSlow = (what: string) => () =>
    (timedOut = new ExternalError(`--adapter: ${what} ${file} did not finish within ${timeoutMs} ms`, 'timeout'));
  let mod: Record<string, unknown>;
  try {
    mod = await withTimeout(timeoutMs, () => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>, tooSlow('loading'));
  } catch (error) {
    if (error === timedOut) throw error;
    throw new ValidationError(`--adapter: cannot load ${file}: ${firstLine(error)}`, [], { cause: error });
  }
  let candidate = mod.default ?? mod.adapter;
  if (typeof candidate === 'function') {
    const factory = candidate as (c: TrackerConfig, o: ExternalCallOptions) => unknown;
    try {
      candidate = await withTimeout(timeoutMs, (signal) => factory(config, { signal }), tooSlow('the adapter factory of'));
    } catch (error) {
      if (error === timedOut) throw error;
      const failure = error instanceof ExternalError ? error.failure : 'unreachable';
      throw new ExternalError(`--adapter: the adapter factory of ${file} failed: ${firstLine(error)}`, failure, { cause: error });
    }
  }
  if (!isExternal(candidate)) {
    throw new ValidationError(
      `--adapter: ${file} must export an ExternalSystem { listPositions(), closePosition(id), getPosition?(id) } as its default export or as "adapter" (or a function returning one)`,
    );
  }
  return candidate;
}

/**
 * A built-in adapter (`alpaca`, `alpaca:live`, `ccxt:<exchangeId>`): its module and client library
 * are imported now (bounded at 30 s: a local import, and ccxt alone takes seconds on a busy
 * machine), then the adapter is made, bounded like a module's factory (`timeoutMs`). Bad input (no credentials, a bad argument or setting, the client library
 * not installed) stays a ValidationError (exit 2); anything else is an outside failure (exit 5).
 */
async function loadBuiltIn(name: string, builtIn: BuiltInAdapter, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExternalSystem> {
  let timedOut: ExternalError | undefined;
  const importMs = Math.max(timeoutMs, BUILT_IN_IMPORT_TIMEOUT_MS);
  const tooSlow = (ms: number) => () =>
    (timedOut = new ExternalError(`--adapter: loading the ${name} adapter did not finish within ${ms} ms`, 'timeout'));
  try {
    // Importing the package's own code and its client library is no outside call: bounded, but
    // loosely (ccxt alone takes seconds on a busy machine); making the adapter may call the venue.
    const factory = await withTimeout(importMs, () => builtIn.load(), tooSlow(importMs));
    return await withTimeout(timeoutMs, () => factory(builtIn.argument, env), tooSlow(timeoutMs));
  } catch (error) {
    if (error === timedOut || error instanceof ValidationError) throw error;
    const failure = error instanceof ExternalError ? error.failure : 'unreachable';
    throw new ExternalError(`--adapter: the ${name} adapter failed to start: ${firstLine(error)}`, failure, { cause: error });
  }
}

function printReport(io: Io, r: ReconcileReport): void {
  const lines: string[] = [`reconcile ${r.runId} on book ${r.book}${r.dryRun ? ' (dry run: nothing changed)' : ''}`];
  if (r.orphans.length) {
    lines.push(
      '',
      'orphans (open outside, not IN here):',
      table(
        ['id', 'symbol', 'value', 'here', 'outcome'],
        r.orphans.map((o) => [o.positionId, o.symbol ?? '', o.value, o.local, o.outcome]),
      ),
    );
  }
  if (r.phantoms.length) {
    lines.push(
      '',
      'phantoms (IN here, missing outside):',
      table(
        ['id', 'symbol', 'value', 'looks', 'outcome'],
        r.phantoms.map((p) => [p.positionId, p.symbol ?? '', p.value, p.looks, p.outcome]),
      ),
    );
  }
  if (r.drift.length) {
    lines.push(
      '',
      'drift (values disagree beyond tolerance):',
      table(
        ['id', 'here', 'outside', 'tolerance', 'outcome'],
        r.drift.map((d) => [d.positionId, d.localValue, d.externalValue, d.tolerance, d.outcome]),
      ),
    );
  }
  if (r.externalOrders.length) {
    lines.push(
      '',
      'external orders (open at the venue, never issued by this book):',
      table(
        ['venue id', 'client id', 'order', 'policy', 'outcome', 'adopted as'],
        r.externalOrders.map((o) => [
          o.externalOrderId,
          o.clientOrderId ?? '',
          `${o.side} ${num(o.quantity)} ${o.symbol}`,
          o.policy,
          o.outcome,
          o.adoptedAs ? `${o.adoptedAs.clientOrderId} (${o.adoptedAs.positionId})` : '',
        ]),
      ),
    );
  }
  if (r.dryRun && r.actions.length) {
    lines.push('', 'plan:');
    for (const a of r.actions) {
      lines.push(
        `  ${a.kind === 'command' ? `${a.command.type.padEnd(16)} ${a.about}` : a.kind === 'alert' ? `alert            ${a.alert.message}` : a.kind === 'close' ? `close outside    ${a.positionId} (after a second look)` : `verify           ${a.positionId} with a direct look`}`,
      );
    }
  }
  for (const a of r.alerts) lines.push(`ALERT (${a.severity}): ${a.message}`);
  for (const e of r.errors)
    lines.push(`ERROR ${e.stage}${e.positionId ? ` ${e.positionId}` : ''}${e.failure ? ` (${e.failure})` : ''}: ${e.message}`);
  for (const s of r.skipped) lines.push(`skipped: ${s.reason}`);
  lines.push(
    '',
    `${r.orphans.length} orphan(s), ${r.phantoms.length} phantom(s), ${r.drift.length} drift, ${r.dust.length} dust ignored; ` +
      `${r.corrected} corrected, ${r.alerts.length} alert(s), ${r.errors.length} error(s)`,
  );
  io.out(lines.join('\n'));
}

/**
 * A run the outside system failed (unreachable, garbage, refused) ends the command with
 * exit 5, through the one error-to-exit-code table in main(), after the report is printed.
 */
function throwIfFailedOutside(r: ReconcileReport): void {
  const failed = r.errors.filter((e) => e.failure !== undefined);
  const first = failed[0];
  if (first === undefined) return;
  throw new ExternalError(
    `reconcile ${r.runId}: the outside system failed ${failed.length} time(s), first at ${first.stage}${first.positionId ? ` ${first.positionId}` : ''}: ${first.message}`,
    first.failure as ExternalFailure,
  );
}

/** Registers `ptrack reconcile` and `ptrack recover`. */
export function registerReconcileCommands(program: Command, io: Io): void {
  program
    .command('reconcile')
    .description('compare the book with the outside system and heal it, through your adapter module')
    .requiredOption(
      '--adapter <module>',
      'alpaca[:live], ccxt:<exchangeId>, or a JS module exporting an ExternalSystem (see README "Reconciliation")',
    )
    .option('--every <duration>', 'keep reconciling at this interval, e.g. 30s, 5m (never two runs at once)')
    .option('--times <n>', 'with --every: stop after n runs')
    .option('--dry-run', 'print the plan; change nothing')
    .addOption(new Option('--orphans <policy>', 'override the config: adopt, close or manual').choices(['adopt', 'close', 'manual']))
    .addOption(new Option('--phantoms <policy>', 'override the config: clear or manual').choices(['clear', 'manual']))
    .addOption(new Option('--drift <policy>', 'override the config: correct or alert').choices(['correct', 'alert']))
    .addOption(
      new Option(
        '--external-orders <policy>',
        'override the config for open orders the book never issued: adopt, cancel or manual',
      ).choices(['adopt', 'cancel', 'manual']),
    )
    .option('--tolerance <pct>', 'drift tolerance, % of the local value')
    .option('--webhook <url>', 'POST every alert as JSON here')
    .option('--json', 'print the report as JSON (one line per run)')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const flags = command.opts<Flags>();
      const everySeconds = durationFlag('--every', flags.every);
      if (everySeconds !== undefined) parseFlagValue('--every', ReconcileEverySeconds, everySeconds, flags.every);
      const times = numberFlag('--times', flags.times);
      if (times !== undefined && (!Number.isInteger(times) || times < 1))
        throw new ValidationError(`--times: expected a whole number >= 1, got ${flags.times}`);
      const tolerance = numberFlag('--tolerance', flags.tolerance);
      await withTracker(globals, async (tracker) => {
        const overrides: ReconcilePolicyInput = {
          ...tracker.config.reconcile,
          ...(flags.orphans ? { orphans: flags.orphans } : {}),
          ...(flags.phantoms ? { phantoms: flags.phantoms } : {}),
          ...(flags.drift ? { drift: flags.drift } : {}),
          ...(flags.externalOrders ? { externalOrders: flags.externalOrders } : {}),
          ...definedFields({ driftTolerancePct: tolerance }),
          ...(flags.webhook ? { webhookUrl: flags.webhook } : {}),
        };
        const policy = parseOrThrow(ReconcilePolicy, overrides, 'reconcile');
        const external = await loadAdapter(flags.adapter, tracker.config);
        const show = (r: ReconcileReport): void => (flags.json ? io.out(JSON.stringify(r)) : printReport(io, r));
        // A bot starts here: startup recovery first, as the config's recovery section says (a dry
        // run changes nothing, so it skips it). A gate left locked refuses the run (exit 3).
        if (!(flags.dryRun ?? false)) {
          const recovery = await tracker.recover(external, { policy, processName: 'ptrack reconcile' });
          if (recovery.gate.locked) {
            const state = await tracker.state();
            throw (
              recoveryPending(state, 'reconcile') ??
              new RecoveryPendingError('cannot reconcile: the book waits for an operator (run ptrack recover --ack)')
            );
          }
          if (recovery.report && everySeconds === undefined) {
            // The recovery's sync was this run's reconciliation: not a second one right after it.
            show(recovery.report);
            throwIfFailedOutside(recovery.report);
            return;
          }
          if (recovery.report) show(recovery.report);
        }
        const runOnce = (): Promise<ReconcileReport> =>
          reconcile({ handler: tracker.handler, external, policy, dryRun: flags.dryRun ?? false });

        if (everySeconds === undefined) {
          const report = await runOnce();
          show(report);
          throwIfFailedOutside(report);
          return;
        }
        const scheduler = scheduleReconciliation({
          everyMs: everySeconds * 1000,
          run: runOnce,
          ...definedFields({ maxRuns: times }),
          onAlert: (a) => io.err(`ptrack: ALERT: ${a.message}`),
        });
        let last: ReconcileReport | undefined;
        const sub = scheduler.status$.subscribe((s) => {
          if (s.lastReport && !s.running && s.lastReport !== last) {
            last = s.lastReport;
            show(s.lastReport);
          }
        });
        const stop = (): void => scheduler.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await scheduler.done;
        } finally {
          sub.unsubscribe();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
        // The last run decides: a scheduler that healed after a failure ends well.
        if (last) throwIfFailedOutside(last);
      });
    });

  program
    .command('recover')
    .description('acknowledge a manual startup recovery, so a tracker waiting for an operator accepts commands')
    .requiredOption('--ack', 'record the acknowledgement in the log')
    .option('--json', 'print JSON')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const json = command.opts<{ json?: boolean }>().json;
      // Only a log that exists can wait for an operator: a missing one is refused, not created.
      await withTracker(
        globals,
        async (tracker) => {
          const r = await tracker.acknowledgeRecovery();
          const event = r.events[0];
          const at = event?.metadata.recordedAt ?? '';
          if (json) io.out(JSON.stringify({ acknowledged: true, at, position: event?.position }));
          else io.out(`acknowledged at ${at}: book ${tracker.book} accepts commands again`);
        },
        { create: false },
      );
    });
}
