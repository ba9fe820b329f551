import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { bookStateToJson, type Position } from '../../commands/index.js';
import type { TrackerConfig } from '../../config/index.js';
import { CorruptionError, ValidationError } from '../../errors/index.js';
import { lazyLogger } from '../../log.js';
import {
  createProjections,
  projectionOptionsOf,
  ReadModelStore,
  rebuildReadModels,
  startProjections,
  type AuditData,
  describeStart,
  leakReport,
  type LeakReport,
  type LeakSums,
  type OrderIncident,
  type EquityData,
  type ProjectionLogger,
  type ProjectionsHandle,
  type RebuildProgress,
  type RiskData,
} from '../../projections/index.js';
import { openStore, parseStoreSpec, verifyLog } from '../../store/index.js';
import { acceptLogAsItIs, parseReplayPoint, replayAt } from '../../tracker/index.js';
import { IsoTime, MAX_TIMER_MS } from '../../events/index.js';
import { quote } from '../../_internals/zodIssues.js';
import { numberFlag } from '../args.js';
import { configFor, globalsOf } from '../context.js';
import { fmt, num, table } from '../format.js';
import { lineInPlace, type Io } from '../io.js';
import { ownValue } from '../../_internals/records.js';
import { definedFields } from '../../_internals/definedFields.js';
import { present } from '../../_internals/present.js';

/** The read models' directory: `stateDir` from the config, else the SQLite file's directory (./state for memory:). */
export function stateDirOf(config: TrackerConfig): string {
  if (config.stateDir !== null) return resolve(config.stateDir);
  const spec = parseStoreSpec(config.store);
  return spec.engine === 'sqlite' ? dirname(resolve(spec.path)) : resolve('state');
}

/**
 * project, rebuild and audit read the log (and write only read models): they never create one.
 * Read-write all the same, since the runner checkpoints a replaced file's WAL.
 */
const EXISTING = { create: false } as const;

/** pino, loaded only when something is logged. */
const loggerFor = (config: TrackerConfig): ProjectionLogger => lazyLogger({ level: process.env.LOG_LEVEL ?? config.logLevel ?? 'warn' });

function positiveFlag(flag: string, raw: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = numberFlag(flag, raw);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > max))
    throw new ValidationError(`${flag}: expected a whole number from 1 to ${max}, got ${quote(raw)}`);
  return n;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** 90 -> "1m 30s", 7200 -> "2h", 93600 -> "1d 2h". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

function summary(handle: ProjectionsHandle, stateDir: string, json: boolean | undefined): string {
  const s = handle.status();
  const models = s.projections.map((p) => ({
    name: p.name,
    file: resolve(stateDir, `${p.name}.json`),
    version: p.version,
    checkpoint: p.checkpoint,
    eventCount: p.eventCount,
    healed: p.healed,
  }));
  if (json) return JSON.stringify({ stateDir, head: s.head, readModels: models });
  const lines = [
    `read models in ${stateDir} (the log holds ${count(s.head.count)} events, last position ${s.head.position}):`,
    table(
      ['read model', 'checkpoint', 'events'],
      models.map((m) => [`${m.name}.json`, m.checkpoint, m.eventCount]),
    ),
  ];
  for (const m of models) if (m.healed !== null) lines.push(`healed ${m.name}.json: it was ${m.healed}; rebuilt from the log`);
  return lines.join('\n');
}

/** A single line rewritten in place on a live stderr, a plain line at most every second otherwise (on stderr: stdout stays for results). */
export function progressPrinter(io: Io): (p: RebuildProgress) => void {
  const draw = lineInPlace(io);
  let lastAt = Number.NEGATIVE_INFINITY;
  return (p) => {
    const pct = p.total > 0 ? Math.floor((p.processed / p.total) * 100) : 100;
    const line = `rebuild: ${count(p.processed)}/${count(p.total)} events (${pct}%), ${count(p.eventsPerSecond)} events/s`;
    if (io.liveStderr) {
      draw(line);
      return;
    }
    if (!p.done && p.elapsedMs - lastAt < 1000) return;
    lastAt = p.elapsedMs;
    io.err(line);
  };
}

function positionLine(p: Position): string {
  const parts = [`${p.id}: ${p.status}`, p.symbol ?? '', p.side];
  if (p.setup) parts.push(`setup ${p.setup}`);
  if (p.group) parts.push(`group ${p.group}`);
  if (p.status === 'IN') {
    parts.push(`value ${fmt(p.value)}`, `entry value ${fmt(p.costBasis)}`, `realized ${fmt(p.realizedPnl)}`);
    if (p.quantity !== undefined) parts.push(`qty ${num(p.quantity)}`);
  }
  if (p.status === 'WATCHING' && p.value !== undefined) parts.push(`value ${fmt(p.value)}`);
  if (p.status === 'EXITED') parts.push(`realized ${fmt(p.realizedPnl)}`, `closed by ${p.closedBy}`);
  if (p.status === 'SKIPPED' && p.reason) parts.push(`reason ${p.reason}`);
  parts.push(`since ${p.since}`);
  return parts.filter((x) => x !== '').join(' ');
}

/** One order incident of the audit, in words. */
export function orderIncidentLine(o: OrderIncident): string {
  const where = `order ${o.clientOrderId} (${o.positionId}, ${o.symbol})`;
  switch (o.kind) {
    case 'late_fill':
      return (
        `${o.at} fill of ${where} recorded late: ${num(o.quantity)} at ${num(o.price ?? 0)} (trade ${o.tradeId ?? '-'})` +
        (o.filledAt !== undefined ? `, filled at the venue ${o.filledAt}, ${duration(o.lateSeconds ?? 0)} before` : '')
      );
    case 'rejected':
      return `${o.at} ${where} rejected${o.reason !== undefined ? `: ${o.reason}` : ''}`;
    case 'lost':
      return `${o.at} ${where} lost: the venue never knew it${o.reason !== undefined ? ` (${o.reason})` : ''}`;
    case 'canceled_with_fills':
      return `${o.at} ${where} canceled with ${num(o.filledQuantity)} of ${num(o.quantity)} filled`;
    default: {
      const _exhaustive: never = o.kind;
      return _exhaustive;
    }
  }
}

const withoutFold = (data: unknown): unknown => {
  if (data === null || typeof data !== 'object') return data;
  const { fold: _fold, ...rest } = data as Record<string, unknown>;
  return rest;
};

/** An ISO-8601 time with an offset from a flag, or a ValidationError naming the flag and the value. */
function isoFlag(flag: string, raw: string): string {
  if (!IsoTime.safeParse(raw).success) {
    throw new ValidationError(`${flag}: expected an ISO-8601 time with an offset such as 2026-01-05T12:00:00Z, got ${quote(raw)}`);
  }
  return raw;
}

const BY_KEYS = ['cause', 'symbol', 'day'] as const;
type ByKey = (typeof BY_KEYS)[number];

function byFlag(raw: string): ByKey {
  const key = BY_KEYS.find((k) => k === raw);
  if (key === undefined) throw new ValidationError(`--by: expected one of ${BY_KEYS.join(', ')}, got ${quote(raw)}`);
  return key;
}

/** The window's totals grouped by cause, symbol or day (causes that leaked nothing are left out). */
function groupsOf(report: LeakReport, by: ByKey): Record<string, LeakSums> {
  const t = report.totals;
  const groups = by === 'cause' ? t.byCause : by === 'symbol' ? t.bySymbol : t.byDay;
  return Object.fromEntries(Object.entries(groups).filter(([, g]) => g.count > 0));
}

/** The leak table and its totals line: how much value x time leaked (in the window) and how much of it was healed automatically. */
export function leakLines(report: LeakReport, vh: (valueSeconds: number) => number): string[] {
  const t = report.totals;
  const window =
    report.since !== null || report.until !== null ? ` from ${report.since ?? 'the start'} until ${report.until ?? 'now'}` : '';
  const pct = t.valueSeconds > 0 ? ` (${fmt((t.healedValueSeconds / t.valueSeconds) * 100)}%)` : '';
  const lines = [
    `leaks${window}: ${t.count} (${t.open} open), leaked ${fmt(vh(t.valueSeconds))} value-hours, ${fmt(vh(t.healedValueSeconds))} of it healed automatically${pct}`,
  ];
  if (report.rows.length > 0) {
    lines.push(
      table(
        ['kind', 'id', 'symbol', 'cause', 'began', 'resolved', 'how', 'value', 'lasted', 'value-hours'],
        report.rows.map((r) => [
          r.kind,
          r.positionId,
          r.symbol ?? '',
          r.cause,
          describeStart(r.start),
          r.resolvedAt ?? '-',
          r.resolution,
          r.value,
          duration(r.durationSeconds),
          vh(r.valueSeconds),
        ]),
      ),
    );
  }
  return lines;
}

/** Registers project, rebuild, replay, audit and verify. */
export function registerProjectionCommands(program: Command, io: Io): void {
  program
    .command('project')
    .description('bring the read models (portfolio, equity, risk, performance, audit .json) up to date with the log, once or --follow')
    .option('--follow', 'keep following the log until SIGINT or SIGTERM (writes what is pending, then exits)')
    .option('--persist-every-ms <ms>', 'write changed read models at most this often (default 1000)')
    .option('--persist-every-events <n>', 'or after this many new events (default 10000)')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ follow?: boolean; persistEveryMs?: string; persistEveryEvents?: string; json?: boolean }>();
      const persistEveryMs = positiveFlag('--persist-every-ms', opts.persistEveryMs, MAX_TIMER_MS);
      const persistEveryEvents = positiveFlag('--persist-every-events', opts.persistEveryEvents);
      const { config } = configFor(globals);
      const stateDir = stateDirOf(config);
      const handle = await startProjections({
        store: config.store,
        storeOptions: EXISTING,
        stateDir,
        options: projectionOptionsOf(config),
        logger: loggerFor(config),
        ...definedFields({ persistEveryMs, persistEveryEvents }),
      });
      try {
        await handle.whenCaughtUp();
      } catch (error) {
        await handle.stop().catch(() => undefined);
        throw error;
      }
      if (!opts.follow) {
        await handle.stop();
        io.out(summary(handle, stateDir, opts.json));
        return;
      }
      if (!opts.json) io.out(`caught up at position ${handle.status().head.position}; following the log (SIGINT or SIGTERM stops)`);
      const onSignal = (): void => void handle.stop().catch(() => undefined);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await handle.done;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      io.out(summary(handle, stateDir, opts.json));
    });

  program
    .command('rebuild')
    .description('drop the read models and fold the whole log again (refused, exit 4, when the log holds less than they were built from)')
    .option('--accept-regression', 'rebuild from the log as it is now even though it lost events, and repair book snapshots ahead of it')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ acceptRegression?: boolean; json?: boolean }>();
      const { config } = configFor(globals);
      const stateDir = stateDirOf(config);
      const result = await rebuildReadModels({
        store: config.store,
        storeOptions: EXISTING,
        stateDir,
        options: projectionOptionsOf(config),
        logger: loggerFor(config),
        onProgress: progressPrinter(io),
        ...(opts.acceptRegression ? { acceptRegression: true } : {}),
        // With --accept-regression the rebuild repairs the book snapshots too, this book's among them.
        snapshots: { books: [config.book], limits: { idempotencyWindow: config.idempotencyWindow, timeZone: config.timeZone } },
      });
      const repaired = result.snapshotsRepaired;
      if (opts.acceptRegression) {
        const store = await openStore(config.store, EXISTING);
        try {
          // Book commands compare the log with its high-water mark: accepting the log accepts it there too.
          await acceptLogAsItIs(store);
        } finally {
          await store.close();
        }
      }
      if (opts.json) {
        io.out(JSON.stringify({ stateDir, ...result, eventsPerSecond: Math.round(result.eventsPerSecond) }));
        return;
      }
      const lines = [
        `rebuilt ${result.readModels.length} read models from ${count(result.events)} events in ${(result.elapsedMs / 1000).toFixed(2)} s ` +
          `(${count(result.eventsPerSecond)} events/s) into ${stateDir}`,
      ];
      for (const r of repaired)
        lines.push(`repaired the book snapshot of ${r.stream}: it was at revision ${r.from}, the log ends at ${r.to} (${r.reason})`);
      io.out(lines.join('\n'));
    });

  program
    .command('replay')
    .description('time travel: the book and the read models as they were at a moment of the log')
    .requiredOption('--until <time|position>', 'an ISO-8601 time (2026-01-05T12:00:00Z) or a global position')
    .option('--position <id>', 'only this position')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ until: string; position?: string; json?: boolean }>();
      const until = parseReplayPoint(opts.until);
      const { config } = configFor(globals);
      const store = await openStore(config.store, { readOnly: true });
      let result: Awaited<ReturnType<typeof replayAt>>;
      try {
        result = await replayAt(store, { until, config });
      } finally {
        await store.close();
      }
      const at = { position: result.position, at: result.at, events: result.events };
      const head = `book ${config.book} as of position ${result.position}${result.at ? ` (${result.at})` : ''}, ${count(result.events)} events`;
      if (opts.position !== undefined) {
        const p = result.book.positions.get(opts.position) ?? null;
        if (opts.json) io.out(JSON.stringify({ until: at, book: config.book, position: p }));
        else io.out(`${head}:\n${p ? positionLine(p) : `${opts.position}: not tracked then (unknown or archived)`}`);
        return;
      }
      if (opts.json) {
        const { commands: _c, ...book } = bookStateToJson(result.book);
        const readModels = Object.fromEntries(Object.entries(result.readModels).map(([k, v]) => [k, withoutFold(v)]));
        io.out(JSON.stringify({ until: at, book: { id: config.book, ...book }, readModels }));
        return;
      }
      const positions = [...result.book.positions.values()].sort((a, b) => a.id.localeCompare(b.id));
      const lines = [`${head}:`];
      if (positions.length === 0) lines.push('no positions');
      for (const p of positions) lines.push(`  ${positionLine(p)}`);
      const equity = ownValue((result.readModels.equity as EquityData | undefined)?.books, config.book);
      const risk = ownValue((result.readModels.risk as RiskData | undefined)?.books, config.book);
      if (equity) {
        lines.push(
          `equity ${fmt(equity.equity)} (realized ${fmt(equity.realizedPnl)}, return ${fmt(equity.returnPct)}%), drawdown ${fmt(equity.drawdown.pct)}% (${equity.band})` +
            `, max drawdown ${fmt(equity.maxDrawdown?.pct ?? 0)}%, ${equity.trades.count} trades`,
        );
      }
      if (risk) {
        const breaker =
          risk.circuitBreaker.status === 'OK'
            ? 'ok'
            : `TRIPPED${risk.circuitBreaker.active ? '' : ' (expired)'}: ${risk.circuitBreaker.reason}`;
        lines.push(
          `day ${risk.today?.day ?? '-'} P&L ${fmt(risk.today?.pnl ?? 0)} (${risk.today?.trades ?? 0} trades), week P&L ${fmt(risk.thisWeek?.pnl ?? 0)}, ` +
            `heat ${risk.heat.pct === null ? '-' : `${fmt(risk.heat.pct)}%`}, circuit breaker ${breaker}`,
        );
      }
      io.out(lines.join('\n'));
    });

  program
    .command('audit')
    .description(
      'the leak report: every leak (orphan, phantom, late fill) with its cause, when it began, how long it lasted and value x time leaked; drift corrections; order incidents; external orders; reconciliation runs',
    )
    .option('--since <time>', 'only what leaked at or after this ISO-8601 time (value x time inside the window only)')
    .option('--until <time|position>', 'time travel: the audit as the log stood at this ISO-8601 time or global position')
    .option('--by <key>', 'totals by cause, symbol or day')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ json?: boolean; since?: string; until?: string; by?: string }>();
      const json = opts.json;
      const since = opts.since === undefined ? null : isoFlag('--since', opts.since);
      const untilPoint = opts.until === undefined ? null : parseReplayPoint(opts.until);
      const by = opts.by === undefined ? null : byFlag(opts.by);
      if (since !== null && untilPoint !== null && 'time' in untilPoint && Date.parse(untilPoint.time) < Date.parse(since)) {
        throw new ValidationError(`--until: expected a time at or after --since ${since}, got ${quote(untilPoint.time)}`);
      }
      const { config } = configFor(globals);
      const options = projectionOptionsOf(config);
      const audit = present(
        createProjections(options).find((p) => p.name === 'audit'),
        'the audit projection',
      );
      let data: AuditData;
      let checkpoint: number;
      let until: string | null = null;
      if (untilPoint !== null) {
        // Time travel: fold the log up to the point, as replay does, into the audit alone.
        const store = await openStore(config.store, { readOnly: true });
        try {
          const then = await replayAt(store, { until: untilPoint, config, projections: [audit] });
          data = then.readModels.audit as AuditData;
          checkpoint = then.position;
          until = 'time' in untilPoint ? untilPoint.time : then.at;
        } finally {
          await store.close();
        }
      } else {
        const stateDir = stateDirOf(config);
        // One cycle first, so the report is the log's as of now (and a damaged audit.json is healed).
        const handle = await startProjections({
          store: config.store,
          storeOptions: EXISTING,
          stateDir,
          options,
          logger: loggerFor(config),
        });
        try {
          await handle.whenCaughtUp();
        } catch (error) {
          await handle.stop().catch(() => undefined);
          throw error;
        }
        await handle.stop();
        const load = await new ReadModelStore(stateDir).load('audit', audit.version);
        if (load.status !== 'ok')
          throw new CorruptionError(`${resolve(stateDir, 'audit.json')} could not be read back after it was written (${load.status})`);
        data = load.document.data as AuditData;
        checkpoint = load.document.checkpoint;
      }
      const book = ownValue(data.books, config.book);
      const report = leakReport(book ?? { orphans: [], phantoms: [], lateFills: [] }, {
        asOf: until ?? data.asOf ?? new Date(0).toISOString(),
        timeZone: options.timeZone,
        since,
        until,
      });
      const grouped = by === null ? null : groupsOf(report, by);
      if (json) {
        io.out(
          JSON.stringify({
            book: config.book,
            asOf: data.asOf,
            checkpoint,
            ...(book ?? {
              orphans: [],
              phantoms: [],
              lateFills: [],
              drift: [],
              reconciliations: [],
              orders: [],
              externalOrders: [],
              totals: null,
            }),
            leaks: report,
            ...(grouped === null ? {} : { by: { key: by, groups: grouped } }),
          }),
        );
        return;
      }
      if (book === undefined) {
        io.out(`book ${config.book}: no events, nothing to audit${until !== null ? ` until ${until}` : ''}`);
        return;
      }
      const t = book.totals;
      const vh = (valueSeconds: number): number => valueSeconds / 3600;
      const lines = [`audit of book ${config.book} as of ${data.asOf ?? '-'} (position ${checkpoint})`, ''];
      lines.push(...leakLines(report, vh));
      if (grouped !== null) {
        lines.push(
          '',
          `by ${by}:`,
          table(
            [by ?? '', 'leaks', 'open', 'value-hours', 'healed value-hours'],
            Object.entries(grouped).map(([k, g]) => [k, g.count, g.open, vh(g.valueSeconds), vh(g.healedValueSeconds)]),
          ),
        );
      }
      lines.push(
        '',
        `orphans: ${t.orphans.count} (${t.orphans.open} open, ${t.orphans.adopted} adopted, ${t.orphans.closed} closed), leaked ${fmt(vh(t.orphans.valueSeconds))} value-hours`,
      );
      if (book.orphans.length > 0) {
        lines.push(
          table(
            ['id', 'symbol', 'detected', 'resolved', 'how', 'value', 'lasted', 'value-hours'],
            book.orphans.map((o) => [
              o.positionId,
              o.symbol ?? '',
              o.detectedAt,
              o.resolvedAt ?? '-',
              o.resolution,
              o.value,
              duration(o.durationSeconds),
              vh(o.valueSeconds),
            ]),
          ),
        );
      }
      lines.push(
        '',
        `phantoms: ${t.phantoms.count} (${t.phantoms.open} open, ${t.phantoms.cleared} cleared, ${t.phantoms.dismissed} dismissed, ${t.phantoms.exited} exited), leaked ${fmt(vh(t.phantoms.valueSeconds))} value-hours`,
      );
      if (book.phantoms.length > 0) {
        lines.push(
          table(
            ['id', 'symbol', 'suspected', 'resolved', 'how', 'looks', 'value', 'lasted', 'value-hours'],
            book.phantoms.map((p) => [
              p.positionId,
              p.symbol ?? '',
              p.suspectedAt,
              p.resolvedAt ?? '-',
              p.resolution,
              p.looks,
              p.value,
              duration(p.durationSeconds),
              vh(p.valueSeconds),
            ]),
          ),
        );
      }
      lines.push('', `drift corrections: ${t.drift.count} (total |external - local| ${fmt(t.drift.absDelta)})`);
      if (book.drift.length > 0) {
        lines.push(
          table(
            ['at', 'id', 'local', 'external', 'delta'],
            book.drift.map((d) => [d.at, d.positionId, d.localValue, d.externalValue, d.delta]),
          ),
        );
      }
      lines.push(
        '',
        `orders: ${t.orders.lateFills} fill(s) recorded late, ${t.orders.rejected} rejected, ${t.orders.lost} lost, ${t.orders.canceledWithFills} canceled with fills`,
      );
      for (const o of book.orders) lines.push(`  ${orderIncidentLine(o)}`);
      const x = t.externalOrders;
      lines.push('', `external orders: ${x.count} (${x.open} open, ${x.canceled} canceled, ${x.adopted} adopted)`);
      if (book.externalOrders.length > 0) {
        lines.push(
          table(
            ['venue id', 'client id', 'order', 'detected', 'resolved', 'how', 'lasted', 'adopted as'],
            book.externalOrders.map((e) => [
              e.externalOrderId,
              e.clientOrderId ?? '',
              `${e.side} ${num(e.quantity)} ${e.symbol}`,
              e.detectedAt,
              e.resolvedAt ?? '-',
              e.resolution,
              duration(e.durationSeconds),
              e.adoptedAs ? `${e.adoptedAs.clientOrderId} (${e.adoptedAs.positionId})` : '',
            ]),
          ),
        );
      }
      lines.push(
        '',
        `reconciliation runs: ${t.reconciliations.count}${t.reconciliations.lastCompletedAt ? ` (last completed ${t.reconciliations.lastCompletedAt})` : ''}`,
      );
      io.out(lines.join('\n'));
    });

  program
    .command('verify')
    .description(
      "check the log itself: SQLite's integrity check, every event parses, positions strictly increase, revisions are contiguous per stream, and every book snapshot matches the log (exit 4 on the first problem)",
    )
    .option('--json', 'print the report as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const json = command.opts<{ json?: boolean }>().json;
      const { config } = configFor(globals);
      const store = await openStore(config.store, { readOnly: true });
      const started = performance.now();
      let report: Awaited<ReturnType<typeof verifyLog>>;
      try {
        report = await verifyLog(store);
      } finally {
        await store.close();
      }
      const ms = performance.now() - started;
      if (json) io.out(JSON.stringify(report));
      if (report.problem !== null) {
        const p = report.problem;
        throw new CorruptionError(
          p.kind === 'snapshot'
            ? p.message
            : p.kind === 'unparseable' || p.kind === 'damaged'
              ? `the log is damaged: ${p.message}`
              : `the log is damaged at position ${p.position}: ${p.message}`,
        );
      }
      if (!json) {
        io.out(
          `the log is sound: ${count(report.events)} events in ${report.streams} stream${report.streams === 1 ? '' : 's'}` +
            (report.events > 0
              ? `, positions ${report.firstPosition}..${report.lastPosition}${report.positionGaps > 0 ? ` (${report.positionGaps} gaps)` : ''}`
              : '') +
            `, every event parses, revisions contiguous${report.integrity === null ? '' : `, ${store.engine === 'sqlite' ? "SQLite's " : ''}integrity check ok`} (checked in ${Math.round(ms)} ms)`,
        );
      }
    });
}
