import { describe, expect, it } from 'vitest';
import { BookPolicy, decide, parseCommand, type CommandInput } from '../../src/commands/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import {
  NOW,
  adopted,
  archived,
  entered,
  exited,
  expectInvalidTransition,
  iso,
  roundTrip,
  secondsFrom,
  skipped,
  tracked,
  valued,
} from './fixtures.js';

/*
 * The book's state machine, one describe per state a position can be in:
 *
 *   unknown/archived --Track--> WATCHING --Enter--> IN --Exit (full)--> EXITED --Archive--> unknown
 *   unknown/archived --AdoptOrphan--> IN          WATCHING --Skip--> SKIPPED --Archive--> unknown
 *
 * Every event carries `source: 'local'` unless the caller says otherwise.
 */

const spec = deciderSpec({ now: NOW });

interface Refusal {
  name: string;
  command: CommandInput;
  message: RegExp;
  expected: string[];
}

/** Runs each refusal against the same history and checks the error names the position, its state and what was expected. */
function itRefuses(history: GivenEvent[], positionId: string, state: string, refusals: Refusal[]): void {
  it.each(refusals)('refuses $name', ({ command, message, expected }) => {
    const error = spec.given(history).when(command).thenThrows(Error, message);
    expectInvalidTransition(error, positionId, state, expected);
  });
}

const UNKNOWN = ['UNKNOWN'];
const WATCHING = ['WATCHING'];
const IN = ['IN'];
const ARCHIVABLE = ['WATCHING', 'EXITED', 'SKIPPED'];

/** The commands that need a live position, refused for an id the book does not hold. */
function refusalsWhenNotTracked(id: string): Refusal[] {
  const notTracked = `cannot %s "${id}": it is not tracked \\(unknown or archived\\)`;
  const re = (verb: string, rest: string) => new RegExp(`^${notTracked.replace('%s', verb)}, ${rest}$`);
  return [
    {
      name: 'Enter (track it first)',
      command: { type: 'Enter', positionId: id, value: 1000 },
      message: re('enter', 'expected WATCHING \\(track it first\\)'),
      expected: WATCHING,
    },
    {
      name: 'Skip (track it first)',
      command: { type: 'Skip', positionId: id },
      message: re('skip', 'expected WATCHING \\(track it first\\)'),
      expected: WATCHING,
    },
    {
      name: 'Monitor (track it first)',
      command: { type: 'Monitor', positionId: id, value: 1000 },
      message: re('monitor', 'expected WATCHING \\(track it first\\)'),
      expected: WATCHING,
    },
    {
      name: 'Hold (track and enter it first)',
      command: { type: 'Hold', positionId: id, value: 1000 },
      message: re('hold', 'expected IN \\(track and enter it first\\)'),
      expected: IN,
    },
    {
      name: 'Exit (track and enter it first)',
      command: { type: 'Exit', positionId: id, value: 1000 },
      message: re('exit', 'expected IN \\(track and enter it first\\)'),
      expected: IN,
    },
    {
      name: 'a manual Archive',
      command: { type: 'Archive', positionId: id },
      message: re('archive', 'expected WATCHING or EXITED or SKIPPED \\(there is nothing to archive\\)'),
      expected: ARCHIVABLE,
    },
  ];
}

/** Enter, Skip, Monitor, Hold and Exit on a finished (EXITED or SKIPPED) position; Track and AdoptOrphan of its id. */
function refusalsWhenFinished(id: string, state: 'EXITED' | 'SKIPPED'): Refusal[] {
  const finished = 'it is finished: archive it and track it again';
  const re = (verb: string, expected: string, hint: string) =>
    new RegExp(`^cannot ${verb} "${id}": it is ${state}, expected ${expected} \\(${hint}\\)$`);
  return [
    {
      name: 'Track of its id (archive it first)',
      command: { type: 'Track', positionId: id },
      message: re('track', 'unknown or archived', 'archive it first, or use another id'),
      expected: UNKNOWN,
    },
    {
      name: 'AdoptOrphan of its id (archive it first)',
      command: { type: 'AdoptOrphan', positionId: id, value: 1000 },
      message: re('adopt', 'unknown or archived', 'archive it first, or use another id'),
      expected: UNKNOWN,
    },
    {
      name: 'Enter',
      command: { type: 'Enter', positionId: id, value: 1000 },
      message: re('enter', 'WATCHING', finished),
      expected: WATCHING,
    },
    { name: 'Skip', command: { type: 'Skip', positionId: id }, message: re('skip', 'WATCHING', finished), expected: WATCHING },
    {
      name: 'Monitor',
      command: { type: 'Monitor', positionId: id, value: 1000 },
      message: re('monitor', 'WATCHING', finished),
      expected: WATCHING,
    },
    { name: 'Hold', command: { type: 'Hold', positionId: id, value: 1000 }, message: re('hold', 'IN', finished), expected: IN },
    { name: 'Exit', command: { type: 'Exit', positionId: id, value: 1000 }, message: re('exit', 'IN', finished), expected: IN },
  ];
}

describe('when unknown or archived', () => {
  const archivedAapl = [...roundTrip('A', 'AAPL', 200), archived('A', 'EXITED', 'manual')];

  describe('Track', () => {
    it('starts watching an unknown id, with everything the command says about it', () => {
      spec
        .given([])
        .when({
          type: 'Track',
          positionId: 'Z',
          symbol: 'NVDA',
          side: 'short',
          setup: 'breakout',
          attributes: { note: 'x', score: 3, live: true, tag: null },
        })
        .then([
          {
            type: 'PositionTracked',
            data: {
              positionId: 'Z',
              symbol: 'NVDA',
              side: 'short',
              setup: 'breakout',
              attributes: { note: 'x', score: 3, live: true, tag: null },
              source: 'local',
            },
          },
        ]);
    });

    it('is long by default and records no field the command left out', () => {
      spec
        .given([])
        .when({ type: 'Track', positionId: 'Z' })
        .then([{ type: 'PositionTracked', data: { positionId: 'Z', side: 'long', source: 'local' } }]);
    });

    it('starts a new lifecycle for an archived id', () => {
      const later = secondsFrom(60);
      spec
        .given(archivedAapl)
        .when({ type: 'Track', positionId: 'A', symbol: 'AAPL' }, { now: later })
        .then([{ type: 'PositionTracked', data: { positionId: 'A', symbol: 'AAPL', side: 'long', source: 'local' } }]);
    });

    it('leaves nothing of the old lifecycle in the new one', () => {
      const later = secondsFrom(60);
      const state = spec.given([...archivedAapl, tracked('A', { symbol: 'AAPL' }, later)]).state();
      expect(state.positions.get('A')).toEqual({ id: 'A', status: 'WATCHING', symbol: 'AAPL', side: 'long', since: iso(later) });
    });
  });

  describe('AdoptOrphan', () => {
    it('takes an unknown id straight to IN, with everything the command says about it', () => {
      spec
        .given([])
        .when({
          type: 'AdoptOrphan',
          positionId: 'Z',
          value: 500,
          symbol: 'NVDA',
          side: 'short',
          quantity: 4,
          price: 125,
          setup: 'manual',
          group: 'chips',
          reason: 'found at the broker',
        })
        .then([
          {
            type: 'OrphanAdopted',
            data: {
              positionId: 'Z',
              symbol: 'NVDA',
              side: 'short',
              value: 500,
              quantity: 4,
              price: 125,
              setup: 'manual',
              group: 'chips',
              reason: 'found at the broker',
              source: 'local',
            },
          },
        ]);
    });

    it('records no field the command left out', () => {
      spec
        .given([])
        .when({ type: 'AdoptOrphan', positionId: 'Z', value: 500 })
        .then([{ type: 'OrphanAdopted', data: { positionId: 'Z', side: 'long', value: 500, source: 'local' } }]);
    });

    it('adopts an archived id', () => {
      spec
        .given(archivedAapl)
        .when({ type: 'AdoptOrphan', positionId: 'A', value: 800, symbol: 'AAPL' })
        .then([{ type: 'OrphanAdopted', data: { positionId: 'A', symbol: 'AAPL', side: 'long', value: 800, source: 'local' } }]);
    });

    it('accepts a value exactly at minPositionValue', () => {
      deciderSpec({ now: NOW, policy: { minPositionValue: 50 } })
        .given([])
        .when({ type: 'AdoptOrphan', positionId: 'Z', value: 50 })
        .then([{ type: 'OrphanAdopted', data: { positionId: 'Z', side: 'long', value: 50, source: 'local' } }]);
    });

    it('folds into an open position whose whole value is at risk', () => {
      const state = spec.given([adopted('Z', { value: 500, symbol: 'NVDA', quantity: 4, price: 125, group: 'chips' })]).state();
      expect(state.positions.get('Z')).toEqual({
        id: 'Z',
        status: 'IN',
        symbol: 'NVDA',
        side: 'long',
        group: 'chips',
        since: iso(NOW),
        origin: 'adopted',
        costBasis: 500,
        value: 500,
        quantity: 4,
        price: 125,
        risk: 500,
        realizedPnl: 0,
        missedLooks: 0,
      });
      expect(state.open).toBe(1);
      expect(state.openBySymbol.get('NVDA')).toBe(1);
      expect(state.groupRisk.get('chips')).toBe(500);
    });
  });

  describe('an id never tracked', () => {
    itRefuses([], 'Z', 'UNKNOWN', refusalsWhenNotTracked('Z'));
  });

  describe('an archived id', () => {
    itRefuses(archivedAapl, 'A', 'UNKNOWN', refusalsWhenNotTracked('A'));
  });
});

describe('when WATCHING', () => {
  const watching = [tracked('A', { symbol: 'AAPL', setup: 'breakout', attributes: { score: 7 } })];

  describe('Enter', () => {
    it('enters with value, quantity, price and stop', () => {
      spec
        .given(watching)
        .when({ type: 'Enter', positionId: 'A', value: 1000, quantity: 10, price: 100, stop: 90 })
        .then([
          {
            type: 'PositionEntered',
            data: { positionId: 'A', symbol: 'AAPL', side: 'long', value: 1000, quantity: 10, price: 100, stop: 90, source: 'local' },
          },
        ]);
    });

    it('enters with a value alone, and records no field the command or the tracking left out', () => {
      spec
        .given([tracked('B')])
        .when({ type: 'Enter', positionId: 'B', value: 1000 })
        .then([{ type: 'PositionEntered', data: { positionId: 'B', side: 'long', value: 1000, source: 'local' } }]);
    });

    it('enters on the side it was tracked with', () => {
      spec
        .given([tracked('S', { symbol: 'TSLA', side: 'short' })])
        .when({ type: 'Enter', positionId: 'S', value: 1000 })
        .then([{ type: 'PositionEntered', data: { positionId: 'S', symbol: 'TSLA', side: 'short', value: 1000, source: 'local' } }]);
    });

    it('folds into an open position that keeps what the tracking said', () => {
      const later = secondsFrom(300);
      const state = spec
        .given([...watching, entered('A', { symbol: 'AAPL', value: 1000, quantity: 10, price: 100, stop: 90 }, later)])
        .state();
      expect(state.positions.get('A')).toEqual({
        id: 'A',
        status: 'IN',
        symbol: 'AAPL',
        side: 'long',
        setup: 'breakout',
        attributes: { score: 7 },
        since: iso(later),
        origin: 'entered',
        costBasis: 1000,
        value: 1000,
        quantity: 10,
        price: 100,
        stop: 90,
        risk: 100,
        realizedPnl: 0,
        missedLooks: 0,
      });
      expect(state.open).toBe(1);
      expect(state.openBySymbol.get('AAPL')).toBe(1);
    });
  });

  describe('Skip', () => {
    it('skips with a reason', () => {
      spec
        .given(watching)
        .when({ type: 'Skip', positionId: 'A', reason: 'spread too wide' })
        .then([{ type: 'PositionSkipped', data: { positionId: 'A', reason: 'spread too wide', source: 'local' } }]);
    });

    it('skips without a reason', () => {
      spec
        .given(watching)
        .when({ type: 'Skip', positionId: 'A' })
        .then([{ type: 'PositionSkipped', data: { positionId: 'A', source: 'local' } }]);
    });

    it('folds into a SKIPPED position', () => {
      const state = spec.given([...watching, skipped('A')]).state();
      expect(state.positions.get('A')).toEqual({
        id: 'A',
        status: 'SKIPPED',
        symbol: 'AAPL',
        side: 'long',
        setup: 'breakout',
        attributes: { score: 7 },
        since: iso(NOW),
      });
      expect(state.open).toBe(0);
    });
  });

  describe('Monitor', () => {
    it('values the watched position and stays WATCHING', () => {
      spec
        .given(watching)
        .when({ type: 'Monitor', positionId: 'A', value: 990, price: 99 })
        .then([{ type: 'PositionValued', data: { positionId: 'A', value: 990, price: 99, source: 'local' } }]);
    });

    it('values without a price', () => {
      spec
        .given(watching)
        .when({ type: 'Monitor', positionId: 'A', value: 990 })
        .then([{ type: 'PositionValued', data: { positionId: 'A', value: 990, source: 'local' } }]);
    });

    it('folds into the watched position without restarting its clock', () => {
      const state = spec.given([tracked('A', {}, secondsFrom(-60)), valued('A', 990)]).state();
      expect(state.positions.get('A')).toEqual({ id: 'A', status: 'WATCHING', side: 'long', since: iso(secondsFrom(-60)), value: 990 });
    });
  });

  describe('Archive with a positionId', () => {
    it('archives the watched position now, whatever its age', () => {
      spec
        .given(watching)
        .when({ type: 'Archive', positionId: 'A' })
        .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'WATCHING', reason: 'manual', source: 'local' } }]);
    });
  });

  itRefuses(watching, 'A', 'WATCHING', [
    {
      name: 'Track of a live id',
      command: { type: 'Track', positionId: 'A' },
      message: /^cannot track "A": it is WATCHING, expected unknown or archived \(archive it first, or use another id\)$/,
      expected: UNKNOWN,
    },
    {
      name: 'AdoptOrphan of a live id',
      command: { type: 'AdoptOrphan', positionId: 'A', value: 1000 },
      message: /^cannot adopt "A": it is WATCHING, expected unknown or archived \(archive it first, or use another id\)$/,
      expected: UNKNOWN,
    },
    {
      name: 'Hold (enter it first)',
      command: { type: 'Hold', positionId: 'A', value: 1000 },
      message: /^cannot hold "A": it is WATCHING, expected IN \(enter it first\)$/,
      expected: IN,
    },
    {
      name: 'Exit (enter it first)',
      command: { type: 'Exit', positionId: 'A', value: 1000 },
      message: /^cannot exit "A": it is WATCHING, expected IN \(enter it first\)$/,
      expected: IN,
    },
  ]);
});

describe('when IN', () => {
  const open = [tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000, quantity: 10, price: 100, stop: 90 })];
  const openShort = [
    tracked('S', { symbol: 'TSLA', side: 'short' }),
    entered('S', { symbol: 'TSLA', side: 'short', value: 1000, quantity: 5 }),
  ];

  describe('Hold', () => {
    it('values the open position and stays IN', () => {
      spec
        .given(open)
        .when({ type: 'Hold', positionId: 'A', value: 1100, price: 110 })
        .then([{ type: 'PositionValued', data: { positionId: 'A', value: 1100, price: 110, source: 'local' } }]);
    });

    it('values without a price', () => {
      spec
        .given(open)
        .when({ type: 'Hold', positionId: 'A', value: 1100 })
        .then([{ type: 'PositionValued', data: { positionId: 'A', value: 1100, source: 'local' } }]);
    });

    it('folds the new value and price into the position, leaving its cost basis and risk', () => {
      const state = spec
        .given([...open, { type: 'PositionValued', data: { positionId: 'A', value: 1100, price: 110, source: 'local' } }])
        .state();
      expect(state.positions.get('A')).toMatchObject({ status: 'IN', value: 1100, price: 110, costBasis: 1000, risk: 100 });
    });
  });

  describe('partial Exit', () => {
    it('closes a fraction: value, cost basis and P&L of that part', () => {
      spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 1200, fraction: 0.5, price: 120, reason: 'take half' })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 0.5,
              quantity: 5,
              value: 600,
              price: 120,
              costBasis: 500,
              realizedPnl: 100,
              full: false,
              reason: 'take half',
              source: 'local',
            },
          },
        ]);
    });

    it('closes a quantity: the fraction is that part of the open quantity', () => {
      spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 1200, quantity: 2.5 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 0.25,
              quantity: 2.5,
              value: 300,
              costBasis: 250,
              realizedPnl: 50,
              full: false,
              source: 'local',
            },
          },
        ]);
    });

    it('stays IN with what is left open: cost basis, value, quantity and risk shrink, the P&L is kept', () => {
      const state = spec
        .given([
          ...open,
          exited('A', { symbol: 'AAPL', fraction: 0.25, full: false, quantity: 2.5, value: 300, costBasis: 250, realizedPnl: 50 }),
        ])
        .state();
      expect(state.positions.get('A')).toMatchObject({
        status: 'IN',
        costBasis: 750,
        value: 900,
        quantity: 7.5,
        risk: 75,
        realizedPnl: 50,
      });
      expect(state.open).toBe(1);
      expect(state.realizedPnl).toBe(50);
    });
  });

  describe('full Exit', () => {
    it('exits a long with a gain: pnl = value - cost basis', () => {
      spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 1200 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              quantity: 10,
              value: 1200,
              costBasis: 1000,
              realizedPnl: 200,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('exits a long with a loss', () => {
      spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 900, price: 90, reason: 'stop hit' })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              quantity: 10,
              value: 900,
              price: 90,
              costBasis: 1000,
              realizedPnl: -100,
              full: true,
              reason: 'stop hit',
              source: 'local',
            },
          },
        ]);
    });

    it('exits a short with a gain when the value fell: pnl = cost basis - value', () => {
      spec
        .given(openShort)
        .when({ type: 'Exit', positionId: 'S', value: 900 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'S',
              symbol: 'TSLA',
              side: 'short',
              fraction: 1,
              quantity: 5,
              value: 900,
              costBasis: 1000,
              realizedPnl: 100,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('exits a short with a loss when the value rose', () => {
      spec
        .given(openShort)
        .when({ type: 'Exit', positionId: 'S', value: 1150 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'S',
              symbol: 'TSLA',
              side: 'short',
              fraction: 1,
              quantity: 5,
              value: 1150,
              costBasis: 1000,
              realizedPnl: -150,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('exits fully when the quantity is all that is open', () => {
      spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 1200, quantity: 10 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              quantity: 10,
              value: 1200,
              costBasis: 1000,
              realizedPnl: 200,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('exits a position without symbol or quantity with only what it knows', () => {
      spec
        .given([tracked('B'), entered('B', { value: 1000 })])
        .when({ type: 'Exit', positionId: 'B', value: 1000 })
        .then([
          {
            type: 'PositionExited',
            data: { positionId: 'B', side: 'long', fraction: 1, value: 1000, costBasis: 1000, realizedPnl: 0, full: true, source: 'local' },
          },
        ]);
    });

    it('exits the rest after a partial exit against the rest of the cost basis', () => {
      spec
        .given([
          ...open,
          exited('A', { symbol: 'AAPL', fraction: 0.5, full: false, quantity: 5, value: 600, costBasis: 500, realizedPnl: 100 }),
        ])
        .when({ type: 'Exit', positionId: 'A', value: 550 })
        .then([
          {
            type: 'PositionExited',
            data: {
              positionId: 'A',
              symbol: 'AAPL',
              side: 'long',
              fraction: 1,
              quantity: 5,
              value: 550,
              costBasis: 500,
              realizedPnl: 50,
              full: true,
              source: 'local',
            },
          },
        ]);
    });

    it('folds into an EXITED position with the P&L of the whole lifecycle, and frees its place in the book', () => {
      const later = secondsFrom(600);
      const state = spec
        .given([
          ...open,
          exited('A', { symbol: 'AAPL', fraction: 0.5, full: false, quantity: 5, value: 600, costBasis: 500, realizedPnl: 100 }),
          exited('A', { symbol: 'AAPL', quantity: 5, value: 550, costBasis: 500, realizedPnl: 50 }, later),
        ])
        .state();
      expect(state.positions.get('A')).toEqual({
        id: 'A',
        status: 'EXITED',
        symbol: 'AAPL',
        side: 'long',
        since: iso(later),
        realizedPnl: 150,
        closedBy: 'exit',
      });
      expect(state.open).toBe(0);
      expect(state.openBySymbol.has('AAPL')).toBe(false);
      expect(state.realizedPnl).toBe(150);
    });
  });

  describe('Exit by quantity', () => {
    const exitOf = (command: CommandInput) =>
      decide(parseCommand(command), spec.given(open).state(), { now: NOW, policy: BookPolicy.parse({}) });

    it('exiting all it holds is a full exit, also when the quantity carries rounding noise', () => {
      for (const quantity of [10, 10 * (1 + 1e-10), 10 * (1 - 1e-14), (0.1 + 0.2) * (10 / 0.3)]) {
        const [e] = exitOf({ type: 'Exit', positionId: 'A', value: 1100, quantity });
        expect(e, `quantity ${quantity}`).toMatchObject({ type: 'PositionExited', data: { fraction: 1, full: true, value: 1100 } });
      }
    });

    it('a part exit takes that part of the value given', () => {
      const [e] = exitOf({ type: 'Exit', positionId: 'A', value: 1100, quantity: 2.5 });
      expect(e).toMatchObject({ type: 'PositionExited', data: { fraction: 0.25, full: false, value: 275 } });
    });

    it('records the exit price and reason when given, and no key for them when not', () => {
      const [withBoth] = exitOf({ type: 'Exit', positionId: 'A', value: 1100, price: 110, reason: 'target' });
      expect(withBoth!.data).toMatchObject({ price: 110, reason: 'target' });
      const [bare] = exitOf({ type: 'Exit', positionId: 'A', value: 1100 });
      expect(bare!.data).not.toHaveProperty('price');
      expect(bare!.data).not.toHaveProperty('reason');
    });
  });

  describe('Exit refusals', () => {
    it('refuses to exit a larger quantity than is open', () => {
      const error = spec
        .given(open)
        .when({ type: 'Exit', positionId: 'A', value: 1200, quantity: 12 })
        .thenThrows(ValidationError, /^cannot exit 12 of "A": only 10 is open$/);
      expect((error as ValidationError).issues).toEqual([{ path: 'quantity', message: 'at most 10', value: 12 }]);
    });

    it('refuses to exit by quantity when the open quantity is unknown', () => {
      spec
        .given([tracked('B'), entered('B', { value: 1000 })])
        .when({ type: 'Exit', positionId: 'B', value: 1000, quantity: 1 })
        .thenThrows(ValidationError, /^cannot exit "B" by quantity: its quantity is unknown \(give --fraction instead\)$/);
    });
  });

  itRefuses(open, 'A', 'IN', [
    {
      name: 'Track of a live id',
      command: { type: 'Track', positionId: 'A' },
      message: /^cannot track "A": it is IN, expected unknown or archived \(exit it first, or use another id\)$/,
      expected: UNKNOWN,
    },
    {
      name: 'AdoptOrphan of a live id',
      command: { type: 'AdoptOrphan', positionId: 'A', value: 1000 },
      message: /^cannot adopt "A": it is IN, expected unknown or archived \(exit it first, or use another id\)$/,
      expected: UNKNOWN,
    },
    {
      name: 'Enter',
      command: { type: 'Enter', positionId: 'A', value: 1000 },
      message: /^cannot enter "A": it is IN, expected WATCHING \(exit it first\)$/,
      expected: WATCHING,
    },
    {
      name: 'Skip',
      command: { type: 'Skip', positionId: 'A' },
      message: /^cannot skip "A": it is IN, expected WATCHING \(exit it first\)$/,
      expected: WATCHING,
    },
    {
      name: 'Monitor',
      command: { type: 'Monitor', positionId: 'A', value: 1000 },
      message: /^cannot monitor "A": it is IN, expected WATCHING \(exit it first\)$/,
      expected: WATCHING,
    },
    {
      name: 'a manual Archive',
      command: { type: 'Archive', positionId: 'A' },
      message: /^cannot archive "A": it is IN, expected WATCHING or EXITED or SKIPPED \(exit it first\)$/,
      expected: ARCHIVABLE,
    },
  ]);
});

describe('when EXITED', () => {
  const done = roundTrip('A', 'AAPL', 200);

  it('is archived by hand now, whatever its age', () => {
    spec
      .given(done)
      .when({ type: 'Archive', positionId: 'A' })
      .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'EXITED', reason: 'manual', source: 'local' } }]);
  });

  it('leaves the book once archived, so its id is free', () => {
    const state = spec.given([...done, archived('A', 'EXITED', 'manual')]).state();
    expect(state.positions.has('A')).toBe(false);
  });

  itRefuses(done, 'A', 'EXITED', refusalsWhenFinished('A', 'EXITED'));
});

describe('when SKIPPED', () => {
  const passed = [tracked('A', { symbol: 'AAPL' }), skipped('A')];

  it('is archived by hand now, whatever its age', () => {
    spec
      .given(passed)
      .when({ type: 'Archive', positionId: 'A' })
      .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'SKIPPED', reason: 'manual', source: 'local' } }]);
  });

  itRefuses(passed, 'A', 'SKIPPED', refusalsWhenFinished('A', 'SKIPPED'));
});

describe('archiving by timeout', () => {
  const archive: CommandInput = { type: 'Archive' };
  const exitedAt = (id: string, at: Date) => [
    tracked(id, {}, at),
    entered(id, { value: 1000 }, at),
    exited(id, { value: 1000, costBasis: 1000, realizedPnl: 0 }, at),
  ];
  const skippedAt = (id: string, at: Date) => [tracked(id, {}, at), skipped(id, at)];

  it('archives an EXITED position once exitedCleanupSeconds have passed since its exit', () => {
    spec
      .given(exitedAt('A', NOW))
      .when(archive, { now: secondsFrom(3600) })
      .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'EXITED', reason: 'timeout', source: 'local' } }]);
  });

  it('keeps an EXITED position until then', () => {
    spec
      .given(exitedAt('A', NOW))
      .when(archive, { now: secondsFrom(3599) })
      .then([]);
  });

  it('counts from the exit, not from the tracking', () => {
    const history = [
      tracked('A', {}, secondsFrom(-7200)),
      entered('A', { value: 1000 }, secondsFrom(-5400)),
      exited('A', { value: 1000, costBasis: 1000, realizedPnl: 0 }, secondsFrom(-1800)),
    ];
    spec.given(history).when(archive).then([]);
  });

  it('archives a SKIPPED position once skipCleanupSeconds have passed since it was skipped', () => {
    spec
      .given(skippedAt('A', NOW))
      .when(archive, { now: secondsFrom(600) })
      .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'SKIPPED', reason: 'timeout', source: 'local' } }]);
  });

  it('keeps a SKIPPED position until then', () => {
    spec
      .given(skippedAt('A', NOW))
      .when(archive, { now: secondsFrom(599) })
      .then([]);
  });

  it('follows the policy timeouts', () => {
    deciderSpec({ now: NOW, policy: { exitedCleanupSeconds: 60, skipCleanupSeconds: 30 } })
      .given([...exitedAt('A', NOW), ...skippedAt('B', NOW)])
      .when(archive, { now: secondsFrom(60) })
      .then([
        { type: 'PositionArchived', data: { positionId: 'A', from: 'EXITED', reason: 'timeout', source: 'local' } },
        { type: 'PositionArchived', data: { positionId: 'B', from: 'SKIPPED', reason: 'timeout', source: 'local' } },
      ]);
  });

  it('never archives a WATCHING position when watchTimeoutSeconds is not set', () => {
    spec
      .given([tracked('A', {}, NOW)])
      .when(archive, { now: secondsFrom(10 * 365 * 86_400) })
      .then([]);
  });

  describe('with watchTimeoutSeconds set', () => {
    const watchSpec = deciderSpec({ now: NOW, policy: { watchTimeoutSeconds: 1800 } });

    it('archives a WATCHING position once it has been watched that long', () => {
      watchSpec
        .given([tracked('A', {}, NOW)])
        .when(archive, { now: secondsFrom(1800) })
        .then([{ type: 'PositionArchived', data: { positionId: 'A', from: 'WATCHING', reason: 'timeout', source: 'local' } }]);
    });

    it('keeps it until then', () => {
      watchSpec
        .given([tracked('A', {}, NOW)])
        .when(archive, { now: secondsFrom(1799) })
        .then([]);
    });
  });

  it('never archives an IN position, however old', () => {
    deciderSpec({ now: NOW, policy: { watchTimeoutSeconds: 0, exitedCleanupSeconds: 0, skipCleanupSeconds: 0 } })
      .given([tracked('A', {}, NOW), entered('A', { value: 1000 }, NOW)])
      .when(archive, { now: secondsFrom(10 * 365 * 86_400) })
      .then([]);
  });

  it('archives every position that is due in one command, and only those', () => {
    const history = [
      ...exitedAt('A', NOW),
      ...skippedAt('B', NOW),
      tracked('C', {}, NOW),
      entered('C', { value: 1000 }, NOW),
      tracked('D', {}, NOW),
      ...exitedAt('E', secondsFrom(3000)),
    ];
    spec
      .given(history)
      .when(archive, { now: secondsFrom(3600) })
      .then([
        { type: 'PositionArchived', data: { positionId: 'A', from: 'EXITED', reason: 'timeout', source: 'local' } },
        { type: 'PositionArchived', data: { positionId: 'B', from: 'SKIPPED', reason: 'timeout', source: 'local' } },
      ]);
  });

  it('has nothing to do on an empty book', () => {
    spec.given([]).when(archive).then([]);
  });
});

describe('malformed commands (whatever the state)', () => {
  const bad = (input: unknown): CommandInput => input as CommandInput;

  it('refuses an unknown command type, listing the known ones', () => {
    const error = spec
      .given([tracked('A')])
      .when(bad({ type: 'Buy', positionId: 'A' }))
      .thenThrows(
        ValidationError,
        /^command: unknown type "Buy"; expected one of Track, Enter, Hold, Monitor, Exit, Skip, AdoptOrphan, Archive, TripCircuitBreaker, ResetCircuitBreaker, StartCooldown\b/,
      );
    expect((error as ValidationError).issues).toEqual([{ path: 'type', message: 'unknown command type', value: 'Buy' }]);
  });

  it('refuses a command without a type', () => {
    spec
      .given([])
      .when(bad({ positionId: 'A' }))
      .thenThrows(ValidationError, /^command: unknown type nothing; expected one of Track, /);
  });

  it('refuses a negative value, naming the field and the value', () => {
    const error = spec
      .given([tracked('A')])
      .when({ type: 'Enter', positionId: 'A', value: -1 })
      .thenThrows(ValidationError, /^Enter: value: Too small: expected number to be >=0, got -1$/);
    expect((error as ValidationError).issues).toMatchObject([{ path: 'value', value: -1 }]);
  });

  it('refuses a non-numeric value, naming the field and the value', () => {
    const error = spec
      .given([tracked('A'), entered('A', { value: 1000 })])
      .when(bad({ type: 'Hold', positionId: 'A', value: 'abc' }))
      .thenThrows(ValidationError, /^Hold: value: Invalid input: expected number, received string, got "abc"$/);
    expect((error as ValidationError).issues).toMatchObject([{ path: 'value', value: 'abc' }]);
  });

  it('refuses a value that is not a finite number', () => {
    spec
      .given([tracked('A')])
      .when({ type: 'Monitor', positionId: 'A', value: Number.NaN })
      .thenThrows(ValidationError, /^Monitor: value: Invalid input: expected number, received NaN, got NaN$/);
  });

  it('refuses a negative stop, naming the field', () => {
    spec
      .given([tracked('A')])
      .when({ type: 'Enter', positionId: 'A', value: 1000, stop: -5 })
      .thenThrows(ValidationError, /^Enter: stop: Too small: expected number to be >=0, got -5$/);
  });

  it('refuses an exit fraction above 1', () => {
    spec
      .given([tracked('A'), entered('A', { value: 1000 })])
      .when({ type: 'Exit', positionId: 'A', value: 1000, fraction: 1.5 })
      .thenThrows(ValidationError, /^Exit: fraction: must be at most 1, got 1.5$/);
  });

  it('refuses an exit by fraction and quantity at once', () => {
    spec
      .given([tracked('A'), entered('A', { value: 1000, quantity: 10 })])
      .when({ type: 'Exit', positionId: 'A', value: 1000, fraction: 0.5, quantity: 5 })
      .thenThrows(ValidationError, /^Exit: fraction: give fraction or quantity, not both/);
  });

  it('checks the input before the state: a bad field on an unknown id is a ValidationError', () => {
    spec
      .given([])
      .when({ type: 'Hold', positionId: 'Z', value: -1 })
      .thenThrows(ValidationError, /^Hold: value: /);
  });
});

describe('source', () => {
  const policy = BookPolicy.parse({ cooldownSeconds: 900 });

  it('is local when the caller does not say', () => {
    expect(decide({ type: 'Archive', positionId: 'A' }, spec.given([tracked('A')]).state(), { now: NOW, policy })).toEqual([
      { type: 'PositionArchived', data: { positionId: 'A', from: 'WATCHING', reason: 'manual', source: 'local' } },
    ]);
  });

  it('is recorded on every event a command produces', () => {
    const state = spec.given([tracked('A', { symbol: 'AAPL' }), entered('A', { symbol: 'AAPL', value: 1000 })]).state();
    const events = decide({ type: 'Exit', positionId: 'A', value: 400 }, state, { now: NOW, policy, source: 'reconcile' });
    expect(events.map((e) => [e.type, e.data.source])).toEqual([
      ['PositionExited', 'reconcile'],
      ['CircuitBreakerTripped', 'reconcile'],
      ['CooldownStarted', 'reconcile'],
    ]);
  });

  it('is recorded on an adoption by recovery', () => {
    expect(
      decide({ type: 'AdoptOrphan', positionId: 'Z', side: 'long', value: 500 }, spec.given([]).state(), {
        now: NOW,
        policy,
        source: 'recovery',
      }),
    ).toEqual([{ type: 'OrphanAdopted', data: { positionId: 'Z', side: 'long', value: 500, source: 'recovery' } }]);
  });
});
