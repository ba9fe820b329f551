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

/** An Io on two streams, e.g. the process's own. */
export function createIo(streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean } }, env: NodeJS.ProcessEnv): Io {
  return {
    out: (text) => void streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void streams.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    liveStderr: isLiveStderr(streams.stderr, env),
  };
}

export const processIo: Io = createIo(process, process.env);

/**
 * One line on stderr rewritten in place (cursor up, clear the line, write it): for an Io whose
 * `liveStderr` is true. The one place progress draws escape codes.
 */
export function lineInPlace(io: Io): (line: string) => void {
  let drawn = false;
  return (line) => {
    io.err(`${drawn ? '\x1b[1A\x1b[2K' : ''}${line}`);
    drawn = true;
  };
}
