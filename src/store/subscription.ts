import { Observable } from 'rxjs';
import type { RecordedEvent } from '../events/index.js';
import { setRepeating } from '../_internals/timers.js';

export interface PollingSubscriptionOptions {
  /** Deliver events after this position (exclusive). */
  fromPosition: number;
  /** Reads up to `limit` events after `after`, in global order. */
  readPage: (after: number, limit: number) => RecordedEvent[] | Promise<RecordedEvent[]>;
  /** Fires when this process appended: read at once. */
  wake$: Observable<unknown>;
  /** Fires when the store closes: the subscription completes. */
  until$?: Observable<unknown>;
  /** Look for other writers' appends this often (ms); off when undefined. */
  pollIntervalMs?: number;
  /** Cheap check run on each poll; a read happens only when it says something changed. */
  hasChanged?: () => boolean;
  pageSize?: number;
}

/**
 * Catch-up then live, as one Observable: reads page after page from the position, yields to
 * the event loop between pages (a long catch-up does not starve the process), then reads again
 * whenever this process appends or the poll sees another writer's commit. Never two reads at
 * once, so events arrive in order, each once. Unsubscribing clears the timer and the wake-up.
 */
export function pollingSubscription(options: PollingSubscriptionOptions): Observable<RecordedEvent> {
  const pageSize = options.pageSize ?? 1000;
  return new Observable<RecordedEvent>((subscriber) => {
    let last = options.fromPosition;
    let running = false;
    let pending = true;
    let closed = false;
    // Asked through a call: the teardown sets `closed` while pump() awaits, which narrowing cannot see.
    const isClosed = (): boolean => closed;

    const pump = async (): Promise<void> => {
      if (running || isClosed()) return;
      running = true;
      try {
        while (pending && !isClosed()) {
          pending = false;
          for (;;) {
            const page = await options.readPage(last, pageSize);
            for (const event of page) {
              if (isClosed()) return;
              last = event.position;
              subscriber.next(event);
            }
            if (page.length < pageSize || isClosed()) break;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
      } catch (error) {
        if (!isClosed()) {
          closed = true;
          teardown();
          subscriber.error(error);
        }
      } finally {
        running = false;
      }
      // A wake-up that arrived while the last page was being delivered.
      if (pending && !isClosed()) void pump();
    };

    const wake = (): void => {
      pending = true;
      void pump();
    };
    const wakeSubscription = options.wake$.subscribe(wake);
    const untilSubscription = options.until$?.subscribe(() => {
      if (isClosed()) return;
      closed = true;
      teardown();
      subscriber.complete();
    });
    const timer =
      options.pollIntervalMs === undefined
        ? undefined
        : setRepeating(() => {
            if (!options.hasChanged || options.hasChanged()) wake();
          }, options.pollIntervalMs);

    const teardown = (): void => {
      wakeSubscription.unsubscribe();
      untilSubscription?.unsubscribe();
      if (timer) clearInterval(timer);
    };

    void pump();
    return () => {
      closed = true;
      teardown();
    };
  });
}
