import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * The append-only file beside a read model's document (AppendOnlySeries): lines are appended as
 * they are folded, made durable before the document that counts them is committed. A document
 * names how far its file goes (bytes, lines, last position); a reader reads that far and no
 * further. A read model folded from the beginning (healed or rebuilt) writes a new file beside
 * the old one, renamed over it when its document is first committed, so a reader of the old
 * document never sees it cut.
 */

/** How far a series file goes. */
export interface SeriesExtentLike {
  bytes: number;
  points: number;
  lastPosition: number;
}

const CHUNK = 1 << 20;

/** Writes `text` at `offset`; returns the offset after it. */
function writeAt(fd: number, text: string, offset: number): number {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
  return offset + bytes.length;
}

/**
 * Checks that the file's first `extent.bytes` bytes hold `extent.points` lines, the last of
 * them at `extent.lastPosition`; streamed, one chunk in memory. Returns why not, or null.
 */
function checkPrefix(fd: number, extent: SeriesExtentLike): string | null {
  const size = fstatSync(fd).size;
  if (size < extent.bytes) return `shorter (${size} bytes) than its document says (${extent.bytes})`;
  const buffer = Buffer.alloc(CHUNK);
  let lines = 0;
  let lastLineStart = 0;
  for (let offset = 0; offset < extent.bytes;) {
    const n = readSync(fd, buffer, 0, Math.min(CHUNK, extent.bytes - offset), offset);
    if (n <= 0) return `unreadable at byte ${offset}`;
    for (let i = buffer.indexOf(10, 0); i !== -1 && i < n; i = buffer.indexOf(10, i + 1)) {
      lines += 1;
      if (offset + i + 1 < extent.bytes) lastLineStart = offset + i + 1;
    }
    offset += n;
  }
  if (lines !== extent.points) return `${lines} lines where its document counts ${extent.points}`;
  if (extent.points === 0) return null;
  const length = extent.bytes - lastLineStart;
  const last = Buffer.alloc(length);
  readSync(fd, last, 0, length, lastLineStart);
  if (last[length - 1] !== 10) return 'its last line does not end where its document says';
  try {
    const position = (JSON.parse(last.toString('utf8')) as { position?: unknown }).position;
    if (position !== extent.lastPosition)
      return `its last line is at position ${String(position)}, its document says ${extent.lastPosition}`;
  } catch {
    return 'its last line is not JSON';
  }
  return null;
}

/** One series file, open for appending. */
export class SeriesFile {
  private fd: number;
  /** Where the next line goes (positioned writes: a file opened r+ would write at 0). */
  private size: number;
  /** Set while the file is new and not yet renamed over the published one. */
  private tmp: string | null;

  private constructor(
    private readonly dir: string,
    readonly file: string,
    fd: number,
    tmp: string | null,
    size: number,
  ) {
    this.fd = fd;
    this.tmp = tmp;
    this.size = size;
  }

  get path(): string {
    return join(this.dir, this.file);
  }

  /**
   * Goes on with the published file of a loaded document: checks its first `extent.bytes` bytes
   * and cuts what lies beyond them (appended for a document that was never committed). Returns
   * why it cannot be used (missing, short, other lines) instead, and then leaves it as it is.
   */
  static resume(dir: string, file: string, extent: SeriesExtentLike): SeriesFile | string {
    let fd: number;
    try {
      fd = openSync(join(dir, file), 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return extent.bytes === 0 ? SeriesFile.fresh(dir, file) : `${file} is missing`;
      return `${file} cannot be opened (${(error as Error).message})`;
    }
    try {
      const problem = checkPrefix(fd, extent);
      if (problem !== null) {
        closeSync(fd);
        return `${file} is ${problem.startsWith('shorter') ? '' : 'damaged: '}${problem}`;
      }
      ftruncateSync(fd, extent.bytes);
      return new SeriesFile(dir, file, fd, null, extent.bytes);
    } catch (error) {
      closeSync(fd);
      return `${file} cannot be read (${(error as Error).message})`;
    }
  }

  /** A new, empty file for a read model folded from the beginning; published at the first `sync`. */
  static fresh(dir: string, file: string): SeriesFile {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    return new SeriesFile(dir, file, openSync(tmp, 'wx', 0o644), tmp, 0);
  }

  /** Appends lines (no fsync: `sync` makes them durable). */
  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.size = writeAt(this.fd, lines.length === 1 ? (lines[0] ?? '') : lines.join(''), this.size);
  }

  /** Makes what was appended durable, and publishes a new file (renamed over the old one) the first time. */
  async sync(): Promise<void> {
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
    if (this.tmp === null) return;
    await rename(this.tmp, this.path);
    this.tmp = null;
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  /** Closes the file; a new one never published is removed. */
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    if (this.tmp !== null) rmSync(this.tmp, { force: true });
    this.tmp = null;
  }
}
