import { Option, type Command } from 'commander';
import type { CommandInput, Order, SymbolControl } from '../../commands/index.js';
import { ValidationError } from '../../errors/index.js';
import { lazyLogger } from '../../log.js';
import { orderGroupOf } from '../../projections/index.js';
import { guardExternal } from '../../reconcile/index.js';
import { openTracker, type Tracker } from '../../tracker/index.js';
import { asFlagError } from '../args.js';
import { configFor, globalsOf, withTracker, type GlobalOptions } from '../context.js';
import { num, table } from '../format.js';
import type { Io } from '../io.js';
import { definedFields } from '../../_internals/definedFields.js';
import { present } from '../../_internals/present.js';
import { loadAdapter } from './reconcile.js';

/*
 * The order commands: list the book's orders, cancel one (in the log, and at the venue with
 * --adapter), and the symbol controls (disable / enable buying or selling a symbol).
 */

const READ = { readOnly: true } as const;

/** How an order reads in a table: in flight first, then open, then finished; by request time within each. */
const GROUP_RANK = new Map([
  ['inFlight', 0],
  ['open', 1],
  ['finished', 2],
]);

export function sortedOrders(orders: readonly Order[]): Order[] {
  const rank = (o: Order): number => GROUP_RANK.get(orderGroupOf(o.status)) ?? 3;
  return [...orders].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0) ||
      a.clientOrderId.localeCompare(b.clientOrderId),
  );
}

/** The orders table of `ptrack orders` and `ptrack status`. */
export function ordersTable(orders: readonly Order[]): string {
  return table(
    ['client order id', 'status', 'position', 'symbol', 'side', 'intent', 'type', 'qty', 'filled', 'avg price', 'venue id', 'requested'],
    sortedOrders(orders).map((o) => [
      o.clientOrderId,
      o.status === 'PENDING_SUBMIT' || o.status === 'PENDING_CANCEL' ? `${o.status} (in flight)` : o.status,
      o.positionId,
      o.symbol,
      o.side,
      o.intent,
      o.orderType === 'limit' && o.limitPrice !== undefined ? `limit ${num(o.limitPrice)}` : o.orderType,
      num(o.quantity),
      num(o.filledQuantity),
      o.averagePrice === undefined ? '' : num(o.averagePrice),
      o.externalOrderId ?? '',
      o.requestedAt,
    ]),
  );
}

/** One line per disabled side of a symbol, for `ptrack status`. */
export function symbolControlLines(controls: Iterable<readonly [string, SymbolControl]>): string[] {
  const lines: string[] = [];
  for (const [symbol, c] of [...controls].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const side of ['buy', 'sell'] as const) {
      const block = c[side];
      if (block !== undefined)
        lines.push(`  ${side === 'buy' ? 'buying' : 'selling'} ${symbol} disabled since ${block.since}: ${block.reason}`);
    }
  }
  return lines;
}

/** A required argument or option: commander refuses the command line without it, so it is there. */
const required = <T>(value: T | undefined, name: string): T => present(value, `${name}, which commander requires,`);

/** Opens the tracker with the adapter module `path` as its outside system (startup recovery runs as the config says). */
async function withAdapter<T>(globals: GlobalOptions, path: string, work: (tracker: Tracker) => Promise<T>): Promise<T> {
  const { config } = configFor(globals);
  const external = guardExternal(await loadAdapter(path, config));
  // Checked before the tracker opens (its startup recovery writes to the log): bad input changes nothing.
  if (!external.capabilities.canTrade) {
    const missing = (['submitOrder', 'getOrder', 'listOpenOrders', 'cancelOrder'] as const).filter((m) => !external.capabilities[m]);
    throw new ValidationError(
      `--adapter: ${path} cannot trade: the adapter lacks ${missing.join(', ')} (an order needs submit, look-up by client order id, open orders and cancel)`,
    );
  }
  const tracker = await openTracker({
    ...config,
    external,
    logger: lazyLogger({ level: process.env.LOG_LEVEL ?? config.logLevel ?? 'warn' }),
  });
  try {
    return await work(tracker);
  } finally {
    await tracker.close();
  }
}

function orderLine(o: Order): string {
  const filled = o.filledQuantity > 0 ? `, filled ${num(o.filledQuantity)} of ${num(o.quantity)}` : '';
  return `order ${o.clientOrderId}: ${o.status}${filled}${o.reason === undefined ? '' : ` (${o.reason})`}`;
}

/** Registers `ptrack orders`, `ptrack order cancel`, `ptrack symbol disable|enable`. */
export function registerOrderCommands(program: Command, io: Io): void {
  program
    .command('orders')
    .description("the book's orders: in flight, open, and finished ones of positions not yet archived")
    .option('--open', 'only the live ones: in flight (PENDING_SUBMIT, PENDING_CANCEL) and open (OPEN, PARTIALLY_FILLED)')
    .option('--json', 'print JSON for scripts')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const flags = command.opts<{ open?: boolean; json?: boolean }>();
      await withTracker(
        globals,
        async (tracker) => {
          const orders = sortedOrders(await tracker.orders(flags.open ? { live: true } : {}));
          if (flags.json) {
            io.out(JSON.stringify({ book: tracker.book, orders }));
            return;
          }
          const inFlight = orders.filter((o) => orderGroupOf(o.status) === 'inFlight').length;
          const open = orders.filter((o) => orderGroupOf(o.status) === 'open').length;
          const finished = orders.length - inFlight - open;
          const head = `book ${tracker.book}: ${inFlight} in flight, ${open} open${flags.open ? '' : `, ${finished} finished`}`;
          io.out(orders.length === 0 ? head : `${head}\n\n${ordersTable(orders)}`);
        },
        READ,
      );
    });

  const order = program.command('order').description('one order of the book');
  order
    .command('cancel <clientOrderId>')
    .description('ask for an order to be canceled: records the request (PENDING_CANCEL); with --adapter also cancels it at the venue')
    .option('--adapter <module>', 'a JS module exporting an ExternalSystem that can trade (see README "Orders at the outside system")')
    .option('--reason <text>', 'why')
    .option('--json', 'print the order (and the appended events) as JSON')
    .action(async (id: string | undefined, _opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const flags = command.opts<{ adapter?: string; reason?: string; json?: boolean }>();
      const clientOrderId = required(id, '<clientOrderId>');
      const names = { clientOrderId: '<clientOrderId>' };
      if (flags.adapter !== undefined) {
        const adapter = flags.adapter;
        await withAdapter(globals, adapter, async (tracker) => {
          let outcome;
          try {
            outcome = await tracker.cancelOrder(clientOrderId, definedFields({ reason: flags.reason }));
          } catch (error) {
            // Only the id's errors name a flag; the gateway's own (an adapter that cannot trade) say what they are.
            throw error instanceof ValidationError && error.issues.every((i) => i.path === 'clientOrderId')
              ? asFlagError(error, names)
              : error;
          }
          if (flags.json) {
            io.out(
              JSON.stringify({
                outcome: outcome.outcome,
                order: outcome.order,
                ...(outcome.error ? { error: outcome.error.message } : {}),
              }),
            );
          } else {
            const venue =
              outcome.outcome === 'canceled'
                ? 'canceled at the venue'
                : `the venue did not confirm the cancel${outcome.error ? ` (${outcome.error.message.split('\n')[0] ?? ''})` : ''}: reconciliation resolves it`;
            io.out(`${orderLine(outcome.order)}; ${venue}`);
          }
          if (outcome.error !== undefined && outcome.outcome !== 'canceled' && outcome.error.failure !== 'rejected') throw outcome.error;
        });
        return;
      }
      await withTracker(globals, async (tracker) => {
        let result;
        try {
          result = await tracker.handler.handle({ type: 'CancelOrder', clientOrderId, ...definedFields({ reason: flags.reason }) });
        } catch (error) {
          throw asFlagError(error, names);
        }
        const after = result.state.orders.get(clientOrderId) ?? null;
        if (flags.json) {
          io.out(JSON.stringify({ events: result.events, order: after }));
          return;
        }
        io.out(
          `${after === null ? `order ${clientOrderId}: cancel requested` : orderLine(after)}; nothing was sent to the venue (run with --adapter to cancel it there, or let reconciliation resolve it)`,
        );
      });
    });

  const symbol = program.command('symbol').description('symbol controls: disable or enable buying or selling a symbol');
  const symbolAction =
    (build: (symbol: string, f: { side: 'buy' | 'sell' | 'both'; reason?: string }) => CommandInput) =>
    async (s: string | undefined, _opts: unknown, command: Command): Promise<void> => {
      const globals = globalsOf(command);
      const flags = command.opts<{ side: 'buy' | 'sell' | 'both'; reason?: string; commandId?: string; json?: boolean }>();
      await withTracker(globals, async (tracker) => {
        let result;
        try {
          result = await tracker.handler.handle({
            ...build(required(s, '<symbol>'), flags),
            ...definedFields({ commandId: flags.commandId }),
          } as CommandInput);
        } catch (error) {
          throw asFlagError(error, { symbol: '<symbol>' });
        }
        const name = required(s, '<symbol>');
        const control = result.state.symbolControls.get(name) ?? {};
        if (flags.json) {
          io.out(JSON.stringify({ events: result.events, symbol: name, control, duplicate: result.duplicate }));
          return;
        }
        const now = `buying ${control.buy ? `disabled (${control.buy.reason})` : 'enabled'}, selling ${control.sell ? `disabled (${control.sell.reason})` : 'enabled'}`;
        io.out(`${name}: ${result.events.length === 0 ? 'already so, nothing appended' : 'recorded'}; ${now}`);
      });
    };
  symbol
    .command('disable <symbol>')
    .description('refuse orders on a side of a symbol, until enabled again (kept in the log)')
    .addOption(new Option('--side <side>', 'buy, sell or both').choices(['buy', 'sell', 'both']).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why (shown when an order is refused)')
    .option('--command-id <id>', 'idempotency key: repeating it returns the first result and appends nothing')
    .option('--json', "print the appended events and the symbol's controls as JSON")
    .action(symbolAction((s, f) => ({ type: 'DisableSymbol', symbol: s, side: f.side, reason: required(f.reason, '--reason') })));
  symbol
    .command('enable <symbol>')
    .description('allow orders on a symbol again')
    .addOption(new Option('--side <side>', 'buy, sell or both').choices(['buy', 'sell', 'both']).default('both'))
    .option('--command-id <id>', 'idempotency key: repeating it returns the first result and appends nothing')
    .option('--json', "print the appended events and the symbol's controls as JSON")
    .action(symbolAction((s, f) => ({ type: 'EnableSymbol', symbol: s, side: f.side })));
}
