import { describe, expect, it } from 'vitest';
import { BookPolicy, decide, parseCommand, type CommandInput } from '../../src/commands/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, tracked } from './fixtures.js';

/*
 * Open is Track then Enter in one command: decided as a Track, then as an Enter against the book
 * the Track left. So for any fields, the events of an Open are the events of that Track followed by
 * those of that Enter, field for field: no entry field is lost or added on the way.
 */

const spec = deciderSpec({ now: NOW, policy: { equity: 1_000_000 } });
const policy = BookPolicy.parse({ equity: 1_000_000 });

function decided(history: GivenEvent[], command: CommandInput) {
  return decide(parseCommand(command), spec.given(history).state(), { now: NOW, policy });
}

const trackFields = { symbol: 'BTC', side: 'long', setup: 'breakout', group: 'crypto', attributes: { note: 'x' } } as const;
const entryCases: { name: string; entry: { value: number } & Record<string, unknown> }[] = [
  { name: 'the value alone', entry: { value: 1000 } },
  { name: 'quantity and price', entry: { value: 1000, quantity: 10, price: 100 } },
  { name: 'stop and take-profit', entry: { value: 1000, quantity: 10, price: 100, stop: 90, takeProfit: 130 } },
  { name: 'a trailing stop', entry: { value: 1000, quantity: 10, price: 100, trailingStop: { percent: 5 } } },
  { name: 'a venue key', entry: { value: 1000, venueKey: 'BTC-PERP' } },
];

describe('Open decides what Track then Enter decide', () => {
  it.each(entryCases)('with $name', ({ entry }) => {
    // venueKey is a field of both: the Track takes it as the Enter does
    const venueKey = entry.venueKey === undefined ? {} : { venueKey: entry.venueKey };
    const trackEvents = decided([], { type: 'Track', positionId: 'A', ...trackFields, ...venueKey } as CommandInput);
    const afterTrack = trackEvents.map((e) => ({ type: e.type, data: e.data }) as GivenEvent);
    const enterEvents = decided(afterTrack, { type: 'Enter', positionId: 'A', ...entry } as CommandInput);
    const openEvents = decided([], { type: 'Open', positionId: 'A', ...trackFields, ...entry } as CommandInput);
    expect(openEvents.map((e) => e.type)).toEqual(['PositionTracked', 'PositionEntered']);
    expect(openEvents).toStrictEqual([...trackEvents, ...enterEvents]);
  });

  it('is refused as the Track would be, for an id already tracked', () => {
    spec
      .given([tracked('A', { symbol: 'BTC' })])
      .when({ type: 'Open', positionId: 'A', symbol: 'BTC', value: 1000 })
      .thenThrows(Error, /^cannot track "A": it is WATCHING/);
  });
});
