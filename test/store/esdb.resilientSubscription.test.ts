import { Subject, firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { backoffDelay, resilientSubscription, type SubscriptionSource } from '../../src/store/esdb/index.js';
import { eventually } from './contract.js';

/**
 * The resubscribe logic over scripted sources: each attempt is told where to start, yields part of
 * a fixed log, then fails, ends or stays open, as its script says. This tests our logic (resume
 * from the last delivered item, no duplicate, no gap, back-off, giving up), not the server.
 */
interface Item {
  position: number;
  name: string;
}

const LOG: Item[] = Array.from({ length: 10 }, (_, i) => ({ position: (i + 1) * 10, name: `e${i + 1}` }));

class Dropped extends Error {
  readonly retryable = true;
}
class Fatal extends Error {
  readonly retryable = false;
}

interface Attempt {
  /** Items to yield before the ending. */
  deliver: number;
  /** How the attempt ends: throws a retryable or fatal error, ends, or stays open until closed. */
  then: 'drop' | 'fatal' | 'end' | 'open';
  /** Replays the item at the start position first (a server that is inclusive on resume). */
  replayBoundary?: boolean;
}

function scripted(script: Attempt[], log: Item[] = LOG) {
  const opened: (number | undefined)[] = [];
  let closed = 0;
  let open = 0;
  const source = (from: number | undefined): SubscriptionSource<Item> => {
    const attempt = script[opened.length] ?? { deliver: Number.POSITIVE_INFINITY, then: 'open' };
    opened.push(from);
    open += 1;
    const start = log.findIndex((e) => from === undefined || (attempt.replayBoundary ? e.position >= from : e.position > from));
    const items = start < 0 ? [] : log.slice(start, start + attempt.deliver + (attempt.replayBoundary && from !== undefined ? 1 : 0));
    let release: (() => void) | undefined;
    const hold = new Promise<void>((r) => (release = r));
    let i = 0;
    let finished = false;
    const iterator: AsyncIterator<Item> = {
      next: async () => {
        if (finished) return { done: true, value: undefined };
        if (i < items.length) return { done: false, value: items[i++]! };
        if (attempt.then === 'drop') throw new Dropped(`dropped after ${i}`);
        if (attempt.then === 'fatal') throw new Fatal('access denied');
        if (attempt.then === 'open') await hold;
        finished = true;
        return { done: true, value: undefined };
      },
      return: async () => {
        finished = true;
        release?.();
        return { done: true, value: undefined };
      },
    };
    return {
      items: { [Symbol.asyncIterator]: () => iterator },
      close: () => {
        closed += 1;
        open -= 1;
        release?.();
      },
    };
  };
  return {
    source,
    opened,
    get closed() {
      return closed;
    },
    get open() {
      return open;
    },
  };
}

function subscription(s: ReturnType<typeof scripted>, extra: Partial<Parameters<typeof resilientSubscription<Item, number>>[0]> = {}) {
  const delays: number[] = [];
  const observable = resilientSubscription<Item, number>({
    from: undefined,
    open: s.source,
    positionOf: (e) => e.position,
    compare: (a, b) => a - b,
    isRetryable: (e) => e instanceof Dropped,
    mapError: (e) => new Error(`mapped: ${(e as Error).message}`),
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 1,
    ...extra,
  });
  return { observable, delays };
}

describe('resilientSubscription', () => {
  it('resumes after each drop from the last delivered item: every item once, in order, none skipped', async () => {
    const s = scripted([
      { deliver: 3, then: 'drop' },
      { deliver: 4, then: 'end', replayBoundary: true },
      { deliver: 100, then: 'open', replayBoundary: true },
    ]);
    const { observable, delays } = subscription(s);
    const got = await firstValueFrom(observable.pipe(take(10), toArray()));
    expect(got.map((e) => e.name)).toEqual(LOG.map((e) => e.name));
    expect(s.opened).toEqual([undefined, 30, 70]);
    // Each attempt delivered something, so each retry starts the back-off afresh.
    expect(delays).toEqual([100, 100]);
    await eventually(() => s.open === 0, 1000, 'the last attempt to be closed');
    expect(s.closed).toBe(3);
  });

  it('starts after a checkpoint (exclusive), even from a source that replays it', async () => {
    const s = scripted([{ deliver: 100, then: 'open', replayBoundary: true }]);
    const { observable } = subscription(s, { from: 50 });
    const got = await firstValueFrom(observable.pipe(take(5), toArray()));
    expect(got.map((e) => e.position)).toEqual([60, 70, 80, 90, 100]);
    expect(s.opened).toEqual([50]);
  });

  it('backs off exponentially while attempts fail without delivering, up to the cap', async () => {
    const s = scripted([
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'end' },
      { deliver: 0, then: 'drop' },
      { deliver: 2, then: 'drop' },
      { deliver: 0, then: 'drop' },
      { deliver: 100, then: 'open' },
    ]);
    const { observable, delays } = subscription(s, { backoff: { initialMs: 100, maxMs: 500, factor: 2 } });
    const got = await firstValueFrom(observable.pipe(take(10), toArray()));
    expect(got.map((e) => e.position)).toEqual(LOG.map((e) => e.position));
    // Attempt 5 delivered two items: the next failure starts again at 100, the one after at 200.
    expect(delays).toEqual([100, 200, 400, 500, 100, 200]);
    expect(s.opened).toEqual([undefined, undefined, undefined, undefined, undefined, 20, 20]);
  });

  it('reports each retry with its attempt, delay, error and resume position', async () => {
    const s = scripted([
      { deliver: 2, then: 'drop' },
      { deliver: 0, then: 'end' },
    ]);
    const retries: unknown[] = [];
    const { observable } = subscription(s, {
      onRetry: (info) => retries.push({ ...info, error: (info.error as Error | undefined)?.message }),
    });
    await firstValueFrom(observable.pipe(take(10), toArray()));
    expect(retries).toEqual([
      { attempt: 1, delayMs: 100, error: 'dropped after 2', from: 20 },
      { attempt: 2, delayMs: 200, error: undefined, from: 20 },
    ]);
  });

  it('an error that is not retryable ends the subscription with the mapped error, after what was delivered', async () => {
    const s = scripted([{ deliver: 2, then: 'fatal' }]);
    const { observable, delays } = subscription(s);
    const got: string[] = [];
    const error = await new Promise<unknown>((resolve) => observable.subscribe({ next: (e) => got.push(e.name), error: resolve }));
    expect(got).toEqual(['e1', 'e2']);
    expect((error as Error).message).toBe('mapped: access denied');
    expect(s.opened).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(s.closed).toBe(1);
  });

  it('gives up after maxAttempts failures in a row, with the last error', async () => {
    const s = scripted([
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'drop' },
    ]);
    const { observable } = subscription(s, { maxAttempts: 2 });
    const error = await new Promise<unknown>((resolve) => observable.subscribe({ error: resolve }));
    expect((error as Error).message).toBe('mapped: dropped after 0');
    expect(s.opened).toHaveLength(3);
  });

  it('an attempt that stayed up long enough resets the back-off even without items', async () => {
    let clock = 0;
    const s = scripted([
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'drop' },
      { deliver: 100, then: 'open' },
    ]);
    // The second attempt lives 2 s (the clock moves while it is read) before it drops.
    let n = 0;
    const open = (from: number | undefined): SubscriptionSource<Item> => {
      n += 1;
      const src = s.source(from);
      if (n !== 2) return src;
      const it = src.items[Symbol.asyncIterator]();
      const slow: AsyncIterator<Item> = {
        next: () => {
          clock += 2000;
          return it.next();
        },
        return: () => it.return!(),
      };
      return { close: src.close, items: { [Symbol.asyncIterator]: () => slow } };
    };
    const short = subscription(s, { open, now: () => clock, healthyAfterMs: 1000 });
    await firstValueFrom(short.observable.pipe(take(1)));
    expect(short.delays).toEqual([100, 100]);
    // The same script with a longer threshold: the second failure backs off further.
    clock = 0;
    n = 0;
    const s2 = scripted([
      { deliver: 0, then: 'drop' },
      { deliver: 0, then: 'drop' },
      { deliver: 100, then: 'open' },
    ]);
    const long = subscription(s2, { now: () => clock, healthyAfterMs: 5000 });
    await firstValueFrom(long.observable.pipe(take(1)));
    expect(long.delays).toEqual([100, 200]);
  });

  it('unsubscribing closes the open attempt and opens no other', async () => {
    const s = scripted([{ deliver: 100, then: 'open' }]);
    const { observable } = subscription(s);
    const got: Item[] = [];
    const sub = observable.subscribe((e) => got.push(e));
    await eventually(() => got.length === 10, 1000, 'all items');
    sub.unsubscribe();
    await eventually(() => s.closed === 1, 1000, 'the attempt to be closed');
    await new Promise((r) => setTimeout(r, 20));
    expect(s.opened).toHaveLength(1);
  });

  it('unsubscribing during a back-off wait stops it: no new attempt', async () => {
    const s = scripted([{ deliver: 1, then: 'drop' }]);
    let waiting: AbortSignal | undefined;
    const { observable } = subscription(s, {
      sleep: (_ms, signal) => {
        waiting = signal;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    });
    const got: Item[] = [];
    const sub = observable.subscribe((e) => got.push(e));
    await eventually(() => waiting !== undefined, 1000, 'the back-off');
    sub.unsubscribe();
    expect(waiting!.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.opened).toHaveLength(1);
    expect(got.map((e) => e.name)).toEqual(['e1']);
  });

  it('completes, closing the attempt, when the store closes', async () => {
    const s = scripted([{ deliver: 2, then: 'open' }]);
    const closing = new Subject<void>();
    const { observable } = subscription(s, { until$: closing });
    const got: Item[] = [];
    let completed = false;
    observable.subscribe({ next: (e) => got.push(e), complete: () => (completed = true) });
    await eventually(() => got.length === 2, 1000, 'two items');
    closing.next();
    expect(completed).toBe(true);
    await eventually(() => s.closed === 1, 1000, 'the attempt to be closed');
  });

  it('backoffDelay: half fixed, half jitter, exponential and capped', () => {
    expect(backoffDelay(1, {}, () => 0)).toBe(50);
    expect(backoffDelay(1, {}, () => 1)).toBe(100);
    expect(backoffDelay(3, {}, () => 1)).toBe(400);
    expect(backoffDelay(20, {}, () => 1)).toBe(5000);
    expect(backoffDelay(20, { maxMs: 1000 }, () => 0.5)).toBe(750);
  });
});
