import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors/index.js';
import { canonicalJson, writeCanonicalJson } from './_internals/canonicalJson.js';
import { present } from '../_internals/present.js';

/** Which event a checkpoint stands on, so a log rewritten under the same positions is caught. */
export const EventRef = z.strictObject({
  position: z.number().int().positive(),
  stream: z.string(),
  revision: z.number().int().nonnegative(),
  type: z.string(),
  recordedAt: z.string(),
});
export type EventRef = z.infer<typeof EventRef>;

const DocumentShape = z.strictObject({
  version: z.string().min(1),
  checkpoint: z.number().int().nonnegative(),
  eventCount: z.number().int().nonnegative(),
  lastEvent: EventRef.nullable(),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  data: z.unknown(),
});

/**
 * A read model on disk: `checkpoint` is the global position of the last event folded in,
 * `eventCount` how many events were folded, `lastEvent` the event at the checkpoint,
 * `version` the projection's version, `data` the read model, and `checksum`
 * `sha256:` + hex SHA-256 of the canonical JSON (keys sorted, no spaces) of
 * `{ checkpoint, data, eventCount, lastEvent, version }`. The file holds them in that order
 * on one line: version, checkpoint, eventCount, lastEvent, data, checksum.
 */
export interface ReadModelDocument<D = unknown> {
  version: string;
  checkpoint: number;
  eventCount: number;
  lastEvent: EventRef | null;
  checksum: string;
  data: D;
}

export type DocumentLoad =
  | { status: 'ok'; document: ReadModelDocument }
  | { status: 'missing' }
  | { status: 'unreadable'; reason: string }
  | { status: 'checksum'; reason: string }
  /** Intact, but written by another version (or under other settings): rebuilt, yet still evidence of how far the log went. */
  | { status: 'version'; found: string; expected: string; document: ReadModelDocument };

type Header = Omit<ReadModelDocument, 'checksum' | 'data'>;

/** The checksum's input around the canonical data: `{"checkpoint":..,"data":` DATA `,"eventCount":..}`. */
function checksumFrame(doc: Header): [before: string, after: string] {
  return [
    `{"checkpoint":${doc.checkpoint},"data":`,
    `,"eventCount":${doc.eventCount},"lastEvent":${canonicalJson(doc.lastEvent)},"version":${JSON.stringify(doc.version)}}`,
  ];
}

/** The file around the canonical data; the checksum goes last, once the data has been hashed. */
function fileFrame(doc: Header): string {
  return `{"version":${JSON.stringify(doc.version)},"checkpoint":${doc.checkpoint},"eventCount":${doc.eventCount},"lastEvent":${canonicalJson(doc.lastEvent)},"data":`;
}

const fileEnd = (checksum: string): string => `,"checksum":"${checksum}"}\n`;

/**
 * A document's checksum, as a reader in another language would recompute it: the canonical
 * JSON of `{ checkpoint, data, eventCount, lastEvent, version }`, hashed in pieces.
 *
 * @example
 * ```ts
 * const doc = JSON.parse(readFileSync('state/portfolio.json', 'utf8'));
 * console.log(documentChecksum(doc) === doc.checksum);
 * ```
 */
export function documentChecksum(doc: Omit<ReadModelDocument, 'checksum'>): string {
  const hash = createHash('sha256');
  const [before, after] = checksumFrame(doc);
  hash.update(before);
  writeCanonicalJson(doc.data, (chunk) => hash.update(chunk));
  hash.update(after);
  return `sha256:${hash.digest('hex')}`;
}

/** The file text of a document (one line: the header fields, `data`, then `checksum`). */
export function encodeDocument(doc: Omit<ReadModelDocument, 'checksum'>): { text: string; checksum: string } {
  const parts: string[] = [fileFrame(doc)];
  const hash = createHash('sha256');
  const [before, after] = checksumFrame(doc);
  hash.update(before);
  writeCanonicalJson(doc.data, (chunk) => {
    hash.update(chunk);
    parts.push(chunk);
  });
  hash.update(after);
  const checksum = `sha256:${hash.digest('hex')}`;
  parts.push(fileEnd(checksum));
  return { text: parts.join(''), checksum };
}

/** Parses and checks a document's text; never throws. */
export function decodeDocument(text: string, expectedVersion: string): DocumentLoad {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { status: 'unreadable', reason: `not JSON (${(error as Error).message})` };
  }
  const parsed = DocumentShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      status: 'unreadable',
      reason: `not a read-model document (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'bad shape'})`,
    };
  }
  const doc = parsed.data as ReadModelDocument;
  const expected = documentChecksum(doc);
  if (expected !== doc.checksum)
    return {
      status: 'checksum',
      reason: `checksum mismatch (file says ${doc.checksum.slice(0, 19)}..., content is ${expected.slice(0, 19)}...)`,
    };
  if (doc.version !== expectedVersion) return { status: 'version', found: doc.version, expected: expectedVersion, document: doc };
  return { status: 'ok', document: doc };
}

const HEADER_CHUNK = 64 * 1024;
const DATA_KEY = Buffer.from(',"data":');
/** `,"checksum":"sha256:<64 hex>"}` and the newline. */
const TAIL_LENGTH = fileEnd(`sha256:${'0'.repeat(64)}`).length;
const HeaderShape = DocumentShape.omit({ checksum: true, data: true });

/** See ReadModelStore.loadHeader. */
async function streamHeader(fh: FileHandle, expectedVersion: string): Promise<DocumentLoad> {
  const size = (await fh.stat()).size;
  const first = Buffer.alloc(Math.min(size, HEADER_CHUNK));
  await fh.read(first, 0, first.length, 0);
  // A `,"data":` inside a string would have its quote escaped: the first one is the key.
  const at = first.indexOf(DATA_KEY);
  if (at < 0 || size < at + DATA_KEY.length + TAIL_LENGTH) return { status: 'unreadable', reason: 'not a read-model document (no data)' };
  let header: Header;
  try {
    const parsed = HeaderShape.safeParse(JSON.parse(`${first.subarray(0, at).toString('utf8')}}`));
    if (!parsed.success) return { status: 'unreadable', reason: 'not a read-model document (its header)' };
    header = parsed.data as Header;
  } catch (error) {
    return { status: 'unreadable', reason: `not JSON (${(error as Error).message})` };
  }
  const tail = Buffer.alloc(TAIL_LENGTH);
  await fh.read(tail, 0, TAIL_LENGTH, size - TAIL_LENGTH);
  const match = /^,"checksum":"(sha256:[0-9a-f]{64})"\}\n$/.exec(tail.toString('utf8'));
  if (match === null) return { status: 'unreadable', reason: 'not a read-model document (no checksum at its end)' };
  const checksum = present(match[1], 'the checksum');
  const hash = createHash('sha256');
  const [before, after] = checksumFrame(header);
  hash.update(before);
  const end = size - TAIL_LENGTH;
  const buffer = Buffer.alloc(HEADER_CHUNK);
  for (let offset = at + DATA_KEY.length; offset < end;) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, end - offset), offset);
    if (bytesRead <= 0) return { status: 'unreadable', reason: 'cut while it was read' };
    hash.update(buffer.subarray(0, bytesRead));
    offset += bytesRead;
  }
  hash.update(after);
  const expected = `sha256:${hash.digest('hex')}`;
  if (expected !== checksum)
    return {
      status: 'checksum',
      reason: `checksum mismatch (file says ${checksum.slice(0, 19)}..., content is ${expected.slice(0, 19)}...)`,
    };
  const document: ReadModelDocument = { ...header, checksum, data: undefined };
  if (header.version !== expectedVersion) return { status: 'version', found: header.version, expected: expectedVersion, document };
  return { status: 'ok', document };
}

/** A document written to a temporary file, not yet published. */
export interface PreparedDocument {
  name: string;
  file: string;
  tmp: string;
  fd: number;
  checksum: string;
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** What a file looked like when this process last wrote or checked it. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

const NAME = /^[A-Za-z0-9_-]{1,100}$/;
/**
 * `.<name>.json.<pid>.<8 hex>.tmp`: what `prepare` writes before the rename; and
 * `.<name>.<part>.jsonl.<pid>.<8 hex>.tmp`, a new series file not yet published (seriesFile.ts).
 */
const TEMPORARY = /^\.[A-Za-z0-9_-]{1,100}\.(?:json|[A-Za-z0-9_-]{1,100}\.jsonl)\.(\d{1,10})\.[0-9a-f]{8}\.tmp$/;

/**
 * How long a temporary file of a process that is still alive may sit before it counts as
 * abandoned (a pid can be reused; a real write takes seconds, and its file's mtime moves).
 */
export const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // 0 and below name process groups, never a writer
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The read models' directory: one `<name>.json` per projection, each written atomically
 * (a temporary file in the same directory, fsync, rename over the old one, fsync of the
 * directory), so a reader sees the old document or the new one, never half of one.
 *
 * @example
 * ```ts
 * const models = new ReadModelStore('./state');
 * const loaded = await models.load('portfolio', portfolio.version);
 * ```
 */
export class ReadModelStore {
  constructor(readonly dir: string) {}

  pathOf(name: string): string {
    if (!NAME.test(name)) throw new ValidationError(`read model name: expected letters, digits, - or _, got "${name}"`);
    return join(this.dir, `${name}.json`);
  }

  async load(name: string, expectedVersion: string): Promise<DocumentLoad> {
    let text: string;
    try {
      text = await readFile(this.pathOf(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      return { status: 'unreadable', reason: `cannot read it (${(error as Error).message})` };
    }
    return decodeDocument(text, expectedVersion);
  }

  /**
   * The header of a document (version, checkpoint, eventCount, lastEvent), its checksum checked
   * by streaming the file's data through the hash without parsing it: what a rebuild needs of
   * the documents it is about to replace (the guard's evidence), in one chunk of memory. The
   * document's `data` is `undefined`. The data must be as this store writes it (canonical).
   */
  async loadHeader(name: string, expectedVersion: string): Promise<DocumentLoad> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(name), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      return { status: 'unreadable', reason: `cannot read it (${(error as Error).message})` };
    }
    try {
      return await streamHeader(fh, expectedVersion);
    } catch (error) {
      return { status: 'unreadable', reason: `cannot read it (${(error as Error).message})` };
    } finally {
      await fh.close();
    }
  }

  /**
   * Writes a document to a temporary file beside its own, streaming it (a large read model is
   * never one string in memory), and returns it unpublished: `commit` makes it the file,
   * `abort` throws it away. Synchronous, so the document is the state of this instant.
   */
  prepare(name: string, doc: Omit<ReadModelDocument, 'checksum'>): PreparedDocument {
    const file = this.pathOf(name);
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${name}.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      const hash = createHash('sha256');
      const [before, after] = checksumFrame(doc);
      hash.update(before);
      writeAll(fd, fileFrame(doc));
      writeCanonicalJson(doc.data, (chunk) => {
        hash.update(chunk);
        writeAll(fd, chunk);
      });
      hash.update(after);
      const checksum = `sha256:${hash.digest('hex')}`;
      writeAll(fd, fileEnd(checksum));
      return { name, file, tmp, fd, checksum };
    } catch (error) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw error;
    }
  }

  /** Publishes a prepared document durably (fsync, rename over the old file, fsync of the directory); returns the file's stamp. */
  async commit(prepared: PreparedDocument): Promise<FileStamp> {
    try {
      await new Promise<void>((resolve, reject) => fsync(prepared.fd, (e) => (e ? reject(e) : resolve())));
      closeSync(prepared.fd);
      await rename(prepared.tmp, prepared.file);
    } catch (error) {
      this.abort(prepared);
      throw error;
    }
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return present((await this.stamp(prepared.name)) ?? undefined, `the stamp of ${prepared.name}, just written`);
  }

  /** Throws a prepared document away; the file stays as it was. */
  abort(prepared: PreparedDocument): void {
    try {
      closeSync(prepared.fd);
    } catch {
      // already closed
    }
    rmSync(prepared.tmp, { force: true });
  }

  /** Writes a document atomically and durably. */
  async save(name: string, doc: Omit<ReadModelDocument, 'checksum'>): Promise<FileStamp> {
    return this.commit(this.prepare(name, doc));
  }

  /**
   * Removes the temporary files writers left when they were killed between `prepare` and the
   * rename (`.<name>.json.<pid>.<rand>.tmp`, as large as the document): those whose process
   * is gone, and those older than `maxAgeMs` (default {@link STALE_TEMPORARY_MS}) whatever
   * their pid says. A live writer's file is never touched. Returns the paths removed.
   *
   * @example
   * ```ts
   * const removed = await new ReadModelStore('./state').removeStaleTemporaries();
   * ```
   */
  async removeStaleTemporaries(options: { maxAgeMs?: number; now?: number } = {}): Promise<string[]> {
    const maxAgeMs = options.maxAgeMs ?? STALE_TEMPORARY_MS;
    const now = options.now ?? Date.now();
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const removed: string[] = [];
    for (const name of names) {
      const match = TEMPORARY.exec(name);
      if (match === null) continue;
      const path = join(this.dir, name);
      if (processAlive(Number(match[1]))) {
        let mtimeMs: number;
        try {
          mtimeMs = (await stat(path)).mtimeMs;
        } catch {
          continue; // renamed or removed meanwhile
        }
        if (now - mtimeMs <= maxAgeMs) continue;
      }
      await rm(path, { force: true });
      removed.push(path);
    }
    return removed;
  }

  /** The file's size, mtime and inode; null when it does not exist. */
  async stamp(name: string): Promise<FileStamp | null> {
    try {
      const s = await stat(this.pathOf(name));
      return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}
