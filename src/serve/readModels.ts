/**
 * The read models as the API hands them out: each file of the state directory read at request
 * time (the workers write them; the daemon keeps no second copy), cut down to the served book.
 */
import {
  createProjections,
  readEquityCurve,
  ReadModelStore,
  type CurvePoint,
  type ProjectionOptionsInput,
  type ReadModelName,
} from '../projections/index.js';
import { ownValue } from '../_internals/records.js';

/** One read model of one book: where the file stands and the book's part of it (null before its first event). */
export interface BookReadModel {
  book: string;
  readModel: ReadModelName;
  /** The global position the file includes; 0 before it was first written. */
  checkpoint: number;
  asOf: string | null;
  /** The config's time zone (IANA name): days and times of the book are meant in it. */
  timeZone: string;
  /** Why the file could not be read (missing before the first write, damaged until healed), or null. */
  unavailable: string | null;
  data: Record<string, unknown> | null;
}

/** Reads the served book's part of the read-model files. */
export class ReadModelReader {
  private readonly files: ReadModelStore;
  private readonly versions: ReadonlyMap<string, string>;

  constructor(
    private readonly stateDir: string,
    private readonly book: string,
    private readonly timeZone: string,
    options: ProjectionOptionsInput,
  ) {
    this.files = new ReadModelStore(stateDir);
    this.versions = new Map(createProjections(options).map((p) => [p.name, p.version]));
  }

  async read(name: ReadModelName): Promise<BookReadModel> {
    const version = this.versions.get(name) ?? '';
    const load = await this.files.load(name, version);
    if (load.status !== 'ok') {
      const unavailable =
        load.status === 'missing'
          ? 'not written yet'
          : load.status === 'version'
            ? `written by read model version ${load.found}, expected ${load.expected} (being rebuilt)`
            : `${load.status === 'checksum' ? 'fails its checksum' : 'unreadable'}: ${load.reason} (being rebuilt)`;
      return { book: this.book, readModel: name, checkpoint: 0, asOf: null, timeZone: this.timeZone, unavailable, data: null };
    }
    const whole = load.document.data as { asOf?: string | null; books?: Record<string, Record<string, unknown>> };
    return {
      book: this.book,
      readModel: name,
      checkpoint: load.document.checkpoint,
      asOf: whole.asOf ?? null,
      timeZone: this.timeZone,
      unavailable: null,
      data: ownValue(whole.books, this.book) ?? null,
    };
  }

  /**
   * The served book's whole equity curve (equity.json holds it sampled): its segment file read as
   * far as equity.json counts. `unavailable` says why not (equity.json missing or being rebuilt).
   */
  async equityCurve(): Promise<{ book: string; checkpoint: number; unavailable: string | null; points: CurvePoint[] }> {
    try {
      const curve = await readEquityCurve(this.stateDir, { book: this.book, version: this.versions.get('equity') ?? '' });
      return { book: this.book, checkpoint: curve.checkpoint, unavailable: null, points: curve.points.map(({ book: _book, ...p }) => p) };
    } catch (error) {
      return { book: this.book, checkpoint: 0, unavailable: (error as Error).message, points: [] };
    }
  }
}
