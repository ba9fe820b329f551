import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import type { PostgresEventStore } from '../../src/store/index.js';
import { childScript } from './children.js';

/*
 * The PostgreSQL crash tests' two halves: the writer child (test/helpers/children/pgAppendLoop.mjs)
 * and what it reports, and the check of the log after a crash.
 */

/** What the writer said about one batch: appended (with where it landed) or failed. */
export interface Ack {
  id: string;
  stream: string;
  revision: number;
  position: number;
  size: number;
}
export interface WriterError {
  id: string;
  name: string;
  code: string | undefined;
  message: string;
}

/** A running writer child, its reports parsed line by line as they arrive (a torn last line is not read). */
export interface Writer {
  child: ChildProcess;
  acks: Ack[];
  errors: WriterError[];
  /** Lines that are neither an ack nor an error ("fatal ...", "done"). */
  other: string[];
  stderr: () => string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWriter(args: { url: string; schema: string; tag: string; size: number; lanes: number; maxMs: number }): Writer {
  const child = spawn(
    process.execPath,
    [childScript('pgAppendLoop.mjs'), args.url, args.schema, args.tag, String(args.size), String(args.lanes), String(args.maxMs)],
    // stdin is a pipe: the writer stops when it ends (an ignored stdin would end at once).
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const writer: Writer = {
    child,
    acks: [],
    errors: [],
    other: [],
    stderr: () => err,
    exited: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    }),
  };
  let pending = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) {
      const [kind, id = '', ...rest] = l.split(' ');
      if (kind === 'ack') {
        const [stream = '', revision, position, size] = rest;
        writer.acks.push({ id, stream, revision: Number(revision), position: Number(position), size: Number(size) });
      } else if (kind === 'err') {
        const e = JSON.parse(rest.join(' ')) as { name: string; code?: string; message: string };
        writer.errors.push({ id, name: e.name, code: e.code, message: e.message });
      } else {
        writer.other.push(l);
      }
    }
  });
  return writer;
}

/** A batch as found in the log. */
export interface LoggedBatch {
  stream: string;
  revision: number;
  position: number;
  size: number;
}

/**
 * What has been checked of the log so far, so each crash checks only what is new: the log is
 * checked up to `position`, every stream up to the revision before `next.get(stream)`.
 */
export class LogCheck {
  position = 0;
  readonly next = new Map<string, number>();
  readonly batches = new Map<string, LoggedBatch>();

  constructor(private readonly batchSize: number) {}

  /**
   * Reads the log after what was checked and checks it: positions follow on with no gap, each
   * stream's revisions follow on, and the events come in whole batches (one correlation id,
   * `batchSize` events in a row, contiguous revisions), none seen before. The last page is read
   * when a page comes back short, so the read ends at a commit: a batch cut short there is half there.
   */
  async readNew(store: PostgresEventStore, label: string): Promise<number> {
    const fresh: RecordedEvent[] = [];
    for (let page = 0; page < 100_000; page++) {
      const events = await store.readAll({ fromPosition: this.position + fresh.length, limit: 1000 });
      fresh.push(...events);
      if (events.length < 1000) break;
    }
    let run: RecordedEvent[] = [];
    const close = (): void => {
      const first = run[0];
      if (first === undefined) return;
      const id = first.metadata.correlationId ?? `(no correlation id at position ${first.position})`;
      expect(run.length, `batch ${id} is whole (${label})`).toBe(this.batchSize);
      expect(this.batches.has(id), `batch ${id} is in the log once (${label})`).toBe(false);
      this.batches.set(id, { stream: first.stream, revision: first.revision, position: first.position, size: run.length });
      run = [];
    };
    for (const e of fresh) {
      expect(e.position, `the position after ${this.position} (${label})`).toBe(this.position + 1);
      const revision = this.next.get(e.stream) ?? 0;
      expect(e.revision, `the revision of ${e.stream} at position ${e.position} (${label})`).toBe(revision);
      const head = run[0];
      if (head !== undefined && (head.metadata.correlationId !== e.metadata.correlationId || head.stream !== e.stream)) close();
      run.push(e);
      this.position = e.position;
      this.next.set(e.stream, revision + 1);
    }
    close();
    const head = await store.head();
    expect(head.count, `head() counts every position, no gap (${label})`).toBe(head.position);
    expect(head.position, `head() is not behind what was read (${label})`).toBeGreaterThanOrEqual(this.position);
    return fresh.length;
  }

  /** Every acknowledged batch is in the log where its ack said. */
  expectAcked(acks: readonly Ack[], label: string): void {
    for (const a of acks) {
      expect(this.batches.get(a.id), `acknowledged batch ${a.id} (${label})`).toEqual({
        stream: a.stream,
        revision: a.revision,
        position: a.position,
        size: a.size,
      });
    }
  }
}

/** Checks the whole log again from its start and that it holds what the incremental checks saw. */
export async function recheckAll(store: PostgresEventStore, seen: LogCheck, batchSize: number, label: string): Promise<void> {
  const again = new LogCheck(batchSize);
  await again.readNew(store, `${label}, whole log`);
  expect(again.position, `the whole log is no shorter (${label})`).toBeGreaterThanOrEqual(seen.position);
  for (const [id, batch] of seen.batches) expect(again.batches.get(id), `batch ${id} unchanged (${label})`).toEqual(batch);
}
