import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CowMap } from '../../../src/commands/_internals/cowMap.js';

/* The copy-on-write map behind the book's handed-out states (issue 10 item 10). */

const seed = Number(process.env.PTRACK_FC_SEED ?? 20_261_201);

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'fork' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fork' as const }) },
);

/** The entries as `forEach` visits them (its own pass over the layers, not `entries()`), checking the map argument. */
function visited<K, V>(map: CowMap<K, V>): [K, V][] {
  const out: [K, V][] = [];
  map.forEach((value, key, self) => {
    expect(self).toBe(map);
    out.push([key, value]);
  });
  return out;
}

describe('#10.10 CowMap', () => {
  it('#10.10 behaves as a Map (values and insertion order) across forks, and a frozen parent never changes', () => {
    console.log(`[cowMap] fast-check seed=${seed}; reproduce with PTRACK_FC_SEED=${seed}`);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400, size: 'max' }), (ops) => {
        let cow = new CowMap<number, number>();
        const model = new Map<number, number>();
        const frozen: { map: CowMap<number, number>; entries: [number, number][] }[] = [];
        for (const o of ops) {
          if (o.kind === 'set') {
            cow.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            expect(cow.delete(o.key)).toBe(model.delete(o.key));
          } else {
            const child = cow.fork();
            frozen.push({ map: cow.freeze(), entries: [...model] });
            cow = child;
          }
          expect(cow.size).toBe(model.size);
        }
        expect([...cow]).toEqual([...model]);
        expect([...cow.keys()]).toEqual([...model.keys()]);
        expect(visited(cow)).toEqual([...model]);
        for (let k = 0; k <= 40; k++) expect(cow.get(k)).toBe(model.get(k));
        for (const f of frozen) {
          expect([...f.map]).toEqual(f.entries);
          expect(visited(f.map)).toEqual(f.entries);
          expect(() => f.map.set(1, 1)).toThrow(TypeError);
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('#10.10 CowMap.overlay', () => {
  it('#10.10 a scratch layer reads through its frozen parent, writes only to itself, and keeps Map order', () => {
    const parent = new CowMap<string, number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]).fork();
    parent.delete('b');
    parent.set('d', 4);
    parent.freeze();
    const scratch = parent.overlay();
    scratch.set('a', 10);
    scratch.delete('c');
    scratch.set('c', 30);
    scratch.set('e', 5);
    const model = new Map([
      ['a', 1],
      ['c', 3],
      ['d', 4],
    ]);
    model.set('a', 10);
    model.delete('c');
    model.set('c', 30);
    model.set('e', 5);
    expect([...scratch]).toEqual([...model]);
    expect(visited(scratch)).toEqual([...model]);
    expect(scratch.size).toBe(model.size);
    expect([...parent]).toEqual([
      ['a', 1],
      ['c', 3],
      ['d', 4],
    ]);
  });
});
