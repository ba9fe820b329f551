// Orders crash child: a bot on a SQLite trade log and a simulated venue whose state lives in a file
// (saved after every venue change: temp file, fsync, rename). It opens its tracker with startup
// recovery `sync`, then sends seeded orders (entries, market or limit, and reduces) through
// tracker.submitOrder. Killed with SIGKILL by test/tracker/orders.crash.int.test.ts, at a random
// moment or at a named point of the submit path, where it stops and says "at <point> <signal>":
//   request   before tracker.submitOrder is called (the log has nothing of the order)
//   send      OrderRequested is in the log, the venue has not been called
//   placed    the venue placed the order (a market order also filled) and saved it; the answer never reaches the bot
//   recorded  the bot appended OrderAccepted, not yet the fills the answer carried
//   filled    a resting limit order the book holds OPEN filled at the venue; the bot has not heard of it
// Usage: node orderCrash.mjs <dir> <seed> <settings JSON>, then the line "go <point|none> <index> <orders>" on
// stdin: the test starts the next child while it checks the last one, and lets it touch the files only then.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedExchange, openStore, openTracker, reconcile } from '../../../dist/index.js';

const [dir, seedArg, settingsArg] = process.argv.slice(2);
/** The tracker's options and the venue's symbols, from the test (one definition for both sides). */
const { book: CRASH_BOOK, symbols } = JSON.parse(settingsArg);
const seed = Number(seedArg);
const go = await new Promise((resolve) => {
  let line = '';
  process.stdin.on('data', (d) => {
    line += d.toString();
    if (line.includes('\n')) resolve(line.split('\n')[0].split(' '));
  });
});
const [, point, atArg, ordersArg] = go;
const pauseAt = Number(atArg);
const orders = Number(ordersArg);
const venueFile = join(dir, 'venue.json');
const botFile = join(dir, 'bot.json');

function writeAtomically(path, text) {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}
const readJson = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined);

const saved = readJson(venueFile);
// The venue's clock lives with it: a restart is a minute later than the last thing the venue saw.
let clockMs = (saved?.clockMs ?? Date.parse('2026-03-02T09:00:00.000Z')) + 60_000;
const clock = () => new Date(clockMs);
const exchange = new SimulatedExchange({ seed, clock, symbols }, saved?.exchange);
const saveVenue = () => writeAtomically(venueFile, JSON.stringify({ clockMs, exchange: exchange.snapshot() }));

let index = -1; // the order of this run being worked on (it stops at the first `point` from order `pauseAt` on)
const pause = async (name) => {
  if (name !== point || index < pauseAt) return;
  process.stdout.write(`at ${name} ${signal}\n`);
  await new Promise(() => setInterval(() => undefined, 60_000)); // the parent kills it here
};

/** The venue as the bot's port: every call that changes the venue is saved before its answer returns. */
const venue = {
  listPositions: (o) => exchange.listPositions(o),
  getPosition: (id, o) => exchange.getPosition(id, o),
  getOrder: (ref, o) => exchange.getOrder(ref, o),
  listOpenOrders: (o) => exchange.listOpenOrders(o),
  listFills: (q, o) => exchange.listFills(q, o),
  closePosition: async (id, o) => {
    try {
      return await exchange.closePosition(id, o);
    } finally {
      saveVenue();
    }
  },
  cancelOrder: async (ref, o) => {
    try {
      return await exchange.cancelOrder(ref, o);
    } finally {
      saveVenue();
    }
  },
  submitOrder: async (request, o) => {
    await pause('send');
    let answer;
    let failure;
    try {
      answer = await exchange.submitOrder(request, o);
    } catch (error) {
      failure = error;
    }
    saveVenue();
    await pause('placed');
    if (failure !== undefined) throw failure;
    return answer;
  },
};

// The trade log, with a pause after the append that records an acceptance (before its fills).
const raw = await openStore(`sqlite:${join(dir, 'trades.db')}`);
const store = new Proxy(raw, {
  get(target, key) {
    const value = Reflect.get(target, key, target);
    if (typeof value !== 'function') return value;
    if (key !== 'append') return value.bind(target);
    return async (stream, events, options) => {
      const result = await value.call(target, stream, events, options);
      if (events.some((e) => e.type === 'OrderAccepted')) await pause('recorded');
      return result;
    };
  },
});

const tracker = await openTracker({ ...CRASH_BOOK, store, now: clock, external: venue });
process.stdout.write(`ready ${tracker.recovery?.mode}\n`);

function mulberry32(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const round6 = (n) => Math.round(n * 1e6) / 1e6;

/** What signal `k` asks for, given the book now: a reduce of an IN position with no live order, or a new entry. */
function orderFor(k, book) {
  const r = mulberry32((seed * 100_003 + k) >>> 0);
  const busy = new Set([...book.liveOrders.values()]);
  const reducible = [...book.positions.values()].filter((p) => p.status === 'IN' && !busy.has(p.id) && p.quantity > 0);
  if (reducible.length > 0 && r() < 0.45) {
    const p = reducible[Math.floor(r() * reducible.length)];
    const quantity = r() < 0.5 ? p.quantity : round6(p.quantity * (0.2 + 0.6 * r()));
    return { signalId: `sig-${k}`, positionId: p.id, intent: 'reduce', quantity: Math.min(quantity, p.quantity) };
  }
  const symbol = exchange.symbols[Math.floor(r() * exchange.symbols.length)];
  const price = exchange.price(symbol);
  const quantity = round6((500 + 1500 * r()) / price);
  const base = { signalId: `sig-${k}`, positionId: `P-${k}`, symbol, side: 'long', intent: 'entry', quantity };
  // A limit below the market rests; the price then comes down to it (the fill the bot hears of late).
  if (r() < 0.3) return { ...base, orderType: 'limit', limitPrice: Math.round(price * 99) / 100 };
  return { ...base, orderType: 'market', referencePrice: price };
}

const bot = readJson(botFile) ?? { next: 0 };
let signal = '';
for (index = 0; index < orders; index++) {
  const k = bot.next;
  signal = `sig-${k}`;
  clockMs += 1000;
  await pause('request');
  // The signal the last run may have been sending when it died is sent again: the gateway
  // answers with the order it became and sends nothing.
  const request = orderFor(k, await tracker.state());
  const outcome = await tracker.submitOrder(request);
  if (request.orderType === 'limit' && outcome.outcome === 'accepted' && outcome.order.status === 'OPEN') {
    exchange.setPrice(request.symbol, Math.round(request.limitPrice * 99) / 100);
    saveVenue();
    await pause('filled');
  }
  bot.next = k + 1;
  writeAtomically(botFile, JSON.stringify(bot));
  // Now and then the bot reconciles: in-flight orders are resolved, late fills heard of.
  if (k % 3 === 2) await reconcile({ handler: tracker.handler, external: venue, policy: CRASH_BOOK.reconcile, now: clock });
  process.stdout.write(`sent ${signal} ${outcome.outcome}\n`);
}
await tracker.close();
await raw.close();
saveVenue();
process.stdout.write('done\n');
process.stdin.destroy();
