import type { Command } from 'commander';
import { pnlOf, venueKeyOf, type Position, type PositionStatus } from '../../commands/index.js';
import { ValidationError } from '../../errors/index.js';
import { bookStream, type RecordedEvent } from '../../events/index.js';
import { openStore, readWholeStream, type EventStore } from '../../store/index.js';
import { configFor, globalsOf, withTracker } from '../context.js';
import { fmt, num, protectionText, table } from '../format.js';
import type { Io } from '../io.js';
import { numberFlag } from '../args.js';
import { ordersTable, symbolControlLines } from './orders.js';

/** These commands only read: the store is opened to read, never created. */
const READ = { readOnly: true } as const;

const ORDER: PositionStatus[] = ['IN', 'WATCHING', 'EXITED', 'SKIPPED'];

/** A position as `status --json` lists it: with its venue key (explicit, else its symbol) when it has one. */
function withVenueKey(p: Position): Position {
  const venueKey = venueKeyOf(p);
  return venueKey === undefined ? p : { ...p, venueKey };
}

function positionRow(p: Position): (string | number)[] {
  const value = p.status === 'IN' ? p.value : p.status === 'WATCHING' ? (p.value ?? '') : '';
  const cost = p.status === 'IN' ? p.costBasis : '';
  const pnl = p.status === 'IN' ? p.realizedPnl + pnlOf(p.side, p.value, p.costBasis) : p.status === 'EXITED' ? p.realizedPnl : '';
  return [
    p.id,
    p.status,
    p.symbol ?? '',
    p.side,
    p.group ?? '',
    typeof value === 'number' ? fmt(value) : value,
    typeof cost === 'number' ? fmt(cost) : cost,
    typeof pnl === 'number' ? fmt(pnl) : pnl,
    p.since,
  ];
}

/**
 * An IN position's protection, as the log keeps it (the bot or the venue enforces it): the stop
 * loss, the take profit, and a trailing stop with the best price it has trailed. Null without any.
 */
export function protectionLine(p: Position): string | null {
  if (p.status !== 'IN') return null;
  const text = protectionText(p);
  return text === null ? null : `  protection ${p.id}: ${text}`;
}

/** The details that are money (two decimals); the other numbers keep their precision. */
const MONEY = new Set(['value', 'realizedPnl', 'externalValue']);

/** What one event says, in a few words. */
function describe(e: RecordedEvent): string {
  const d = e.data as Record<string, unknown>;
  const keys = ['symbol', 'side', 'value', 'fraction', 'realizedPnl', 'from', 'reason', 'until', 'trigger', 'looks', 'externalValue'];
  return keys
    .filter((k) => d[k] !== undefined)
    .map((k) => `${k}=${typeof d[k] === 'number' ? (MONEY.has(k) ? fmt(d[k] as number) : num(d[k] as number)) : String(d[k])}`)
    .join(' ');
}

/**
 * The last `limit` events of a stream (all without a limit), oldest first, that `keep` accepts.
 * Without `keep` only the tail is read (from revision last - limit + 1); with it the stream is
 * read once and at most 2 x limit events are held: linear in the stream, whatever the limit.
 */
async function lastEvents(
  store: EventStore,
  stream: string,
  limit: number | undefined,
  keep?: (e: RecordedEvent) => boolean,
): Promise<RecordedEvent[]> {
  const fromRevision = limit !== undefined && keep === undefined ? Math.max(0, (await store.streamRevision(stream)) - limit + 1) : 0;
  let events: RecordedEvent[] = [];
  for await (const e of readWholeStream(store, stream, { fromRevision })) {
    if (keep !== undefined && !keep(e)) continue;
    events.push(e);
    if (limit !== undefined && events.length >= 2 * limit) events = events.slice(-limit);
  }
  return limit === undefined ? events : events.slice(-limit);
}

/** Registers the commands that read: status, log, head. */
export function registerReadCommands(program: Command, io: Io): void {
  program
    .command('status')
    .description('positions by state, the risk state, symbol controls, and the orders in flight and open')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const json = command.opts<{ json?: boolean }>().json;
      await withTracker(
        globals,
        async (tracker) => {
          const positions = await tracker.list();
          const risk = await tracker.risk();
          const state = await tracker.state();
          // The live orders: in flight (PENDING_SUBMIT, PENDING_CANCEL) and open (OPEN, PARTIALLY_FILLED).
          const orders = await tracker.orders({ live: true });
          const symbols = [...state.symbolControls].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          if (json) {
            io.out(
              JSON.stringify({
                book: tracker.book,
                // Each with its venue key (explicit, else the symbol): what reconciliation matches it by.
                positions: positions.map(withVenueKey),
                risk,
                orders,
                symbolControls: symbols.map(([symbol, control]) => ({ symbol, ...control })),
              }),
            );
            return;
          }
          const sorted = [...positions].sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || a.id.localeCompare(b.id));
          const counts = ORDER.map((s) => `${s} ${positions.filter((p) => p.status === s).length}`).join(', ');
          const lines = [`book ${tracker.book} (${tracker.store.engine} ${tracker.store.location}): ${counts}`];
          if (sorted.length > 0) {
            lines.push('', table(['id', 'status', 'symbol', 'side', 'group', 'value', 'cost', 'pnl', 'since'], sorted.map(positionRow)));
            const protection = sorted.map(protectionLine).filter((l) => l !== null);
            if (protection.length > 0) lines.push('', ...protection);
          }
          const b = risk.breaker;
          const breaker =
            b.status === 'OK'
              ? 'ok'
              : b.active
                ? `TRIPPED (${b.trigger}: ${b.reason})${b.until ? ` until ${b.until}` : ' until reset'}`
                : `ok (the trip (${b.trigger}: ${b.reason}) expired at ${b.until ?? ''})`;
          lines.push(
            '',
            `risk: ${risk.open}/${risk.maxPositions} IN, equity ${fmt(risk.equity)}, realized P&L ${fmt(risk.realizedPnl)}, ` +
              `day ${risk.todayPnl.day || '-'} P&L ${fmt(risk.todayPnl.pnl)}, circuit breaker ${breaker}`,
          );
          for (const g of risk.groupRisk)
            lines.push(`  group ${g.group}: risk ${fmt(g.risk)} (${g.pct === null ? 'no equity left' : `${fmt(g.pct)}% of equity`})`);
          for (const c of risk.cooldowns) lines.push(`  cooldown ${c.symbol} until ${c.until}`);
          for (const s of risk.lossStreaks) lines.push(`  ${s.symbol}: ${s.count} losing exit(s) in a row on ${s.day}`);
          lines.push(...symbolControlLines(symbols));
          const inFlight = orders.filter((o) => o.status === 'PENDING_SUBMIT' || o.status === 'PENDING_CANCEL').length;
          lines.push('', `orders: ${inFlight} in flight, ${orders.length - inFlight} open`);
          if (orders.length > 0) lines.push('', ordersTable(orders));
          io.out(lines.join('\n'));
        },
        READ,
      );
    });

  program
    .command('log')
    .description("the book's events, oldest first")
    .option('--position <id>', 'only events about this position')
    .option('--limit <n>', 'only the last n events')
    .option('--json', 'print one JSON event per line')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const opts = command.opts<{ position?: string; limit?: string; json?: boolean }>();
      const limit = numberFlag('--limit', opts.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw new ValidationError(`--limit: expected a whole number >= 1, got ${opts.limit}`);
      const { config } = configFor(globals);
      const store = await openStore(config.store, READ);
      try {
        const about =
          opts.position === undefined
            ? undefined
            : (e: RecordedEvent): boolean => (e.data as { positionId?: string }).positionId === opts.position;
        const events = await lastEvents(store, bookStream(config.book), limit, about);
        if (opts.json) {
          for (const e of events) io.out(JSON.stringify(e));
          return;
        }
        if (events.length === 0) {
          io.out(`no events${opts.position ? ` for ${opts.position}` : ''} in book ${config.book}`);
          return;
        }
        io.out(
          table(
            ['rev', 'pos', 'recorded', 'type', 'position', 'details'],
            events.map((e) => [
              e.revision,
              e.position,
              e.metadata.recordedAt,
              e.type,
              (e.data as { positionId?: string }).positionId ?? '',
              describe(e),
            ]),
          ),
        );
      } finally {
        await store.close();
      }
    });

  program
    .command('head')
    .description("open the store and print the log's head: last global position and event count")
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const json = command.opts<{ json?: boolean }>().json;
      const { config } = configFor(globals);
      const store = await openStore(config.store, READ);
      try {
        const head = await store.head();
        if (json) io.out(JSON.stringify({ store: store.location, engine: store.engine, ...head }));
        else io.out(`${store.engine} ${store.location}: ${head.count} events, last position ${head.position}`);
      } finally {
        await store.close();
      }
    });
}
