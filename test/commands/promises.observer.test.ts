import { describe, expect, it } from 'vitest';
import { BookPolicy, CommandHandler, type CommandObserver } from '../../src/commands/index.js';
import { StoreError, ValidationError } from '../../src/errors/index.js';
import { MemoryEventStore, type EventStore } from '../../src/store/index.js';

/*
 * #14 metrics: the command handler tells its observer each command's outcome and each append's
 * duration, where they happen, with the handler's own outcomes; a throwing hook changes nothing.
 */

const policy = BookPolicy.parse({ maxGroupRiskPct: null, dailyLossLimitPct: null });

function recorder() {
  const commands: string[] = [];
  const appends: { seconds: number; events: number }[] = [];
  const observer: CommandObserver = {
    onCommand: (type, outcome) => commands.push(`${type} ${outcome}`),
    onAppend: (seconds, events) => appends.push({ seconds, events }),
  };
  return { commands, appends, observer };
}

describe('#14 CommandObserver', () => {
  it('counts accepted, rejected (a rule, bad input of a known type) and duplicate commands, and times each append', async () => {
    const store = new MemoryEventStore();
    const r = recorder();
    const handler = new CommandHandler({ store, bookId: 'b', policy, observer: r.observer });
    await handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    await handler.handle({ type: 'Track', positionId: 'A', commandId: 'c-1' });
    await expect(handler.handle({ type: 'Exit', positionId: 'A', value: 1 })).rejects.toThrow();
    await expect(handler.handle({ type: 'Enter', positionId: 'A', value: -5 })).rejects.toBeInstanceOf(ValidationError);
    // An unknown type names no command: not counted (its label would come from outside).
    await expect(handler.handle({ type: 'NoSuchCommand' } as never)).rejects.toBeInstanceOf(ValidationError);
    await handler.handle({ type: 'Enter', positionId: 'A', value: 100 });
    expect(r.commands).toEqual(['Track accepted', 'Track duplicate', 'Exit rejected', 'Enter rejected', 'Enter accepted']);
    // Two commands appended events: two appends, with the count the store stored and a duration in seconds.
    expect(r.appends.map((a) => a.events)).toEqual([1, 1]);
    for (const a of r.appends) {
      expect(a.seconds).toBeGreaterThanOrEqual(0);
      expect(a.seconds).toBeLessThan(60);
    }
  });

  it('counts a batch the store failed as failed', async () => {
    const inner = new MemoryEventStore();
    const store: EventStore = Object.create(inner) as EventStore;
    store.append = () => Promise.reject(new StoreError('disk full'));
    const r = recorder();
    const handler = new CommandHandler({ store, bookId: 'b', policy, observer: r.observer });
    await expect(handler.handle({ type: 'Track', positionId: 'A' })).rejects.toBeInstanceOf(StoreError);
    expect(r.commands).toEqual(['Track failed']);
    expect(r.appends).toEqual([]);
  });

  it('a hook that throws is not the command failure: the command is answered and its event stored', async () => {
    const store = new MemoryEventStore();
    const handler = new CommandHandler({
      store,
      bookId: 'b',
      policy,
      observer: {
        onCommand: () => {
          throw new Error('metrics broke');
        },
        onAppend: () => {
          throw new Error('metrics broke');
        },
      },
    });
    const result = await handler.handle({ type: 'Track', positionId: 'A' });
    expect(result.events.map((e) => e.type)).toEqual(['PositionTracked']);
    expect((await store.head()).count).toBe(1);
  });
});
