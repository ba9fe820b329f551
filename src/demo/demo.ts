import { existsSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { RiskLimitError } from '../errors/index.js';
import type { BookState, InPosition } from '../commands/index.js';
import { bookStream, type RecordedEvent } from '../events/index.js';
import { SeededRandom } from '../_internals/random.js';
import {
  guardExternal,
  reconcile,
  type ReconcileReport,
  SimulatedExchange,
  type SimulatedExchangeOptions,
  type SimulatedExchangeState,
} from '../reconcile/index.js';
import { readWholeStream } from '../store/index.js';
import { openTracker, type OrderOutcome, type Tracker } from '../tracker/index.js';
import {
  auditProjection,
  type AuditBook,
  foldProjection,
  LEAK_CAUSES,
  leakReport,
  type LeakRow,
  ProjectionOptions,
} from '../projections/index.js';
import { present } from '../_internals/present.js';

export interface DemoOptions {
  seed: number;
  /** Where the exchange's state lives, and the trade log unless `store` names one. */
  dir: string;
  /**
   * A `postgres://...?schema=` store string: the trade log lives there instead of in `dir`
   * (the caller owns the schema: `ptrack demo` makes a fresh one and drops it after).
   */
  store?: string;
  /** Simulated minutes of trading. Default 60. */
  steps?: number;
  /** Writes one line of the story. */
  out: (line: string) => void;
}

export interface DemoSettings {
  seed: number;
  steps: number;
  crashAt: number;
  start: number;
  stepMs: number;
}

export function demoSettings(seed: number, steps = 60): DemoSettings {
  const r = new SeededRandom(seed ^ 0x5eed);
  return { seed, steps, crashAt: Math.floor(steps / 2) + r.int(-5, 5), start: Date.parse('2026-01-05T09:00:00.000Z'), stepMs: 60_000 };
}

const POLICY = {
  orphans: 'adopt',
  phantoms: 'clear',
  drift: 'correct',
  driftTolerancePct: 0.5,
  phantomConfirmLooks: 2,
  graceSeconds: 90,
} as const;
const BOOK = {
  book: 'demo-bot',
  maxPositions: 6,
  minPositionValue: 5,
  equity: 10_000,
  maxGroupRiskPct: null,
  dailyLossLimitPct: null,
  snapshotEvery: 200,
};

async function openPositions(w: { tracker: Tracker }): Promise<InPosition[]> {
  return (await w.tracker.list({ status: 'IN' })).filter((p): p is InPosition => p.status === 'IN');
}

/** The value of a position the exchange has just opened (it is there by construction). */
const justOpened = (exchange: { valueNow(id: string): number | null }, id: string): number =>
  present(exchange.valueNow(id) ?? undefined, `the value of ${id}, just opened`);
const money = (n: number): string => (Math.round(n * 100) / 100).toFixed(2);
const qty = (n: number): number => Math.round(n * 1e6) / 1e6;
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

/** The exchange keeps its own state on disk: it is the outside world and must outlive the bot. */
class ExchangeFile {
  constructor(private readonly path: string) {}
  load(): SimulatedExchangeState | undefined {
    return existsSync(this.path) ? (JSON.parse(readFileSync(this.path, 'utf8')) as SimulatedExchangeState) : undefined;
  }
  save(exchange: SimulatedExchange): void {
    this.saveState(exchange.snapshot());
  }
  saveState(state: SimulatedExchangeState): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
  }
}

interface World {
  settings: DemoSettings;
  clock: { now: number };
  exchange: SimulatedExchange;
  file: ExchangeFile;
  tracker: Tracker;
  bot: SeededRandom;
  out: (line: string) => void;
  counter: { n: number };
}

/**
 * The bot's world: the exchange from its file, and the tracker opened on it with startup recovery
 * `sync` (the orders in flight are resolved before the bot trades). `onRestartBeforeAck` is the
 * crash point of phase 1: the exchange has placed and filled the order, the bot has not heard.
 */
async function openWorld(
  options: DemoOptions,
  phase: 1 | 2,
  startStep: number,
  onRestartBeforeAck?: SimulatedExchangeOptions['onRestartBeforeAck'],
): Promise<World> {
  const settings = demoSettings(options.seed, options.steps);
  const clock = { now: settings.start + startStep * settings.stepMs };
  const file = new ExchangeFile(join(options.dir, 'exchange.json'));
  const exchange = new SimulatedExchange(
    { seed: options.seed, clock: () => new Date(clock.now), lagSeconds: 30, ...(onRestartBeforeAck ? { onRestartBeforeAck } : {}) },
    file.load(),
  );
  const store = options.store ?? `sqlite:${join(options.dir, 'trades.db')}`;
  const tracker = await openTracker({
    ...BOOK,
    store,
    now: () => new Date(clock.now),
    reconcile: POLICY,
    recovery: { mode: 'sync' },
    external: guardExternal(exchange, { retries: 1, sleep: async () => undefined }),
  });
  // The bot's own randomness: a stream per phase, so a restart is as repeatable as the first run.
  const bot = new SeededRandom((options.seed * 7919 + phase * 104_729) >>> 0);
  // Order ids continue where the log left off (the crashed order's id is taken too: it reached the exchange).
  let n = 0;
  for await (const e of readWholeStream(tracker.store, bookStream(BOOK.book))) {
    const m = e.type === 'PositionTracked' || e.type === 'OrphanAdopted' ? /^BOT-(\d+)$/.exec(e.data.positionId) : null;
    if (m) n = Math.max(n, Number(m[1]));
  }
  for (const p of exchange.truth()) {
    const m = /^BOT-(\d+)$/.exec(p.id);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return { settings, clock, exchange, file, tracker, bot, out: options.out, counter: { n } };
}

function describeReport(r: ReconcileReport): string {
  const unread = r.errors.find((e) => e.stage === 'listPositions');
  if (unread) {
    return `could not read the exchange (${unread.failure}): nothing changed, will retry`;
  }
  const parts: string[] = [];
  for (const o of r.orders.orders) {
    const fills = o.records.filter((x) => x.kind === 'fill');
    if (fills.length > 0) {
      const quantity = fills.reduce((sum, f) => sum + ('quantity' in f ? f.quantity : 0), 0);
      parts.push(`late fill of order ${o.clientOrderId} for ${o.positionId} recorded (${qty(quantity)})`);
    } else if (o.outcome === 'lost') parts.push(`order ${o.clientOrderId} for ${o.positionId} lost (the exchange never had it)`);
    else if (o.outcome === 'not_found') parts.push(`order ${o.clientOrderId} for ${o.positionId} not found yet (look ${o.looks ?? 1})`);
  }
  const adopted = r.orphans.filter((o) => o.outcome === 'adopted').map((o) => o.positionId);
  const cleared = r.phantoms.filter((p) => p.outcome === 'cleared').map((p) => p.positionId);
  const suspected = r.phantoms.filter((p) => p.outcome === 'suspected').map((p) => `${p.positionId} (look ${p.looks})`);
  const deferred = [...r.orphans, ...r.phantoms].filter((x) => x.outcome === 'deferred').map((x) => x.positionId);
  const corrected = r.drift
    .filter((d) => d.outcome === 'corrected')
    .map((d) => `${d.positionId} ${money(d.localValue)}->${money(d.externalValue)}`);
  if (adopted.length) parts.push(`adopted orphan ${adopted.join(', ')}`);
  if (cleared.length) parts.push(`cleared phantom ${cleared.join(', ')}`);
  if (suspected.length) parts.push(`suspects phantom ${suspected.join(', ')}`);
  if (corrected.length) parts.push(`corrected drift ${corrected.join(', ')}`);
  if (deferred.length) parts.push(`too recent to judge: ${deferred.join(', ')}`);
  if (r.dust.length) parts.push(`${r.dust.length} dust ignored`);
  if (r.skipped.length) parts.push(`${r.skipped.length} step(s) skipped (book moved)`);
  const other = r.errors.filter((e) => e.stage !== 'listPositions');
  if (other.length) parts.push(`${other.length} error(s): ${other.map((e) => e.message).join('; ')}`);
  return parts.length ? parts.join('; ') : 'in sync';
}

async function runReconcile(w: World, label: string): Promise<ReconcileReport> {
  const report = await reconcile({
    handler: w.tracker.handler,
    external: w.exchange,
    policy: POLICY,
    now: () => new Date(w.clock.now),
    guard: { retries: 1, sleep: async () => undefined, timeoutMs: 5000 },
    runId: `rec-${hhmm(w.clock.now)}`,
  });
  w.out(`${hhmm(w.clock.now)}  ${label}: ${describeReport(report)}`);
  return report;
}

/** The bot's ordinary business for one simulated minute. */
async function trade(w: World): Promise<void> {
  const t = hhmm(w.clock.now);
  const open = await openPositions(w);
  // Every third minute the bot marks the positions it entered at the exchange's value.
  // (Adopted ones it leaves alone: reconciliation keeps their value in line.)
  if (Math.floor(w.clock.now / w.settings.stepMs) % 3 === 0) {
    for (const p of open) {
      const value = w.exchange.valueNow(p.id);
      if (value !== null && p.origin === 'entered' && value !== p.value) await w.tracker.hold(p.id, { value });
    }
  }
  // Exit one now and then.
  if (open.length > 0 && w.bot.chance(0.18)) {
    const p = w.bot.pick(open);
    const value = w.exchange.valueNow(p.id);
    const live = (await w.tracker.orders({ live: true, positionId: p.id })).length > 0;
    if (value !== null && p.quantity !== undefined && !live) {
      const before = (await w.tracker.risk()).realizedPnl;
      const r = await w.tracker.submitOrder({
        commandId: `exit-${p.id}-${hhmm(w.clock.now)}`,
        positionId: p.id,
        intent: 'reduce',
        quantity: p.quantity,
      });
      w.file.save(w.exchange);
      const realized = (await w.tracker.risk()).realizedPnl - before;
      w.out(`${t}  ${p.id.padEnd(8)} ${describeOrder(r)}${r.outcome === 'accepted' ? `, realized ${money(realized)}` : ''}`);
    }
  }
  // Enter one now and then: the book decides first, then the order goes out.
  if (w.bot.chance(0.3)) {
    const held = new Set(open.map((p) => p.symbol));
    const free = w.exchange.symbols.filter((x) => !held.has(x));
    const symbol = free.length > 0 && w.bot.chance(0.85) ? w.bot.pick(free) : w.bot.pick(w.exchange.symbols);
    const id = `BOT-${++w.counter.n}`;
    const price = w.exchange.price(symbol);
    const quantity = Math.round((w.bot.int(300, 1500) / price) * 1e6) / 1e6;
    const value = Math.round(quantity * price * 100) / 100;
    await w.tracker.track(id, { symbol, side: 'long', setup: w.bot.pick(['breakout', 'pullback', 'mean-revert']) });
    let r;
    try {
      r = await w.tracker.submitOrder({ signalId: `sig-${id}`, positionId: id, intent: 'entry', quantity, referencePrice: price });
    } catch (error) {
      if (!(error instanceof RiskLimitError)) throw error;
      await w.tracker.skip(id, { reason: `refused: ${error.rule}` });
      w.out(`${t}  ${id.padEnd(8)} ${symbol} refused by ${error.rule} (limit ${error.limit}, now ${error.current}): skipped`);
      return;
    }
    w.file.save(w.exchange);
    w.out(`${t}  ${id.padEnd(8)} ${symbol} ${describeOrder(r)} (${money(value)} asked)`);
  }
}

/** One line of what an order came to. */
function describeOrder(r: OrderOutcome): string {
  const o = r.order;
  const what = `${o.intent === 'entry' ? 'buy' : 'sell'} ${qty(o.quantity)}`;
  switch (r.outcome) {
    case 'accepted':
    case 'duplicate':
    case 'canceled':
      return `${what}: order ${o.clientOrderId} ${o.status.toLowerCase()}, ${qty(o.filledQuantity)} @ ${money(o.averagePrice ?? 0)}`;
    case 'rejected':
      return `${what}: order ${o.clientOrderId} refused by the exchange`;
    case 'unknown':
      return `${what}: order ${o.clientOrderId} sent, no answer (${r.error?.failure ?? 'unknown'}): in flight, reconciliation looks it up`;
    default: {
      const _exhaustive: never = r.outcome;
      return _exhaustive;
    }
  }
}

/** The outside world misbehaves, by seed. */
async function injectFaults(w: World, step: number): Promise<void> {
  const t = hhmm(w.clock.now);
  const r = w.bot;
  if (step % 7 === 3 && r.chance(0.8)) {
    const id = w.exchange.injectOrphan();
    w.out(`${t}  fault    someone traded on the account by hand: ${id} opened outside (value ${money(justOpened(w.exchange, id))})`);
  }
  if (step % 11 === 6) {
    const open = (await openPositions(w)).filter((p) => w.exchange.valueNow(p.id) !== null);
    if (open.length > 0) {
      const p = r.pick(open);
      w.exchange.liquidate(p.id);
      w.out(`${t}  fault    ${p.id} was stopped out at the exchange; the bot did not hear of it`);
    }
  }
  if (step % 9 === 4) {
    const open = (await openPositions(w)).filter((p) => w.exchange.valueNow(p.id) !== null);
    if (open.length > 0) {
      const p = r.pick(open);
      w.exchange.drift(p.id, 0.97);
      w.out(`${t}  fault    funding and fees took 3% of ${p.id} at the exchange`);
    }
  }
  if (step % 13 === 8) {
    const id = w.exchange.dustReward();
    w.out(`${t}  fault    a dust reward ${id} appeared (value ${money(justOpened(w.exchange, id))})`);
  }
  // Six minutes after a dust reward (at least one look has seen it as dust), it grows above the threshold.
  if (step % 13 === 1) {
    const dust = w.exchange.truth().filter((p) => p.origin === 'dust' && p.value < BOOK.minPositionValue);
    const d = dust.at(-1);
    if (d !== undefined && w.exchange.growDust(d.id, 60)) {
      w.out(`${t}  fault    the dust reward ${d.id} grew to ${money(justOpened(w.exchange, d.id))}, above the dust threshold`);
    }
  }
  if (step % 17 === 10) {
    w.exchange.setFaults({ error: 1 });
    w.out(`${t}  fault    the exchange API is down`);
  } else if (step % 17 === 12) {
    w.exchange.setFaults({ error: 0, malformed: 1 });
    w.out(`${t}  fault    the exchange API answers garbage`);
  } else if (step % 17 === 13) {
    w.exchange.setFaults({ error: 0, malformed: 0 });
    w.out(`${t}  fault    the exchange API is back`);
  }
  w.file.save(w.exchange);
}

async function steps(w: World, from: number, to: number): Promise<void> {
  for (let step = from; step < to; step++) {
    w.clock.now = w.settings.start + step * w.settings.stepMs;
    w.exchange.tick(0.4);
    await trade(w);
    await injectFaults(w, step);
    if (step % 5 === 4) await runReconcile(w, 'reconcile');
    w.file.save(w.exchange);
  }
}

/**
 * Phase 1 (run in a child process): trade until the crash step, then buy outside and die by
 * SIGKILL before recording it. Never returns normally.
 */
export async function runDemoPhase1(options: DemoOptions, die: () => never): Promise<never> {
  let crashLine = '';
  const w = await openWorld(options, 1, 0, (state) => {
    // The exchange placed and filled the order and keeps it; the bot dies before the answer.
    w.file.saveState(state);
    w.out(crashLine);
    die();
  });
  const s = w.settings;
  const engine = options.store === undefined ? 'SQLite' : 'PostgreSQL';
  w.out(`position-tracker demo: seed ${s.seed}, ${s.steps} simulated minutes, ${engine} trade log, simulated exchange`);
  w.out(
    `policies: orphans adopt, phantoms clear after ${POLICY.phantomConfirmLooks} looks or a direct look, drift correct beyond ${POLICY.driftTolerancePct}%, dust below ${BOOK.minPositionValue}`,
  );
  w.out('');
  await w.tracker.handler.handle({ type: 'RecordHeartbeat', process: 'demo-bot' });
  await steps(w, 0, s.crashAt);
  w.clock.now = s.start + s.crashAt * s.stepMs;
  w.exchange.setFaults({ error: 0, malformed: 0, timeout: 0, rateLimit: 0 });
  const open = (await openPositions(w)).filter((p) => p.quantity !== undefined && w.exchange.valueNow(p.id) !== null);
  const held = new Set(open.map((p) => p.symbol));
  const free = w.exchange.symbols.filter((x) => !held.has(x));
  const t = hhmm(w.clock.now);
  const dies = '... and the bot process is killed (SIGKILL) before it hears back';
  w.exchange.forceOrderFault('restartBeforeAck');
  if ((await w.tracker.risk()).open < BOOK.maxPositions && free.length > 0) {
    // An entry: the exchange fills it, the book holds it PENDING_SUBMIT.
    const symbol = w.bot.pick(free);
    const id = `BOT-${++w.counter.n}`;
    const price = w.exchange.price(symbol);
    const quantity = Math.round((800 / price) * 1e6) / 1e6;
    await w.tracker.track(id, { symbol, side: 'long', setup: 'breakout' });
    crashLine = `${t}  ${id.padEnd(8)} order to buy ${symbol} filled at the exchange ${dies}`;
    await w.tracker.submitOrder({ signalId: `sig-${id}`, positionId: id, intent: 'entry', quantity, referencePrice: price });
  } else {
    // The book is full: the bot exits one, and dies the same way.
    const p = w.bot.pick(open);
    crashLine = `${t}  ${p.id.padEnd(8)} order to sell ${p.symbol} filled at the exchange ${dies}`;
    await w.tracker.submitOrder({
      commandId: `exit-${p.id}-${t}`,
      positionId: p.id,
      intent: 'reduce',
      quantity: present(p.quantity, 'its quantity'),
    });
  }
  throw new Error('the demo bot outlived its crash point (the exchange did not call onRestartBeforeAck)');
}

/** Phase 2 (in the parent): restart with recovery, trade on, heal, and judge. Returns true when local equals outside. */
export async function runDemoPhase2(options: DemoOptions): Promise<boolean> {
  const settings = demoSettings(options.seed, options.steps);
  const restartStep = settings.crashAt + 2;
  const w = await openWorld(options, 2, restartStep);
  w.out('');
  w.out(`${hhmm(w.clock.now)}  restart  the bot comes back with recovery mode sync (reconcile before any command)`);
  const recovery = present(w.tracker.recovery ?? undefined, 'the startup recovery of a tracker opened with external');
  if (recovery.report) w.out(`${hhmm(w.clock.now)}  recovery: ${describeReport(recovery.report)}`);
  try {
    await steps(w, restartStep, settings.steps);
    // Quiet markets at the end: the outside world behaves, reconciliation settles everything.
    w.exchange.setFaults({ error: 0, malformed: 0, timeout: 0, rateLimit: 0 });
    for (let i = 0; i < 3; i++) {
      w.clock.now += 2 * 60_000;
      await runReconcile(w, 'final reconcile');
    }
    const events: RecordedEvent[] = [];
    for await (const e of readWholeStream(w.tracker.store, bookStream(BOOK.book))) events.push(e);
    const audit = auditProjection(ProjectionOptions.parse({ equity: BOOK.equity }));
    const data = audit.toJson(foldProjection(audit, events));
    const book = data.books[BOOK.book];
    if (book && data.asOf !== null) printAudit(w.out, book, data.asOf);
    return await printPortfolioAndVerdict(w, events.length);
  } finally {
    w.file.save(w.exchange);
    await w.tracker.close();
  }
}

/**
 * The leak report of the audit read model (a fold of the log, as `ptrack audit` prints it): every
 * leak with when it began (the venue's time, the fill's, or the looks around it), how long it lasted
 * and its value x time, then the totals by cause and the part healed automatically.
 */
function printAudit(out: (line: string) => void, audit: AuditBook, asOf: string): void {
  const hm = (iso: string | null): string => (iso ? hhmm(Date.parse(iso)) : '--:--');
  const report = leakReport(audit, { asOf, timeZone: 'UTC' });
  const began = (r: LeakRow): string => {
    const s = r.start;
    switch (s.evidence) {
      case 'venue':
      case 'fill':
        return `${hm(s.at)} ${s.evidence}`;
      case 'looks':
      case 'order':
        return `${hm(s.earliest)}-${hm(s.latest)} ${s.evidence}`;
      case 'detection':
        return `${hm(s.latest)} found`;
      default: {
        const _exhaustive: never = s.evidence;
        return _exhaustive;
      }
    }
  };
  const kindOf = { orphan: 'orphan', phantom: 'phantom', 'late fill': 'fill' } as const;
  const found = (r: LeakRow): string | null => {
    if (r.kind === 'late fill') return r.resolvedAt;
    const o = audit.orphans.find((x) => x.positionId === r.positionId && x.start.at === r.start.at);
    const p = audit.phantoms.find((x) => x.positionId === r.positionId && x.start.at === r.start.at);
    return o?.detectedAt ?? p?.suspectedAt ?? null;
  };
  out('');
  out('leak audit (the audit read model, folded from the trade log; each leak from when it began):');
  out('  kind     position      found     resolved  how        value     began              lasted  value x minutes  cause');
  for (const r of report.rows) {
    out(
      `  ${kindOf[r.kind].padEnd(8)} ${r.positionId.padEnd(13)} ${hm(found(r))}     ${hm(r.resolvedAt)}     ${r.resolution.padEnd(10)} ${money(r.value).padStart(8)}  ${began(r).padEnd(17)} ${`${Math.round(r.durationSeconds / 60)}m`.padStart(6)}  ${money(r.valueSeconds / 60).padStart(15)}  ${r.cause}`,
    );
  }
  const t = report.totals;
  out('');
  out('leaks by cause:');
  out('  cause                            leaks  value x minutes  healed automatically');
  for (const cause of LEAK_CAUSES) {
    const c = t.byCause[cause];
    out(
      `  ${cause.padEnd(32)} ${String(c.count).padStart(5)}  ${money(c.valueSeconds / 60).padStart(15)}  ${money(c.healedValueSeconds / 60).padStart(20)}`,
    );
  }
  out(
    `  ${'all'.padEnd(32)} ${String(t.count).padStart(5)}  ${money(t.valueSeconds / 60).padStart(15)}  ${money(t.healedValueSeconds / 60).padStart(20)}`,
  );
  const d = audit.totals;
  out(`  drift corrections: ${d.drift.count} (moved ${money(d.drift.absDelta)} in value); reconciliation runs: ${d.reconciliations.count}`);
}

/**
 * What reached the exchange more than once, from its own submit log: a client order id submitted
 * twice (placed, or refused as a reuse), or a signal (the book's order key) that became two orders.
 */
function ordersSentTwice(exchange: SimulatedExchange, book: BookState): string[] {
  const log = exchange.orderLog();
  const submits = new Map<string, number>();
  for (const id of [...log.orders.map((o) => o.clientOrderId), ...log.rejections.map((r) => r.clientOrderId)]) {
    submits.set(id, (submits.get(id) ?? 0) + 1);
  }
  const perKey = new Map<string, number>();
  for (const o of log.orders) {
    const key = book.orders.get(o.clientOrderId)?.orderKey ?? o.clientOrderId;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  return [...[...submits].filter(([, n]) => n > 1).map(([id]) => id), ...[...perKey].filter(([, n]) => n > 1).map(([k]) => `signal ${k}`)];
}

async function printPortfolioAndVerdict(w: World, eventCount: number): Promise<boolean> {
  const risk = await w.tracker.risk();
  const local = (await openPositions(w)).sort((a, b) => a.id.localeCompare(b.id));
  const outside = w.exchange.truth().filter((p) => p.value >= BOOK.minPositionValue);
  w.out('');
  w.out('final portfolio:');
  w.out('  position      symbol  origin   value here  value outside');
  for (const p of local) {
    const ext = w.exchange.valueNow(p.id);
    w.out(
      `  ${p.id.padEnd(13)} ${(p.symbol ?? '').padEnd(7)} ${p.origin.padEnd(8)} ${money(p.value).padStart(10)}  ${ext === null ? '(not open)' : money(ext).padStart(13)}`,
    );
  }
  w.out(`  realized P&L ${money(risk.realizedPnl)}, equity ${money(risk.equity)}, ${eventCount} events in the log`);
  const localIds = new Set(local.map((p) => p.id));
  const missingHere = outside.filter((p) => !localIds.has(p.id));
  const missingOutside = local.filter((p) => w.exchange.valueNow(p.id) === null);
  const valueGaps = local.filter((p) => {
    const ext = w.exchange.valueNow(p.id);
    return ext !== null && Math.abs(ext - p.value) > Math.max(0.01, (POLICY.driftTolerancePct / 100) * p.value);
  });
  const closes = w.exchange.closeLog();
  const closedTwice = Object.entries(closes.closes).filter(([, n]) => n > 1);
  const sentTwice = ordersSentTwice(w.exchange, await w.tracker.state());
  const ok =
    missingHere.length === 0 &&
    missingOutside.length === 0 &&
    valueGaps.length === 0 &&
    closedTwice.length === 0 &&
    closes.badCloses.length === 0 &&
    sentTwice.length === 0;
  const total = local.reduce((sum, p) => sum + p.value, 0);
  w.out('');
  if (ok) {
    w.out(
      `VERDICT: local equals outside above dust: ${local.length} open positions, value ${money(total)}; nothing closed twice; no order sent twice.`,
    );
  } else {
    w.out(
      `VERDICT: MISMATCH: open outside only ${missingHere.map((p) => p.id).join(', ') || 'none'}; open here only ${missingOutside.map((p) => p.id).join(', ') || 'none'}; value gaps ${valueGaps.map((p) => p.id).join(', ') || 'none'}; closed twice ${closedTwice.map(([id]) => id).join(', ') || 'none'}; sent twice ${sentTwice.join(', ') || 'none'}`,
    );
  }
  return ok;
}
