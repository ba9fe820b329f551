import { firstValueFrom, take, toArray, type Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, ValidationError } from '../../src/errors/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/index.js';
import { heartbeat, tracked } from '../helpers/events.js';

export interface ContractSubject {
  store: EventStore;
  cleanup: () => Promise<void> | void;
}

/** Waits until `predicate` holds, checking every 5 ms, failing after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface ContractOptions {
  /**
   * Global positions are 1, 2, 3, ... with no gap (SQLite, memory): the default, and asserted.
   * EventStoreDB's are byte offsets in its log, strictly increasing but far apart: there the
   * contract checks them against the positions the appends returned instead.
   */
  densePositions?: boolean;
  /** How long subscription tests wait for events (ms). Default 5000. */
  waitMs?: number;
}

/**
 * The one contract every engine passes: each expected-revision case, global ordering,
 * paging, validation with nothing written, subscribe catch-up then live, snapshots.
 * Every test starts from an empty log: `make` gives a fresh store (a fresh namespace on a
 * shared server).
 */
export function storeContract(engine: string, make: () => Promise<ContractSubject>, options: ContractOptions = {}): void {
  const dense = options.densePositions ?? true;
  const waitMs = options.waitMs ?? 5000;
  describe(`store contract: ${engine}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    const subs: Subscription[] = [];
    /**
     * The log holds `count` events and its head is the last appended one. On a dense engine the
     * head position is also the count, as before.
     */
    const expectHead = async (count: number, lastPosition: number): Promise<void> => {
      expect(await store.head()).toEqual({ position: lastPosition, count });
      if (dense) expect(lastPosition).toBe(count);
    };
    /** Positions read are the ones the appends returned, strictly increasing; 1..n on a dense engine. */
    const expectPositions = (read: number[], appended: number[]): void => {
      expect(read).toEqual(appended);
      for (let i = 1; i < read.length; i++) expect(read[i]!).toBeGreaterThan(read[i - 1]!);
      expect(read[0] ?? 1).toBeGreaterThan(0);
      if (dense) expect(read).toEqual(Array.from({ length: read.length }, (_, i) => i + 1));
    };
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      subs.splice(0).forEach((s) => s.unsubscribe());
      await store.close();
      await subject.cleanup();
    });

    describe('an empty log', () => {
      it('has head 0/0 and no streams', async () => {
        expect(await store.head()).toEqual({ position: 0, count: 0 });
        expect(await store.streamRevision('tradelog-a')).toBe(-1);
        expect(await store.readAll()).toEqual([]);
        expect(await store.readStream('tradelog-a')).toEqual([]);
      });
    });

    describe('expected revision', () => {
      it("'no_stream' creates a stream once; a second creator gets ConcurrencyError and writes nothing", async () => {
        const created = await store.append('tradelog-a', [tracked(1)], { expectedRevision: 'no_stream' });
        const err = await store.append('tradelog-a', [tracked(2)], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConcurrencyError);
        expect(err).toMatchObject({ stream: 'tradelog-a', expected: 'no_stream', actual: 0 });
        await expectHead(1, created.position);
      });

      it("two concurrent 'no_stream' creators: exactly one wins", async () => {
        const results = await Promise.allSettled([
          store.append('tradelog-a', [tracked(1)], { expectedRevision: 'no_stream' }),
          store.append('tradelog-a', [tracked(2)], { expectedRevision: 'no_stream' }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(ConcurrencyError);
        expect(await store.readStream('tradelog-a')).toHaveLength(1);
      });

      it("'stream_exists' fails on a missing stream and succeeds on an existing one", async () => {
        const err = await store.append('tradelog-a', [tracked(1)], { expectedRevision: 'stream_exists' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConcurrencyError);
        expect(err).toMatchObject({ expected: 'stream_exists', actual: -1 });
        expect(await store.head()).toEqual({ position: 0, count: 0 });
        await store.append('tradelog-a', [tracked(1)]);
        const r = await store.append('tradelog-a', [tracked(2)], { expectedRevision: 'stream_exists' });
        expect(r.nextExpectedRevision).toBe(1);
      });

      it('a number must equal the revision of the last event', async () => {
        const first = await store.append('tradelog-a', [tracked(1), tracked(2)], { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(1);
        const stale = await store.append('tradelog-a', [tracked(3)], { expectedRevision: 0 }).catch((e: unknown) => e);
        expect(stale).toBeInstanceOf(ConcurrencyError);
        expect(stale).toMatchObject({ stream: 'tradelog-a', expected: 0, actual: 1 });
        const ahead = await store.append('tradelog-a', [tracked(3)], { expectedRevision: 5 }).catch((e: unknown) => e);
        expect(ahead).toMatchObject({ expected: 5, actual: 1 });
        const missing = await store.append('tradelog-b', [tracked(3)], { expectedRevision: 0 }).catch((e: unknown) => e);
        expect(missing).toMatchObject({ expected: 0, actual: -1 });
        const ok = await store.append('tradelog-a', [tracked(3)], { expectedRevision: 1 });
        expect(ok.events.map((e) => e.revision)).toEqual([2]);
        await expectHead(3, ok.position);
      });

      it("'any' appends whatever the stream's state", async () => {
        await store.append('tradelog-a', [tracked(1)], { expectedRevision: 'any' });
        await store.append('tradelog-a', [tracked(2)]);
        expect(await store.streamRevision('tradelog-a')).toBe(1);
      });

      it('an empty batch checks the revision and appends nothing', async () => {
        await store.append('tradelog-a', [tracked(1)]);
        const r = await store.append('tradelog-a', [], { expectedRevision: 0 });
        expect(r.events).toEqual([]);
        expect(r.nextExpectedRevision).toBe(0);
        await expect(store.append('tradelog-a', [], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(ConcurrencyError);
      });

      it('a bad expected revision is a ValidationError', async () => {
        for (const bad of [-1, 1.5, 'latest', null]) {
          await expect(store.append('tradelog-a', [tracked(1)], { expectedRevision: bad as never })).rejects.toBeInstanceOf(
            ValidationError,
          );
        }
        expect(await store.head()).toEqual({ position: 0, count: 0 });
      });
    });

    describe('ordering and paging', () => {
      it('gives 0-based contiguous revisions per stream and gapless increasing global positions', async () => {
        const appended = [
          ...(await store.append('tradelog-a', [tracked(1), tracked(2)])).events,
          ...(await store.append('tradelog-b', [tracked(3)])).events,
          ...(await store.append('tradelog-a', [tracked(4)])).events,
        ];
        const all = await store.readAll();
        expect(all.map((e) => [e.stream, e.revision])).toEqual([
          ['tradelog-a', 0],
          ['tradelog-a', 1],
          ['tradelog-b', 0],
          ['tradelog-a', 2],
        ]);
        expectPositions(
          all.map((e) => e.position),
          appended.map((e) => e.position),
        );
        expect((await store.readStream('tradelog-a')).map((e) => e.data)).toEqual([tracked(1).data, tracked(2).data, tracked(4).data]);
        await expectHead(4, appended[3]!.position);
      });

      it('pages readAll after a position (exclusive) and readStream from a revision (inclusive)', async () => {
        const appended: number[] = [];
        for (let i = 0; i < 25; i++) appended.push((await store.append(i % 2 ? 'tradelog-a' : 'tradelog-b', [tracked(i)])).position);
        const seen: number[] = [];
        let after = 0;
        for (;;) {
          const page = await store.readAll({ fromPosition: after, limit: 7 });
          expect(page.length).toBeLessThanOrEqual(7);
          seen.push(...page.map((e) => e.position));
          if (page.length < 7) break;
          after = page[page.length - 1]!.position;
        }
        expectPositions(seen, appended);
        const page = await store.readStream('tradelog-b', { fromRevision: 3, limit: 4 });
        expect(page.map((e) => e.revision)).toEqual([3, 4, 5, 6]);
        expect(page.every((e) => e.stream === 'tradelog-b')).toBe(true);
      });

      it('refuses unbounded or nonsensical pages', async () => {
        await expect(store.readAll({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.readAll({ limit: 1_000_000 })).rejects.toThrow(/limit: expected a whole number from 1 to 10000/);
        await expect(store.readAll({ fromPosition: -1 })).rejects.toThrow(/fromPosition/);
        await expect(store.readStream('tradelog-a', { fromRevision: 1.5 })).rejects.toThrow(/fromRevision/);
      });
    });

    describe('validation', () => {
      it('refuses an unknown event type and writes nothing', async () => {
        const err = await store
          .append('tradelog-a', [tracked(1), { type: 'PositionTeleported', data: {} } as never])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toMatch(/event #1: unknown event type "PositionTeleported"/);
        expect(await store.head()).toEqual({ position: 0, count: 0 });
      });

      it('refuses data failing its schema, naming the field and the value, and writes nothing', async () => {
        const bad = { type: 'PositionEntered', data: { positionId: 'X', side: 'long', value: -5, source: 'local' } };
        const err = await store.append('tradelog-a', [tracked(1), bad as never]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as Error).message).toMatch(/data\.value: .*got -5/);
        expect(await store.head()).toEqual({ position: 0, count: 0 });
      });

      it('fills recordedAt and schemaVersion and keeps the ids it was given', async () => {
        const r = await store.append('tradelog-a', [
          { ...heartbeat(1), metadata: { commandId: 'c-1', correlationId: 'k-1', causationId: 'z-1' } },
        ]);
        const [stored] = await store.readAll();
        expect(stored).toEqual(r.events[0]);
        expect(stored!.metadata).toMatchObject({ commandId: 'c-1', correlationId: 'k-1', causationId: 'z-1', schemaVersion: 1 });
        expect(Date.parse(stored!.metadata.recordedAt)).not.toBeNaN();
      });
    });

    describe('subscribe', () => {
      it('catches up from a position, then delivers live appends in order, once each', async () => {
        const first = await store.append('tradelog-a', [tracked(1), tracked(2), tracked(3)]);
        const got: RecordedEvent[] = [];
        subs.push(store.subscribe({ fromPosition: first.events[0]!.position }).subscribe((e) => got.push(e)));
        await eventually(() => got.length === 2, waitMs, 'catch-up');
        const more = [
          ...(await store.append('tradelog-b', [tracked(4)])).events,
          ...(await store.append('tradelog-a', [tracked(5), tracked(6)])).events,
        ];
        await eventually(() => got.length === 5, waitMs, 'live events');
        await new Promise((r) => setTimeout(r, 100));
        expect(got.map((e) => e.position)).toEqual([...first.events.slice(1), ...more].map((e) => e.position));
        if (dense) expect(got.map((e) => e.position)).toEqual([2, 3, 4, 5, 6]);
      });

      it('stops delivering after unsubscribe', async () => {
        const got: RecordedEvent[] = [];
        const sub = store.subscribe().subscribe((e) => got.push(e));
        await store.append('tradelog-a', [tracked(1)]);
        await eventually(() => got.length === 1, waitMs);
        sub.unsubscribe();
        await store.append('tradelog-a', [tracked(2)]);
        await new Promise((r) => setTimeout(r, 150));
        expect(got).toHaveLength(1);
      });

      it('catches up across many pages without loss', async () => {
        const batch = Array.from({ length: 500 }, (_, i) => heartbeat(i % 60));
        const appended: number[] = [];
        for (let i = 0; i < 5; i++) appended.push(...(await store.append('tradelog-a', batch)).events.map((e) => e.position));
        const events = await firstValueFrom(store.subscribe().pipe(take(2500), toArray()));
        expectPositions(
          events.map((e) => e.position),
          appended,
        );
      });
    });

    describe('snapshots', () => {
      it('stores and replaces a snapshot per stream', async () => {
        expect(await store.readSnapshot('tradelog-a')).toBeNull();
        await store.writeSnapshot('tradelog-a', { revision: 3, version: 1, state: { n: 1 } });
        // stateText is only ever read: one passed in is not stored.
        await store.writeSnapshot('tradelog-a', { revision: 7, version: 1, state: { n: 2 }, stateText: '{"n":3}' });
        const { stateText, ...read } = (await store.readSnapshot('tradelog-a'))!;
        expect(read).toEqual({ revision: 7, version: 1, state: { n: 2 } });
        // An engine that keeps the state as text may hand it back: then it is the text of that state.
        if (stateText !== undefined) expect(JSON.parse(stateText)).toEqual({ n: 2 });
        expect(await store.readSnapshot('tradelog-b')).toBeNull();
      });
    });
  });
}
