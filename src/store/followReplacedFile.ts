import { stat } from 'node:fs/promises';
import type { Observable } from 'rxjs';
import type { NewEvent, RecordedEvent } from '../events/index.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  LogHead,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  SubscribeOptions,
} from './port.js';
import { SqliteEventStore } from './SqliteEventStore.js';

/**
 * What {@link FollowedStore.checkFile} found at the store's path:
 * - `same`: the file this connection reads (or a store that is not a file);
 * - `gone`: nothing is there any more;
 * - `in-use`: another file is there, and other connections still write to the old one (its WAL
 *   could not be emptied), so it must not be reopened;
 * - `replaced`: another file is there and the old one's WAL is folded back into it; `reopenable`
 *   says whether this decorator may open the new file (it was given a way to).
 */
export type FileCheck = { status: 'same' } | { status: 'gone' } | { status: 'in-use' } | { status: 'replaced'; reopenable: boolean };

interface FileId {
  dev: number;
  ino: number;
}

async function fileIdOf(store: EventStore): Promise<FileId | null> {
  if (store.engine !== 'sqlite') return null;
  const s = await stat(store.location);
  return { dev: s.dev, ino: s.ino };
}

/**
 * An {@link EventStore} that notices when the SQLite file at its path is replaced (a restored
 * backup renamed over it) and, when it was given `reopen`, can switch to the new file. Every
 * call goes to the store it holds now. For a store that is not a file, `checkFile()` always
 * says `same`.
 *
 * SQLite keeps the WAL of a file that moved away when its connection closes, under the same
 * name: the next connection would lay the old file's pages over the new one. So on a
 * replacement `checkFile()` first folds them into the old file (where they belong); when other
 * connections keep that from completing it says `in-use`.
 */
export class FollowedStore implements EventStore {
  private constructor(
    private inner: EventStore,
    private file: FileId | null,
    private readonly reopenWith: (() => Promise<EventStore>) | null,
  ) {}

  /**
   * Wraps `store`; with `reopen`, {@link FollowedStore.reopen} opens the file again through it.
   *
   * @example
   * ```ts
   * const store = await followReplacedFile(await openStore(spec), () => openStore(spec));
   * if ((await store.checkFile()).status === 'replaced') await store.reopen();
   * ```
   */
  static async wrap(store: EventStore, reopen?: () => Promise<EventStore>): Promise<FollowedStore> {
    return new FollowedStore(store, await fileIdOf(store), reopen ?? null);
  }

  get engine(): string {
    return this.inner.engine;
  }

  get location(): string {
    return this.inner.location;
  }

  /** Is the file at the path still the one this connection reads? See {@link FileCheck}. */
  async checkFile(): Promise<FileCheck> {
    if (this.file === null) return { status: 'same' };
    let now: FileId | null;
    try {
      const s = await stat(this.inner.location);
      now = { dev: s.dev, ino: s.ino };
    } catch {
      now = null;
    }
    if (now === null) return { status: 'gone' };
    if (now.dev === this.file.dev && now.ino === this.file.ino) return { status: 'same' };
    const emptied = this.inner instanceof SqliteEventStore ? this.inner.checkpointWal() : true;
    if (!emptied) return { status: 'in-use' };
    return { status: 'replaced', reopenable: this.reopenWith !== null };
  }

  /**
   * Closes the store it holds and opens the file now at the path. Close first: the old
   * connection's WAL must not be taken for the new file's. Subscriptions to the old store end;
   * subscribe again. Throws when it was not given a way to reopen.
   */
  async reopen(): Promise<void> {
    if (this.reopenWith === null) throw new Error(`followReplacedFile: ${this.inner.location} was handed in and cannot be reopened`);
    await this.inner.close();
    this.inner = await this.reopenWith();
    this.file = await fileIdOf(this.inner);
  }

  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    return this.inner.append(stream, events, options);
  }

  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  subscribe(options?: SubscribeOptions): Observable<RecordedEvent> {
    return this.inner.subscribe(options);
  }

  head(): Promise<LogHead> {
    return this.inner.head();
  }

  streamRevision(stream: string): Promise<number> {
    return this.inner.streamRevision(stream);
  }

  readSnapshot(stream: string): Promise<Snapshot | null> {
    return this.inner.readSnapshot(stream);
  }

  writeSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    return this.inner.writeSnapshot(stream, snapshot);
  }

  /** The held store's own integrity check, when its engine has one. */
  get checkIntegrity(): (() => Promise<string[]>) | undefined {
    const inner = this.inner;
    return inner.checkIntegrity ? () => inner.checkIntegrity?.() ?? Promise.resolve([]) : undefined;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Wraps a store so that its user can notice the SQLite file being replaced and follow it
 * (see {@link FollowedStore}). Give `reopen` when the store is yours to close and open again.
 *
 * @example
 * ```ts
 * const store = await followReplacedFile(await openStore('sqlite:./state/trades.db'), () => openStore('sqlite:./state/trades.db'));
 * const check = await store.checkFile(); // { status: 'same' } until a backup is renamed over it
 * ```
 */
export function followReplacedFile(store: EventStore, reopen?: () => Promise<EventStore>): Promise<FollowedStore> {
  return FollowedStore.wrap(store, reopen);
}
