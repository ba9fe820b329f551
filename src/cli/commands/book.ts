import { Option, type Command } from 'commander';
import type { CommandInput } from '../../commands/index.js';
import { isOrderEvent, type EventData, type EventType, type RecordedEvent } from '../../events/index.js';
import type { TrackerResult } from '../../tracker/index.js';
import { asFlagError, durationFlag, numberFlag, requiredNumberFlag, trailingFlag } from '../args.js';
import { globalsOf, withTracker } from '../context.js';
import { fmt, num, protectionText } from '../format.js';
import type { Io } from '../io.js';
import { ValidationError } from '../../errors/index.js';
import { definedFields } from '../../_internals/definedFields.js';
import { present } from '../../_internals/present.js';

interface Flags {
  value?: string;
  qty?: string;
  price?: string;
  stop?: string;
  takeProfit?: string;
  trailing?: string;
  fraction?: string;
  symbol?: string;
  venueKey?: string;
  side?: 'long' | 'short';
  setup?: string;
  group?: string;
  reason?: string;
  seconds?: string;
  commandId?: string;
}

/**
 * How `ptrack` prints an event these commands write. What they do not write (reconciliation's
 * findings, orders, recovery: see eventKinds, the one list of what each event is about) is named
 * by its type, and an order's event by its order too.
 */
const described: { readonly [K in EventType]?: (d: EventData<K>) => string } = {
  PositionTracked: (d) => `${d.positionId}: WATCHING${d.symbol ? ` ${d.symbol}` : ''} ${d.side}${d.group ? ` (group ${d.group})` : ''}`,
  PositionEntered: (d) => `${d.positionId}: IN at value ${fmt(d.value)}`,
  PositionValued: (d) => `${d.positionId}: valued at ${fmt(d.value)}`,
  PositionExited: (d) =>
    `${d.positionId}: ${d.full ? 'EXITED' : `exited ${num(d.fraction * 100)}%, still IN`}, realized P&L ${fmt(d.realizedPnl)}`,
  PositionSkipped: (d) => `${d.positionId}: SKIPPED`,
  PositionArchived: (d) => `${d.positionId}: archived (was ${d.from})`,
  OrphanAdopted: (d) => `${d.positionId}: adopted, IN at value ${fmt(d.value)}`,
  CircuitBreakerTripped: (d) => `circuit breaker TRIPPED: ${d.reason}${d.until ? ` until ${d.until}` : ''}`,
  CircuitBreakerReset: () => 'circuit breaker reset',
  CooldownStarted: (d) => `${d.symbol}: cooldown until ${d.until}`,
  ProtectionSet: (d) => `${d.positionId}: protection ${protectionText(d) ?? 'removed'}`,
};

function eventLine(e: RecordedEvent): string {
  const describe = described[e.type] as ((d: unknown) => string) | undefined;
  if (describe !== undefined) return describe(e.data);
  return isOrderEvent(e) ? `${e.type} (order ${e.data.clientOrderId})` : e.type;
}

function summary(result: TrackerResult, id: string | undefined): string {
  if (result.duplicate) return `${id ?? 'command'}: already done by this command id; nothing appended`;
  if (result.events.length === 0) return 'nothing to do';
  return result.events.map(eventLine).join('\n');
}

/** A price flag that may also be `none` (remove it): undefined when absent. */
function priceOrNone(flag: string, raw: string | undefined): number | null | undefined {
  if (raw?.trim().toLowerCase() === 'none') return null;
  return numberFlag(flag, raw);
}

/** A required argument or option: commander refuses the command line without it, so it is there. */
const required = <T>(value: T | undefined, name: string): T => present(value, `${name}, which commander requires,`);

/** Registers the commands that change the book. */
export function registerBookCommands(program: Command, io: Io): void {
  /** `names`: how this command spells a field when it is not the usual flag (see asFlagError). */
  const act = (
    cmd: Command,
    build: (id: string | undefined, f: Flags) => CommandInput | 'archive',
    names: Readonly<Record<string, string>> = {},
  ): void => {
    cmd.option('--command-id <id>', 'idempotency key: repeating it returns the first result and appends nothing');
    cmd.option('--json', 'print the appended events and the position as JSON');
    cmd.action(async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const flags = command.opts<Flags>();
      const id = typeof args[0] === 'string' ? args[0] : undefined;
      const globals = globalsOf(command);
      await withTracker(globals, async (tracker) => {
        let input: CommandInput | 'archive';
        try {
          input = build(id, flags);
        } catch (error) {
          throw asFlagError(error, names);
        }
        const call = definedFields({ commandId: flags.commandId });
        let result: TrackerResult;
        try {
          if (input === 'archive') {
            const all = await tracker.archive(id, call);
            result = { events: all.flatMap((r) => r.events), position: null, duplicate: all.some((r) => r.duplicate) };
          } else {
            const r = await tracker.handler.handle({ ...input, ...call } as CommandInput);
            const pid = (input as { positionId?: string }).positionId;
            result = {
              events: r.events,
              position: pid === undefined ? null : (r.state.positions.get(pid) ?? null),
              duplicate: r.duplicate,
            };
          }
        } catch (error) {
          throw asFlagError(error, names);
        }
        if (globals.json) io.out(JSON.stringify(result));
        else io.out(summary(result, id));
      });
    });
  };

  act(
    program
      .command('track <id>')
      .description('start watching a position (-> WATCHING)')
      .option('--symbol <symbol>', 'instrument symbol, e.g. AAPL')
      .addOption(new Option('--side <side>', 'long or short').choices(['long', 'short']).default('long'))
      .option('--setup <tag>', 'setup tag, for performance by setup')
      .option('--group <group>', 'correlation group (default: from correlationGroups in the config)')
      .option('--venue-key <key>', 'how the venue names it, matched on netting/hedge accounts (default: the symbol)'),
    (id, f) => ({
      type: 'Track',
      positionId: required(id, '<id>'),
      ...definedFields({ symbol: f.symbol, venueKey: f.venueKey, side: f.side, setup: f.setup, group: f.group }),
    }),
  );

  const withNumbers = (f: Flags, keys: readonly ['qty' | 'price' | 'stop' | 'fraction', string][]): Record<string, number> =>
    Object.fromEntries(
      keys.flatMap(([flag, field]) => {
        const n = numberFlag(`--${flag}`, f[flag]);
        return n === undefined ? [] : [[field, n]];
      }),
    );

  /** The options an entry takes, for enter and open. */
  const withEntryOptions = (cmd: Command): Command =>
    cmd
      .requiredOption('--value <value>', 'notional value at entry')
      .option('--qty <quantity>', 'quantity')
      .option('--price <price>', 'entry price')
      .option('--stop <stop>', 'stop price (sets the risk: |price - stop| x qty)')
      .option('--take-profit <price>', 'take-profit price (recorded and reported; the bot or the venue acts on it)')
      .option('--trailing <d|p%>', 'trailing stop: a distance (5) or a percent (2%) below the best price since entry');
  /** What those options give the Enter and Open commands. */
  const entryFields = (f: Flags): Record<string, unknown> & { value: number } => ({
    value: requiredNumberFlag('--value', f.value),
    ...withNumbers(f, [
      ['qty', 'quantity'],
      ['price', 'price'],
      ['stop', 'stop'],
    ]),
    ...definedFields({ takeProfit: numberFlag('--take-profit', f.takeProfit), trailingStop: trailingFlag('--trailing', f.trailing) }),
  });

  act(withEntryOptions(program.command('enter <id>').description('enter a watched position (WATCHING -> IN)')), (id, f) => ({
    type: 'Enter',
    positionId: required(id, '<id>'),
    ...entryFields(f),
  }));

  act(
    withEntryOptions(
      program
        .command('open <id>')
        .description('track and enter a position in one append (-> IN): the rules of track then enter, both events or none')
        .option('--symbol <symbol>', 'instrument symbol, e.g. AAPL')
        .addOption(new Option('--side <side>', 'long or short').choices(['long', 'short']).default('long'))
        .option('--setup <tag>', 'setup tag, for performance by setup')
        .option('--group <group>', 'correlation group (default: from correlationGroups in the config)')
        .option('--venue-key <key>', 'how the venue names it, matched on netting/hedge accounts (default: the symbol)'),
    ),
    (id, f) => ({
      type: 'Open',
      positionId: required(id, '<id>'),
      ...definedFields({ symbol: f.symbol, venueKey: f.venueKey, side: f.side, setup: f.setup, group: f.group }),
      ...entryFields(f),
    }),
  );

  act(
    program
      .command('protect <id>')
      .description("change an open position's protection (IN -> IN): a flag given replaces it, `none` removes it, the rest stay")
      .option('--stop <price|none>', 'stop loss price (the risk is measured to it)')
      .option('--take-profit <price|none>', 'take-profit price')
      .option('--trailing <d|p%|none>', 'trailing stop: a distance (5) or a percent (2%); it trails from the last price'),
    (id, f) => {
      if (f.stop === undefined && f.takeProfit === undefined && f.trailing === undefined) {
        throw new ValidationError('protect: give at least one of --stop, --take-profit, --trailing (a price, or none to remove it)');
      }
      const trailing = f.trailing?.trim().toLowerCase() === 'none' ? null : trailingFlag('--trailing', f.trailing);
      return {
        type: 'SetProtection',
        positionId: required(id, '<id>'),
        ...definedFields({
          stop: priceOrNone('--stop', f.stop),
          takeProfit: priceOrNone('--take-profit', f.takeProfit),
          trailingStop: trailing,
        }),
      };
    },
  );

  act(
    program
      .command('hold <id>')
      .description('record a fresh value of an open position (IN -> IN)')
      .requiredOption('--value <value>', "the whole position's current value")
      .option('--price <price>', 'current price'),
    (id, f) => ({
      type: 'Hold',
      positionId: required(id, '<id>'),
      value: requiredNumberFlag('--value', f.value),
      ...withNumbers(f, [['price', 'price']]),
    }),
  );

  act(
    program
      .command('monitor <id>')
      .description('record a value of a watched position (WATCHING -> WATCHING)')
      .requiredOption('--value <value>', 'current value')
      .option('--price <price>', 'current price'),
    (id, f) => ({
      type: 'Monitor',
      positionId: required(id, '<id>'),
      value: requiredNumberFlag('--value', f.value),
      ...withNumbers(f, [['price', 'price']]),
    }),
  );

  act(
    program
      .command('exit <id>')
      .description('close all or part of an open position (IN -> EXITED, or IN -> IN when partial)')
      .requiredOption('--value <value>', "the whole position's current value; the closed part is --fraction of it")
      .option('--fraction <f>', 'part of the open position to close, 0 < f <= 1 (default 1)')
      .option('--qty <quantity>', 'quantity to close instead of a fraction')
      .option('--price <price>', 'exit price')
      .option('--reason <text>', 'why'),
    (id, f) => ({
      type: 'Exit',
      positionId: required(id, '<id>'),
      value: requiredNumberFlag('--value', f.value),
      ...withNumbers(f, [
        ['fraction', 'fraction'],
        ['qty', 'quantity'],
        ['price', 'price'],
      ]),
      ...definedFields({ reason: f.reason }),
    }),
  );

  act(
    program.command('skip <id>').description('pass over a watched position (WATCHING -> SKIPPED)').option('--reason <text>', 'why'),
    (id, f) => ({ type: 'Skip', positionId: required(id, '<id>'), ...definedFields({ reason: f.reason }) }),
  );

  act(
    program
      .command('adopt <id>')
      .description('take a position found open outside into the book (unknown or archived -> IN)')
      .requiredOption('--value <value>', 'its value outside')
      .option('--symbol <symbol>', 'instrument symbol')
      .addOption(new Option('--side <side>', 'long or short').choices(['long', 'short']))
      .option('--qty <quantity>', 'quantity')
      .option('--price <price>', 'price')
      .option('--venue-key <key>', 'how the venue names it (default: the symbol)')
      .option('--reason <text>', 'why'),
    (id, f) => ({
      type: 'AdoptOrphan',
      positionId: required(id, '<id>'),
      value: requiredNumberFlag('--value', f.value),
      ...definedFields({ symbol: f.symbol, venueKey: f.venueKey, side: f.side }),
      ...withNumbers(f, [
        ['qty', 'quantity'],
        ['price', 'price'],
      ]),
      ...definedFields({ reason: f.reason }),
    }),
  );

  act(
    program.command('archive [id]').description('archive finished positions whose timeout has passed, or one position now'),
    () => 'archive',
  );

  const breaker = program.command('breaker').description('the circuit breaker: trip or reset it by hand');
  act(
    breaker
      .command('trip')
      .description('refuse new entries until reset (or for --for)')
      .requiredOption('--reason <text>', 'why')
      .option('--for <duration>', 'e.g. 30m, 2h, 1d (default: until reset)'),
    (_id, f) => {
      const seconds = durationFlag('--for', (f as Flags & { for?: string }).for);
      return { type: 'TripCircuitBreaker', reason: required(f.reason, '--reason'), ...definedFields({ seconds }) };
    },
    { seconds: '--for' },
  );
  act(breaker.command('reset').description('allow entries again').option('--reason <text>', 'why'), (_id, f) => ({
    type: 'ResetCircuitBreaker',
    ...definedFields({ reason: f.reason }),
  }));

  act(
    program
      .command('cooldown <symbol>')
      .description('refuse entries on a symbol for a while')
      .requiredOption('--for <duration>', 'e.g. 30m, 2h, 1d')
      .option('--reason <text>', 'why'),
    (symbol, f) => ({
      type: 'StartCooldown',
      symbol: required(symbol, '<symbol>'),
      seconds: required(durationFlag('--for', (f as Flags & { for?: string }).for), '--for'),
      ...definedFields({ reason: f.reason }),
    }),
    { symbol: '<symbol>', seconds: '--for' },
  );
}
