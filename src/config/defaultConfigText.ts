import { TrackerConfig } from './schema.js';
import { parseOrThrow } from '../_internals/zodIssues.js';

/**
 * The comment `ptrack init` writes above each key. Typed by the schema's keys, so a key added
 * to TrackerConfig without a comment here does not compile: init cannot forget one.
 */
const COMMENTS: { readonly [K in keyof TrackerConfig]-?: string } = {
  store:
    'Where the trade log lives: sqlite:<file>, memory:, postgres://user@host:5432/db (the password in PGPASSWORD) or esdb://host:2113?tls=false',
  book: 'The book: one event stream per bot or account',
  logLevel: 'Log level: fatal, error, warn, info, debug, trace or silent (LOG_LEVEL overrides)',
  minPositionValue: 'Dust threshold: values below it are refused on enter/adopt and ignored by orphan detection',
  maxPositions: 'Most positions IN at once',
  rejectDuplicateSymbol: 'Refuse entering a symbol that is already IN',
  equity: 'Starting equity: the base of every percentage rule',
  correlationGroups: 'Correlation groups: group name -> symbols, e.g. { "tech": ["AAPL", "MSFT"] }',
  maxGroupRiskPct: 'Most open risk per correlation group, % of equity (null = off)',
  maxConsecutiveLossesPerSymbol: 'Refuse a symbol after this many losing exits in a row today (null = off)',
  dailyLossLimitPct: "Trip the circuit breaker when the day's realized loss reaches this % of equity (null = off)",
  circuitBreakerSeconds: 'How long an automatically tripped breaker refuses entries (seconds)',
  cooldownSeconds: 'Refuse re-entering a symbol for this long after a full exit (seconds, 0 = off)',
  exitedCleanupSeconds: 'Archive EXITED positions after this long (seconds)',
  skipCleanupSeconds: 'Archive SKIPPED positions after this long (seconds)',
  watchTimeoutSeconds: 'Archive WATCHING positions after this long (seconds, null = never)',
  clientOrderIdMaxLength: 'Longest client order id the book derives for an order (16 to 64 characters; 36 suits most venues)',
  idempotencyWindow: 'How many recent command ids (and signal ids) are remembered, so a repeated command appends nothing',
  timeZone: 'Time zone of day boundaries for the daily loss limit (IANA name)',
  snapshotEvery: 'Write a snapshot of the book every this many events (0 = never)',
  reconcile:
    'How ptrack reconcile heals (see README "Reconciliation"); an optional webhookUrl receives every alert; everySeconds: the interval of ptrack serve\'s scheduler',
  recovery: 'Startup recovery: mode sync|restore|close_all|manual, and the heartbeat age (seconds) past which a sync is forced',
  serve:
    'ptrack serve: port, host (beyond 127.0.0.1 only with an apiToken), apiToken (Bearer token of the write endpoints; PTRACK_API_TOKEN overrides; null = read-only), heartbeatSeconds, archiveEverySeconds, keepAliveSeconds (a comment on every open /api/stream)',
  stateDir: 'Directory of the read models (portfolio.json, equity.json, ...); null = next to the SQLite file',
  drawdownBands: 'Drawdown bands of equity.json: % below the peak where warning, reduce and stop start',
  weekStartsOn: 'First day of the week for weekly P&L in risk.json: 0 = Sunday, 1 = Monday',
};

/** What init writes for a key that has no default (unset means the same thing). */
const WHEN_UNSET = new Map<string, unknown>([['logLevel', 'warn']]);

/**
 * The commented default configuration `ptrack init` writes (JSON with comments): every key of
 * the schema, in its order, with its comment and default value.
 *
 * @example
 * ```ts
 * writeFileSync('ptrack.config.json', defaultConfigText({ store: 'sqlite:./state/trades.db' }));
 * ```
 */
export function defaultConfigText(overrides: { store?: string; book?: string } = {}): string {
  // The overrides come from --store / --book: a bad one is bad input, named, never a raw ZodError.
  const d = parseOrThrow(TrackerConfig, overrides, 'settings');
  // Where and which book first, then the schema's order.
  const first: (keyof TrackerConfig)[] = ['store', 'book'];
  const keys = [...first, ...(Object.keys(TrackerConfig.shape) as (keyof TrackerConfig)[]).filter((k) => !first.includes(k))];
  const lines = keys.map((key, i) => {
    const value = d[key] === undefined ? WHEN_UNSET.get(key) : d[key];
    return `  // ${COMMENTS[key]}\n  ${JSON.stringify(key)}: ${JSON.stringify(value)}${i === keys.length - 1 ? '' : ','}\n`;
  });
  return (
    '// position-tracker configuration (JSON with comments). Every key is optional.\n' +
    '// Read by ptrack from ./ptrack.config.json, --config FILE, or $PTRACK_CONFIG.\n' +
    '{\n' +
    lines.join('') +
    '}\n'
  );
}
