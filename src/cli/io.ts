import { escapeControls } from './format.js';

/** Where the CLI writes: stdout for results, stderr for errors, logs and progress. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /**
   * stderr is a terminal that takes escape codes, so progress may rewrite its line in place:
   * stderr (not stdout: `ptrack rebuild 2> log` on a terminal writes plain lines to the log) is
   * a TTY, `NO_COLOR` is unset or empty, and `TERM` is not `dumb`.
   */
  liveStderr: boolean;
}

/** Whether escape codes may go to `stderr` (see {@link Io.liveStderr}). */
export function isLiveStderr(stderr: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stderr.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The one control sequence the CLI itself writes: cursor up and clear the line (progress on a live stderr). */
export const REDRAW = '\x1b[1A\x1b[2K';

const line = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

/**
 * An Io on two streams, e.g. the process's own. Everything written is passed through
 * escapeControls, so text that came from outside (ids, symbols, reasons, an adapter's error
 * message, a stored event) never drives the terminal, whichever printer wrote it; only the
 * progress line's own REDRAW prefix goes out raw, and only on a live stderr.
 */
export function createIo(
  streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean } },
  env: NodeJS.ProcessEnv,
): Io {
  const liveStderr = isLiveStderr(streams.stderr, env);
  return {
    out: (text) => void streams.stdout.write(line(escapeControls(text, { lines: true }))),
    err: (text) => {
      const redraw = liveStderr && text.startsWith(REDRAW);
      const rest = redraw ? text.slice(REDRAW.length) : text;
      streams.stderr.write(line(`${redraw ? REDRAW : ''}${escapeControls(rest, { lines: true })}`));
    },
    liveStderr,
  };
}

let ownIo: Io | undefined;

/**
 * The Io on the process's own stdout and stderr, made on first use, not when this module loads: in
 * the CLI's startup snapshot (src/cli/snapshot.ts) a module's top level runs when the snapshot is
 * built, so whether stderr is a terminal is asked of the process that runs the command.
 */
export function processIo(): Io {
  ownIo ??= createIo(process, process.env);
  return ownIo;
}

/**
 * One line on stderr rewritten in place (cursor up, clear the line, write it): for an Io whose
 * `liveStderr` is true. The one place progress draws escape codes.
 */
export function lineInPlace(io: Io): (line: string) => void {
  let drawn = false;
  return (line) => {
    io.err(`${drawn ? REDRAW : ''}${line}`);
    drawn = true;
  };
}
