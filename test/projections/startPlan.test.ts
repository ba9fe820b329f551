import { describe, expect, it } from 'vitest';
import type { Projection, ReadModelDocument } from '../../src/projections/index.js';
import { describeLoad, planStart } from '../../src/projections/startPlan.js';

/*
 * Issue 16 step 3: opening the read models is a pure plan, tested here without files or a log.
 */
const counter = (name: string): Projection<{ n: number }, { n: number }> => ({
  name,
  version: '1',
  initialState: () => ({ n: 0 }),
  evolve: (s) => ({ n: s.n + 1 }),
  toJson: (s) => s,
  fromJson: (d) => {
    const n = (d as { n?: unknown } | null)?.n;
    if (typeof n !== 'number') throw new Error(`${name}: expected { n }`);
    return { n };
  },
});

const doc = (checkpoint: number, data: unknown = { n: checkpoint }, version = '1'): ReadModelDocument => ({
  version,
  checkpoint,
  eventCount: checkpoint,
  lastEvent: null,
  checksum: 'x',
  data,
});

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(counter) as [
  ReturnType<typeof counter>,
  ReturnType<typeof counter>,
  ReturnType<typeof counter>,
  ReturnType<typeof counter>,
  ReturnType<typeof counter>,
];

describe('planStart', () => {
  it('loads sound files from their state, heals the others and says why, and checks every intact file', () => {
    const plan = planStart(
      [a, b, c, d, e],
      [
        { status: 'ok', document: doc(7) },
        { status: 'missing' },
        { status: 'checksum', reason: 'checksum mismatch' },
        { status: 'version', found: '0', expected: '1', document: doc(9, {}, '0') },
        { status: 'unreadable', reason: 'not JSON' },
      ],
    );
    expect(plan.steps.map((s) => [s.projection.name, s.action, s.action === 'heal' ? s.reason : null])).toEqual([
      ['a', 'load', null],
      ['b', 'heal', 'missing'],
      ['c', 'heal', 'damaged: checksum mismatch'],
      ['d', 'heal', 'of version 0, this build writes 1'],
      ['e', 'heal', 'unreadable: not JSON'],
    ]);
    expect(plan.steps[0]).toMatchObject({ action: 'load', state: { n: 7 }, document: { checkpoint: 7 } });
    // Another version is rebuilt, yet still shows how far the log went.
    expect(plan.check).toEqual([
      { name: 'a', checkpoint: 7, eventCount: 7, lastEvent: null },
      { name: 'd', checkpoint: 9, eventCount: 9, lastEvent: null },
    ]);
  });

  it('heals a sound file whose data the projection refuses', () => {
    const plan = planStart([a], [{ status: 'ok', document: doc(3, { m: 1 }) }]);
    expect(plan.steps).toEqual([{ action: 'heal', projection: a, reason: 'unreadable: a: expected { n }' }]);
    expect(plan.check).toEqual([{ name: 'a', checkpoint: 3, eventCount: 3, lastEvent: null }]);
  });

  it('with rebuild, starts every one over and still checks the files', () => {
    const plan = planStart([a, b], [{ status: 'ok', document: doc(4) }, { status: 'missing' }], { rebuild: true });
    expect(plan.steps).toEqual([
      { action: 'rebuild', projection: a },
      { action: 'rebuild', projection: b },
    ]);
    expect(plan.check).toEqual([{ name: 'a', checkpoint: 4, eventCount: 4, lastEvent: null }]);
  });

  it('with acceptRegression, checks nothing', () => {
    const plan = planStart(
      [a, b],
      [
        { status: 'ok', document: doc(4) },
        { status: 'version', found: '0', expected: '1', document: doc(5) },
      ],
      { acceptRegression: true },
    );
    expect(plan.check).toEqual([]);
    expect(plan.steps.map((s) => s.action)).toEqual(['load', 'heal']);
  });

  it('is pure: the same input gives the same plan, and the documents are not touched', () => {
    const loads = [{ status: 'ok', document: doc(2) }, { status: 'missing' }] as const;
    const before = JSON.stringify(loads);
    expect(planStart([a, b], loads)).toEqual(planStart([a, b], loads));
    expect(JSON.stringify(loads)).toBe(before);
  });

  it('refuses loads that do not match the projections one for one', () => {
    expect(() => planStart([a, b], [{ status: 'missing' }])).toThrow(/2 projections but 1 loads/);
  });

  it('describeLoad words every kind of failed load', () => {
    expect(describeLoad({ status: 'missing' })).toBe('missing');
    expect(describeLoad({ status: 'unreadable', reason: 'r' })).toBe('unreadable: r');
    expect(describeLoad({ status: 'checksum', reason: 'r' })).toBe('damaged: r');
    expect(describeLoad({ status: 'version', found: '1', expected: '2', document: doc(1) })).toBe('of version 1, this build writes 2');
  });
});
