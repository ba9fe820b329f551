import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CurvePoint, EquityData } from './equity.js';
import { ReadModelStore } from './readModelStore.js';

/** The whole equity curve as equity.json counts it, reassembled from its segment file. */
export interface EquityCurve {
  /** equity.json's checkpoint: the curve holds every point up to it. */
  checkpoint: number;
  /** Points of every book (or of `book`), in the log's order. */
  points: (CurvePoint & { book: string })[];
}

/**
 * Reads the whole equity curve: equity.json names its segment file (`series.file`) and how far
 * it goes (`series.bytes`); the first `bytes` bytes are read, one point a line, and what lies
 * beyond (appended for a document not yet committed) is left. Throws when equity.json cannot
 * be read or the segment file holds less than it counts.
 *
 * @example
 * ```ts
 * const { points } = await readEquityCurve('./state', { book: 'main' });
 * console.log(points.length, points.at(-1)?.equity);
 * ```
 */
export async function readEquityCurve(stateDir: string, options: { book?: string; version?: string } = {}): Promise<EquityCurve> {
  const load = await new ReadModelStore(stateDir).load('equity', options.version ?? '');
  const document = load.status === 'ok' || load.status === 'version' ? load.document : null;
  if (document === null) throw new Error(`equity.json in ${stateDir} cannot be read (${load.status})`);
  const series = (document.data as Partial<EquityData>).series;
  if (series === undefined) throw new Error(`equity.json in ${stateDir} has no series (written by an older version: run ptrack project)`);
  const points: EquityCurve['points'] = [];
  if (series.bytes > 0) {
    const lines = createInterface({
      input: createReadStream(join(stateDir, series.file), { start: 0, end: series.bytes - 1 }),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      const point = JSON.parse(line) as CurvePoint & { book: string };
      if (options.book === undefined || point.book === options.book) points.push(point);
    }
  }
  const counted = options.book === undefined ? series.points : ((document.data as EquityData).books[options.book]?.points ?? 0);
  if (points.length !== counted)
    throw new Error(`${series.file} in ${stateDir} holds ${points.length} points where equity.json counts ${counted}`);
  return { checkpoint: document.checkpoint, points };
}
