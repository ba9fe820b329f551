import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors/index.js';
import { isOver, isRunning, nextLifecycle, type LifecycleEvent, type RunnerLifecycle } from '../../src/projections/lifecycle.js';

/* Issue 16 step 3: the runner's lifecycle is a union, moved on by one pure function. */
const error = new CorruptionError('the log regressed');
const other = new CorruptionError('something else');
const all: RunnerLifecycle[] = [
  { state: 'catching-up' },
  { state: 'live' },
  { state: 'stopping' },
  { state: 'stopped' },
  { state: 'failed', error },
];
const events: LifecycleEvent[] = [{ type: 'caught-up' }, { type: 'stop' }, { type: 'stopped' }, { type: 'fail', error: other }];

describe('the runner lifecycle', () => {
  it('moves catching-up -> live -> stopping -> stopped', () => {
    let l: RunnerLifecycle = { state: 'catching-up' };
    l = nextLifecycle(l, { type: 'caught-up' });
    expect(l).toEqual({ state: 'live' });
    l = nextLifecycle(l, { type: 'stop' });
    expect(l).toEqual({ state: 'stopping' });
    l = nextLifecycle(l, { type: 'stopped' });
    expect(l).toEqual({ state: 'stopped' });
  });

  it('stops while catching up, and is then never live', () => {
    const stopping = nextLifecycle({ state: 'catching-up' }, { type: 'stop' });
    expect(stopping).toEqual({ state: 'stopping' });
    expect(nextLifecycle(stopping, { type: 'caught-up' })).toBe(stopping);
  });

  it('fails from any state that is not over, keeping the error; the first failure stays', () => {
    for (const l of all.filter((x) => !isOver(x))) expect(nextLifecycle(l, { type: 'fail', error })).toEqual({ state: 'failed', error });
    const failed: RunnerLifecycle = { state: 'failed', error };
    expect(nextLifecycle(failed, { type: 'fail', error: other })).toBe(failed);
  });

  it('once over, nothing moves it', () => {
    for (const l of all.filter(isOver)) for (const e of events) expect(nextLifecycle(l, e)).toBe(l);
  });

  it('an event that does not apply returns the same object (the runner tells by identity)', () => {
    const live: RunnerLifecycle = { state: 'live' };
    expect(nextLifecycle(live, { type: 'caught-up' })).toBe(live);
    expect(nextLifecycle(live, { type: 'stopped' })).toBe(live);
    const stopping: RunnerLifecycle = { state: 'stopping' };
    expect(nextLifecycle(stopping, { type: 'stop' })).toBe(stopping);
  });

  it('running means catching-up or live; over means stopped or failed', () => {
    expect(all.map((l) => [l.state, isRunning(l), isOver(l)])).toEqual([
      ['catching-up', true, false],
      ['live', true, false],
      ['stopping', false, false],
      ['stopped', false, true],
      ['failed', false, true],
    ]);
  });
});
