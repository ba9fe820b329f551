import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CowMap } from '../../src/commands/_internals/cowMap.js';
import type { Position } from '../../src/commands/index.js';
import type { ExternalPosition } from '../../src/reconcile/index.js';
import { hashId, matchById, MAX_CHAIN } from '../../src/reconcile/planMatch.js';

/* The per-id matching behind the plan (issue 18 item 8): the answers of Map.get and Set.has, from one pass over each side. */

const seed = Number(process.env.PTRACK_FC_SEED ?? 20_261_218);
const STATUSES = ['WATCHING', 'IN', 'EXITED', 'SKIPPED'] as const;

const position = (id: string, status: (typeof STATUSES)[number]): Position =>
  ({ id, status, side: 'long', since: '2026-01-05T00:00:00.000Z', value: 1, missedLooks: 0 }) as unknown as Position;
const outside = (id: string): ExternalPosition => ({ id, value: 10 });

/** What the planner asked before: a Map look-up per outside position, a Set of the outside ids. */
function reference(positions: readonly ExternalPosition[], book: ReadonlyMap<string, Position>) {
  const ids = new Set(positions.map((p) => p.id));
  return {
    localOf: positions.map((p) => book.get(p.id)),
    missing: [...book.values()].filter((p) => p.status === 'IN' && !ids.has(p.id)),
    isOutside: (id: string) => ids.has(id),
  };
}

function expectSame(positions: readonly ExternalPosition[], book: ReadonlyMap<string, Position>, probes: readonly string[]): boolean {
  const got = matchById(positions, book);
  const want = reference(positions, book);
  expect(got.localOf.length).toBe(positions.length);
  got.localOf.forEach((p, i) => expect(p).toBe(want.localOf[i]));
  expect(got.missing).toEqual(want.missing);
  got.missing.forEach((p, i) => expect(p).toBe(want.missing[i]));
  for (const id of probes) expect(got.isOutside(id)).toBe(want.isOutside(id));
  return got.indexed;
}

type Op = { kind: 'set'; id: number; status: number } | { kind: 'delete'; id: number } | { kind: 'fork' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), id: fc.nat(60), status: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fork' as const }) },
);
// Short ids, ids past 32 characters (hashed by their ends), and ones that differ only in the middle.
const idOf = (n: number): string =>
  n % 3 === 0 ? `P-${n}` : n % 3 === 1 ? `bot-${'x'.repeat(30)}-${n}` : `${'a'.repeat(20)}${n}${'z'.repeat(20)}`;

describe('#18.8 matchById', () => {
  it('#18.8 gives the Map and Set answers (book layers and forks, duplicate and unknown outside ids)', () => {
    console.log(`[planMatch] fast-check seed=${seed}; reproduce with PTRACK_FC_SEED=${seed}`);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.array(fc.nat(80), { maxLength: 80 }), (ops, outsideIds) => {
        let book = new CowMap<string, Position>();
        for (const o of ops) {
          if (o.kind === 'set') book.set(idOf(o.id), position(idOf(o.id), STATUSES[o.status]!));
          else if (o.kind === 'delete') book.delete(idOf(o.id));
          else book = book.freeze().fork();
        }
        const positions = outsideIds.map((n) => outside(idOf(n)));
        const probes = Array.from({ length: 82 }, (_, n) => idOf(n));
        expect(expectSame(positions, book, probes)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('#18.8 a position filed under another id than its own is judged by its own, as before', () => {
    const book = new Map<string, Position>([
      ['K-1', position('P-1', 'IN')],
      ['K-2', position('P-2', 'IN')],
    ]);
    const positions = [outside('K-1'), outside('P-2')];
    expectSame(positions, book, ['K-1', 'K-2', 'P-1', 'P-2']);
    expect(matchById(positions, book).missing.map((p) => p.id)).toEqual(['P-1']);
  });

  it('#18.8 ids that fill one bucket past MAX_CHAIN take the native Set, with the same answers', () => {
    // 40 outside ids: 128 buckets; find ids whose hashes share the low 7 bits.
    const colliding: string[] = [];
    for (let n = 0; colliding.length < MAX_CHAIN + 16; n++) if ((hashId(`C-${n}`) & 127) === 5) colliding.push(`C-${n}`);
    const book = new CowMap<string, Position>(colliding.slice(0, 30).map((id, k) => [id, position(id, k % 2 ? 'IN' : 'WATCHING')]));
    for (let k = 0; k < 10; k++) book.set(`IN-${k}`, position(`IN-${k}`, 'IN'));
    const positions = colliding.slice(10).map(outside);
    expect(expectSame(positions, book, [...colliding, 'IN-3', 'nope'])).toBe(false);
    // The same book against a list that spreads: the index.
    expect(expectSame(colliding.slice(0, MAX_CHAIN).map(outside), book, colliding)).toBe(true);
  });
});
