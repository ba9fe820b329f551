import { TrackerConfig } from './schema.js';

/** The commented default configuration `ptrack init` writes (JSON with comments). */
export function defaultConfigText(overrides: { store?: string; book?: string } = {}): string {
  const d = TrackerConfig.parse(overrides);
  const line = (comment: string, key: string, value: unknown, last = false): string =>
    `  // ${comment}\n  ${JSON.stringify(key)}: ${JSON.stringify(value)}${last ? '' : ','}\n`;
  return (
    '// position-tracker configuration (JSON with comments). Every key is optional.\n' +
    '// Read by ptrack from ./ptrack.config.json, --config FILE, or $PTRACK_CONFIG.\n' +
    '{\n' +
    line('Where the trade log lives: sqlite:<file> or memory:', 'store', d.store) +
    line('The book: one event stream per bot or account', 'book', d.book) +
    line('Dust threshold: values below it are refused on enter/adopt and ignored by orphan detection', 'minPositionValue', d.minPositionValue) +
    line('Most positions IN at once', 'maxPositions', d.maxPositions) +
    line('Refuse entering a symbol that is already IN', 'rejectDuplicateSymbol', d.rejectDuplicateSymbol) +
    line('Starting equity: the base of every percentage rule', 'equity', d.equity) +
    line('Correlation groups: group name -> symbols, e.g. { "tech": ["AAPL", "MSFT"] }', 'correlationGroups', d.correlationGroups) +
    line('Most open risk per correlation group, % of equity (null = off)', 'maxGroupRiskPct', d.maxGroupRiskPct) +
    line('Refuse a symbol after this many losing exits in a row today (null = off)', 'maxConsecutiveLossesPerSymbol', d.maxConsecutiveLossesPerSymbol) +
    line("Trip the circuit breaker when the day's realized loss reaches this % of equity (null = off)", 'dailyLossLimitPct', d.dailyLossLimitPct) +
    line('How long an automatically tripped breaker refuses entries (seconds)', 'circuitBreakerSeconds', d.circuitBreakerSeconds) +
    line('Refuse re-entering a symbol for this long after a full exit (seconds, 0 = off)', 'cooldownSeconds', d.cooldownSeconds) +
    line('Archive EXITED positions after this long (seconds)', 'exitedCleanupSeconds', d.exitedCleanupSeconds) +
    line('Archive SKIPPED positions after this long (seconds)', 'skipCleanupSeconds', d.skipCleanupSeconds) +
    line('Archive WATCHING positions after this long (seconds, null = never)', 'watchTimeoutSeconds', d.watchTimeoutSeconds) +
    line('How many recent command ids are remembered, so a repeated command appends nothing', 'idempotencyWindow', d.idempotencyWindow) +
    line('Time zone of day boundaries for the daily loss limit (IANA name)', 'timeZone', d.timeZone) +
    line('Write a snapshot of the book every this many events (0 = never)', 'snapshotEvery', d.snapshotEvery) +
    line('Directory of the read models (portfolio.json, equity.json, ...); null = next to the SQLite file', 'stateDir', d.stateDir) +
    line('Drawdown bands of equity.json: % below the peak where warning, reduce and stop start', 'drawdownBands', d.drawdownBands) +
    line('First day of the week for weekly P&L in risk.json: 0 = Sunday, 1 = Monday', 'weekStartsOn', d.weekStartsOn, true) +
    '}\n'
  );
}
