import { describe, it } from 'vitest';
import type { CommandInput } from '../../src/commands/index.js';
import { InvalidTransitionError } from '../../src/errors/index.js';
import { deciderSpec, type GivenEvent } from '../../src/testing/index.js';
import { NOW, entered, expectInvalidTransition, exited, skipped, tracked } from './fixtures.js';

/*
 * The reconciler's commands are planned from a look at the outside system and appended later: the
 * book may have moved in between. Each one checks the position again at append time and, where the
 * book moved, refuses with an error that names the position, what it is now and what the plan needed
 * (so the reconciler can tell a moved book from a broken plan and look again).
 */

const spec = deciderSpec({ now: NOW });

const histories: Record<string, GivenEvent[]> = {
  'not tracked': [],
  WATCHING: [tracked('A', { symbol: 'BTC' })],
  EXITED: [
    tracked('A', { symbol: 'BTC' }),
    entered('A', { symbol: 'BTC', value: 1000 }),
    exited('A', { value: 1000, costBasis: 1000, realizedPnl: 0 }),
  ],
  SKIPPED: [tracked('A', { symbol: 'BTC' }), skipped('A')],
};

const stateOf = (name: string): string => (name === 'not tracked' ? 'UNKNOWN' : name);
const found = (name: string): string => (name === 'not tracked' ? 'not tracked \\(unknown or archived\\)' : name);

describe('a phantom or drift command for a position that is no longer IN', () => {
  const commands: { verb: string; command: CommandInput }[] = [
    { verb: 'suspect a phantom in', command: { type: 'SuspectPhantom', positionId: 'A', looks: 1 } },
    { verb: 'dismiss a phantom suspicion on', command: { type: 'DismissPhantom', positionId: 'A' } },
    { verb: 'clear phantom', command: { type: 'ClearPhantom', positionId: 'A', looks: 3, reason: 'phantom' } },
    { verb: 'correct the drift of', command: { type: 'CorrectDrift', positionId: 'A', externalValue: 1200 } },
  ];
  for (const [name, history] of Object.entries(histories)) {
    it.each(commands)(`refuses to $verb a position that is ${name}, saying the book changed`, ({ verb, command }) => {
      const message = new RegExp(
        `^cannot ${verb} "A": it is ${found(name)}, expected IN \\(the book changed since the outside system was read\\)$`,
      );
      const error = spec.given(history).when(command).thenThrows(InvalidTransitionError, message);
      expectInvalidTransition(error, 'A', stateOf(name), ['IN']);
    });
  }
});

describe('an orphan command for a position that is IN here after all', () => {
  const history = [tracked('A', { symbol: 'BTC' }), entered('A', { symbol: 'BTC', value: 1000 })];
  it.each([
    { verb: 'record an orphan for', command: { type: 'DetectOrphan', positionId: 'A', value: 1000, symbol: 'BTC' } as CommandInput },
    { verb: 'record the close of orphan', command: { type: 'CloseOrphan', positionId: 'A', value: 1000 } as CommandInput },
  ])('refuses to $verb it: an IN position is no orphan', ({ verb, command }) => {
    const message = new RegExp(
      `^cannot ${verb} "A": it is IN here, so it is no orphan \\(the book changed since the outside system was read\\)$`,
    );
    const error = spec.given(history).when(command).thenThrows(InvalidTransitionError, message);
    expectInvalidTransition(error, 'A', 'IN', ['UNKNOWN', 'WATCHING', 'EXITED', 'SKIPPED']);
  });

  it.each(Object.entries(histories))('records an orphan for a position that is %s here', (_name, history) => {
    spec
      .given(history)
      .when({ type: 'DetectOrphan', positionId: 'A', value: 1000 })
      .then([{ type: 'OrphanDetected', data: { positionId: 'A', value: 1000, source: 'local' } }]);
  });
});
