// The dashboard: reads the read models through the same-origin JSON API, draws them, and keeps them
// current from the server-sent event stream (/api/stream). Every text that comes from the server is
// set with textContent (never innerHTML), with control characters and direction marks shown as
// visible \u escapes, as the CLI prints them. The page loads nothing from any other origin.
import uPlot from './uPlot.esm.js';

/** The endpoints the page draws, each with its renderer. */
const ENDPOINTS = ['health', 'portfolio', 'orders', 'equity', 'risk', 'audit'];

/** Newest events kept in the table. */
const EVENTS_SHOWN = 25;
/** Reconciliation runs and leak episodes shown per book. */
const RUNS_SHOWN = 10;
const LEAKS_SHOWN = 50;
/** How often, and how long, a read model behind an event is asked again (the workers write it shortly after the append). */
const BEHIND_RETRY_MS = 150;
const BEHIND_RETRIES = 40;
/** Health (lag, the guard, the scheduler) is also read on a timer: it changes without an event in the log. */
const HEALTH_EVERY_MS = 3000;

const state = {
  /** The global position of the last event received (sent back as Last-Event-ID on reconnect). */
  lastEventId: null,
  /** The highest event position each endpoint has to reflect. */
  wanted: new Map(ENDPOINTS.map((e) => [e, 0])),
  pending: new Set(),
  timer: null,
  behindTries: new Map(),
  timeZone: undefined,
  /** Messages of the banner, by source. */
  alerts: new Map(),
  events: [],
  chart: null,
  bandPairs: [],
  riskPairs: [],
};

// ---------- text and numbers ----------

// C0 and C1 controls, and the marks that reorder text (bidi), from outside are shown, never obeyed.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A value from outside as text a reader can trust: controls and direction marks as visible escapes. */
function visible(value) {
  if (value === undefined || value === null) return '—';
  return String(value).replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

const moneyFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Money with two decimals. */
function money(n) {
  return typeof n === 'number' && Number.isFinite(n) ? moneyFormat.format(n) : '—';
}

/** A quantity or a price with the precision it has (the shortest text that reads back as the same number), grouped. */
function exact(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const text = String(n);
  if (/e/i.test(text)) return text;
  const [int, frac] = text.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function pct(n) {
  return typeof n === 'number' && Number.isFinite(n) ? `${n.toFixed(2)}%` : '—';
}

/** An ISO time in the book's time zone (the config's `timeZone`, as risk.json names it). */
function time(iso) {
  if (typeof iso !== 'string') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return visible(iso);
  try {
    return new Intl.DateTimeFormat('sv-SE', {
      timeZone: state.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).format(d);
  } catch {
    return d.toISOString();
  }
}

function duration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  const units = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts = [];
  let rest = s;
  for (const [name, size] of units) {
    const k = Math.floor(rest / size);
    if (k > 0) parts.push(`${k}${name}`);
    rest -= k * size;
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

// ---------- DOM ----------

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

/** A table row from cells: a string is text; `{ text, num, cls }` a styled cell. */
function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = el('td', typeof cell === 'string' ? cell : cell.text);
    if (typeof cell !== 'string') {
      if (cell.num) td.classList.add('num');
      if (cell.cls) td.classList.add(cell.cls);
    }
    tr.append(td);
  }
  return tr;
}

function fillBody(tableId, rows, emptyText) {
  const table = document.getElementById(tableId);
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = el('td', emptyText, 'muted');
    td.colSpan = table.tHead.rows[0].cells.length;
    tr.append(td);
    body.replaceChildren(tr);
  } else body.replaceChildren(...rows);
}

function definitions(listId, pairs) {
  const dl = document.getElementById(listId);
  const nodes = [];
  for (const [term, value, cls] of pairs) {
    nodes.push(el('dt', term));
    nodes.push(el('dd', value, cls));
  }
  dl.replaceChildren(...nodes);
}

function pnlClass(n) {
  return typeof n === 'number' && n < 0 ? 'neg' : typeof n === 'number' && n > 0 ? 'pos' : undefined;
}

// ---------- the API ----------

/**
 * What an answer of the read-model API holds, whichever form it has: one book's part of a read model
 * (`{ book, readModel, checkpoint, asOf, unavailable, data }`, as `ptrack serve` answers), or a whole
 * read-model document (`{ checkpoint, data: { books } }`), or its data.
 */
function readModelOf(body) {
  const none = { asOf: null, checkpoint: undefined, unavailable: null, books: [], top: {} };
  if (body === null || typeof body !== 'object') return none;
  if (typeof body.book === 'string' && 'data' in body) {
    return {
      asOf: typeof body.asOf === 'string' ? body.asOf : null,
      checkpoint: typeof body.checkpoint === 'number' ? body.checkpoint : undefined,
      unavailable: typeof body.unavailable === 'string' ? body.unavailable : null,
      books: body.data !== null && typeof body.data === 'object' ? [[body.book, body.data]] : [],
      top: body,
    };
  }
  if (typeof body.book === 'string' && body.positions !== null && typeof body.positions === 'object') {
    return {
      asOf: typeof body.asOf === 'string' ? body.asOf : null,
      checkpoint: typeof body.checkpoint === 'number' ? body.checkpoint : undefined,
      unavailable: typeof body.unavailable === 'string' ? body.unavailable : null,
      books: [[body.book, { positions: body.positions }]],
      top: body,
    };
  }
  const data = 'data' in body && 'checkpoint' in body ? body.data : body;
  const books =
    data !== null && typeof data === 'object' && data.books !== null && typeof data.books === 'object' ? Object.entries(data.books) : [];
  return {
    asOf: typeof data?.asOf === 'string' ? data.asOf : null,
    checkpoint: typeof body.checkpoint === 'number' ? body.checkpoint : undefined,
    unavailable: null,
    books,
    top: data ?? {},
  };
}

/** GETs a JSON endpoint. Health answers 503 with its document once the guard fired: that document is the answer too. */
async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const json = (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : null;
  if (res.ok || (path === '/api/health' && res.status === 503 && json !== null && json.guard !== undefined)) return json;
  throw new Error(`${path} answered ${res.status}${typeof json?.error?.message === 'string' ? `: ${json.error.message}` : ''}`);
}

// ---------- renderers ----------

function protectionOf(p) {
  const parts = [];
  if (typeof p.stop === 'number') parts.push(`stop ${exact(p.stop)}`);
  if (typeof p.takeProfit === 'number') parts.push(`take profit ${exact(p.takeProfit)}`);
  const t = p.trailingStop;
  if (t !== undefined && t !== null) {
    const how = typeof t.percent === 'number' ? `${exact(t.percent)}%` : exact(t.distance);
    parts.push(`trailing ${how} (high ${exact(t.highWater)})`);
  }
  return parts.length === 0 ? '—' : parts.join(' · ');
}

const STATUS_ORDER = ['IN', 'WATCHING', 'EXITED', 'SKIPPED'];

function renderPositions(body) {
  const model = readModelOf(body);
  if (model.asOf !== null) document.getElementById('as-of').textContent = `as of ${time(model.asOf)}`;
  const rows = [];
  for (const [book, b] of model.books) {
    for (const status of STATUS_ORDER) {
      for (const p of b.positions?.[status] ?? []) {
        const tr = row([
          visible(book),
          visible(p.id),
          visible(p.symbol),
          visible(p.side),
          visible(p.status),
          { text: exact(p.quantity), num: true },
          { text: exact(p.price), num: true },
          { text: money(p.entryValue), num: true },
          { text: money(p.value), num: true },
          { text: money(p.unrealizedPnl), num: true, cls: pnlClass(p.unrealizedPnl) },
          { text: money(p.realizedPnl), num: true, cls: pnlClass(p.realizedPnl) },
          p.status === 'IN' ? protectionOf(p) : '—',
        ]);
        tr.dataset.id = String(p.id);
        tr.dataset.status = String(p.status);
        rows.push(tr);
      }
    }
  }
  fillBody('positions', rows, 'no positions');
  const totals = model.books.map(([, b]) => b.totals).filter((t) => t !== undefined && t !== null);
  document.getElementById('positions-totals').textContent = totals
    .map(
      (t) =>
        `${t.open} in, ${t.watching} watching, ${t.exited} exited, ${t.skipped} skipped · value ${money(t.value)} · unrealized ${money(
          t.unrealizedPnl,
        )} · realized ${money(t.realizedPnl)}`,
    )
    .join(' | ');
}

function renderOrders(body) {
  const rows = [];
  for (const [book, b] of readModelOf(body).books) {
    for (const o of [...(b.inFlight ?? []), ...(b.open ?? [])]) {
      const tr = row([
        visible(book),
        visible(o.clientOrderId),
        visible(o.positionId),
        visible(o.symbol),
        visible(o.side),
        visible(o.intent),
        visible(o.type),
        visible(o.status),
        { text: exact(o.quantity), num: true },
        { text: exact(o.filledQuantity), num: true },
        { text: exact(o.averagePrice), num: true },
      ]);
      tr.dataset.clientOrderId = String(o.clientOrderId);
      rows.push(tr);
    }
  }
  fillBody('orders', rows, 'no order in flight or open');
}

function renderEquity(body) {
  const books = readModelOf(body).books;
  const summary = document.getElementById('equity-summary');
  const box = document.getElementById('equity-chart');
  // The chart draws one book: the first (a log usually holds one); the summary names it.
  const first = books[0];
  if (first === undefined) {
    summary.textContent = 'no book yet';
    box.dataset.points = '0';
    return;
  }
  const [book, b] = first;
  const xs = [];
  const equity = [];
  const drawdown = [];
  // The curve starts at the book's first event with the equity it started with (equity less what was realized).
  if (typeof b.startedAt === 'string' && typeof b.equity === 'number' && typeof b.realizedPnl === 'number') {
    xs.push(Date.parse(b.startedAt) / 1000);
    equity.push(b.equity - b.realizedPnl);
    drawdown.push(0);
  }
  for (const p of b.curve ?? []) {
    xs.push(Date.parse(p.at) / 1000);
    equity.push(p.equity);
    drawdown.push(-p.drawdownPct);
  }
  box.dataset.book = String(book);
  box.dataset.points = String((b.curve ?? []).length);
  box.dataset.lastEquity = String(b.equity);
  summary.textContent = `${visible(book)}: equity ${money(b.equity)} · peak ${money(b.peak)} · drawdown ${pct(b.drawdown?.pct)} (${visible(
    b.band,
  )}) · deepest ${pct(b.maxDrawdown?.pct)} · ${b.trades?.count ?? 0} trades, win rate ${pct(
    typeof b.trades?.winRate === 'number' ? b.trades.winRate * 100 : null,
  )} · ${typeof b.points === 'number' ? b.points : (b.curve ?? []).length} points`;

  const chartData = [xs, equity, drawdown];
  const width = Math.max(320, box.clientWidth || 800);
  if (state.chart === null) {
    state.chart = new uPlot(
      {
        width,
        height: 260,
        tzDate: (ts) => (state.timeZone === undefined ? new Date(ts * 1000) : uPlot.tzDate(new Date(ts * 1000), state.timeZone)),
        scales: { x: { time: true }, dd: { auto: true } },
        series: [
          {},
          { label: 'equity', stroke: '#2f7de1', width: 2, value: (_u, v) => money(v) },
          { label: 'drawdown %', stroke: '#d9534f', scale: 'dd', width: 1, value: (_u, v) => pct(v) },
        ],
        axes: [
          {},
          { values: (_u, ticks) => ticks.map((v) => money(v)), size: 80 },
          { scale: 'dd', side: 1, values: (_u, ticks) => ticks.map((v) => `${v}%`) },
        ],
      },
      chartData,
      box,
    );
  } else state.chart.setData(chartData);
}

function renderRisk(body) {
  const model = readModelOf(body);
  if (typeof model.top.timeZone === 'string') state.timeZone = model.top.timeZone;
  const pairs = [];
  const trips = [];
  for (const [book, r] of model.books) {
    const cb = r.circuitBreaker ?? { status: 'OK' };
    const tripped = cb.status === 'TRIPPED' && cb.active !== false;
    const breaker =
      cb.status === 'TRIPPED'
        ? `${cb.active === false ? 'tripped, expired' : 'TRIPPED'} (${visible(cb.trigger)}: ${visible(cb.reason)}) since ${time(cb.since)}${
            cb.until ? ` until ${time(cb.until)}` : ''
          }`
        : 'ok';
    if (tripped) trips.push(`circuit breaker tripped in book ${visible(book)}: ${visible(cb.reason)}`);
    pairs.push([`${visible(book)} · breaker`, breaker, tripped ? 'bad' : 'good']);
    pairs.push([`${visible(book)} · heat`, `${pct(r.heat?.pct)} (open risk ${money(r.heat?.openRisk)})`]);
    pairs.push([`${visible(book)} · today`, r.today ? `${money(r.today.pnl)} in ${r.today.trades} trades` : '—']);
    pairs.push([`${visible(book)} · losing streak`, String(r.consecutiveLosses ?? 0)]);
    const cooldowns = (r.cooldowns ?? []).map((c) => `${visible(c.symbol)} until ${time(c.until)}`);
    pairs.push([`${visible(book)} · cooldowns`, cooldowns.length === 0 ? 'none' : cooldowns.join(', ')]);
  }
  setAlert('breaker', trips.length === 0 ? undefined : trips.join('; '));
  state.riskPairs = pairs;
  drawRisk();
}

/** The drawdown band per book goes to the risk list too (it comes from equity.json). */
function noteBands(body) {
  state.bandPairs = readModelOf(body).books.map(([book, b]) => {
    const band = b.band ?? 'normal';
    return [`${visible(book)} · drawdown band`, `${visible(band)} (${pct(b.drawdown?.pct)})`, band === 'normal' ? 'good' : 'bad'];
  });
  drawRisk();
}

function drawRisk() {
  definitions('risk', [...state.bandPairs, ...state.riskPairs]);
}

function renderAudit(body) {
  const runs = [];
  const leaks = [];
  let failing;
  let leakSeconds = 0;
  let openLeaks = 0;
  for (const [book, a] of readModelOf(body).books) {
    const recent = (a.reconciliations ?? []).slice(-RUNS_SHOWN).reverse();
    const last = recent[0];
    if (last !== undefined && (last.counts?.errors ?? 0) > 0)
      failing = `the last reconciliation of book ${visible(book)} (${visible(last.runId)}) had ${last.counts.errors} error(s)`;
    for (const r of recent) {
      const c = r.counts ?? {};
      const outcome = (c.errors ?? 0) > 0 ? 'errors' : (c.alerts ?? 0) > 0 ? 'alerts' : (c.corrected ?? 0) > 0 ? 'healed' : 'clean';
      runs.push(
        row([
          visible(book),
          visible(r.runId),
          time(r.completedAt),
          { text: outcome, cls: outcome === 'errors' ? 'bad' : outcome === 'clean' ? 'good' : undefined },
          { text: String(c.orphans ?? 0), num: true },
          { text: String(c.phantoms ?? 0), num: true },
          { text: String(c.drift ?? 0), num: true },
          { text: String(c.corrected ?? 0), num: true },
          { text: String(c.alerts ?? 0), num: true },
          { text: String(c.errors ?? 0), num: true },
        ]),
      );
    }
    const episodes = [
      ...(a.orphans ?? []).map((e) => ['orphan', e]),
      ...(a.phantoms ?? []).map((e) => ['phantom', e]),
      ...(a.lateFills ?? []).map((e) => ['late fill', e]),
    ];
    for (const [, e] of episodes) {
      leakSeconds += typeof e.valueSeconds === 'number' ? e.valueSeconds : 0;
      if (e.resolution === 'open') openLeaks += 1;
    }
    // Open ones first, then the newest.
    episodes.sort(
      ([, x], [, y]) => (x.resolution === 'open') - (y.resolution === 'open') || String(x.start?.at).localeCompare(String(y.start?.at)),
    );
    for (const [kind, e] of episodes.reverse().slice(0, LEAKS_SHOWN)) {
      leaks.push(
        row([
          visible(book),
          kind,
          visible(e.positionId),
          visible(e.symbol),
          visible(e.cause),
          time(e.start?.at ?? e.detectedAt),
          { text: duration(e.durationSeconds), num: true },
          { text: money(e.value), num: true },
          { text: money(typeof e.valueSeconds === 'number' ? e.valueSeconds / 3600 : null), num: true },
          { text: visible(e.resolution), cls: e.resolution === 'open' ? 'bad' : undefined },
        ]),
      );
    }
  }
  setAlert('outside', failing);
  fillBody('reconciliations', runs, 'no reconciliation yet');
  fillBody('leaks', leaks, 'no leak found');
  document.getElementById('leaks-totals').textContent = `${openLeaks} open · value × time leaked ${money(leakSeconds / 3600)} value-hours`;
}

function renderHealth(body) {
  const h = body ?? {};
  const guard = h.guard ?? { ok: true };
  setAlert('guard', guard.ok === false ? visible(guard.message ?? 'the corruption guard stopped the workers') : undefined);
  const rec = h.reconciliation ?? {};
  const scheduler = rec.scheduler ?? null;
  setAlert(
    'scheduler',
    scheduler !== null && scheduler.consecutiveFailures > 0
      ? `the outside system is failing: ${scheduler.consecutiveFailures} reconciliation(s) in a row failed${
          scheduler.lastError
            ? `: ${visible(typeof scheduler.lastError === 'string' ? scheduler.lastError : scheduler.lastError.message)}`
            : ''
        }`
      : undefined,
  );
  setAlert(
    'recovery',
    h.recovery?.pending === true ? 'startup recovery waits for an operator: commands are refused until ptrack recover --ack' : undefined,
  );
  const head = h.head ?? {};
  const pairs = [
    ['status', visible(h.status), h.status === 'ok' ? 'good' : 'bad'],
    ['guard', guard.ok === false ? 'stopped work' : 'ok', guard.ok === false ? 'bad' : 'good'],
    ['log head', `position ${visible(head.position)} · ${visible(head.count)} events`],
    ['workers', visible(h.workers)],
  ];
  const last = rec.last;
  pairs.push([
    'last reconciliation',
    last !== null && last !== undefined ? `${visible(last.runId)} at ${time(last.completedAt)}` : 'none yet',
  ]);
  if (rec.adapter !== undefined)
    pairs.push(['reconciling', rec.adapter === null ? 'no adapter' : `${visible(rec.adapter)} every ${duration(rec.everySeconds)}`]);
  definitions('health', pairs);
  const models = Array.isArray(h.readModels) ? h.readModels : [];
  fillBody(
    'checkpoints',
    models.map((m) =>
      row([
        visible(m.name),
        { text: visible(m.checkpoint), num: true },
        { text: visible(m.lag), num: true, cls: m.lag > 0 ? 'warn' : undefined },
      ]),
    ),
    'no read model yet',
  );
  return h;
}

const RENDER = new Map([
  ['health', renderHealth],
  ['portfolio', renderPositions],
  ['orders', renderOrders],
  [
    'equity',
    (b) => {
      renderEquity(b);
      noteBands(b);
    },
  ],
  ['risk', renderRisk],
  ['audit', renderAudit],
]);

// ---------- the banner ----------

function setAlert(source, message) {
  if (message === undefined) state.alerts.delete(source);
  else state.alerts.set(source, message);
  const banner = document.getElementById('banner');
  const lines = [...state.alerts.entries()].map(([src, text]) => {
    const p = el('p', text);
    p.dataset.source = src;
    return p;
  });
  banner.replaceChildren(...lines);
  banner.hidden = lines.length === 0;
}

// ---------- refreshing ----------

/** Which endpoints an event type changes. Unknown types refresh everything. */
function touchedBy(type) {
  if (type === 'Heartbeat' || type === 'RecoveryRequired' || type === 'RecoveryAcknowledged' || type === 'guard') return ['health'];
  if (type === 'ReconciliationCompleted') return ['health', 'audit'];
  if (type === 'CircuitBreakerTripped' || type === 'CircuitBreakerReset' || type === 'CooldownStarted' || type.startsWith('Symbol'))
    return ['health', 'risk'];
  if (type.startsWith('Order') || type.startsWith('ExternalOrder')) return ['health', 'orders', 'portfolio', 'equity', 'risk', 'audit'];
  if (type.startsWith('Orphan') || type.startsWith('Phantom') || type === 'DriftCorrected')
    return ['health', 'portfolio', 'equity', 'risk', 'audit'];
  if (type === 'PositionEntered' || type === 'PositionExited' || type === 'PositionIncreased')
    return ['health', 'portfolio', 'equity', 'risk', 'audit'];
  if (type.startsWith('Position') || type === 'ProtectionSet') return ['health', 'portfolio', 'risk'];
  return ENDPOINTS;
}

function schedule(endpoints, position, delay = 0) {
  for (const e of endpoints) {
    state.pending.add(e);
    if (position > (state.wanted.get(e) ?? 0)) state.wanted.set(e, position);
  }
  if (state.timer === null) state.timer = setTimeout(flush, delay);
}

async function flush() {
  state.timer = null;
  const batch = [...state.pending];
  state.pending.clear();
  await Promise.all(batch.map((e) => refresh(e)));
}

async function refresh(endpoint) {
  try {
    const body = await getJson(`/api/${endpoint}`);
    RENDER.get(endpoint)(body);
    const { checkpoint, unavailable } = endpoint === 'health' ? { checkpoint: undefined, unavailable: null } : readModelOf(body);
    markStale(endpoint, unavailable === null ? undefined : visible(unavailable));
    // A read model behind the newest event it should show is asked again shortly: the workers fold and write after the append.
    const wanted = state.wanted.get(endpoint) ?? 0;
    const tries = state.behindTries.get(endpoint) ?? 0;
    if (checkpoint !== undefined && checkpoint < wanted && tries < BEHIND_RETRIES && !state.alerts.has('guard')) {
      state.behindTries.set(endpoint, tries + 1);
      schedule([endpoint], 0, BEHIND_RETRY_MS);
    } else state.behindTries.delete(endpoint);
  } catch (error) {
    markStale(endpoint, visible(error instanceof Error ? error.message : error));
  }
}

/** The sections each endpoint draws. */
const SECTIONS = new Map([
  ['health', ['health-section']],
  ['portfolio', ['positions-section']],
  ['orders', ['orders-section']],
  ['equity', ['equity-section']],
  ['risk', ['risk-section']],
  ['audit', ['reconciliations-section', 'leaks-section']],
]);

/** Marks what an endpoint draws as stale (the reason in `data-stale`, shown after the heading), or clears it. */
function markStale(endpoint, reason) {
  for (const id of SECTIONS.get(endpoint)) {
    const section = document.getElementById(id);
    if (reason === undefined) delete section.dataset.stale;
    else section.dataset.stale = reason;
  }
}

// ---------- the event stream ----------

function setConnection(text, stateName) {
  const pill = document.getElementById('connection');
  pill.textContent = text;
  pill.dataset.state = stateName;
}

function noteEvent(id, type, dataText) {
  let envelope = {};
  try {
    envelope = JSON.parse(dataText);
  } catch {
    envelope = {};
  }
  const position = Number(id);
  state.events.unshift({ position: Number.isFinite(position) ? position : null, type, envelope });
  state.events.length = Math.min(state.events.length, EVENTS_SHOWN);
  fillBody(
    'events',
    state.events.map((e) =>
      row([
        { text: visible(e.position), num: true },
        time(e.envelope.recordedAt),
        visible(e.type),
        visible(e.envelope.streamId),
        { text: visible(e.envelope.revision), num: true },
      ]),
    ),
    'no event yet',
  );
}

function onStreamEvent(id, type, dataText) {
  if (type === 'guard') {
    let message;
    try {
      message = JSON.parse(dataText).message;
    } catch {
      message = dataText;
    }
    setAlert('guard', visible(message ?? 'the corruption guard stopped the workers'));
    schedule(['health'], 0);
    return;
  }
  if (id !== null) state.lastEventId = id;
  noteEvent(id, type, dataText);
  const position = Number(id);
  schedule(touchedBy(type), Number.isFinite(position) ? position : 0, 50);
}

/** Reads an SSE body and calls `onEvent(id, type, data)` per dispatched event (the WHATWG event-stream format). */
async function readEventStream(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let id = null;
  let type = '';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone \r at the end of the buffer may be the start of \r\n: wait for more.
      if (buffer[cut] === '\r' && cut === buffer.length - 1) break;
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + (buffer.startsWith('\r\n', cut) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) onEvent(id, type === '' ? 'message' : type, data.join('\n'));
        type = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'id' && !val.includes('\0')) id = val;
      else if (field === 'event') type = val;
      else if (field === 'data') data.push(val);
    }
  }
}

// The stream is read with fetch rather than EventSource so that every reconnect, including one after the
// server answered an error, sends Last-Event-ID and backs off: the server resumes after that event (catch-up, then live).
async function follow() {
  let backoff = 500;
  let connected = false;
  for (;;) {
    try {
      const headers = { Accept: 'text/event-stream' };
      if (state.lastEventId !== null) headers['Last-Event-ID'] = state.lastEventId;
      const res = await fetch('/api/stream', { headers, cache: 'no-store' });
      if (!res.ok || res.body === null) throw new Error(`/api/stream answered ${res.status}`);
      setConnection('live', 'live');
      backoff = 500;
      // After a gap the stream catches up from Last-Event-ID; what the page shows is read again too.
      if (connected) schedule(ENDPOINTS, 0);
      connected = true;
      await readEventStream(res.body, onStreamEvent);
    } catch {
      // The connection dropped or the server is away: shown in the header, retried below.
    }
    setConnection('reconnecting', 'reconnecting');
    await new Promise((resolve) => setTimeout(resolve, backoff));
    backoff = Math.min(backoff * 2, 10_000);
  }
}

async function start() {
  fillBody('events', [], 'no event yet');
  // The time zone first, so every time on the page is in it.
  await refresh('risk');
  // The page shows the log up to its head now; the stream goes on after it (Last-Event-ID = the head), and a read
  // model still behind the head is asked again until it has folded it.
  let head = 0;
  try {
    const h = await getJson('/api/health');
    renderHealth(h);
    head = typeof h?.head?.position === 'number' ? h.head.position : 0;
  } catch (error) {
    markStale('health', visible(error instanceof Error ? error.message : error));
  }
  state.lastEventId = String(head);
  for (const e of ENDPOINTS) state.wanted.set(e, head);
  try {
    const page = await getJson(`/api/events?from=${Math.max(0, head - EVENTS_SHOWN)}&limit=${EVENTS_SHOWN}`);
    for (const e of page.events ?? []) noteEvent(String(e.position), e.type, JSON.stringify(e));
  } catch (error) {
    document.getElementById('events-section').dataset.stale = visible(error instanceof Error ? error.message : error);
  }
  await Promise.all(ENDPOINTS.filter((e) => e !== 'risk' && e !== 'health').map((e) => refresh(e)));
  document.body.dataset.ready = 'true';
  setInterval(() => schedule(['health'], 0), HEALTH_EVERY_MS);
  void follow();
}

void start();
