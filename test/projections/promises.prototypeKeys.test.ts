import { describe, expect, it } from 'vitest';
import { createProjections, foldProjection, ProjectionOptions, canonicalJson } from '../../src/projections/index.js';
import { SimulatedExchange } from '../../src/reconcile/index.js';
import { ExternalError } from '../../src/errors/index.js';
import { STREAM_PREFIX } from '../../src/events/index.js';
import { fact, recorded, t, type Fact } from './fixtures.js';

/*
 * Issue 10, item 17: names from outside that are Object.prototype members (`constructor`,
 * `toString`, `hasOwnProperty`) or `__proto__` are keys like any other in every read model and
 * survive the round trip through the JSON documents.
 */

const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'] as const;

/** One book per name (`__proto__` is no valid book name for a command, but a log may hold its stream). */
function facts(): Fact[] {
  return NAMES.flatMap((name, i) => {
    const stream = `${STREAM_PREFIX}${name}`;
    const at = (m: number) => t(i * 100 + m);
    return [
      { ...fact('PositionTracked', { positionId: name, side: 'long', symbol: 'AAPL', setup: name, group: name }, at(0)), stream },
      { ...fact('PositionEntered', { positionId: name, side: 'long', value: 100 }, at(1)), stream },
      { ...fact('OrphanDetected', { positionId: `${name}-X`, value: 50 }, at(2)), stream },
      { ...fact('PhantomSuspected', { positionId: name, looks: 1, value: 100 }, at(3)), stream },
      {
        ...fact(
          'PositionExited',
          { positionId: name, side: 'long', fraction: 1, value: 90, costBasis: 100, realizedPnl: -10, full: true },
          at(4),
        ),
        stream,
      },
    ];
  });
}

describe('#10.17 Object.prototype names are plain keys in the read models', () => {
  it.each(createProjections(ProjectionOptions.parse({})).map((p) => [p.name, p] as const))(
    '#10.17 %s: a book per prototype name (and __proto__) is kept, as an own key, through toJson, the file form and fromJson',
    (_name, projection) => {
      const events = recorded(facts());
      const data = projection.toJson(foldProjection(projection, events)) as {
        books: Record<string, unknown>;
        fold: Record<string, unknown>;
      };
      for (const record of [data.books, data.fold]) {
        expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
        expect(Object.keys(record).sort()).toEqual([...NAMES].sort());
        for (const name of NAMES) expect(Object.hasOwn(record, name)).toBe(true);
      }
      const text = canonicalJson(data);
      const back = projection.toJson(projection.fromJson(JSON.parse(text)));
      expect(canonicalJson(back)).toBe(text);
    },
  );

  it('#10.17 the simulated exchange keeps positions and prices by name in maps: constructor is an id like any other', () => {
    const exchange = new SimulatedExchange({ seed: 1, clock: () => new Date(t(0)) });
    expect(() => exchange.price('constructor')).toThrow(ExternalError);
    exchange.fill('constructor', { symbol: 'BTC', side: 'long', quantity: 0.01 });
    return exchange.closePosition('constructor').then(() => {
      expect(exchange.closeLog().closes).toEqual({ constructor: 1 });
      const state = JSON.parse(JSON.stringify(exchange.snapshot())) as ReturnType<SimulatedExchange['snapshot']>;
      expect(new SimulatedExchange({ seed: 1, clock: () => new Date(t(0)) }, state).closeLog().closes).toEqual({ constructor: 1 });
    });
  });
});
