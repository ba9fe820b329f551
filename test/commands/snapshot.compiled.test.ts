import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BookStateJsonSchema, bookJsonOf } from '../../src/commands/snapshot.js';
import { BookStateJson as compiledBookCheck } from '../../src/events/validators.generated.js';

/*
 * The book snapshot's shape is checked by a validator compiled at build time before zod (a cold
 * open of a big book spent most of its time in zod's first parse). It may only ever say yes where
 * zod says yes, and should say yes wherever zod does, or a good snapshot is parsed the slow way.
 */

const SEED = Number(process.env.PTRACK_FC_SEED ?? 515151);
const check = compiledBookCheck as unknown as (value: unknown) => boolean;

const at = '2026-01-05T00:00:00.000Z';
const order = {
  clientOrderId: 'pt-b-1',
  orderKey: 'k1',
  attempt: 1,
  signalId: 's1',
  positionId: 'A',
  symbol: 'AAPL',
  side: 'buy',
  intent: 'entry',
  orderType: 'limit',
  quantity: 2,
  limitPrice: 10,
  referencePrice: 10,
  stop: 9,
  takeProfit: 12,
  trailingStop: { distance: 1, percent: 2 },
  status: 'PENDING_CANCEL',
  externalOrderId: 'x1',
  filledQuantity: 1,
  averagePrice: 10,
  fees: 0.1,
  tradeIds: ['t1'],
  reason: 'r',
  requestedAt: at,
  updatedAt: at,
  statusBeforeCancel: 'PARTIALLY_FILLED',
  missedLooks: 0,
  origin: 'adopted',
  venueClientOrderId: 'v1',
};

/** A book with every optional key present and a position of every status (a fresh copy each call: the edits change it). */
function fullBook(): Record<string, unknown> {
  return structuredClone(fullBookShared());
}

function fullBookShared(): Record<string, unknown> {
  const base = {
    symbol: 'AAPL',
    venueKey: 'AAPL',
    side: 'long',
    setup: 'S',
    group: 'G',
    attributes: { a: 1, b: 'x', c: null, d: true },
    since: at,
  };
  return {
    revision: 7,
    limits: { idempotencyWindow: 100, timeZone: 'UTC' },
    positions: [
      { ...base, id: 'W', status: 'WATCHING', value: 5 },
      {
        ...base,
        id: 'A',
        status: 'IN',
        origin: 'entered',
        costBasis: 100,
        value: 101,
        quantity: 2,
        price: 50.5,
        stop: 45,
        takeProfit: 60,
        trailingStop: { distance: 1, percent: 2, highWater: 51 },
        risk: 11,
        realizedPnl: 0,
        missedLooks: 1,
      },
      { ...base, id: 'E', status: 'EXITED', realizedPnl: -3, closedBy: 'phantom' },
      { ...base, id: 'S', status: 'SKIPPED', reason: 'no' },
    ],
    lossStreaks: [['S', { day: '2026-01-05', count: 2 }]],
    today: { day: '2026-01-05', pnl: -3 },
    realizedPnl: -3,
    breaker: { status: 'TRIPPED', trigger: 'manual', reason: 'r', since: at, until: at },
    cooldowns: [['AAPL', at]],
    orphans: [['AAPL', { detectedAt: at, value: 10 }]],
    externalOrders: [
      [
        'x9',
        {
          externalOrderId: 'x9',
          clientOrderId: 'c',
          symbol: 'AAPL',
          side: 'sell',
          quantity: 1,
          filledQuantity: 0,
          price: 3,
          detectedAt: at,
        },
      ],
    ],
    commands: [['cmd-1', { from: 0, to: 1, fingerprint: 'f' }]],
    orders: [order],
    signals: [['s1', { at, clientOrderId: 'pt-b-1' }]],
    lastSignalAt: at,
    ordersRequested: 1,
    symbolControls: [['AAPL', { buy: { reason: 'halt', since: at }, sell: { reason: 'halt', since: at } }]],
    recovery: { status: 'REQUIRED', mode: 'manual', reason: 'r', since: at },
    lastHeartbeatAt: at,
    lastReconciledAt: at,
  };
}

/** Every path in a JSON value, objects and arrays included (the root excepted). */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => {
    const path = [...prefix, k];
    return [path, ...pathsOf((value as Record<string | number, unknown>)[k], path)];
  });
}

const PATHS = pathsOf(fullBook());

const replacement = fc.oneof(
  fc.constantFrom('', 'x', 'OK', 'IN', 'WATCHING', 'EXITED', 'SKIPPED', 'TRIPPED', 'CLEAR', 'buy', 'long', 'manual', 'entry', 'market', at),
  fc.constantFrom(0, -1, 1, 0.5, -0.5, 2 ** 53, 1e308),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant(['k']),
  fc.constant(['k', 'v', 'extra']),
);

type Edit =
  | { kind: 'set'; path: (string | number)[]; value: unknown }
  | { kind: 'delete'; path: (string | number)[] }
  | { kind: 'add'; path: (string | number)[] };

function applyEdit(book: Record<string, unknown>, edit: Edit): void {
  // An earlier edit may have replaced a parent of this path: then this edit has nothing to change.
  let parent: unknown = book;
  for (const k of edit.path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return;
    parent = (parent as Record<string | number, unknown>)[k];
  }
  if (parent === null || typeof parent !== 'object') return;
  const key = edit.path.at(-1)!;
  const into = parent as Record<string | number, unknown>;
  if (edit.kind === 'set') into[key] = structuredClone(edit.value);
  else if (edit.kind === 'add') {
    const target = into[key];
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>).extraKey = 1;
  } else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete into[key];
}

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value: replacement }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('add' as const), path: fc.constantFrom(...PATHS) }),
);

describe('the book snapshot validator compiled at build time agrees with zod', () => {
  it('accepts the full book, whose every optional key is present', () => {
    expect(BookStateJsonSchema.safeParse(fullBook()).success).toBe(true);
    expect(check(fullBook())).toBe(true);
  });

  it(`never accepts what zod refuses, and accepts what zod accepts, for edited books (seed ${SEED})`, () => {
    console.log(`book snapshot validator property: seed ${SEED} (PTRACK_FC_SEED reproduces)`);
    let refused = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const book = fullBook();
        for (const e of edits) applyEdit(book, e);
        const zodOk = BookStateJsonSchema.safeParse(book).success;
        const fast = check(book) === true;
        if (!zodOk) refused += 1;
        expect(fast, JSON.stringify(edits)).toBe(zodOk);
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The edits reach refusals as well as acceptances, or the property says little.
    expect(refused).toBeGreaterThan(500);
    expect(refused).toBeLessThan(2900);
  });

  it('bookJsonOf keeps the checked book as it is on the fast path, and names the field when zod refuses', () => {
    const book = fullBook();
    const good = bookJsonOf(book);
    expect(good).toEqual({ ok: true, json: book });
    expect(good.ok && good.json).toBe(book);
    const bad = bookJsonOf({ ...book, positions: 5 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^its book has the wrong shape: positions: /);
  });
});
